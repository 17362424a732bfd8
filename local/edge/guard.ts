/**
 * Who may drive the local cloud. It listens on loopback, but every web page the user opens can
 * reach loopback through the browser: a cross-site form POST is a "simple" request (no preflight),
 * an `<img>` can carry a Query-protocol call in its URL, and DNS rebinding makes a hostile name
 * resolve to 127.0.0.1. So, as LocalStack does and stricter:
 * - the `Host` must name this server (its bound address, `localhost`, loopback) with its port;
 * - a request carrying an `Origin` must come from an allowed origin (the console's own, or one
 *   given with `--allow-origin`), and CORS preflights are answered only for those;
 * - a request without `Origin` that the browser marks cross-site (`Sec-Fetch-Site`, or a foreign
 *   `Referer` for browsers that do not send it) may only read: GET/HEAD with no `Action` in the URL.
 * SDKs and the AWS CLI send neither `Origin` nor `Sec-Fetch-*`, so they pass unchanged.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { isIP } from 'node:net';

export interface GuardOptions {
  /** The address the edge is bound to. */
  readonly host: string;
  readonly port: number;
  /** Origins allowed besides the edge's own (`http://127.0.0.1:<port>`, `http://localhost:<port>`). */
  readonly allowedOrigins?: readonly string[];
}

export type Verdict =
  | { readonly kind: 'pass'; readonly corsOrigin?: string }
  | { readonly kind: 'preflight'; readonly origin: string }
  | { readonly kind: 'refuse'; readonly reason: string };

const WILDCARD_HOSTS = new Set(['0.0.0.0', '::', '']);
const READ_METHODS = new Set(['GET', 'HEAD']);

/** An origin as browsers serialize it: lower-case scheme and host, no default port, no path. */
export function normalizeOrigin(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new InvalidOriginError(`"${text}" is not an origin (expected scheme://host[:port], e.g. http://localhost:3000)`);
  }
  if (url.origin === 'null' || (url.pathname !== '/' && url.pathname !== '') || url.search || url.hash || url.username) {
    throw new InvalidOriginError(`"${text}" is not an origin (expected scheme://host[:port] with no path, e.g. http://localhost:3000)`);
  }
  return url.origin;
}

export class InvalidOriginError extends Error {
  override readonly name = 'InvalidOriginError';
}

export class RequestGuard {
  private readonly origins: ReadonlySet<string>;
  private readonly names: ReadonlySet<string>;
  private readonly anyIp: boolean;

  constructor(private readonly options: GuardOptions) {
    const bound = stripBrackets(options.host.toLowerCase());
    this.anyIp = WILDCARD_HOSTS.has(bound);
    this.names = new Set(['localhost', '127.0.0.1', '::1', ...(this.anyIp ? [] : [bound])]);
    const own = [...this.names].map((name) => `http://${name.includes(':') ? `[${name}]` : name}:${options.port}`);
    this.origins = new Set([...own, ...(options.allowedOrigins ?? []).map(normalizeOrigin)]);
  }

  /** The console's own origins and the configured ones. */
  get allowedOrigins(): readonly string[] {
    return [...this.origins];
  }

  check(method: string, headers: IncomingHttpHeaders, url: URL): Verdict {
    const host = headers.host;
    if (host !== undefined && !this.hostAllowed(host)) {
      return { kind: 'refuse', reason: `Host "${host}" is not this server (expected localhost or ${this.options.host} on port ${this.options.port})` };
    }
    const origin = single(headers.origin);
    if (method === 'OPTIONS' && headers['access-control-request-method'] !== undefined) {
      if (origin !== undefined && this.origins.has(origin)) return { kind: 'preflight', origin };
      return { kind: 'refuse', reason: `CORS preflight from origin "${origin ?? '(none)'}" refused: not an allowed origin (see --allow-origin)` };
    }
    if (origin !== undefined) {
      if (this.origins.has(origin)) return { kind: 'pass', corsOrigin: origin };
      return { kind: 'refuse', reason: `Origin "${origin}" is not allowed to call the local cloud (allow it with --allow-origin)` };
    }
    const changes = !READ_METHODS.has(method) || url.searchParams.has('Action');
    if (changes && this.crossSite(headers)) {
      return { kind: 'refuse', reason: `a cross-site ${method} ${url.pathname} without an allowed Origin may not change the local cloud` };
    }
    return { kind: 'pass' };
  }

  /** Headers that answer an allowed preflight. */
  preflightHeaders(origin: string, headers: IncomingHttpHeaders): Record<string, string> {
    return {
      ...corsHeaders(origin),
      'access-control-allow-methods': 'GET, HEAD, PUT, POST, DELETE, PATCH',
      // SDK requests carry many x-amz-* headers; echoing the requested list allows exactly those.
      'access-control-allow-headers': single(headers['access-control-request-headers']) ?? '',
      'access-control-max-age': '600',
      ...(headers['access-control-request-private-network'] === 'true' ? { 'access-control-allow-private-network': 'true' } : {}),
    };
  }

  private hostAllowed(host: string): boolean {
    const match = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(host.toLowerCase());
    if (!match?.[1]) return false;
    const name = stripBrackets(match[1]);
    if (Number(match[2] ?? '80') !== this.options.port) return false;
    // A rebinding attack needs a DNS name; `*.localhost` never leaves the machine and an IP literal cannot be rebound.
    return this.names.has(name) || name.endsWith('.localhost') || (this.anyIp && isIP(name) !== 0);
  }

  private crossSite(headers: IncomingHttpHeaders): boolean {
    const site = single(headers['sec-fetch-site']);
    if (site !== undefined) return site === 'cross-site' || site === 'same-site';
    const referer = single(headers.referer);
    if (referer === undefined) return false;
    try {
      return !this.origins.has(new URL(referer).origin);
    } catch {
      return true;
    }
  }
}

/** Headers on every response to an allowed cross-origin request. */
export function corsHeaders(origin: string): Record<string, string> {
  return {
    'access-control-allow-origin': origin,
    'access-control-expose-headers': 'etag, x-amz-request-id, x-amz-id-2, x-amzn-requestid, x-amzn-errortype, x-amz-version-id, x-amzn-query-error',
    vary: 'Origin',
  };
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function stripBrackets(name: string): string {
  return name.startsWith('[') && name.endsWith(']') ? name.slice(1, -1) : name;
}
