/**
 * kill -9 in the middle of a burst. `imagegen serve` runs in a child process; a burst of requests
 * (70 % distinct images, 25 % repeats of them under new requestIds, 5 % duplicate deliveries of a
 * request already sent) goes in with PutEvents; the process is killed with SIGKILL at chosen
 * moments and restarted on the same data directory after each. Then every accepted request must
 * end SUCCEEDED, no execution may be left RUNNING, and the endpoint must have run one inference per
 * distinct image: its output objects (one key per accepted request, kept when a request runs again
 * after a restart) are counted.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { DynamoDBClient, ScanCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { DescribeExecutionCommand, ListExecutionsCommand, SFNClient, type ExecutionListItem } from '@aws-sdk/client-sfn';
import { freePort } from '../local/shared/ports';
import { imagegenTopology, prefixes } from '../topology/imagegen-topology';
import { inParallel, round } from './stats';

const ROOT = resolve(__dirname, '..');
const topology = imagegenTopology();
const BUS = topology.buses[0]?.name ?? 'imagegen';
const BUCKET = topology.buckets[0]?.name ?? 'imagegen-images';
const TABLE = topology.tables[0]?.name ?? 'imagegen-coordination';
const STATE_MACHINE = `arn:aws:states:us-east-1:000000000000:stateMachine:${topology.stateMachines[0]?.name ?? 'imagegen-request'}`;

/** What the burst has done so far, as a producer and the Step Functions API see it. */
export interface BurstProgress {
  readonly sent: number;
  readonly accepted: number;
  readonly total: number;
  readonly succeeded: number;
}

/** When to kill: the first moment `at` holds, checked a few times a second. */
export interface KillMoment {
  readonly label: string;
  readonly at: (progress: BurstProgress) => boolean;
}

export interface CrashBurstOptions {
  readonly requests: number;
  readonly kills: readonly KillMoment[];
  readonly dataDir: string;
  /** Stand-in model time per image. */
  readonly inferenceMs: number;
  /** How long to wait for the last request after the last restart. */
  readonly finishTimeoutMs: number;
  readonly log?: (line: string) => void;
}

export interface KillRecord {
  readonly label: string;
  /** Milliseconds since the burst began. */
  readonly atMs: number;
  readonly progress: BurstProgress;
  /** How long the restarted process took to print `ready`. */
  readonly restartReadyMs: number;
}

export interface CrashBurstResult {
  readonly requests: number;
  /** Distinct requestIds in the burst (a duplicate delivery shares its original's). */
  readonly requestIds: number;
  readonly distinctImages: number;
  /** Entries PutEvents acknowledged with an EventId (a request re-sent after a kill counts again). */
  readonly acceptedEvents: number;
  readonly kills: readonly KillRecord[];
  /** Accepted requests (by requestId) with every execution of theirs SUCCEEDED. */
  readonly requestsSucceeded: number;
  readonly acceptedEventsWithoutExecution: number;
  readonly executions: { readonly total: number; readonly succeeded: number; readonly running: number; readonly failed: number };
  /**
   * Distinct InferenceIds that produced an output object: the coordination table's inference items
   * whose output exists. A request the endpoint ran again after a restart counts once.
   */
  readonly inferences: number;
  /** Objects under the endpoint's output prefix (a request run again writes the same key). */
  readonly outputObjects: number;
  readonly inferenceFailures: number;
  /** From the last restart's `ready` to the last execution's end. */
  readonly secondsToFinishAfterLastRestart: number;
  readonly secondsTotal: number;
}

interface Request {
  readonly detail: { readonly requestId: string; readonly prompt: string; readonly seed: number; readonly renditions: readonly { width: number; format: string }[] };
}

/** 70 % distinct images, 25 % repeats of them under new requestIds, 5 % duplicate deliveries (same requestId, same content). */
export function burst(requests: number, nonce: string): { requests: Request[]; distinctImages: number } {
  const distinct = Math.round(requests * 0.7);
  const repeats = Math.round(requests * 0.25);
  const duplicates = requests - distinct - repeats;
  const renditions = [{ width: 128, format: 'jpeg' }];
  const image = (i: number): Request => ({ detail: { requestId: `crash-${nonce}-${i}`, prompt: `crash test ${nonce} picture ${i}`, seed: i, renditions } });
  const out: Request[] = Array.from({ length: distinct }, (_, i) => image(i));
  for (let i = 0; i < repeats; i++) {
    const original = image((i * 7) % distinct);
    out.push({ detail: { ...original.detail, requestId: `crash-${nonce}-repeat-${i}` } });
  }
  for (let i = 0; i < duplicates; i++) out.push(out[(i * 13) % out.length] as Request);
  // Interleave so repeats and duplicates arrive while their originals are still in flight.
  const shuffled = out.map((request, i) => ({ request, key: (i * 7919) % out.length })).sort((a, b) => a.key - b.key);
  return { requests: shuffled.map((s) => s.request), distinctImages: distinct };
}

export async function runCrashBurst(options: CrashBurstOptions): Promise<CrashBurstResult> {
  const log = options.log ?? (() => undefined);
  const { requests, distinctImages } = burst(options.requests, Date.now().toString(36));
  const port = await freePort();
  const server = new ServeProcess(port, options.dataDir, ['--inference-ms', String(options.inferenceMs), '--startup-seconds', '0']);
  const url = `http://127.0.0.1:${port}`;
  const config = { endpoint: url, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, maxAttempts: 1 };
  const events = new EventBridgeClient(config);
  const sfn = new SFNClient(config);
  const s3 = new S3Client({ ...config, forcePathStyle: true });
  const ddb = new DynamoDBClient(config);
  const began = Date.now();
  try {
    await server.start();
    const accepted = new Map<string, string>();
    const batches = Array.from({ length: Math.ceil(requests.length / 10) }, (_, b) => requests.slice(b * 10, b * 10 + 10));
    let wake = (): void => undefined;
    const sender = sendAll(events, batches, accepted, server, () => wake());
    let succeeded = 0;
    const progress = (): BurstProgress => ({ sent: sender.sent(), accepted: accepted.size, total: requests.length, succeeded });

    // The count of SUCCEEDED executions is refreshed in the background, so a kill is never late for it.
    let counting = true;
    const counter = (async () => {
      while (counting) {
        succeeded = await countSucceeded(sfn).catch(() => succeeded);
        await sleep(300);
      }
    })();

    const kills: KillRecord[] = [];
    for (const moment of options.kills) {
      // Checked after every accepted PutEvents (a burst is accepted in a second or two) and ten times a second.
      while (!moment.at(progress())) {
        await new Promise<void>((r) => {
          wake = r;
          setTimeout(r, 100);
        });
      }
      const record = { label: moment.label, atMs: Date.now() - began, progress: progress() };
      log(`crash: kill -9 ${moment.label} (${JSON.stringify(record.progress)})`);
      await server.kill();
      const restarted = Date.now();
      await server.start();
      kills.push({ ...record, restartReadyMs: Date.now() - restarted });
      log(`crash: restarted, ready in ${Date.now() - restarted} ms`);
    }
    await sender.done;
    counting = false;
    await counter;
    const lastRestart = Date.now() - (kills.at(-1)?.restartReadyMs ?? 0);

    const outcome = await waitForEnd(sfn, new Set(accepted.keys()), options.finishTimeoutMs, log);
    const byRequest = new Map<string, string[]>();
    for (const [eventId, requestId] of accepted) {
      const statuses = outcome.byEvent.get(eventId) ?? [];
      byRequest.set(requestId, [...(byRequest.get(requestId) ?? []), ...statuses]);
    }
    const executions = outcome.executions;
    return {
      requests: requests.length,
      requestIds: new Set(requests.map((r) => r.detail.requestId)).size,
      distinctImages,
      acceptedEvents: accepted.size,
      kills,
      requestsSucceeded: [...byRequest.values()].filter((statuses) => statuses.length > 0 && statuses.every((s) => s === 'SUCCEEDED')).length,
      acceptedEventsWithoutExecution: [...accepted.keys()].filter((id) => !outcome.byEvent.has(id)).length,
      executions: {
        total: executions.length,
        succeeded: executions.filter((e) => e.status === 'SUCCEEDED').length,
        running: executions.filter((e) => e.status === 'RUNNING').length,
        failed: executions.filter((e) => e.status !== 'SUCCEEDED' && e.status !== 'RUNNING').length,
      },
      ...(await countInferences(s3, ddb)),
      inferenceFailures: (await listKeys(s3, prefixes.asyncFailures)).length,
      secondsToFinishAfterLastRestart: round((outcome.endedAt - lastRestart) / 1000),
      secondsTotal: round((outcome.endedAt - began) / 1000),
    };
  } finally {
    events.destroy();
    sfn.destroy();
    s3.destroy();
    ddb.destroy();
    await server.stop();
  }
}

/**
 * Sends every batch, 4 PutEvents calls at a time; a call that fails because the process was killed
 * is sent again once it is back (the producer's retry), so every request is eventually accepted.
 */
function sendAll(events: EventBridgeClient, batches: readonly Request[][], accepted: Map<string, string>, server: ServeProcess, onAccepted: () => void) {
  let sent = 0;
  const done = inParallel(batches.length, 4, async (b) => {
    const batch = batches[b] as Request[];
    for (;;) {
      await server.ready();
      const generation = server.generation;
      try {
        const result = await events.send(
          new PutEventsCommand({ Entries: batch.map((r) => ({ EventBusName: BUS, Source: 'crash.test', DetailType: 'Image Generation Requested', Detail: JSON.stringify(r.detail) })) }),
        );
        result.Entries?.forEach((entry, i) => {
          if (!entry.EventId) throw new Error(`PutEvents rejected an entry: ${entry.ErrorCode} ${entry.ErrorMessage}`);
          accepted.set(entry.EventId, (batch[i] as Request).detail.requestId);
        });
        sent += batch.length;
        onAccepted();
        return;
      } catch (error) {
        // Refused or cut off by a kill: sent again once the process is back.
        if (server.up() && server.generation === generation) throw error;
      }
    }
  });
  return { done, sent: () => sent };
}

async function countSucceeded(sfn: SFNClient): Promise<number> {
  return (await listExecutions(sfn, 'SUCCEEDED')).length;
}

async function listExecutions(sfn: SFNClient, statusFilter?: 'SUCCEEDED'): Promise<ExecutionListItem[]> {
  const items: ExecutionListItem[] = [];
  let nextToken: string | undefined;
  do {
    const page = await sfn.send(new ListExecutionsCommand({ stateMachineArn: STATE_MACHINE, maxResults: 1000, ...(statusFilter ? { statusFilter } : {}), ...(nextToken ? { nextToken } : {}) }));
    items.push(...(page.executions ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return items;
}

/** Polls until every accepted event has an execution and none is RUNNING; describes each execution once it has ended. */
async function waitForEnd(sfn: SFNClient, acceptedEvents: ReadonlySet<string>, timeoutMs: number, log: (line: string) => void) {
  const eventOf = new Map<string, string>();
  const deadline = Date.now() + timeoutMs;
  let executions: ExecutionListItem[];
  let lastReport = 0;
  for (;;) {
    executions = await listExecutions(sfn);
    const ended = executions.filter((e) => e.status !== 'RUNNING' && !eventOf.has(e.executionArn ?? ''));
    await inParallel(ended.length, 8, async (i) => {
      const arn = ended[i]?.executionArn ?? '';
      const described = await sfn.send(new DescribeExecutionCommand({ executionArn: arn }));
      eventOf.set(arn, (JSON.parse(described.input ?? '{}') as { id?: string }).id ?? '');
    });
    const covered = new Set(eventOf.values());
    const running = executions.filter((e) => e.status === 'RUNNING').length;
    const missing = [...acceptedEvents].filter((id) => !covered.has(id)).length;
    if (running === 0 && missing === 0) break;
    if (Date.now() - lastReport > 10_000) {
      lastReport = Date.now();
      log(`crash: ${running} running, ${missing} accepted requests without a finished execution`);
    }
    if (Date.now() > deadline) break;
    await sleep(500);
  }
  const byEvent = new Map<string, string[]>();
  for (const execution of executions) {
    const eventId = eventOf.get(execution.executionArn ?? '');
    if (eventId !== undefined) byEvent.set(eventId, [...(byEvent.get(eventId) ?? []), execution.status ?? '']);
  }
  return { executions, byEvent, endedAt: Date.now() };
}

async function listKeys(s3: S3Client, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix, ...(token ? { ContinuationToken: token } : {}) }));
    keys.push(...(page.Contents ?? []).map((o) => o.Key ?? ''));
    token = page.NextContinuationToken;
  } while (token);
  return keys;
}

async function countInferences(s3: S3Client, ddb: DynamoDBClient): Promise<{ inferences: number; outputObjects: number }> {
  const outputs = new Set((await listKeys(s3, prefixes.asyncOutput)).map((key) => `s3://${BUCKET}/${key}`));
  const produced = new Set<string>();
  let start: Record<string, AttributeValue> | undefined;
  do {
    const page = await ddb.send(
      new ScanCommand({ TableName: TABLE, FilterExpression: 'begins_with(pk, :p)', ExpressionAttributeValues: { ':p': { S: 'inference#' } }, ...(start ? { ExclusiveStartKey: start } : {}) }),
    );
    for (const item of page.Items ?? []) {
      const location = item.outputLocation?.S;
      if (location && outputs.has(location)) produced.add(item.pk?.S ?? '');
    }
    start = page.LastEvaluatedKey;
  } while (start);
  return { inferences: produced.size, outputObjects: outputs.size };
}

/** `imagegen serve` on a fixed port and data directory, started again after each kill. */
export class ServeProcess {
  private child: ChildProcess | undefined;
  private isUp = false;
  private waiting: (() => void)[] = [];
  private output = '';
  /** Counts the starts: a call begun before a kill fails after it. */
  generation = 0;

  constructor(
    readonly port: number,
    private readonly dataDir: string,
    /** Options for each start, e.g. the stand-in model's time. */
    public args: readonly string[] = [],
  ) {}

  /** Resolves once the process is up (at once, or after the restart under way). */
  ready(): Promise<void> {
    return this.isUp ? Promise.resolve() : new Promise((resolveUp) => this.waiting.push(resolveUp));
  }

  /** False from the moment a kill begins until the restarted process is ready. */
  up(): boolean {
    return this.isUp;
  }

  async start(): Promise<void> {
    const args = ['--import', 'tsx', join(ROOT, 'local/cli/main.ts'), 'serve', '--port', String(this.port), '--data-dir', this.dataDir, ...this.args];
    const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, FORCE_COLOR: '0' } });
    this.child = child;
    this.output = '';
    child.stdout?.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    await new Promise<void>((resolveReady, reject) => {
      const timer = setTimeout(() => reject(new Error(`serve did not print "ready" within 60 s:\n${this.output.slice(-4000)}`)), 60_000);
      child.stdout?.on('data', () => {
        if (/ready/.test(this.output)) {
          clearTimeout(timer);
          resolveReady();
        }
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        if (signal !== 'SIGKILL') reject(new Error(`serve exited (${code ?? signal}) before it was ready:\n${this.output.slice(-4000)}`));
      });
    });
    this.generation++;
    this.isUp = true;
    for (const resolveUp of this.waiting.splice(0)) resolveUp();
  }

  /** SIGKILL, and wait until the process is gone. */
  async kill(): Promise<void> {
    const child = this.child;
    this.isUp = false;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  }

  /** Ctrl-C, as a user stops it. */
  async stop(): Promise<void> {
    const child = this.child;
    this.isUp = false;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGINT');
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, 15_000)))]);
    clearTimeout(timer);
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  }

  log(): string {
    return this.output;
  }
}


const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
