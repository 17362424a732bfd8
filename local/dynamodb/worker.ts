/**
 * The thread dynalite runs in. Both ways to the table meet here — the edge forwards producers' and
 * the console's calls, the local cloud's functions call it directly — so DynamoDB's API faults are
 * decided here, once per call, before dynalite sees it. Calls the emulator makes for itself (TTL
 * deletion, table creation) carry `x-imagegen-internal` and are never faulted, as DynamoDB's own
 * TTL process is not throttled by the table's callers.
 */
import type { FaultPlan } from '../chaos/rules';
import { injectedMessage } from '../chaos/injector';
import { streamSeed } from '../chaos/random';

/** A header only the emulator's own calls carry. */
export const INTERNAL_HEADER = 'x-imagegen-internal';

/** What the worker needs of a plan: DynamoDB's API fault rules, in plan order. */
export interface WorkerFaults {
  readonly seed: number;
  readonly rules: readonly { index: number; operation?: string; probability: number; statusCode: number; code: string; message: string }[];
}

export type ToWorker = { readonly kind: 'close' } | { readonly kind: 'faults'; readonly faults: WorkerFaults };
export type FromWorker = { readonly port: number } | { readonly error: string } | { readonly closed: true } | { readonly fired: number; readonly operation: string };

export function workerFaults(plan: FaultPlan): WorkerFaults {
  const rules = plan.rules.flatMap((rule, index) =>
    rule.service === 'dynamodb' && rule.error
      ? [{ index, ...(rule.operation === undefined ? {} : { operation: rule.operation }), probability: rule.probability, statusCode: rule.error.statusCode, code: rule.error.code, message: injectedMessage(rule.error, index) }]
      : [],
  );
  return { seed: streamSeed(plan.seed, 'dynamodb'), rules };
}

/**
 * Plain JavaScript (dynalite is a JS package), so the worker needs no TypeScript loader. Its random
 * stream is local/chaos/random.ts's mulberry32, seeded with the plan's `dynamodb` stream seed. An
 * error is answered as DynamoDB answers one: JSON 1.0, `__type` with the service's namespace, the
 * body's CRC32 in `x-amz-crc32`.
 */
export const DYNALITE_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const { randomBytes } = require('node:crypto');
const { crc32 } = require('node:zlib');
const server = require(workerData.dynalite)({ path: workerData.path, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
const serve = server.listeners('request').slice();
server.removeAllListeners('request');
let faults = { seed: 0, rules: [] };
let state = 0;
const random = () => {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const injected = (req) => {
  if (faults.rules.length === 0 || req.headers['${INTERNAL_HEADER}'] !== undefined) return undefined;
  const operation = String(req.headers['x-amz-target'] || '').split('.')[1] || '';
  for (const rule of faults.rules) {
    if (rule.operation !== undefined && rule.operation !== operation) continue;
    if (random() < rule.probability) return { rule, operation };
  }
  return undefined;
};
server.on('request', (req, res) => {
  const fault = injected(req);
  if (!fault) return serve.forEach((listener) => listener.call(server, req, res));
  parentPort.postMessage({ fired: fault.rule.index, operation: fault.operation });
  req.resume();
  const body = JSON.stringify({ __type: 'com.amazonaws.dynamodb.v20120810#' + fault.rule.code, message: fault.rule.message });
  res.writeHead(fault.rule.statusCode, {
    'content-type': 'application/x-amz-json-1.0',
    'content-length': Buffer.byteLength(body),
    'x-amzn-requestid': randomBytes(39).toString('base64').toUpperCase().replace(/[+/]/g, '0'),
    'x-amz-crc32': String(crc32(body)),
  });
  res.end(body);
});
server.on('error', (error) => parentPort.postMessage({ error: String(error) }));
server.listen(0, '127.0.0.1', () => parentPort.postMessage({ port: server.address().port }));
parentPort.on('message', (message) => {
  if (message.kind === 'faults') {
    faults = message.faults;
    state = faults.seed >>> 0;
    return;
  }
  server.closeAllConnections();
  server.close(() => parentPort.postMessage({ closed: true }));
});`;
