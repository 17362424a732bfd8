/**
 * Offset pagination behind opaque tokens, as every List/Describe operation of the emulated services
 * pages: a token is only valid if this service issued it, and a page never exceeds the service's limit.
 */
import type { AwsServiceError } from '../edge/errors';

export interface Page<T> {
  readonly items: T[];
  /** Absent on the last page. */
  readonly nextToken?: string;
}

export interface PaginationRules {
  /** Page size when the caller gives none. */
  readonly defaultSize: number;
  /** Largest page the caller may ask for. */
  readonly maxSize: number;
  /** The error for a token this service did not issue. */
  readonly invalidToken: () => AwsServiceError;
}

const PREFIX = 'o:';

export function paginate<T>(items: readonly T[], size: number | undefined, token: unknown, rules: PaginationRules): Page<T> {
  const pageSize = pageSizeOf(size, rules);
  const offset = offsetOf(token, rules);
  if (offset > items.length) throw rules.invalidToken();
  const page = items.slice(offset, offset + pageSize);
  const end = offset + pageSize;
  return end < items.length ? { items: page, nextToken: tokenFor(end) } : { items: page };
}

/**
 * The same pages over a query that reads a window itself (`fetch(offset, limit)`), so a large
 * table is never read whole to serve one page.
 */
export function paginateQuery<T>(fetch: (offset: number, limit: number) => T[], size: number | undefined, token: unknown, rules: PaginationRules): Page<T> {
  const pageSize = pageSizeOf(size, rules);
  const offset = offsetOf(token, rules);
  // One row more than the page tells whether another page follows.
  const rows = fetch(offset, pageSize + 1);
  return rows.length > pageSize ? { items: rows.slice(0, pageSize), nextToken: tokenFor(offset + pageSize) } : { items: rows };
}

function pageSizeOf(size: number | undefined, rules: PaginationRules): number {
  return Math.min(size !== undefined && size > 0 ? size : rules.defaultSize, rules.maxSize);
}

function offsetOf(token: unknown, rules: PaginationRules): number {
  if (token === undefined || token === null) return 0;
  const raw = typeof token === 'string' ? Buffer.from(token, 'base64url').toString('utf8') : '';
  const offset = raw.startsWith(PREFIX) ? Number(raw.slice(PREFIX.length)) : NaN;
  if (!Number.isInteger(offset) || offset < 0) throw rules.invalidToken();
  return offset;
}

function tokenFor(offset: number): string {
  return Buffer.from(`${PREFIX}${offset}`).toString('base64url');
}
