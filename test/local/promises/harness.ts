/**
 * The whole local cloud in process, on a manual clock, for the pipeline's promises to producers:
 * requests go in through EventBridge's PutEvents, executions are followed through the Step
 * Functions API, the coordination table and the bucket are read through DynamoDB and S3, and the
 * result events are read where a consumer reads them — a rule on the bus delivers each to a
 * function that logs it. The model is a container the test writes, so its output is real input.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { DescribeExecutionCommand, ListExecutionsCommand, SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import sharp from 'sharp';
import { followExecutions, type FinishedExecution } from '../../../local/cli/follow';
import { ManualClock, type Clock } from '../../../local/clock';
import { LocalCloud } from '../../../local/cloud';
import { defaultConfig, imagegenTopology, type ImagegenConfig } from '../../../topology/imagegen-topology';
import { RESULT_EVENT_MARK } from './fixtures/result-recorder';

export const STATE_MACHINE_ARN = 'arn:aws:states:us-east-1:000000000000:stateMachine:imagegen-request';
export const TABLE = defaultConfig.tableName;
export const BUCKET = defaultConfig.bucketName;
const RECORDER = 'imagegen-test-result-recorder';
/** Execution environments per function, the local cloud's default. */
const LAMBDA_CONCURRENCY = 8;

/** What the model container received: the diffusers request Resolve sent. */
export interface ModelCall {
  readonly inputs: string;
  readonly parameters: Record<string, unknown>;
}

/** The container's answer to one `/invocations`. */
export interface ModelReply {
  readonly status: number;
  readonly body: string;
}

/** The container's behaviour; `clock` is the cloud's, for a model that takes time. */
export type ModelBehaviour = (call: ModelCall, clock: Clock) => Promise<ModelReply> | ModelReply;

/** A result event as a consumer receives it from the bus. */
export interface ResultEvent {
  readonly id: string;
  readonly source: string;
  readonly 'detail-type': string;
  readonly detail: {
    readonly requestId?: string;
    readonly cacheKey?: string;
    readonly cacheHit?: boolean;
    readonly error?: { readonly code: string; readonly message: string };
    readonly metadata?: Record<string, unknown>;
    readonly [field: string]: unknown;
  };
}

/** A 64 × 64 PNG in the model's response shape, `{"generated_images":[base64]}`. */
export async function imageReply(): Promise<ModelReply> {
  const png = await sharp({ create: { width: 64, height: 64, channels: 3, background: { r: 30, g: 110, b: 70 } } }).png().toBuffer();
  return { status: 200, body: JSON.stringify({ generated_images: [png.toString('base64')] }) };
}

/** Resolves when `condition` holds; fails naming `what` at the deadline (wall time). */
export async function until(condition: () => boolean | Promise<boolean>, what: string, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function startModel(behaviour: ModelBehaviour, clock: Clock): Promise<{ url: string; calls: ModelCall[]; close: () => Promise<void> }> {
  const calls: ModelCall[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (req.url === '/ping') return void res.end('{}');
      const call = JSON.parse(Buffer.concat(chunks).toString('utf8')) as ModelCall;
      calls.push(call);
      Promise.resolve(behaviour(call, clock)).then(
        (reply) => {
          res.writeHead(reply.status, { 'content-type': 'application/json' });
          res.end(reply.body);
        },
        (error: unknown) => {
          res.writeHead(500, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ message: String(error) }));
        },
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface PipelineOptions {
  readonly model: ModelBehaviour;
  /** Configuration the topology is rendered from (the same knobs a deployment sets). */
  readonly config?: Partial<ImagegenConfig>;
}

export class Pipeline {
  readonly clientConfig: { endpoint: string; region: string; credentials: { accessKeyId: string; secretAccessKey: string } };
  readonly events: EventBridgeClient;
  readonly sfn: SFNClient;
  readonly s3: S3Client;
  readonly ddb: DynamoDBDocumentClient;

  private constructor(
    readonly cloud: LocalCloud,
    private readonly model: Awaited<ReturnType<typeof startModel>>,
    private readonly dataDir: string,
    readonly clock: ManualClock,
    /** Every line the local cloud and its functions logged. */
    readonly log: string[],
  ) {
    this.clientConfig = { endpoint: cloud.url, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };
    this.events = new EventBridgeClient(this.clientConfig);
    this.sfn = new SFNClient(this.clientConfig);
    this.s3 = new S3Client({ ...this.clientConfig, forcePathStyle: true });
    this.ddb = DynamoDBDocumentClient.from(new DynamoDBClient(this.clientConfig));
  }

  static async start(options: PipelineOptions): Promise<Pipeline> {
    const dataDir = mkdtempSync(join(tmpdir(), 'imagegen-promises-'));
    const clock = new ManualClock(Date.parse('2025-06-02T00:00:00Z'));
    const log: string[] = [];
    const model = await startModel(options.model, clock);
    const topology = imagegenTopology({ ...defaultConfig, ...options.config });
    const recorder = { name: RECORDER, entry: 'test/local/promises/fixtures/result-recorder.ts', handler: 'handler', memoryMb: 128, timeoutSeconds: 10, environment: {}, permissions: [] };
    let cloud: LocalCloud;
    try {
      cloud = await LocalCloud.start({
        port: 0,
        dataDir,
        clock,
        modelUrl: model.url,
        topology: { ...topology, functions: [...topology.functions, recorder] },
        instanceStartupSeconds: 0,
        lambdaConcurrency: LAMBDA_CONCURRENCY,
        log: (line) => log.push(line),
      });
    } catch (error) {
      await model.close();
      rmSync(dataDir, { recursive: true, force: true });
      throw error;
    }
    const pipeline = new Pipeline(cloud, model, dataDir, clock, log);
    try {
      await pipeline.subscribeRecorder();
      // Warm Resolve's execution environments (the first invocation waits for the bundle), so requests
      // sent together run together; an input without a token is refused at once.
      await Promise.all(Array.from({ length: LAMBDA_CONCURRENCY }, () => cloud.services.lambda.invoke('imagegen-resolve', {})));
    } catch (error) {
      await pipeline.close();
      throw error;
    }
    return pipeline;
  }

  /** Subscribed as any consumer would be: a rule on the bus for everything imagegen publishes. */
  private async subscribeRecorder(): Promise<void> {
    await this.events.send(new PutRuleCommand({ Name: 'test-results', EventBusName: 'imagegen', EventPattern: JSON.stringify({ source: ['imagegen'] }) }));
    const targets = await this.events.send(
      new PutTargetsCommand({ Rule: 'test-results', EventBusName: 'imagegen', Targets: [{ Id: 'recorder', Arn: this.cloud.services.lambda.functionArn(RECORDER) }] }),
    );
    if (targets.FailedEntryCount !== 0) throw new Error(`could not subscribe the recorder: ${JSON.stringify(targets.FailedEntries)}`);
  }

  async close(): Promise<void> {
    await this.cloud.close();
    await this.model.close();
    rmSync(this.dataDir, { recursive: true, force: true });
  }

  /** Every `/invocations` the endpoint made, in order. */
  get modelCalls(): readonly ModelCall[] {
    return this.model.calls;
  }

  /** Puts request events (details as producers send them) on the bus, ten per PutEvents; returns their event ids in order. */
  async send(details: readonly object[]): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < details.length; i += 10) {
      const entries = details.slice(i, i + 10).map((detail) => ({ EventBusName: 'imagegen', Source: 'test.promises', DetailType: 'Image Generation Requested', Detail: JSON.stringify(detail) }));
      const put = await this.events.send(new PutEventsCommand({ Entries: entries }));
      if (put.FailedEntryCount !== 0) throw new Error(`PutEvents refused entries: ${JSON.stringify(put.Entries)}`);
      ids.push(...(put.Entries ?? []).map((e) => e.EventId ?? ''));
    }
    return ids;
  }

  /** Follows the executions of `eventIds` to their end (wall-time deadline), keyed by event id. */
  finish(eventIds: readonly string[], since: number, timeoutMs = 90_000): Promise<Map<string, FinishedExecution>> {
    return followExecutions(this.sfn, STATE_MACHINE_ARN, new Date(since - 1000), eventIds, timeoutMs);
  }

  /** Event ids of the executions still running. */
  async running(): Promise<string[]> {
    const list = await this.sfn.send(new ListExecutionsCommand({ stateMachineArn: STATE_MACHINE_ARN, statusFilter: 'RUNNING', maxResults: 1000 }));
    const described = await Promise.all((list.executions ?? []).map((e) => this.sfn.send(new DescribeExecutionCommand({ executionArn: e.executionArn }))));
    return described.map((d) => (JSON.parse(d.input ?? '{}') as { id?: string }).id ?? '').sort();
  }

  /** Result events the bus delivered to the subscribed consumer so far. */
  results(): ResultEvent[] {
    return this.log.flatMap((line) => {
      const at = line.indexOf(RESULT_EVENT_MARK);
      return at < 0 ? [] : [JSON.parse(line.slice(at + RESULT_EVENT_MARK.length)) as ResultEvent];
    });
  }

  /** Waits until the consumer has received `count` result events for the given requestIds. */
  async resultsFor(requestIds: readonly string[], count = requestIds.length, ms = 60_000): Promise<ResultEvent[]> {
    const wanted = new Set(requestIds);
    const matching = () => this.results().filter((e) => wanted.has(e.detail.requestId ?? ''));
    await until(() => matching().length >= count, `${count} result events for ${requestIds.length} requests (have ${matching().length})`, ms);
    return matching();
  }

  /** Every item of the coordination table, through DynamoDB's Scan. */
  async tableItems(): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.ddb.send(new ScanCommand({ TableName: TABLE, ConsistentRead: true, ...(start ? { ExclusiveStartKey: start } : {}) }));
      items.push(...(page.Items ?? []));
      start = page.LastEvaluatedKey;
    } while (start);
    return items;
  }

  /** Keys of the bucket under a prefix. */
  async objectKeys(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix, ...(token ? { ContinuationToken: token } : {}) }));
      keys.push(...(page.Contents ?? []).map((o) => o.Key ?? ''));
      token = page.NextContinuationToken;
    } while (token);
    return keys.sort();
  }

  /** Moves the cloud's clock in steps, letting deliveries and functions settle after each. */
  async advance(ms: number, stepMs = 1_000): Promise<void> {
    for (let t = 0; t < ms; t += stepMs) {
      await this.clock.advance(Math.min(stepMs, ms - t));
      await this.cloud.services.events.whenIdle();
      await this.cloud.services.lambda.idle();
    }
  }
}
