/**
 * `/_imagegen/chaos/faults`: `GET` answers the plan in force (`{ seed, rules }`, `rules: []` when
 * off), `POST` replaces it with a JSON fault document and answers the plan now in force, or 400
 * naming the field that is wrong (nothing applied). The edge's guard already refuses foreign
 * origins; requiring `application/json` also keeps out anything a cross-site form could send.
 */
import type { EdgeRequest, EdgeResponse, LocalRoute } from '../edge/types';
import type { FaultInjector } from './injector';
import { FaultRuleError } from './rules';

export const FAULTS_PATH = '/_imagegen/chaos/faults';

export function chaosRoute(injector: FaultInjector, log: (line: string) => void = () => undefined): LocalRoute {
  return {
    prefix: '/_imagegen/chaos/',
    handle: (request) => Promise.resolve(handle(injector, request, log)),
  };
}

function handle(injector: FaultInjector, request: EdgeRequest, log: (line: string) => void): EdgeResponse {
  if (request.rawPath !== FAULTS_PATH) return json(404, { message: `no such path: ${request.rawPath} (fault rules are at ${FAULTS_PATH})` });
  if (request.method === 'GET' || request.method === 'HEAD') return json(200, injector.current());
  if (request.method !== 'POST') return { ...json(405, { message: `${request.method} is not allowed on ${FAULTS_PATH}: GET reads the rules, POST replaces them` }), headers: { 'content-type': 'application/json', allow: 'GET, HEAD, POST' } };
  const contentType = String(request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (contentType !== 'application/json') return json(415, { message: `POST ${FAULTS_PATH} takes Content-Type application/json, got ${contentType || 'none'}` });
  let document: unknown;
  try {
    document = JSON.parse(request.body.toString('utf8'));
  } catch (error) {
    return json(400, { message: `the body is not JSON: ${error instanceof Error ? error.message : String(error)}` });
  }
  try {
    const plan = injector.replace(document);
    log(`chaos: ${plan.rules.length} fault rule(s) in force, seed ${plan.seed}`);
    return json(200, injector.current());
  } catch (error) {
    if (error instanceof FaultRuleError) return json(400, { message: error.message });
    throw error;
  }
}

function json(status: number, body: unknown): EdgeResponse {
  return { status, headers: { 'content-type': 'application/json', 'cache-control': 'no-store' }, body: JSON.stringify(body) };
}
