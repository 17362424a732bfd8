/**
 * S3's domain: objects and their metadata, multipart uploads and parts, how keys are listed (UTF-8
 * order, delimiter roll-up, resumable cursors), ETags, and conditional requests. No wire format here.
 */
import { createHash } from 'node:crypto';

export interface ObjectMeta {
  readonly key: string;
  /** Path of the data file relative to the bucket directory. */
  readonly file: string;
  readonly size: number;
  /** Quoted, as S3 returns it. */
  readonly etag: string;
  /** Epoch ms. */
  readonly lastModified: number;
  readonly contentType: string;
  /** Stored representation headers (content-encoding, cache-control, …), lower-cased names. */
  readonly headers: Readonly<Record<string, string>>;
  /** `x-amz-meta-*` values, names without the prefix, lower-cased. */
  readonly userMetadata: Readonly<Record<string, string>>;
  /** Checksums the client sent, by header suffix (`crc32`, `sha256`, …), base64. */
  readonly checksums: Readonly<Record<string, string>>;
  readonly partsCount?: number;
  /** The data file's mtime when the sidecar was written; a mismatch means the file changed since. */
  readonly fileMtimeMs: number;
}

/** An object about to be written: what the request says of it (the store adds key, file, size). */
export type NewObject = Omit<ObjectMeta, 'key' | 'file' | 'size' | 'etag' | 'fileMtimeMs'> & {
  readonly etag?: string;
};

export interface MultipartUpload {
  readonly bucket: string;
  readonly key: string;
  readonly contentType: string;
  readonly headers: Record<string, string>;
  readonly userMetadata: Record<string, string>;
  readonly initiated: number;
}

export interface PartInfo {
  readonly etag: string;
  readonly size: number;
}

/** Where a listing resumes: after a key, or after every key under a rolled-up common prefix. */
export interface Cursor {
  readonly after: string;
  readonly prefix: boolean;
}

export interface ListPage {
  readonly contents: ObjectMeta[];
  readonly commonPrefixes: string[];
  readonly truncated: boolean;
  /** Where the next page starts (absent on an empty page). */
  readonly last: Cursor | undefined;
}

/** Each part but the last must be at least 5 MiB. */
export const MIN_PART_BYTES = 5 * 1024 * 1024;

/** S3 orders keys by their UTF-8 bytes, which differs from UTF-16 order for astral characters. */
export function compareUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/**
 * One page of a listing over `sortedKeys`: keys under `prefix` after `cursor`, rolled up at the
 * first `delimiter` after the prefix into common prefixes, at most `maxKeys` entries (each common
 * prefix counts as one).
 */
export function listPage(sortedKeys: readonly string[], head: (key: string) => ObjectMeta | undefined, prefix: string, delimiter: string, cursor: Cursor, maxKeys: number): ListPage {
  const contents: ObjectMeta[] = [];
  const commonPrefixes: string[] = [];
  let last: Cursor | undefined;
  let truncated = false;
  for (const key of sortedKeys) {
    if (!key.startsWith(prefix)) continue;
    if (cursor.after && compareUtf8(key, cursor.after) <= 0) continue;
    // Resuming after a common prefix skips every key rolled up into it.
    if (cursor.prefix && key.startsWith(cursor.after)) continue;
    let rolledUp: string | undefined;
    if (delimiter) {
      const at = key.indexOf(delimiter, prefix.length);
      if (at >= 0) rolledUp = key.slice(0, at + delimiter.length);
    }
    if (rolledUp !== undefined && rolledUp === commonPrefixes[commonPrefixes.length - 1]) continue;
    if (contents.length + commonPrefixes.length >= maxKeys) {
      truncated = maxKeys > 0;
      break;
    }
    if (rolledUp !== undefined) {
      commonPrefixes.push(rolledUp);
      last = { after: rolledUp, prefix: true };
    } else {
      const meta = head(key);
      if (!meta) continue;
      contents.push(meta);
      last = { after: key, prefix: false };
    }
  }
  return { contents, commonPrefixes, truncated, last };
}

export function md5Etag(body: Buffer): string {
  return `"${createHash('md5').update(body).digest('hex')}"`;
}

/** A multipart object's ETag: the MD5 of the parts' binary MD5s, dash, the part count. */
export function multipartEtag(partEtags: readonly string[]): string {
  const digests = partEtags.map((etag) => Buffer.from(unquote(etag), 'hex'));
  return `"${createHash('md5').update(Buffer.concat(digests)).digest('hex')}-${partEtags.length}"`;
}

export function unquote(etag: string): string {
  return etag.trim().replace(/^"|"$/g, '');
}

/** Whether an If-Match / If-None-Match list (`*`, quoted or weak ETags) names `etag`. */
export function etagMatches(condition: string, etag: string): boolean {
  return condition.split(',').some((candidate) => {
    const c = candidate.trim().replace(/^W\//, '');
    return c === '*' || unquote(c) === unquote(etag);
  });
}

export interface Conditions {
  readonly ifMatch?: string | undefined;
  readonly ifUnmodifiedSince?: string | undefined;
  readonly ifNoneMatch?: string | undefined;
  readonly ifModifiedSince?: string | undefined;
}

/** 200, 304 (not modified) or 412 (precondition failed), per S3's documented precedence. */
export function evaluateConditions(conditions: Conditions, meta: ObjectMeta): 200 | 304 | 412 {
  const { ifMatch, ifUnmodifiedSince, ifNoneMatch, ifModifiedSince } = conditions;
  if (ifMatch !== undefined) {
    if (!etagMatches(ifMatch, meta.etag)) return 412;
  } else if (ifUnmodifiedSince !== undefined) {
    const since = Date.parse(ifUnmodifiedSince);
    if (!Number.isNaN(since) && meta.lastModified > since) return 412;
  }
  if (ifNoneMatch !== undefined) {
    if (etagMatches(ifNoneMatch, meta.etag)) return 304;
  } else if (ifModifiedSince !== undefined) {
    const since = Date.parse(ifModifiedSince);
    if (!Number.isNaN(since) && meta.lastModified <= since) return 304;
  }
  return 200;
}
