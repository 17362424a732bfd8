/**
 * Reading an S3 request: the bucket and key of its path, its body (aws-chunked framing removed,
 * checksums and Content-MD5 verified), stored headers and user metadata, copy sources, ranges,
 * conditions, and the checks S3 makes on names.
 */
import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { AwsServiceError } from '../edge/errors';
import type { EdgeRequest } from '../edge/types';
import { decodeAwsChunked, isAwsChunked, storedContentEncoding } from './aws-chunked';
import type { Conditions } from './models';

const CHECKSUM_ALGORITHMS = ['crc32', 'crc32c', 'crc64nvme', 'sha1', 'sha256'] as const;
/** Representation headers S3 stores with an object and returns on GET/HEAD. */
const STORED_HEADERS = ['cache-control', 'content-disposition', 'content-language', 'expires'] as const;
export const MAX_KEY_BYTES = 1024;

export function parsePath(rawPath: string): { bucket: string | undefined; key: string | undefined } {
  const path = rawPath.startsWith('/') ? rawPath.slice(1) : rawPath;
  if (path === '') return { bucket: undefined, key: undefined };
  const slash = path.indexOf('/');
  const rawBucket = slash < 0 ? path : path.slice(0, slash);
  const rawKey = slash < 0 ? '' : path.slice(slash + 1);
  try {
    const key = decodeURIComponent(rawKey);
    return { bucket: decodeURIComponent(rawBucket), key: key === '' ? undefined : key };
  } catch {
    throw new AwsServiceError('InvalidURI', 'Couldn\'t parse the specified URI.');
  }
}

export function header(request: EdgeRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

/** The request body with aws-chunked framing removed, checksums verified where Node can compute them. */
export function readPayload(request: EdgeRequest): { payload: Buffer; checksums: Record<string, string> } {
  let payload = request.body;
  const checksums: Record<string, string> = {};
  for (const algorithm of CHECKSUM_ALGORITHMS) {
    const value = header(request, `x-amz-checksum-${algorithm}`);
    if (value !== undefined) checksums[algorithm] = value;
  }
  if (isAwsChunked(request.headers)) {
    const declared = header(request, 'x-amz-decoded-content-length');
    const decoded = decodeAwsChunked(payload, declared === undefined ? undefined : Number(declared));
    payload = decoded.payload;
    for (const [name, value] of Object.entries(decoded.trailers)) {
      const algorithm = name.startsWith('x-amz-checksum-') ? name.slice('x-amz-checksum-'.length) : undefined;
      if (algorithm && (CHECKSUM_ALGORITHMS as readonly string[]).includes(algorithm)) checksums[algorithm] = value;
    }
  } else {
    const sha = header(request, 'x-amz-content-sha256');
    if (sha && /^[0-9a-f]{64}$/.test(sha) && createHash('sha256').update(payload).digest('hex') !== sha) {
      throw new AwsServiceError('XAmzContentSHA256Mismatch', 'The provided \'x-amz-content-sha256\' header does not match what was computed.');
    }
  }
  const contentMd5 = header(request, 'content-md5');
  if (contentMd5 !== undefined) {
    if (!/^[A-Za-z0-9+/]{22}==$/.test(contentMd5)) throw new AwsServiceError('InvalidDigest', 'The Content-MD5 you specified was invalid.');
    if (createHash('md5').update(payload).digest('base64') !== contentMd5) {
      throw new AwsServiceError('BadDigest', 'The Content-MD5 you specified did not match what we received.');
    }
  }
  for (const [algorithm, value] of Object.entries(checksums)) {
    const computed = computeChecksum(algorithm, payload);
    if (computed !== undefined && computed !== value) {
      throw new AwsServiceError('BadDigest', `The ${algorithm.toUpperCase()} you specified did not match the calculated checksum.`);
    }
  }
  return { payload, checksums };
}

/** Base64 checksum for the algorithms Node computes natively; CRC32C/CRC64NVME are stored unverified. */
function computeChecksum(algorithm: string, payload: Buffer): string | undefined {
  switch (algorithm) {
    case 'crc32': {
      const out = Buffer.alloc(4);
      out.writeUInt32BE(crc32(payload) >>> 0);
      return out.toString('base64');
    }
    case 'sha1':
    case 'sha256':
      return createHash(algorithm).update(payload).digest('base64');
    default:
      return undefined;
  }
}

export function checksumHeaders(checksums: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [algorithm, value] of Object.entries(checksums)) out[`x-amz-checksum-${algorithm}`] = value;
  return out;
}

export function representationHeaders(request: EdgeRequest): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of STORED_HEADERS) {
    const value = header(request, name);
    if (value !== undefined) out[name] = value;
  }
  const encoding = storedContentEncoding(header(request, 'content-encoding'));
  if (encoding !== undefined) out['content-encoding'] = encoding;
  return out;
}

export function userMetadata(request: EdgeRequest): Record<string, string> {
  const out: Record<string, string> = {};
  let bytes = 0;
  for (const [name, value] of Object.entries(request.headers)) {
    if (!name.startsWith('x-amz-meta-') || value === undefined) continue;
    const text = Array.isArray(value) ? value.join(',') : value;
    const short = name.slice('x-amz-meta-'.length);
    out[short] = text;
    bytes += Buffer.byteLength(short) + Buffer.byteLength(text);
  }
  if (bytes > 2048) throw new AwsServiceError('MetadataTooLarge', `Your metadata headers exceed the maximum allowed metadata size (${bytes} of 2048 bytes)`);
  return out;
}

export function parseCopySource(value: string): { bucket: string; key: string } {
  const invalid = new AwsServiceError('InvalidArgument', 'Copy Source must mention the source bucket and key: sourcebucket/sourcekey');
  const withoutVersion = value.split('?')[0] ?? '';
  let decoded: string;
  try {
    decoded = decodeURIComponent(withoutVersion);
  } catch {
    throw invalid;
  }
  const path = decoded.startsWith('/') ? decoded.slice(1) : decoded;
  const slash = path.indexOf('/');
  if (slash <= 0 || slash === path.length - 1) throw invalid;
  return { bucket: path.slice(0, slash), key: path.slice(slash + 1) };
}

/** Single byte range; an unsatisfiable one is `InvalidRange` (416); a malformed one is ignored, as S3 does. */
export function parseRange(value: string | undefined, size: number): { start: number; end: number } | undefined {
  if (value === undefined) return undefined;
  const match = /^bytes=(\d*)-(\d*)$/.exec(value.trim());
  if (!match || (match[1] === '' && match[2] === '')) return undefined;
  const unsatisfiable = new AwsServiceError('InvalidRange', `The requested range "${value}" is not satisfiable for an object of ${size} bytes`, 416);
  if (match[1] === '') {
    const suffix = Number(match[2]);
    if (suffix === 0 || size === 0) throw unsatisfiable;
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(match[1]);
  const end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1);
  if (match[2] !== '' && Number(match[2]) < start) return undefined;
  if (start >= size) throw unsatisfiable;
  return { start, end };
}

export function parseMaxKeys(value: string | null): number {
  if (value === null) return 1000;
  if (!/^\d+$/.test(value)) throw new AwsServiceError('InvalidArgument', `Provided max-keys not an integer or within integer range: ${value}`);
  return Math.min(Number(value), 1000);
}

export function validateBucketName(name: string): void {
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(name) || name.includes('..') || /^\d+\.\d+\.\d+\.\d+$/.test(name)) {
    throw new AwsServiceError('InvalidBucketName', `The specified bucket is not valid: "${name}" (3-63 lowercase letters, digits, dots and hyphens)`);
  }
}

export function validateKey(key: string): void {
  if (Buffer.byteLength(key) > MAX_KEY_BYTES) throw new AwsServiceError('KeyTooLongError', `Your key is too long: ${Buffer.byteLength(key)} bytes, at most ${MAX_KEY_BYTES}`);
}

/** The conditional headers of a GET, HEAD or PUT. */
export function conditions(request: EdgeRequest): Conditions {
  return {
    ifMatch: header(request, 'if-match'),
    ifUnmodifiedSince: header(request, 'if-unmodified-since'),
    ifNoneMatch: header(request, 'if-none-match'),
    ifModifiedSince: header(request, 'if-modified-since'),
  };
}
