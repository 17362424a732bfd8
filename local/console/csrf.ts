/**
 * The console's defence against cross-site request forgery, on top of the edge's Origin check: a
 * per-process secret, set as a `SameSite=Strict` cookie and repeated in a hidden field of every
 * form. A POST must carry both, equal to the secret: a cookie alone is not enough, since every port
 * of 127.0.0.1 shares cookies, and another page cannot read the field.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';

export const CSRF_COOKIE = 'imagegen-console-csrf';
export const CSRF_FIELD = 'csrf';

export class CsrfToken {
  readonly value = randomBytes(32).toString('base64url');

  constructor(private readonly path: string) {}

  get setCookie(): string {
    return `${CSRF_COOKIE}=${this.value}; Path=${this.path}; SameSite=Strict; HttpOnly`;
  }

  /** Whether a POST carries the secret both in its cookie and in its form field. */
  accepts(cookieHeader: string | undefined, field: string | undefined): boolean {
    return this.matches(cookieValue(cookieHeader, CSRF_COOKIE)) && this.matches(field);
  }

  private matches(candidate: string | undefined): boolean {
    if (candidate === undefined) return false;
    const a = Buffer.from(candidate);
    const b = Buffer.from(this.value);
    return a.length === b.length && timingSafeEqual(a, b);
  }
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) return rest.join('=');
  }
  return undefined;
}
