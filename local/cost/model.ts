/**
 * Orchestration cost per request path (cache hit, miss = one generated image, a request that joined
 * a running inference, failure), derived from the ASL file and the topology, priced from prices.json.
 * The S3, DynamoDB and EventBridge requests inside the tasks come from ./task-calls.ts, which a test
 * holds equal to the commands the task code sends; Lambda durations are named assumptions, overridable.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Topology } from '../../topology/topology';
import { CostModelError, walk, type AslDefinition, type StateEntered } from './asl-paths';
import { PRICES, type PriceTable } from './prices';
import { billed, ENDPOINT_CALLS_PER_INFERENCE, pathCalls, REQUEST_PATHS, type RequestPath } from './task-calls';

export { CostModelError } from './asl-paths';
export const PATHS = REQUEST_PATHS;
export type PathName = RequestPath;

/** Durations and per-task calls the ASL does not show. Defaults follow docs/design.md. */
export const DEFAULT_ASSUMPTIONS = {
  /** Resolve on a hit: validate, claim, HEAD the cached original, SendTaskSuccess. */
  resolveHitMs: 120,
  /** Resolve on a miss: claim, waiter, re-check, lease, inference item, InvokeEndpointAsync (a joined request stops at the lease). */
  resolveMissMs: 250,
  /** Resolve rejecting an invalid request. */
  resolveFailureMs: 40,
  /** Complete: read the output, write original.png + renditions (sharp), complete the token(s). */
  completeMs: 700,
  reportFailureMs: 80,
  /** Renditions asked per request (each one HEAD, and one PUT per inference on a miss). */
  renditions: 1,
  /** Executions sharing one inference (coalesced identical requests). */
  waitersPerInference: 1,
  /** One EventBridge event per request enters the bus (the producer's PutEvents). */
  requestEvents: 1,
};
export type Assumptions = typeof DEFAULT_ASSUMPTIONS;

export interface PathUsage {
  readonly states: readonly string[];
  readonly stateTransitions: number;
  readonly lambdaInvocations: Readonly<Record<string, number>>;
  readonly lambdaGbSeconds: number;
  readonly s3Puts: number;
  readonly s3Gets: number;
  readonly dynamoWrites: number;
  readonly dynamoReads: number;
  readonly eventBridgeEvents: number;
  readonly snsMessages: number;
}

export interface PathCost extends PathUsage {
  readonly path: PathName;
  readonly usd: Readonly<Record<'stepFunctions' | 'lambda' | 's3' | 'dynamodb' | 'eventbridge' | 'sns', number>>;
  readonly totalUsd: number;
}

export interface CostReport {
  readonly priceTableDate: string;
  readonly stateMachine: string;
  readonly paths: readonly PathCost[];
  readonly goals: { readonly perGeneratedImageUsd: number; readonly perHitUsd: number; readonly generatedMet: boolean; readonly hitMet: boolean };
  /** Not per request: the per-minute publish-utilization schedule. */
  readonly fixedPerDayUsd: number;
  readonly assumptions: Assumptions;
}

export const GOALS = { perGeneratedImageUsd: 0.0001, perHitUsd: 0.00005 };

export function loadDefinition(topology: Topology, rootDir: string, stateMachine?: string, override?: string): { name: string; definition: AslDefinition; substitutions: Record<string, string> } {
  const sm = stateMachine ? topology.stateMachines.find((s) => s.name === stateMachine) : topology.stateMachines[0];
  if (!sm) throw new CostModelError(`no state machine ${stateMachine ?? ''} in the topology`);
  const file = override ?? join(rootDir, sm.definitionFile);
  let definition: AslDefinition;
  try {
    definition = JSON.parse(readFileSync(file, 'utf8')) as AslDefinition;
  } catch (error) {
    throw new CostModelError(`cannot read the definition ${file}: ${(error as Error).message}`);
  }
  const substitutions = Object.fromEntries(Object.entries(sm.substitutions).map(([k, ref]) => [k, `${ref.kind}:${ref.name}`]));
  return { name: sm.name, definition, substitutions };
}

/** The topology function a Lambda task calls: `FunctionName` → `${X}` → substitution → function. */
function lambdaTarget(state: StateEntered, substitutions: Record<string, string>): string {
  const fn = state.parameters?.['FunctionName'];
  if (typeof fn !== 'string') throw new CostModelError(`state ${state.name}: Lambda task without a literal FunctionName`);
  const sub = /^\$\{(\w+)\}$/.exec(fn);
  const resolved = sub ? substitutions[sub[1] as string] : fn;
  if (!resolved) throw new CostModelError(`state ${state.name}: FunctionName ${fn} has no substitution in the topology`);
  return resolved.replace(/^function:/, '');
}

export function pathUsage(path: PathName, topology: Topology, definition: AslDefinition, substitutions: Record<string, string>, a: Assumptions): PathUsage {
  const first = definition.StartAt;
  const states = walk(definition, path === 'failure' && first !== undefined ? { failAt: first, error: 'InvalidRequest' } : {});
  const invocations: Record<string, number> = {};
  let gbSeconds = 0;
  const memoryOf = (name: string) => {
    const fn = topology.functions.find((f) => f.name === name);
    if (!fn) throw new CostModelError(`function ${name} is not in the topology`);
    return fn.memoryMb / 1024;
  };
  const invoke = (name: string, ms: number, share = 1) => {
    invocations[name] = (invocations[name] ?? 0) + share;
    gbSeconds += share * memoryOf(name) * (ms / 1000);
  };
  let eventBridgeEvents = a.requestEvents;
  for (const state of states) {
    const resource = state.resource ?? '';
    if (resource.startsWith('arn:aws:states:::lambda:invoke')) {
      const fn = lambdaTarget(state, substitutions);
      const failed = path === 'failure' && state.name === first;
      const ms = /resolve/.test(fn) ? (failed ? a.resolveFailureMs : path === 'hit' ? a.resolveHitMs : a.resolveMissMs) : /report-failure/.test(fn) ? a.reportFailureMs : a.resolveMissMs;
      invoke(fn, ms);
    } else if (resource.startsWith('arn:aws:states:::events:putEvents')) {
      const entries = state.parameters?.['Entries'];
      eventBridgeEvents += Array.isArray(entries) ? entries.length : 1;
    }
  }
  const calls = pathCalls(path, a);
  const share = 1 / a.waitersPerInference;
  const perRequest = billed(calls.perRequest);
  const perInference = billed(calls.perInference, share);
  const startsInference = Object.keys(calls.perInference).length > 0;
  // report-failure publishes the failure event itself (PutEvents from the function).
  eventBridgeEvents += perRequest.functionEvents;
  const s3Puts = perRequest.s3Puts + perInference.s3Puts + (startsInference ? share * ENDPOINT_CALLS_PER_INFERENCE.s3Puts : 0);
  const s3Gets = perRequest.s3Gets + perInference.s3Gets;
  const dynamoWrites = perRequest.dynamoWrites + perInference.dynamoWrites;
  const dynamoReads = perRequest.dynamoReads + perInference.dynamoReads;
  const snsMessages = startsInference ? share * ENDPOINT_CALLS_PER_INFERENCE.snsMessages : 0;
  if (startsInference) {
    const complete = topology.functions.find((f) => /complete/.test(f.name));
    if (!complete) throw new CostModelError('the topology has no complete function');
    invoke(complete.name, a.completeMs, share);
  }
  return {
    states: states.map((s) => s.name),
    stateTransitions: states.length,
    lambdaInvocations: invocations,
    lambdaGbSeconds: gbSeconds,
    s3Puts,
    s3Gets,
    dynamoWrites,
    dynamoReads,
    eventBridgeEvents,
    snsMessages,
  };
}

export function price(path: PathName, usage: PathUsage, prices: PriceTable = PRICES): PathCost {
  const invocations = Object.values(usage.lambdaInvocations).reduce((x, y) => x + y, 0);
  const usd = {
    stepFunctions: usage.stateTransitions * prices.stepFunctions.perStateTransition,
    lambda: invocations * prices.lambda.perRequest + usage.lambdaGbSeconds * prices.lambda.perGbSecond,
    s3: usage.s3Puts * prices.s3.perPut + usage.s3Gets * prices.s3.perGet,
    dynamodb: usage.dynamoWrites * prices.dynamodb.perWriteRequestUnit + usage.dynamoReads * prices.dynamodb.perReadRequestUnit,
    eventbridge: usage.eventBridgeEvents * prices.eventbridge.perCustomEvent,
    sns: usage.snsMessages * prices.sns.perPublish,
  };
  return { path, ...usage, usd, totalUsd: Object.values(usd).reduce((x, y) => x + y, 0) };
}

export function costReport(topology: Topology, rootDir: string, options: { definitionFile?: string; assumptions?: Partial<Assumptions> } = {}): CostReport {
  const a = { ...DEFAULT_ASSUMPTIONS, ...options.assumptions };
  const { name, definition, substitutions } = loadDefinition(topology, rootDir, undefined, options.definitionFile);
  const paths = PATHS.map((p) => price(p, pathUsage(p, topology, definition, substitutions, a)));
  const miss = paths.find((p) => p.path === 'miss') as PathCost;
  const hit = paths.find((p) => p.path === 'hit') as PathCost;
  const publisher = topology.functions.find((f) => /publish-utilization/.test(f.name));
  // Every minute: one invocation (~100 ms), one GetMetricData of 4 metrics, one PutMetricData.
  const perMinute = publisher
    ? PRICES.lambda.perRequest + (publisher.memoryMb / 1024) * 0.1 * PRICES.lambda.perGbSecond + 4 * PRICES.cloudwatch.perMetricRequested + PRICES.cloudwatch.perPutMetricDataRequest
    : 0;
  return {
    priceTableDate: PRICES.asOf,
    stateMachine: name,
    paths,
    goals: { ...GOALS, generatedMet: miss.totalUsd <= GOALS.perGeneratedImageUsd, hitMet: hit.totalUsd <= GOALS.perHitUsd },
    fixedPerDayUsd: perMinute * 1440,
    assumptions: a,
  };
}

export function formatCostReport(report: CostReport): string {
  const usd = (v: number) => `$${v.toFixed(7)}`;
  const rows: [string, (p: PathCost) => string][] = [
    ['states entered', (p) => p.states.join(' → ')],
    ['state transitions', (p) => String(p.stateTransitions)],
    ['Lambda invocations', (p) => Object.entries(p.lambdaInvocations).map(([f, n]) => `${f.replace(/^imagegen-/, '')}×${+n.toFixed(3)}`).join(', ') || '0'],
    ['Lambda GB-seconds', (p) => p.lambdaGbSeconds.toFixed(3)],
    ['S3 PUT / GET', (p) => `${+p.s3Puts.toFixed(3)} / ${+p.s3Gets.toFixed(3)}`],
    ['DynamoDB WRU / RRU', (p) => `${+p.dynamoWrites.toFixed(3)} / ${+p.dynamoReads.toFixed(3)}`],
    ['EventBridge events', (p) => String(p.eventBridgeEvents)],
    ['SNS messages', (p) => String(+p.snsMessages.toFixed(3))],
    ['$ Step Functions', (p) => usd(p.usd.stepFunctions)],
    ['$ Lambda', (p) => usd(p.usd.lambda)],
    ['$ S3', (p) => usd(p.usd.s3)],
    ['$ DynamoDB', (p) => usd(p.usd.dynamodb)],
    ['$ EventBridge', (p) => usd(p.usd.eventbridge)],
    ['$ SNS', (p) => usd(p.usd.sns)],
    ['$ total per request', (p) => usd(p.totalUsd)],
  ];
  const header = `| | ${report.paths.map((p) => p.path).join(' | ')} |\n|---|${report.paths.map(() => '---').join('|')}|`;
  const body = rows.map(([label, f]) => `| ${label} | ${report.paths.map(f).join(' | ')} |`).join('\n');
  const miss = report.paths.find((p) => p.path === 'miss') as PathCost;
  const hit = report.paths.find((p) => p.path === 'hit') as PathCost;
  return [
    `orchestration cost of ${report.stateMachine} (prices as of ${report.priceTableDate}, us-east-1; endpoint instance time excluded)`,
    header,
    body,
    '',
    `goal per generated image ≤ $${report.goals.perGeneratedImageUsd.toFixed(6)}: ${usd(miss.totalUsd)} — ${report.goals.generatedMet ? 'met' : 'NOT met'}`,
    `goal per cache hit       ≤ $${report.goals.perHitUsd.toFixed(6)}: ${usd(hit.totalUsd)} — ${report.goals.hitMet ? 'met' : 'NOT met'}`,
    `fixed: publish-utilization every minute ≈ $${report.fixedPerDayUsd.toFixed(4)} per day`,
  ].join('\n');
}
