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
  const pageSize = Math.min(size !== undefined && size > 0 ? size : rules.defaultSize, rules.maxSize);
  let offset = 0;
  if (token !== undefined && token !== null) {
    const raw = typeof token === 'string' ? Buffer.from(token, 'base64url').toString('utf8') : '';
    offset = raw.startsWith(PREFIX) ? Number(raw.slice(PREFIX.length)) : NaN;
    if (!Number.isInteger(offset) || offset < 0 || offset > items.length) throw rules.invalidToken();
  }
  const page = items.slice(offset, offset + pageSize);
  const end = offset + pageSize;
  return end < items.length ? { items: page, nextToken: Buffer.from(`${PREFIX}${end}`).toString('base64url') } : { items: page };
}
