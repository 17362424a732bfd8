/**
 * A burst of requests through the local cloud, in process, under fault rules (local/chaos): how many
 * end, how, and at what cost in inferences. 70 % of the requests are distinct images, 30 % repeat
 * one of them under a new requestId. The stand-in model is fast and the endpoint's limits and the
 * reconciler's first look are scaled down, so a lost notification is recovered in seconds, not
 * minutes; the reconciler still runs on its schedule, once a minute.
 *
 * A request is doomed when every attempt its image was allowed (the first and `inferenceRetries`
 * more) failed: it must fail as InferenceFailed. Every other request must succeed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient, paginateScan, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { paginateListObjectsV2, S3Client } from '@aws-sdk/client-s3';
import { DescribeExecutionCommand, paginateListExecutions, SFNClient, type ExecutionListItem } from '@aws-sdk/client-sfn';
import { LocalCloud } from '../local/cloud';
import { cacheKeyOf, normalize } from '../tasks/shared/request';
import { defaultConfig, imagegenTopology, prefixes, type ImagegenConfig } from '../topology/imagegen-topology';
import { inParallel, percentile, round } from './stats';

/** The recovery issue's default matrix. */
export const DEFAULT_MATRIX = {
  seed: 7,
  rules: [
    { service: 'sagemaker', action: 'model-error', probability: 0.1 },
    { service: 'sns', action: 'drop', probability: 0.05 },
    { service: 'sns', action: 'duplicate', probability: 0.2 },
    { service: 's3', probability: 0.02, error: { statusCode: 500, code: 'InternalError' } },
    { service: 'dynamodb', probability: 0.02, error: { statusCode: 400, code: 'ProvisionedThroughputExceededException' } },
    { service: 'lambda', function: 'imagegen-complete', action: 'crash', probability: 0.05 },
  ],
};

export const SNS_DROP_ONLY = { seed: 7, rules: [{ service: 'sns', action: 'drop', probability: 0.05 }] };

/** Scaled down for the run: the reconciler looks 10 s after an attempt starts; one instance always in service. */
export const CHAOS_RUN_CONFIG: ImagegenConfig = { ...defaultConfig, requestTtlSeconds: 120, invocationTimeoutSeconds: 30, reconcileAfterSeconds: 10, minInstances: 1 };

export interface ChaosRunOptions {
  readonly label: string;
  readonly requests: number;
  readonly faults: { readonly seed: number; readonly rules: readonly unknown[] };
  /** Stand-in model time per image. @default 50 */
  readonly inferenceMs?: number;
  /** How long to wait for the last request before counting the rest as hung. @default 15 minutes */
  readonly finishTimeoutMs?: number;
  readonly log?: (line: string) => void;
}

export interface ChaosRunResult {
  readonly label: string;
  readonly faults: ChaosRunOptions['faults'];
  /** How often each rule fired, in rule order. */
  readonly fired: readonly number[];
  readonly requests: number;
  readonly distinctImages: number;
  readonly accepted: number;
  readonly succeeded: number;
  readonly failedByCode: Readonly<Record<string, number>>;
  /** Executions still RUNNING when the run gave up waiting. */
  readonly hung: number;
  /** Accepted events with no execution at the end. */
  readonly lost: number;
  /** Requests whose image failed every attempt it was allowed. */
  readonly doomed: number;
  /** Requests not doomed that did not succeed (goal: 0). */
  readonly notDoomedUnsucceeded: number;
  /** Doomed requests that did not end as InferenceFailed (goal: 0). */
  readonly doomedOtherwise: number;
  /** Attempts recorded (inference items), of which retries (attempt > 1). */
  readonly attempts: number;
  readonly retries: number;
  /** Inferences the endpoint ran: output objects + failure objects. */
  readonly inferences: number;
  readonly outputs: number;
  readonly failureObjects: number;
  /** From the request's PutEvents to its execution's end. */
  readonly latencyMs: { readonly p50: number; readonly p99: number; readonly max: number };
  /** From the first PutEvents to the last execution's end. */
  readonly lastTerminalMs: number;
  readonly wallMs: number;
}

interface Sent {
  readonly requestId: string;
  readonly cacheKey: string;
  readonly sentAt: number;
  eventId?: string;
}

export async function runChaos(options: ChaosRunOptions): Promise<ChaosRunResult> {
  const log = options.log ?? (() => undefined);
  const dataDir = mkdtempSync(join(tmpdir(), 'imagegen-chaos-'));
  const began = Date.now();
  const cloud = await LocalCloud.start({
    port: 0,
    dataDir,
    topology: imagegenTopology(CHAOS_RUN_CONFIG),
    instanceStartupSeconds: 0,
    standIn: { inferenceMs: options.inferenceMs ?? 50 },
    faults: options.faults,
  });
  try {
    const config = { endpoint: cloud.url, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };
    const requests = burst(options.requests, began.toString(36));
    const sent = await send(new EventBridgeClient(config), requests, log);
    const accepted = sent.filter((s) => s.eventId !== undefined);
    log(`chaos ${options.label}: ${accepted.length}/${requests.length} accepted in ${Date.now() - began} ms; waiting for every execution to end`);

    const sfn = new SFNClient(config);
    const stateMachineArn = `arn:aws:states:us-east-1:000000000000:stateMachine:${CHAOS_RUN_CONFIG.stateMachineName}`;
    const executions = await waitForEnd(sfn, stateMachineArn, accepted.length, options.finishTimeoutMs ?? 900_000, log);
    const fired = cloud.faults.fired();
    // The run's own reads below must not draw faults.
    cloud.faults.replace({ rules: [] });

    const byEvent = await describeAll(sfn, executions);
    const attempts = await attemptsByImage(new DynamoDBClient({ ...config, endpoint: cloud.services.dynamodb.directUrl }));
    const s3 = new S3Client({ ...config, forcePathStyle: true });
    const outputs = await keys(s3, prefixes.asyncOutput);
    const failureObjects = await keys(s3, prefixes.asyncFailures);
    const allowed = 1 + CHAOS_RUN_CONFIG.inferenceRetries;
    const doomedImages = new Set(
      [...attempts].filter(([, list]) => list.length >= allowed && list.every((a) => !a.outputLocation || !outputs.has(a.outputLocation))).map(([cacheKey]) => cacheKey),
    );

    const failedByCode: Record<string, number> = {};
    let succeeded = 0;
    let hung = 0;
    let lost = 0;
    let doomed = 0;
    let notDoomedUnsucceeded = 0;
    let doomedOtherwise = 0;
    const latencies: number[] = [];
    let lastStop = 0;
    for (const request of accepted) {
      const runs = byEvent.get(request.eventId ?? '') ?? [];
      const isDoomed = doomedImages.has(request.cacheKey);
      if (isDoomed) doomed++;
      if (runs.length === 0) {
        lost++;
        if (!isDoomed) notDoomedUnsucceeded++;
        continue;
      }
      // A redelivered event starts one more execution: the request's outcome is its first to end.
      const ended = runs.filter((r) => r.status !== 'RUNNING').sort((a, b) => a.stopMs - b.stopMs);
      const first = ended[0];
      if (!first) {
        hung++;
        if (!isDoomed) notDoomedUnsucceeded++;
        continue;
      }
      latencies.push(first.stopMs - request.sentAt);
      lastStop = Math.max(lastStop, ...ended.map((r) => r.stopMs));
      if (first.status === 'SUCCEEDED') succeeded++;
      else failedByCode[first.error ?? first.status] = (failedByCode[first.error ?? first.status] ?? 0) + 1;
      if (!isDoomed && first.status !== 'SUCCEEDED') notDoomedUnsucceeded++;
      if (isDoomed && first.error !== 'InferenceFailed') doomedOtherwise++;
    }
    const attemptList = [...attempts.values()].flat();
    return {
      label: options.label,
      faults: options.faults,
      fired,
      requests: requests.length,
      distinctImages: new Set(requests.map((r) => r.cacheKey)).size,
      accepted: accepted.length,
      succeeded,
      failedByCode,
      hung,
      lost,
      doomed,
      notDoomedUnsucceeded,
      doomedOtherwise,
      attempts: attemptList.length,
      retries: attemptList.filter((a) => a.attempt > 1).length,
      inferences: outputs.size + failureObjects.size,
      outputs: outputs.size,
      failureObjects: failureObjects.size,
      latencyMs: { p50: Math.round(percentile(latencies, 50)), p99: Math.round(percentile(latencies, 99)), max: Math.round(Math.max(0, ...latencies)) },
      lastTerminalMs: lastStop > 0 ? lastStop - (sent[0]?.sentAt ?? began) : 0,
      wallMs: Date.now() - began,
    };
  } finally {
    await cloud.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

interface Request {
  readonly detail: { readonly requestId: string; readonly prompt: string; readonly seed: number };
  readonly cacheKey: string;
}

/** 70 % distinct images, 30 % repeats of images already sent under new requestIds, spread through the burst. */
function burst(total: number, nonce: string): Request[] {
  const distinct = Math.max(1, Math.round(total * 0.7));
  const repeats = total - distinct;
  const image = (i: number, requestId: string): Request => {
    const detail = { requestId, prompt: `chaos ${nonce} picture ${i}`, seed: i };
    return { detail, cacheKey: cacheKeyOf(CHAOS_RUN_CONFIG.modelId, normalize(detail, CHAOS_RUN_CONFIG.modelId, CHAOS_RUN_CONFIG.supportedSizes)) };
  };
  const out: Request[] = [];
  let repeated = 0;
  for (let i = 0; i < distinct; i++) {
    out.push(image(i, `chaos-${nonce}-${i}`));
    for (; repeated < Math.floor(((i + 1) * repeats) / distinct); repeated++) out.push(image((repeated * 7919) % (i + 1), `chaos-${nonce}-repeat-${repeated}`));
  }
  return out;
}

async function send(events: EventBridgeClient, requests: readonly Request[], log: (line: string) => void): Promise<Sent[]> {
  const sent: Sent[] = requests.map((r) => ({ requestId: r.detail.requestId, cacheKey: r.cacheKey, sentAt: 0 }));
  const batches = Math.ceil(requests.length / 10);
  await inParallel(batches, 4, async (b) => {
    const slice = requests.slice(b * 10, b * 10 + 10);
    const at = Date.now();
    const result = await events.send(
      new PutEventsCommand({ Entries: slice.map((r) => ({ EventBusName: CHAOS_RUN_CONFIG.busName, Source: 'chaos.bench', DetailType: 'Image Generation Requested', Detail: JSON.stringify(r.detail) })) }),
    );
    result.Entries?.forEach((entry, i) => {
      const target = sent[b * 10 + i];
      if (!target) return;
      Object.assign(target, { sentAt: at, ...(entry.EventId ? { eventId: entry.EventId } : {}) });
      if (!entry.EventId) log(`chaos: PutEvents refused ${target.requestId}: ${entry.ErrorCode ?? ''} ${entry.ErrorMessage ?? ''}`);
    });
  });
  return sent;
}

async function waitForEnd(sfn: SFNClient, stateMachineArn: string, expected: number, timeoutMs: number, log: (line: string) => void): Promise<ExecutionListItem[]> {
  const deadline = Date.now() + timeoutMs;
  let lastReport = 0;
  for (;;) {
    const items: ExecutionListItem[] = [];
    for await (const page of paginateListExecutions({ client: sfn }, { stateMachineArn, maxResults: 1000 })) items.push(...(page.executions ?? []));
    const running = items.filter((i) => i.status === 'RUNNING').length;
    if ((items.length >= expected && running === 0) || Date.now() > deadline) return items;
    if (Date.now() - lastReport > 10_000) {
      lastReport = Date.now();
      log(`chaos: ${items.length - running} ended, ${running} running, ${Math.max(0, expected - items.length)} not started`);
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

interface Run {
  readonly status: string;
  readonly error?: string;
  readonly stopMs: number;
}

/** Each execution's outcome, by the id of the event that started it (the execution's input). */
async function describeAll(sfn: SFNClient, items: readonly ExecutionListItem[]): Promise<Map<string, Run[]>> {
  const byEvent = new Map<string, Run[]>();
  await inParallel(items.length, 8, async (i) => {
    const described = await sfn.send(new DescribeExecutionCommand({ executionArn: items[i]?.executionArn }));
    const eventId = (JSON.parse(described.input ?? '{}') as { id?: string }).id ?? '';
    const run: Run = { status: described.status ?? 'UNKNOWN', ...(described.error ? { error: described.error } : {}), stopMs: described.stopDate?.getTime() ?? 0 };
    byEvent.set(eventId, [...(byEvent.get(eventId) ?? []), run]);
  });
  return byEvent;
}

interface AttemptRecord {
  readonly attempt: number;
  readonly outputLocation?: string;
}

/** The inference attempts recorded in the coordination table, by image. */
async function attemptsByImage(ddb: DynamoDBClient): Promise<Map<string, AttemptRecord[]>> {
  const byImage = new Map<string, AttemptRecord[]>();
  const text = (v: AttributeValue | undefined) => (v && 'S' in v ? v.S : undefined);
  for await (const page of paginateScan({ client: ddb }, { TableName: CHAOS_RUN_CONFIG.tableName, FilterExpression: 'sk = :s', ExpressionAttributeValues: { ':s': { S: 'inference' } } })) {
    for (const item of page.Items ?? []) {
      const cacheKey = text(item.cacheKey) ?? '';
      const output = text(item.outputLocation);
      const record: AttemptRecord = { attempt: Number(item.attempt?.N ?? '1'), ...(output ? { outputLocation: output } : {}) };
      byImage.set(cacheKey, [...(byImage.get(cacheKey) ?? []), record]);
    }
  }
  return byImage;
}

/** Every object under `prefix`, as `s3://bucket/key`. */
async function keys(s3: S3Client, prefix: string): Promise<Set<string>> {
  const out = new Set<string>();
  for await (const page of paginateListObjectsV2({ client: s3 }, { Bucket: CHAOS_RUN_CONFIG.bucketName, Prefix: prefix })) {
    for (const object of page.Contents ?? []) out.add(`s3://${CHAOS_RUN_CONFIG.bucketName}/${object.Key}`);
  }
  return out;
}

/** The run as a Markdown table. */
export function chaosMarkdown(r: ChaosRunResult): string[] {
  const failed = Object.entries(r.failedByCode).map(([code, n]) => `${code} ${n}`).join(', ') || '0';
  return [
    `### ${r.label}`,
    '',
    `Rules (seed ${r.faults.seed}), fired: ${r.faults.rules.map((rule, i) => `\`${JSON.stringify(rule)}\` × ${r.fired[i] ?? 0}`).join('; ')}.`,
    '',
    '| measure | value | goal |',
    '|---|---:|---|',
    `| requests (distinct images) | ${r.requests} (${r.distinctImages}) | |`,
    `| accepted by PutEvents | ${r.accepted} | |`,
    `| succeeded | ${r.succeeded} | every request not doomed |`,
    `| failed, by code | ${failed} | doomed ones only, as InferenceFailed |`,
    `| doomed (every attempt of the image failed) | ${r.doomed} | |`,
    `| not doomed and not succeeded | ${r.notDoomedUnsucceeded} | 0 |`,
    `| doomed, ended otherwise than InferenceFailed | ${r.doomedOtherwise} | 0 |`,
    `| hung (still RUNNING) | ${r.hung} | 0 |`,
    `| lost (accepted, no execution) | ${r.lost} | 0 |`,
    `| inferences the endpoint ran (outputs + failure objects) | ${r.inferences} (${r.outputs} + ${r.failureObjects}) | ≤ distinct images + retries = ${r.distinctImages + r.retries} |`,
    `| attempts recorded, of which retries | ${r.attempts}, ${r.retries} | |`,
    `| latency p50 / p99 / max (PutEvents → execution end) | ${round(r.latencyMs.p50 / 1000, 2)} / ${round(r.latencyMs.p99 / 1000, 2)} / ${round(r.latencyMs.max / 1000, 2)} s | |`,
    `| time to the last terminal state | ${round(r.lastTerminalMs / 1000, 1)} s | |`,
    '',
  ];
}
