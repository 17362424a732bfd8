/**
 * The two charts of a simulation, as SVG rendered here and rasterised to PNG with sharp:
 * latency (p50/p95/p99 by arrival minute) and instances with utilization over time.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { percentile, PERIOD_SECONDS, type SimulationResult } from './engine';

interface Series {
  readonly label: string;
  readonly color: string;
  readonly points: readonly (readonly [number, number])[];
  /** Plotted against the right axis (0–1). */
  readonly right?: boolean;
  readonly step?: boolean;
}

const W = 960;
const H = 420;
const M = { left: 70, right: 70, top: 40, bottom: 50 };

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function niceMax(value: number): number {
  if (value <= 0) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * magnitude >= value) return m * magnitude;
  return 10 * magnitude;
}

export function lineChartSvg(title: string, yLabel: string, series: readonly Series[], xMax: number, rightLabel?: string): string {
  const left = series.filter((s) => !s.right);
  const yMax = niceMax(Math.max(0, ...left.flatMap((s) => s.points.map(([, y]) => y))));
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const x = (t: number) => M.left + (pw * t) / Math.max(1, xMax);
  const y = (v: number, right = false) => M.top + ph - (ph * v) / (right ? 1 : yMax);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="DejaVu Sans, Arial, sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="15">${escape(title)}</text>`,
  ];
  for (let i = 0; i <= 5; i++) {
    const v = (yMax * i) / 5;
    const yy = y(v);
    parts.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${yy}" y2="${yy}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${M.left - 6}" y="${yy + 4}" text-anchor="end">${Number(v.toPrecision(3))}</text>`);
    if (rightLabel) parts.push(`<text x="${W - M.right + 6}" y="${yy + 4}">${(i / 5).toFixed(1)}</text>`);
  }
  const xStep = niceMax(xMax / 8);
  for (let t = 0; t <= xMax; t += xStep) {
    parts.push(`<text x="${x(t)}" y="${H - M.bottom + 18}" text-anchor="middle">${Math.round(t / 60)}</text>`);
  }
  parts.push(`<text x="${W / 2}" y="${H - 10}" text-anchor="middle">minutes</text>`);
  parts.push(`<text transform="translate(16 ${M.top + ph / 2}) rotate(-90)" text-anchor="middle">${escape(yLabel)}</text>`);
  if (rightLabel) parts.push(`<text transform="translate(${W - 14} ${M.top + ph / 2}) rotate(90)" text-anchor="middle">${escape(rightLabel)}</text>`);
  parts.push(`<rect x="${M.left}" y="${M.top}" width="${pw}" height="${ph}" fill="none" stroke="#999"/>`);
  series.forEach((s, i) => {
    if (s.points.length > 0) {
      let d = '';
      s.points.forEach(([t, v], j) => {
        const px = x(t).toFixed(1);
        const py = y(Math.min(v, s.right ? 1 : yMax), s.right).toFixed(1);
        if (j === 0) d += `M${px},${py}`;
        else if (s.step) d += `H${px}V${py}`;
        else d += `L${px},${py}`;
      });
      parts.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="1.6"/>`);
    }
    parts.push(`<rect x="${M.left + 10 + i * 170}" y="${M.top + 8}" width="12" height="12" fill="${s.color}"/>`);
    parts.push(`<text x="${M.left + 26 + i * 170}" y="${M.top + 18}">${escape(s.label)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}

/** Latency percentiles of the requests that arrived in each minute (expired ones excluded). */
export function latencySeries(result: SimulationResult): { p50: [number, number][]; p95: [number, number][]; p99: [number, number][] } {
  const minutes = new Map<number, number[]>();
  result.arrivals.forEach((at, i) => {
    const latency = result.latencies[i] as number;
    if (Number.isNaN(latency)) return;
    const minute = Math.floor(at / PERIOD_SECONDS);
    let list = minutes.get(minute);
    if (!list) minutes.set(minute, (list = []));
    list.push(latency);
  });
  const out = { p50: [] as [number, number][], p95: [] as [number, number][], p99: [] as [number, number][] };
  for (const [minute, list] of [...minutes].sort((a, b) => a[0] - b[0])) {
    list.sort((a, b) => a - b);
    const t = minute * PERIOD_SECONDS + PERIOD_SECONDS / 2;
    out.p50.push([t, percentile(list, 0.5) ?? 0]);
    out.p95.push([t, percentile(list, 0.95) ?? 0]);
    out.p99.push([t, percentile(list, 0.99) ?? 0]);
  }
  return out;
}

export function chartSvgs(result: SimulationResult, label: string): { latency: string; instances: string } {
  const xMax = result.duration_s;
  const lat = latencySeries(result);
  const latency = lineChartSvg(`${label}: latency by arrival minute`, 'seconds', [
    { label: 'p50', color: '#1f77b4', points: lat.p50 },
    { label: 'p95', color: '#ff7f0e', points: lat.p95 },
    { label: 'p99', color: '#d62728', points: lat.p99 },
  ], xMax);
  const billed = result.timeline.map((p) => [p.at, p.billed] as const);
  const inService = result.timeline.map((p) => [p.at, p.inService] as const);
  const end = result.timeline[result.timeline.length - 1];
  if (end) {
    billed.push([xMax, end.billed]);
    inService.push([xMax, end.inService]);
  }
  const utilization = result.periods.map((p) => [p.start + PERIOD_SECONDS / 2, p.busyShare ?? 0] as const);
  const instances = lineChartSvg(`${label}: instances and utilization`, 'instances', [
    { label: 'instances billed', color: '#7f7f7f', points: billed, step: true },
    { label: 'instances in service', color: '#2ca02c', points: inService, step: true },
    { label: 'utilization (right)', color: '#9467bd', points: utilization, right: true },
  ], xMax, 'busy share of slots');
  return { latency, instances };
}

/** Writes `<name>-latency.png` and `<name>-instances.png` into `dir`; returns the paths. */
export async function writeCharts(result: SimulationResult, dir: string, name: string, label = name): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const svgs = chartSvgs(result, label);
  const paths: string[] = [];
  for (const [kind, svg] of Object.entries(svgs)) {
    const path = join(dir, `${name}-${kind}.png`);
    await writeFile(path, await sharp(Buffer.from(svg)).png().toBuffer());
    paths.push(path);
  }
  return paths;
}
