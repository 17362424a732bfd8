/**
 * The edge: one HTTP port in front of every emulated service, so `AWS_ENDPOINT_URL` points the
 * unmodified AWS SDK v3 (and the AWS CLI) at the local cloud. Requests are routed by the SigV4
 * signing name in the credential scope, which every signed request carries (Authorization header,
 * or `X-Amz-Credential` on a presigned URL): it tells apart services that share a protocol (SNS and
 * CloudWatch Query, the SageMaker runtime's REST and its control plane's JSON). Unsigned requests
 * (curl, a browser) are routed by protocol instead — JSON by `X-Amz-Target`, Query by `Action` and
 * `Version`, REST by path — and anything else goes to `unsignedDefault` (S3, so an object URL opens
 * in a browser). Paths under `/_imagegen/` are the local cloud's own (health, console, chaos). Before any
 * of that, the request guard refuses what a web page could forge (see ./guard.ts).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { corsHeaders, RequestGuard } from './guard';
import type { ApiFaults, EdgeRequest, EdgeResponse, LocalRoute, ServiceHandler } from './types';

export interface EdgeOptions {
  readonly services: readonly ServiceHandler[];
  /** @default '127.0.0.1' — never all interfaces unless asked. */
  readonly host?: string;
  /** @default 4566; 0 picks a free port. */
  readonly port?: number;
  readonly region: string;
  /** Signing name that unsigned requests are given. @default 's3' */
  readonly unsignedDefault?: string;
  /** Browser origins allowed besides the edge's own. */
  readonly allowedOrigins?: readonly string[];
  /** The local cloud's own pages under `/_imagegen/`, by path prefix. */
  readonly localRoutes?: readonly LocalRoute[];
  readonly log?: (line: string) => void;
  /** Runs before every answer is sent: the local cloud commits what the request changed. */
  readonly beforeAnswer?: () => void;
  /** API fault rules: a call they pick is answered with the rule's error, in the service's own shape, instead of reaching it. */
  readonly faults?: ApiFaults;
}

const CREDENTIAL_SCOPE = /Credential=[^/,\s]+\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request/;

/** Reads (region, signing name) from a SigV4 Authorization header or presigned query string. */
export function credentialScope(
  headers: IncomingMessage['headers'],
  query: URLSearchParams,
): { region: string; signingName: string } | undefined {
  const authorization = headers.authorization;
  const match = typeof authorization === 'string' ? CREDENTIAL_SCOPE.exec(authorization) : null;
  if (match?.[1] && match[2]) return { region: match[1], signingName: match[2] };
  const presigned = query.get('X-Amz-Credential');
  const parts = presigned?.split('/');
  if (parts && parts.length === 5 && parts[2] && parts[3]) return { region: parts[2], signingName: parts[3] };
  return undefined;
}

/** JSON protocols: the `X-Amz-Target` prefix → signing name. */
const TARGET_PREFIXES: Readonly<Record<string, string>> = {
  AWSStepFunctions: 'states',
  AWSEvents: 'events',
  DynamoDB_20120810: 'dynamodb',
  GraniteServiceVersion20100801: 'monitoring',
  AnyScaleFrontendService: 'application-autoscaling',
  SageMaker: 'sagemaker',
};
/** Query protocols: the API `Version` → signing name. */
const QUERY_VERSIONS: Readonly<Record<string, string>> = { '2010-03-31': 'sns', '2010-08-01': 'monitoring' };
/** REST protocols: a path prefix → signing name. */
const PATH_PREFIXES: readonly (readonly [string, string])[] = [
  ['/endpoints/', 'sagemaker'],
  ['/2015-03-31/functions', 'lambda'],
];

/** The signing name an unsigned request's protocol implies, if any. */
export function protocolRoute(headers: IncomingMessage['headers'], path: string, query: URLSearchParams, body: Buffer): string | undefined {
  const target = headers['x-amz-target'];
  if (typeof target === 'string') return TARGET_PREFIXES[target.split('.')[0] ?? ''];
  const contentType = headers['content-type'] ?? '';
  const form = contentType.startsWith('application/x-www-form-urlencoded') ? new URLSearchParams(body.toString('utf8')) : query;
  if (form.has('Action')) return QUERY_VERSIONS[form.get('Version') ?? ''];
  return PATH_PREFIXES.find(([prefix]) => path.startsWith(prefix))?.[1];
}

export class EdgeServer {
  private readonly server: Server;
  private readonly routes = new Map<string, ServiceHandler>();
  private guard: RequestGuard | undefined;

  constructor(private readonly options: EdgeOptions) {
    for (const service of options.services) {
      for (const signingName of service.signingNames) this.routes.set(signingName, service);
    }
    this.server = createServer((req, res) => void this.dispatch(req, res));
    this.server.keepAliveTimeout = 65_000;
  }

  async listen(): Promise<string> {
    const host = this.options.host ?? '127.0.0.1';
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port ?? 4566, host, () => resolve());
    });
    // Built once the port is known (0 picks one), before any request is dispatched.
    this.guard = new RequestGuard({ host, port: (this.server.address() as AddressInfo).port, ...(this.options.allowedOrigins ? { allowedOrigins: this.options.allowedOrigins } : {}) });
    return this.url;
  }

  get url(): string {
    const address = this.server.address() as AddressInfo;
    return `http://${address.address}:${address.port}`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const url = new URL(req.url ?? '/', 'http://edge');
      const verdict = this.guard?.check(req.method ?? 'GET', req.headers, url) ?? { kind: 'refuse', reason: 'the edge is not listening yet' };
      if (verdict.kind === 'refuse') {
        this.options.log?.(`edge: refused ${req.method} ${url.pathname}: ${verdict.reason}`);
        req.resume();
        const refusal = jsonFailure(403, 'AccessDeniedException', verdict.reason);
        return send(res, { ...refusal, headers: { ...refusal.headers, connection: 'close' } });
      }
      if (verdict.kind === 'preflight') {
        req.resume();
        return send(res, { status: 204, headers: this.guard?.preflightHeaders(verdict.origin, req.headers) ?? {} });
      }
      const cors = verdict.corsOrigin === undefined ? {} : corsHeaders(verdict.corsOrigin);
      const body = await readBody(req);
      const response = await this.route(req, url, body);
      this.options.beforeAnswer?.();
      send(res, { ...response, headers: { ...response.headers, ...cors } }, req.method === 'HEAD');
    } catch (error) {
      this.options.log?.(`edge: internal error: ${error instanceof Error ? error.stack : String(error)}`);
      if (!res.headersSent) send(res, jsonFailure(500, 'InternalFailure', 'the local cloud failed to handle the request'));
      else res.destroy();
    }
  }

  private async route(req: IncomingMessage, url: URL, body: Buffer): Promise<EdgeResponse> {
    if (url.pathname === '/_imagegen/health') {
      return { status: 200, headers: { 'content-type': 'application/json' }, body: '{"status":"ready"}' };
    }
    const scope = credentialScope(req.headers, url.searchParams);
    const signingName = scope?.signingName;
    const request: EdgeRequest = {
      method: req.method ?? 'GET',
      rawPath: (req.url ?? '/').split('?')[0] ?? '/',
      query: url.searchParams,
      headers: req.headers,
      body,
      signingName,
      region: scope?.region ?? this.options.region,
    };
    const local = this.options.localRoutes?.find((r) => url.pathname.startsWith(r.prefix));
    if (local) return local.handle(request);
    const routedBy = signingName ?? protocolRoute(req.headers, url.pathname, url.searchParams, body) ?? this.options.unsignedDefault ?? 's3';
    const service = this.routes.get(routedBy);
    if (!service) return jsonFailure(400, 'UnrecognizedClientException', `the local cloud does not emulate service "${routedBy}"`);
    const faults = this.options.faults;
    if (faults?.active && service.api) {
      const error = faults.apiError(service.name, service.api.operationOf(request));
      if (error) return service.api.errorResponse(error, request);
    }
    return service.handle(request);
  }
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, response: EdgeResponse, headOnly = false): void {
  const body = response.body === undefined ? Buffer.alloc(0) : Buffer.isBuffer(response.body) ? response.body : Buffer.from(response.body);
  const headers: Record<string, string> = { 'x-amzn-requestid': crypto.randomUUID(), ...response.headers };
  if (!('content-length' in headers)) headers['content-length'] = String(body.length);
  res.writeHead(response.status, headers);
  res.end(headOnly ? undefined : body);
}

function jsonFailure(status: number, type: string, message: string): EdgeResponse {
  return {
    status,
    headers: { 'content-type': 'application/json', 'x-amzn-errortype': type },
    body: JSON.stringify({ __type: type, message }),
  };
}
