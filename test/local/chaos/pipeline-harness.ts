/**
 * The whole pipeline in process on a manual clock, for injecting one fault at a time: requests go
 * in with PutEvents, time moves only when a test moves it (schedules, retries, timeouts and the
 * functions' own clocks follow), and outcomes are read back through the Step Functions API.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { DescribeExecutionCommand, ListExecutionsCommand, SFNClient } from '@aws-sdk/client-sfn';
import { ManualClock } from '../../../local/clock';
import { LocalCloud } from '../../../local/cloud';
import { defaultConfig, imagegenTopology, names, prefixes, type ImagegenConfig } from '../../../topology/imagegen-topology';
import type { Topology } from '../../../topology/topology';

const T0 = Date.parse('2026-03-02T00:00:00Z');

export interface Outcome {
  readonly status: string;
  readonly error?: string;
  readonly startMs: number;
  readonly stopMs?: number;
}

/**
 * Timeouts scaled down so a lost inference is noticed in minutes of the manual clock, one instance
 * always in service (no scale-to-zero, whose capacity changes would send extra test notifications).
 */
export const CHAOS_CONFIG: ImagegenConfig = { ...defaultConfig, requestTtlSeconds: 60, invocationTimeoutSeconds: 30, minInstances: 1 };

export class ChaosPipeline {
  private readonly events: EventBridgeClient;
  private readonly sfn: SFNClient;
  private readonly s3: S3Client;
  private readonly stateMachineArn: string;

  private constructor(
    readonly cloud: LocalCloud,
    readonly clock: ManualClock,
    private readonly dataDir: string,
    /** The local cloud's log lines. */
    readonly log: string[],
  ) {
    const config = { endpoint: cloud.url, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };
    this.events = new EventBridgeClient(config);
    this.sfn = new SFNClient(config);
    this.s3 = new S3Client({ ...config, forcePathStyle: true });
    this.stateMachineArn = `arn:aws:states:us-east-1:000000000000:stateMachine:${CHAOS_CONFIG.stateMachineName}`;
  }

  static async start(topology: Topology = imagegenTopology(CHAOS_CONFIG)): Promise<ChaosPipeline> {
    const dataDir = mkdtempSync(join(tmpdir(), 'imagegen-chaos-pipeline-'));
    const clock = new ManualClock(T0);
    const log: string[] = [];
    const cloud = await LocalCloud.start({ port: 0, dataDir, clock, topology, instanceStartupSeconds: 0, standIn: { inferenceMs: 1 }, log: (line) => log.push(line) });
    const pipeline = new ChaosPipeline(cloud, clock, dataDir, log);
    // The endpoint's start-up test notifications reach Complete before any fault is in force.
    await pipeline.advanceUntil(async () => pipeline.completeInvocations() >= 2, 'the start-up test notifications', 30_000);
    return pipeline;
  }

  async close(): Promise<void> {
    await this.cloud.close();
    rmSync(this.dataDir, { recursive: true, force: true });
  }

  /** Sends one request; returns its event id. */
  async send(requestId: string, prompt: string): Promise<string> {
    const result = await this.events.send(
      new PutEventsCommand({
        Entries: [{ EventBusName: CHAOS_CONFIG.busName, Source: 'chaos.test', DetailType: 'Image Generation Requested', Detail: JSON.stringify({ requestId, prompt }) }],
      }),
    );
    const id = result.Entries?.[0]?.EventId;
    if (!id) throw new Error(`PutEvents did not accept ${requestId}: ${JSON.stringify(result.Entries)}`);
    return id;
  }

  /** Every execution started for `requestId`, oldest first. */
  async executions(requestId: string): Promise<Outcome[]> {
    const listed = await this.sfn.send(new ListExecutionsCommand({ stateMachineArn: this.stateMachineArn, maxResults: 1000 }));
    const outcomes: Outcome[] = [];
    for (const item of listed.executions ?? []) {
      const described = await this.sfn.send(new DescribeExecutionCommand({ executionArn: item.executionArn }));
      const input = JSON.parse(described.input ?? '{}') as { detail?: { requestId?: string } };
      if (input.detail?.requestId !== requestId) continue;
      outcomes.push({
        status: described.status ?? 'UNKNOWN',
        ...(described.error === undefined ? {} : { error: described.error }),
        startMs: described.startDate?.getTime() ?? 0,
        ...(described.stopDate === undefined ? {} : { stopMs: described.stopDate.getTime() }),
      });
    }
    return outcomes.sort((a, b) => a.startMs - b.startMs);
  }

  /** Moves the clock a second at a time until `done` holds, letting every service settle between steps; fails after `maxMs` of clock time. */
  async advanceUntil(done: () => Promise<boolean>, what: string, maxMs: number, stepMs = 1000): Promise<number> {
    const started = this.clock.now();
    while (!(await done())) {
      if (this.clock.now() - started >= maxMs) throw new Error(`not ${what} after ${maxMs / 1000} s of the local cloud's clock`);
      await this.step(stepMs);
    }
    return this.clock.now();
  }

  /** Advances the clock by `ms` in one-second steps. */
  async advance(ms: number): Promise<void> {
    const until = this.clock.now() + ms;
    while (this.clock.now() < until) await this.step(Math.min(1000, until - this.clock.now()));
  }

  /** Runs until every execution of `requestId` has ended; returns them. */
  async finish(requestId: string, maxMs = 600_000): Promise<Outcome[]> {
    let outcomes: Outcome[] = [];
    await this.advanceUntil(
      async () => {
        outcomes = await this.executions(requestId);
        return outcomes.length > 0 && outcomes.every((o) => o.status !== 'RUNNING');
      },
      `every execution of ${requestId} ended`,
      maxMs,
    );
    return outcomes;
  }

  /** Objects under the endpoint's output prefix: one per inference that produced an image. */
  outputs(): Promise<number> {
    return this.count(prefixes.asyncOutput);
  }

  /** Objects under the endpoint's failure prefix: one per inference that failed. */
  failures(): Promise<number> {
    return this.count(prefixes.asyncFailures);
  }

  /** Invocations of the Complete function so far (`AWS/Lambda` Invocations), crashed ones included. */
  completeInvocations(): number {
    return this.lambdaMetric('Invocations');
  }

  completeErrors(): number {
    return this.lambdaMetric('Errors');
  }

  private async count(prefix: string): Promise<number> {
    const listed = await this.s3.send(new ListObjectsV2Command({ Bucket: CHAOS_CONFIG.bucketName, Prefix: prefix }));
    return listed.KeyCount ?? 0;
  }

  private lambdaMetric(metricName: string): number {
    const result = this.cloud.services.cloudwatch.getMetricData(
      [{ Id: 'm', MetricStat: { Metric: { Namespace: 'AWS/Lambda', MetricName: metricName, Dimensions: [{ Name: 'FunctionName', Value: names.completeFunction }] }, Period: 60, Stat: 'Sum' } }],
      T0 - 3_600_000,
      this.clock.now() + 3_600_000,
    ).MetricDataResults[0];
    return (result?.Values ?? []).reduce((a, b) => a + b, 0);
  }

  private async step(ms: number): Promise<void> {
    await this.clock.advance(ms);
    await this.cloud.services.events.whenIdle();
    // Bounded: an invocation held by an injected timeout ends only when the clock moves on.
    await Promise.race([this.cloud.services.lambda.idle(), new Promise((resolve) => setTimeout(resolve, 50))]);
    // The model, the SDK calls and dynalite answer in real time.
    await new Promise((resolve) => setTimeout(resolve, 15));
  }
}
