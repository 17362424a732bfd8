/**
 * Image naming and rendering shared by resolve (renditions first asked on a cache hit) and
 * complete (original + renditions after an inference). Keys derive only from the cache key.
 */
import sharp from 'sharp';
import type { ImageFormat, Rendition } from '../../events/image-generation-requested/schema';
import type { ImageRef } from '../../events/image-generation-succeeded/schema';
import { prefixes } from '../../topology/imagegen-topology';

export const CONTENT_TYPES: Record<ImageFormat, string> = {
  png: 'image/png',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
  avif: 'image/avif',
};

export function originalKey(cacheKey: string): string {
  return `${prefixes.images}${cacheKey}/original.png`;
}

/** `images/<cacheKey>/<width>w[-q<quality>].<format>` */
export function renditionKey(cacheKey: string, r: Rendition): string {
  return `${prefixes.images}${cacheKey}/${r.width}w${r.quality === undefined ? '' : `-q${r.quality}`}.${r.format}`;
}

export interface Rendered {
  readonly body: Buffer;
  readonly width: number;
  readonly height: number;
}

/** Resizes to the rendition's width keeping the aspect ratio, in its format and quality. */
export async function render(original: Buffer, r: Rendition): Promise<Rendered> {
  let pipeline = sharp(original).resize({ width: r.width });
  const q = r.quality === undefined ? {} : { quality: r.quality };
  switch (r.format) {
    case 'png':
      // PNG quality only means something with a palette (lossy quantisation).
      pipeline = pipeline.png(r.quality === undefined ? {} : { palette: true, quality: r.quality });
      break;
    case 'jpeg':
      pipeline = pipeline.jpeg(q);
      break;
    case 'webp':
      pipeline = pipeline.webp(q);
      break;
    case 'avif':
      pipeline = pipeline.avif(q);
      break;
  }
  const { data, info } = await pipeline.toBuffer({ resolveWithObject: true });
  return { body: data, width: info.width, height: info.height };
}

/**
 * The cache's original, as PNG: a PNG from the model is kept byte for byte (its header is read, not
 * the pixels); any other format sharp reads is decoded and re-encoded. Unreadable input throws.
 */
export async function toPng(image: Buffer): Promise<Rendered> {
  const meta = await sharp(image).metadata();
  if (meta.format === 'png' && meta.width && meta.height) {
    // A truncated or corrupt PNG must not be cached: decoding the pixels once proves it whole.
    await sharp(image).raw().toBuffer();
    return { body: image, width: meta.width, height: meta.height };
  }
  const { data, info } = await sharp(image).png().toBuffer({ resolveWithObject: true });
  return { body: data, width: info.width, height: info.height };
}

/** Height sharp gives a width-only resize, for objects whose stored dimensions are missing. */
export function scaledHeight(originalWidth: number, originalHeight: number, width: number): number {
  return Math.max(1, Math.round((originalHeight * width) / originalWidth));
}

export function imageRef(bucket: string, key: string, format: ImageFormat, width: number, height: number, bytes: number): ImageRef {
  return { bucket, key, uri: `s3://${bucket}/${key}`, width, height, format, contentType: CONTENT_TYPES[format], bytes };
}

/** The distinct renditions (by key) of several lists, in first-seen order. */
export function unionRenditions(cacheKey: string, lists: readonly (readonly Rendition[])[]): Rendition[] {
  // Renditions with one key are equal (the key spells out width, quality and format); a Map keeps the first one's place.
  return [...new Map(lists.flat().map((r) => [renditionKey(cacheKey, r), r] as const)).values()];
}
