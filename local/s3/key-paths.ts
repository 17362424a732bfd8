/**
 * Maps S3 object keys to file paths under a bucket directory so objects are plain files a user can
 * open, while no key (`..`, absolute, NUL, control characters, over-long names) can reach outside it.
 *
 * Each `/`-separated segment is kept as is when it is safe; otherwise it is percent-encoded.
 * `%` itself is always encoded, so the mapping is reversible and a lone `%` (an empty segment) or a
 * name starting `%x…` can never come from an ordinary key: those spellings are reserved here.
 */
import { createHash } from 'node:crypto';
import { isAbsolute, join, relative, sep } from 'node:path';

/** Directory (at the bucket root) for objects whose natural path collides with another key's. */
export const COLLISION_DIR = '%collisions';

const MAX_SEGMENT_BYTES = 200;

export function encodeSegment(segment: string): string {
  if (segment === '') return '%';
  if (segment === '.') return '%2E';
  if (segment === '..') return '%2E%2E';
  let out = '';
  for (const char of segment) {
    const code = char.codePointAt(0) ?? 0;
    // Encode `%`, `\` (a separator on Windows), and C0/DEL control characters including NUL.
    if (char === '%' || char === '\\' || code < 0x20 || code === 0x7f) {
      out += `%${code.toString(16).toUpperCase().padStart(2, '0')}`;
    } else {
      out += char;
    }
  }
  if (Buffer.byteLength(out) > MAX_SEGMENT_BYTES) {
    // Keep a readable prefix; the hash keeps distinct long names distinct.
    const digest = createHash('sha256').update(segment).digest('hex').slice(0, 32);
    out = `${truncateUtf8(out, MAX_SEGMENT_BYTES - 40)}%~${digest}`;
  }
  return out;
}

/** Relative path (with the platform separator) for a key's natural location. */
export function keyToRelativePath(key: string): string {
  return key.split('/').map(encodeSegment).join(sep);
}

/** Location used when the natural path is taken by a directory or blocked by a file. */
export function collisionRelativePath(key: string): string {
  return join(COLLISION_DIR, createHash('sha256').update(key).digest('hex'));
}

/** Joins `relativePath` onto `root`, refusing anything that would resolve outside `root`. */
export function containedPath(root: string, relativePath: string): string {
  const full = join(root, relativePath);
  const rel = relative(root, full);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) {
    throw new Error(`refusing a path outside ${root}: ${relativePath}`);
  }
  return full;
}

function truncateUtf8(text: string, maxBytes: number): string {
  let out = '';
  let bytes = 0;
  for (const char of text) {
    const size = Buffer.byteLength(char);
    if (bytes + size > maxBytes) break;
    out += char;
    bytes += size;
  }
  // Never end inside a `%XX` escape.
  return out.replace(/%[0-9A-F]?$/, '');
}
