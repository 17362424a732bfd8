/**
 * `Content-Encoding: aws-chunked` bodies. SDK v3 streams uploads this way by default
 * (`x-amz-content-sha256: STREAMING-UNSIGNED-PAYLOAD-TRAILER`): hex-sized chunks, each optionally
 * carrying `;chunk-signature=…`, a zero-length chunk, then trailing headers such as the checksum.
 * A server that stores the raw body instead of decoding it corrupts every object silently.
 */
import { AwsServiceError } from '../edge/errors';

export interface DecodedChunkedBody {
  readonly payload: Buffer;
  /** Trailing headers (lower-cased names), e.g. `x-amz-checksum-crc32`. */
  readonly trailers: Readonly<Record<string, string>>;
}

const CRLF = Buffer.from('\r\n');

export function isAwsChunked(headers: Readonly<Record<string, string | string[] | undefined>>): boolean {
  const encoding = headers['content-encoding'];
  const sha = headers['x-amz-content-sha256'];
  const encodings = typeof encoding === 'string' ? encoding.split(',').map((e) => e.trim().toLowerCase()) : [];
  return encodings.includes('aws-chunked') || (typeof sha === 'string' && sha.startsWith('STREAMING-'));
}

/** The Content-Encoding to store: the sent one without the `aws-chunked` transfer coding. */
export function storedContentEncoding(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const rest = value
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e && e.toLowerCase() !== 'aws-chunked');
  return rest.length ? rest.join(',') : undefined;
}

export function decodeAwsChunked(body: Buffer, decodedLength?: number): DecodedChunkedBody {
  const chunks: Buffer[] = [];
  let offset = 0;
  for (;;) {
    const lineEnd = body.indexOf(CRLF, offset);
    if (lineEnd < 0) throw malformed('a chunk header is not terminated by CRLF');
    const header = body.subarray(offset, lineEnd).toString('latin1');
    const sizeText = header.split(';')[0]?.trim() ?? '';
    if (!/^[0-9a-fA-F]+$/.test(sizeText)) throw malformed(`chunk size "${sizeText.slice(0, 20)}" is not hexadecimal`);
    const size = Number.parseInt(sizeText, 16);
    offset = lineEnd + 2;
    if (size === 0) break;
    if (offset + size > body.length) throw malformed('a chunk is shorter than its declared size');
    chunks.push(body.subarray(offset, offset + size));
    offset += size;
    if (!body.subarray(offset, offset + 2).equals(CRLF)) throw malformed('a chunk is not followed by CRLF');
    offset += 2;
  }
  const trailers: Record<string, string> = {};
  // Trailer section: `name:value` lines up to an empty line (or the end of the body).
  while (offset < body.length) {
    let lineEnd = body.indexOf(CRLF, offset);
    if (lineEnd < 0) lineEnd = body.length;
    const line = body.subarray(offset, lineEnd).toString('latin1');
    offset = lineEnd + 2;
    if (line === '') break;
    const colon = line.indexOf(':');
    if (colon <= 0) throw malformed(`trailer line "${line.slice(0, 40)}" has no name`);
    trailers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const payload = Buffer.concat(chunks);
  if (decodedLength !== undefined && payload.length !== decodedLength) {
    throw new AwsServiceError(
      'IncompleteBody',
      `x-amz-decoded-content-length is ${decodedLength} but the chunks carry ${payload.length} bytes`,
    );
  }
  return { payload, trailers };
}

function malformed(detail: string): AwsServiceError {
  return new AwsServiceError('InvalidChunkSizeError', `the aws-chunked request body is malformed: ${detail}`);
}
