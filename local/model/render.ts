/**
 * The stand-in model's picture: a deterministic SVG composition derived from a hash of every
 * generation parameter, rasterised by sharp. It is not a diffusion model and says so, both in the
 * picture and in the PNG's text chunks, so nobody mistakes a rehearsal image for real output.
 */
import { createHash } from 'node:crypto';
import sharp from 'sharp';
import { addPngText } from './png-text';
import { escapeXml } from '../shared/xml';

export interface StandInParams {
  readonly prompt: string;
  readonly negativePrompt?: string;
  readonly width: number;
  readonly height: number;
  readonly steps: number;
  readonly guidanceScale: number;
  readonly seed: number;
}

export const STAND_IN_LABEL = 'stand-in model - not a diffusion model';
export const STAND_IN_SOFTWARE = 'imagegen stand-in model';

/** Bounds the stand-in accepts; diffusers pipelines need sizes that are multiples of 8. */
export const STAND_IN_LIMITS = {
  minSize: 64,
  maxSize: 2048,
  sizeMultiple: 8,
  maxSteps: 500,
  maxGuidanceScale: 100,
  maxSeed: 4294967295,
} as const;

/** xoshiro128** over 32-bit words, seeded from the parameter hash. */
function generator(digest: Buffer): () => number {
  const rotl = (x: number, k: number): number => (x << k) | (x >>> (32 - k));
  let a = digest.readUInt32BE(0) | 1;
  let b = digest.readUInt32BE(4);
  let c = digest.readUInt32BE(8);
  let d = digest.readUInt32BE(12);
  return () => {
    const result = Math.imul(rotl(Math.imul(b, 5), 7), 9);
    const t = b << 9;
    c ^= a;
    d ^= b;
    b ^= c;
    a ^= d;
    c ^= t;
    d = rotl(d, 11);
    return (result >>> 0) / 4294967296;
  };
}

/** Greedy word wrap to at most `maxLines`, ellipsising what does not fit. */
function wrap(text: string, maxChars: number, maxLines: number): string[] {
  // Control characters would make the SVG invalid XML.
  const words = [...text].map((ch) => (ch.charCodeAt(0) < 0x20 || ch === '\x7f' ? ' ' : ch)).join('').split(/\s+/).filter(Boolean);
  const lines: string[] = [];
  let line = '';
  for (const word of words) {
    const piece = word.length > maxChars ? `${word.slice(0, maxChars - 1)}…` : word;
    if (!line) line = piece;
    else if (line.length + 1 + piece.length <= maxChars) line += ` ${piece}`;
    else {
      lines.push(line);
      line = piece;
    }
  }
  if (line) lines.push(line);
  if (lines.length > maxLines) {
    const kept = lines.slice(0, maxLines);
    const last = kept[maxLines - 1] ?? '';
    kept[maxLines - 1] = `${last.slice(0, Math.max(0, maxChars - 1))}…`;
    return kept;
  }
  return lines;
}

const round = (n: number): string => n.toFixed(1);

export function standInSvg(params: StandInParams): string {
  const { width: w, height: h } = params;
  const digest = createHash('sha256')
    .update(
      JSON.stringify([params.prompt, params.negativePrompt ?? '', params.seed, w, h, params.steps, params.guidanceScale]),
    )
    .digest();
  const rand = generator(digest);
  const hue = Math.floor(rand() * 360);
  // Higher guidance → more saturated, higher contrast, as a nod to what guidance does in diffusion.
  const saturation = Math.round(35 + Math.min(1, params.guidanceScale / 15) * 50);
  const complement = (hue + 150 + Math.floor(rand() * 60)) % 360;
  const accent = (hue + 60 + Math.floor(rand() * 60)) % 360;
  const min = Math.min(w, h);

  const layers: string[] = [];
  const sunX = w * (0.2 + rand() * 0.6);
  const sunY = h * (0.15 + rand() * 0.3);
  layers.push(
    `<circle cx="${round(sunX)}" cy="${round(sunY)}" r="${round(min * (0.08 + rand() * 0.12))}" fill="hsl(${accent},${saturation}%,70%)" opacity="0.9"/>`,
  );

  // Rolling "hills": smooth paths stacked front to back, darker towards the viewer.
  const hills = 3 + Math.floor(rand() * 3);
  for (let i = 0; i < hills; i++) {
    const base = h * (0.45 + (i / hills) * 0.4);
    const segments = 4;
    let d = `M0 ${round(base)}`;
    for (let s = 1; s <= segments; s++) {
      const x = (w * s) / segments;
      const cx = x - w / segments / 2;
      const cy = base - h * (0.05 + rand() * 0.18);
      d += ` Q${round(cx)} ${round(cy)} ${round(x)} ${round(base + (rand() - 0.5) * h * 0.08)}`;
    }
    d += ` L${w} ${h} L0 ${h} Z`;
    const light = 55 - i * (35 / hills);
    layers.push(`<path d="${d}" fill="hsl(${(complement + i * 12) % 360},${saturation}%,${round(light)}%)" opacity="0.85"/>`);
  }

  // Scattered details: more inference steps, more detail.
  const details = 6 + Math.min(40, Math.floor(params.steps / 2));
  for (let i = 0; i < details; i++) {
    const x = rand() * w;
    const y = rand() * h * 0.75;
    const size = min * (0.01 + rand() * 0.05);
    const colour = `hsl(${(hue + Math.floor(rand() * 120)) % 360},${saturation}%,${Math.round(50 + rand() * 40)}%)`;
    const opacity = (0.35 + rand() * 0.5).toFixed(2);
    const kind = Math.floor(rand() * 3);
    if (kind === 0) layers.push(`<circle cx="${round(x)}" cy="${round(y)}" r="${round(size)}" fill="${colour}" opacity="${opacity}"/>`);
    else if (kind === 1) {
      layers.push(
        `<rect x="${round(x)}" y="${round(y)}" width="${round(size * 2)}" height="${round(size * 2)}" fill="${colour}" opacity="${opacity}" transform="rotate(${Math.floor(rand() * 90)} ${round(x + size)} ${round(y + size)})"/>`,
      );
    } else {
      layers.push(
        `<polygon points="${round(x)},${round(y - size)} ${round(x + size)},${round(y + size)} ${round(x - size)},${round(y + size)}" fill="${colour}" opacity="${opacity}"/>`,
      );
    }
  }

  const promptSize = Math.max(10, Math.round(min / 22));
  const maxChars = Math.max(8, Math.floor((w * 0.9) / (promptSize * 0.55)));
  const lines = wrap(params.prompt, maxChars, 3);
  const bannerHeight = promptSize * (lines.length * 1.3 + 0.9);
  const text = lines
    .map(
      (line, i) =>
        `<text x="${round(w * 0.05)}" y="${round(h - bannerHeight + promptSize * (1.3 * i + 1.35))}" font-family="DejaVu Sans, sans-serif" font-size="${promptSize}" fill="#ffffff">${escapeXml(line)}</text>`,
    )
    .join('');
  const labelSize = Math.max(8, Math.round(min / 48));
  const label = `${STAND_IN_LABEL} · seed ${params.seed} · ${params.steps} steps · cfg ${params.guidanceScale}`;

  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}">`,
    `<defs><linearGradient id="sky" x1="0" y1="0" x2="${round(rand())}" y2="1">`,
    `<stop offset="0" stop-color="hsl(${hue},${saturation}%,78%)"/>`,
    `<stop offset="1" stop-color="hsl(${(hue + 40) % 360},${saturation}%,38%)"/>`,
    `</linearGradient></defs>`,
    `<rect width="${w}" height="${h}" fill="url(#sky)"/>`,
    ...layers,
    `<rect x="0" y="${round(h - bannerHeight)}" width="${w}" height="${round(bannerHeight)}" fill="#000000" opacity="0.45"/>`,
    text,
    `<rect x="${round(labelSize * 0.5)}" y="${round(labelSize * 0.5)}" width="${round(Math.min(w - labelSize, label.length * labelSize * 0.6 + labelSize))}" height="${round(labelSize * 1.6)}" fill="#000000" opacity="0.5"/>`,
    `<text x="${round(labelSize)}" y="${round(labelSize * 1.6)}" font-family="DejaVu Sans, sans-serif" font-size="${labelSize}" fill="#ffffff">${escapeXml(label)}</text>`,
    '</svg>',
  ].join('');
}

/** Renders the picture as a PNG of exactly width × height, labelled as a stand-in in its text chunks. */
export async function renderStandInImage(params: StandInParams): Promise<Buffer> {
  const png = await sharp(Buffer.from(standInSvg(params)), { density: 72 })
    .resize(params.width, params.height, { fit: 'fill' })
    .png({ compressionLevel: 6, adaptiveFiltering: false })
    .toBuffer();
  return addPngText(png, [
    { keyword: 'Software', text: STAND_IN_SOFTWARE },
    { keyword: 'Description', text: STAND_IN_LABEL },
    {
      keyword: 'imagegen:parameters',
      text: JSON.stringify({
        prompt: params.prompt,
        negativePrompt: params.negativePrompt ?? null,
        width: params.width,
        height: params.height,
        steps: params.steps,
        guidanceScale: params.guidanceScale,
        seed: params.seed,
      }),
    },
  ]);
}
