/**
 * S3 access for images: small helpers over an injected S3 client that keep the
 * `width`/`height` object metadata, so a HEAD describes an image without downloading it.
 */
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { ImageFormat, Rendition } from '../../events/image-generation-requested/schema';
import type { ImageRef } from '../../events/image-generation-succeeded/schema';
import { CONTENT_TYPES, imageRef, originalKey, render, renditionKey, scaledHeight } from './images';

export interface Head {
  readonly bytes: number;
  readonly width?: number;
  readonly height?: number;
}

/**
 * The object is absent: `NotFound` (a HEAD's 404 has no body to name it) or `NoSuchKey`. A missing
 * bucket (`NoSuchBucket`, also 404) is a deployment fault, not a cache miss, and reaches the caller.
 */
function isNotFound(error: unknown): boolean {
  const name = (error as { name?: unknown } | undefined)?.name;
  return name === 'NotFound' || name === 'NoSuchKey';
}

export async function headObject(s3: S3Client, bucket: string, key: string): Promise<Head | undefined> {
  try {
    const out = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    const width = Number(out.Metadata?.width);
    const height = Number(out.Metadata?.height);
    return {
      bytes: out.ContentLength ?? 0,
      ...(Number.isInteger(width) && width > 0 ? { width } : {}),
      ...(Number.isInteger(height) && height > 0 ? { height } : {}),
    };
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

export async function getBytes(s3: S3Client, bucket: string, key: string): Promise<Buffer> {
  const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  if (!out.Body) throw new Error(`s3://${bucket}/${key} has no body`);
  return Buffer.from(await out.Body.transformToByteArray());
}

/** The object's bytes, or undefined when it does not exist (one GET: a HEAD first would cost a second request). */
export async function findBytes(s3: S3Client, bucket: string, key: string): Promise<Buffer | undefined> {
  try {
    return await getBytes(s3, bucket, key);
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

export async function putImage(
  s3: S3Client,
  bucket: string,
  key: string,
  format: ImageFormat,
  body: Buffer,
  width: number,
  height: number,
): Promise<ImageRef> {
  await s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: key,
      Body: body,
      ContentType: CONTENT_TYPES[format],
      Metadata: { width: String(width), height: String(height) },
    }),
  );
  return imageRef(bucket, key, format, width, height, body.length);
}

/** Parses `s3://bucket/key`. */
export function parseS3Uri(uri: string): { bucket: string; key: string } {
  const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri);
  if (!match?.[1] || !match[2]) throw new Error(`not an s3:// URI: ${uri}`);
  return { bucket: match[1], key: match[2] };
}

/**
 * Ensures each rendition exists, rendering the missing ones from the original (loaded lazily via
 * `original()`); returns one ref per requested rendition, in order.
 */
export async function ensureRenditions(
  s3: S3Client,
  bucket: string,
  cacheKey: string,
  originalRef: ImageRef,
  renditions: readonly Rendition[],
  original: () => Promise<Buffer>,
  known: Map<string, ImageRef> = new Map(),
): Promise<ImageRef[]> {
  // Renditions are independent: look up (and render) them concurrently; a key asked twice is done once.
  const pending = new Map<string, Promise<ImageRef>>();
  const refOf = (r: Rendition): Promise<ImageRef> => {
    const key = renditionKey(cacheKey, r);
    const done = known.get(key);
    if (done) return Promise.resolve(done);
    let promise = pending.get(key);
    if (!promise) {
      promise = (async () => {
        const head = await headObject(s3, bucket, key);
        if (head) {
          const height = head.height ?? scaledHeight(originalRef.width, originalRef.height, r.width);
          return imageRef(bucket, key, r.format, head.width ?? r.width, height, head.bytes);
        }
        const out = await render(await original(), r);
        return putImage(s3, bucket, key, r.format, out.body, out.width, out.height);
      })().then((ref) => {
        known.set(key, ref);
        return ref;
      });
      pending.set(key, promise);
    }
    return promise;
  };
  return Promise.all(renditions.map(refOf));
}

export { originalKey };
