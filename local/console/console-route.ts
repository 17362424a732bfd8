/**
 * The operator console, served by the edge at `/_imagegen/console/`: server-rendered pages over the
 * AWS APIs (./clients.ts), static assets, a read-only proxy for the images bucket, and three
 * POST actions guarded by a CSRF token. GET never changes anything.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import type { EdgeRequest, EdgeResponse, LocalRoute } from '../edge/types';
import { consoleClients, type ConsoleClients } from './clients';
import { CsrfToken, CSRF_FIELD } from './csrf';
import { endpointView } from './endpoint';
import { ConsoleInputError, executionDetail, listExecutions, parseStatus, redrive, replay, statusCounts, stop, type StatusCounts } from './executions';
import { readFaults } from './faults';
import { endpointPage } from './pages/endpoint-page';
import { eventsPage } from './pages/events-page';
import { executionPage } from './pages/execution-page';
import { executionsPage } from './pages/executions-page';
import { faultsPage } from './pages/faults-page';
import { CONSOLE_PATH, esc, executionHref, layout } from './pages/html';
import { resultEvents } from './results';
import type { ConsoleTarget } from './target';

export interface ConsoleOptions {
  /** The local cloud's edge URL; omit to read the account the SDK's credentials point at. */
  readonly endpoint?: string;
  readonly region: string;
  readonly target: ConsoleTarget;
  readonly clients?: ConsoleClients;
  readonly now?: () => number;
  readonly log?: (line: string) => void;
}

const ASSETS: Readonly<Record<string, { file: string; type: string }>> = {
  'console.js': { file: join(__dirname, 'assets/console.js'), type: 'text/javascript; charset=utf-8' },
  'console.css': { file: join(__dirname, 'assets/console.css'), type: 'text/css; charset=utf-8' },
  'uPlot.iife.min.js': { file: require.resolve('uplot/dist/uPlot.iife.min.js'), type: 'text/javascript; charset=utf-8' },
  'uPlot.min.css': { file: require.resolve('uplot/dist/uPlot.min.css'), type: 'text/css; charset=utf-8' },
};
/** Status counts page through every execution: recomputed at most this often. */
const COUNTS_TTL_MS = 2000;
const ACTIONS = ['replay', 'redrive', 'stop'] as const;

export function consoleRoute(options: ConsoleOptions): LocalRoute {
  const clients = options.clients ?? consoleClients({ region: options.region, ...(options.endpoint ? { endpoint: options.endpoint } : {}) });
  const now = options.now ?? Date.now;
  const csrf = new CsrfToken(CONSOLE_PATH);
  const sfnDeps = { sfn: clients.sfn, stateMachineArn: options.target.stateMachineArn };
  let counts: { at: number; value: Promise<StatusCounts> } | undefined;
  const cachedCounts = (): Promise<StatusCounts> => {
    if (!counts || now() - counts.at > COUNTS_TTL_MS) {
      counts = { at: now(), value: statusCounts(sfnDeps) };
      counts.value.catch(() => (counts = undefined));
    }
    return counts.value;
  };
  const html = (body: string, status = 200): EdgeResponse => ({
    status,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'set-cookie': csrf.setCookie,
      'cache-control': 'no-store',
      // Only the console's own scripts and the images it proxies; never framed (clickjacking of the action buttons).
      'content-security-policy': "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; form-action 'self'",
      'x-frame-options': 'DENY',
    },
    body,
  });
  const problem = (status: number, message: string) => html(layout('Error', 'executions', `<h1>${status}</h1><p class="problem">${esc(message)}</p>`), status);
  const redirect = (location: string): EdgeResponse => ({ status: 303, headers: { location, 'cache-control': 'no-store' } });

  async function get(path: string, query: URLSearchParams): Promise<EdgeResponse> {
    if (path === '') {
      const status = parseStatus(query.get('status'));
      const requestId = query.get('requestId') || undefined;
      const nextToken = query.get('nextToken') || undefined;
      const listQuery = { ...(status ? { status } : {}), ...(requestId ? { requestId } : {}), ...(nextToken ? { nextToken } : {}) };
      const [page, counted] = await Promise.all([listExecutions(sfnDeps, listQuery), cachedCounts()]);
      return html(executionsPage(page, counted, listQuery, now()));
    }
    const execution = /^executions\/([^/]+)$/.exec(path);
    if (execution?.[1]) {
      const detail = await executionDetail(sfnDeps, decodeURIComponent(execution[1]));
      return html(executionPage(detail, csrf.value, options.target.bucketName, now()));
    }
    if (path === 'endpoint') {
      const [view, faults] = await Promise.all([endpointView({ ...clients, target: options.target, now }), readFaults(options.endpoint)]);
      return html(endpointPage(view, faults));
    }
    if (path === 'events') {
      const nextToken = query.get('nextToken') || undefined;
      return html(eventsPage(await resultEvents(sfnDeps, nextToken), nextToken !== undefined));
    }
    if (path === 'faults') return html(faultsPage(await readFaults(options.endpoint)));
    const object = /^objects\/([^/]+)\/(.+)$/.exec(path);
    if (object?.[1] && object[2]) return proxyObject(decodeURIComponent(object[1]), object[2].split('/').map(decodeURIComponent).join('/'));
    const asset = /^assets\/([^/]+)$/.exec(path)?.[1];
    const known = asset === undefined ? undefined : ASSETS[asset];
    if (known) return { status: 200, headers: { 'content-type': known.type, 'cache-control': 'no-cache' }, body: await readFile(known.file) };
    return problem(404, `no console page at ${CONSOLE_PATH}${path}`);
  }

  async function proxyObject(bucket: string, key: string): Promise<EdgeResponse> {
    if (bucket !== options.target.bucketName) return problem(404, `the console shows objects of bucket ${options.target.bucketName} only`);
    const object = await clients.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const body = Buffer.from((await object.Body?.transformToByteArray()) ?? []);
    return { status: 200, headers: { 'content-type': object.ContentType ?? 'application/octet-stream', 'cache-control': 'private, max-age=60', 'x-content-type-options': 'nosniff' }, body };
  }

  async function post(path: string, request: EdgeRequest): Promise<EdgeResponse> {
    const match = /^executions\/([^/]+)\/([a-z]+)$/.exec(path);
    const action = ACTIONS.find((a) => a === match?.[2]);
    if (!match?.[1] || !action) return problem(404, `no console action at ${CONSOLE_PATH}${path}`);
    const form = new URLSearchParams(request.body.toString('utf8'));
    const cookie = request.headers.cookie;
    if (!csrf.accepts(typeof cookie === 'string' ? cookie : undefined, form.get(CSRF_FIELD) ?? undefined)) {
      options.log?.(`console: refused ${action} without a valid CSRF token`);
      return problem(403, 'this action needs the form from a console page of this local cloud (missing or stale CSRF token); reload the page and try again');
    }
    const arn = decodeURIComponent(match[1]);
    options.log?.(`console: ${action} ${arn}`);
    if (action === 'replay') return redirect(executionHref(await replay(sfnDeps, arn)));
    await (action === 'redrive' ? redrive(sfnDeps, arn) : stop(sfnDeps, arn));
    counts = undefined;
    return redirect(executionHref(arn));
  }

  return {
    prefix: CONSOLE_PATH.slice(0, -1),
    async handle(request) {
      if (request.rawPath === CONSOLE_PATH.slice(0, -1)) return redirect(CONSOLE_PATH);
      if (!request.rawPath.startsWith(CONSOLE_PATH)) return problem(404, `no console page at ${request.rawPath}`);
      const raw = request.rawPath.slice(CONSOLE_PATH.length);
      try {
        if (request.method === 'GET' || request.method === 'HEAD') return await get(raw, request.query);
        if (request.method === 'POST') return await post(raw, request);
        return { ...problem(405, `${request.method} is not allowed here`), headers: { allow: 'GET, HEAD, POST', 'content-type': 'text/html; charset=utf-8' } };
      } catch (error) {
        const name = (error as { name?: string }).name ?? '';
        const message = error instanceof Error ? error.message : String(error);
        if (error instanceof ConsoleInputError || name === 'InvalidArn' || name === 'ValidationException') return problem(400, message);
        if (name === 'ExecutionDoesNotExist' || name === 'NoSuchKey' || name === 'ResourceNotFoundException') return problem(404, message);
        if (name === 'ExecutionNotRedrivable' || name === 'ExecutionAlreadyExists' || name === 'ExecutionLimitExceeded') return problem(409, `${name}: ${message}`);
        options.log?.(`console: ${request.method} ${request.rawPath} failed: ${error instanceof Error ? error.stack : message}`);
        return problem(502, `${name || 'Error'}: ${message}`);
      }
    },
  };
}
