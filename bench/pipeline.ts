/**
 * The pipeline on the local cloud, measured from the producer's side (PutEvents → execution end):
 *   (a) miss-path throughput ÷ the bare image work (stand-in render + post-process called directly);
 *   (b) cache-hit requests/s with p50/p99 latency;
 *   (c) orchestration latency added beyond model + post-process, at low load.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { SFNClient } from '@aws-sdk/client-sfn';
import { followExecutions } from '../local/cli/follow';
import { LocalCloud } from '../local/cloud';
import { renderStandInImage, type StandInParams } from '../local/model/stand-in-server';
import { render, toPng } from '../tasks/shared/images';
import { inParallel, percentile, round } from './stats';

export interface PipelineResults {
  /** `bareConcurrency`: images worked on at once outside the pipeline, as many as it post-processes at once. */
  missThroughput: { requests: number; pipelinePerSecond: number; barePerSecond: number; bareConcurrency: number; ratio: number; goal: string };
  cacheHits: { requests: number; perSecond: number; p50Ms: number; p99Ms: number; goal: string };
  /** Hits sent one at a time: the latency a single request sees without queueing. */
  cacheHitAlone: { requests: number; p50Ms: number; p99Ms: number };
  orchestrationLatency: { requests: number; modelMs: number; p50Ms: number; p99Ms: number; goal: string };
}

/** Execution environments per function in the benchmarked cloud (the local cloud's default). */
const LAMBDA_CONCURRENCY = 8;

const DEFAULT_RENDITIONS = [
  { width: 512, format: 'webp' as const },
  { width: 256, format: 'jpeg' as const },
];

interface Harness {
  cloud: LocalCloud;
  events: EventBridgeClient;
  sfn: SFNClient;
  stateMachineArn: string;
  close(): Promise<void>;
}

async function harness(inferenceMs: number, lambdaConcurrency?: number): Promise<Harness> {
  const dataDir = mkdtempSync(join(tmpdir(), 'imagegen-bench-'));
  const cloud = await LocalCloud.start({ port: 0, dataDir, standIn: { inferenceMs }, instanceStartupSeconds: 0, ...(lambdaConcurrency ? { lambdaConcurrency } : {}) });
  const config = { endpoint: cloud.url, region: cloud.partition.region, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };
  const events = new EventBridgeClient(config);
  const sfn = new SFNClient(config);
  return {
    cloud,
    events,
    sfn,
    stateMachineArn: `arn:aws:states:${cloud.partition.region}:${cloud.partition.account}:stateMachine:imagegen-request`,
    async close() {
      events.destroy();
      sfn.destroy();
      await cloud.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

interface Sent {
  eventId: string;
  sentAt: number;
}

/** Sends details as request events (10 per PutEvents, `concurrency` calls in flight). */
async function send(h: Harness, details: readonly Record<string, unknown>[], concurrency: number): Promise<Sent[]> {
  const sent: Sent[] = new Array(details.length);
  const batches = Math.ceil(details.length / 10);
  await inParallel(batches, concurrency, async (b) => {
    const slice = details.slice(b * 10, b * 10 + 10);
    const sentAt = Date.now();
    const result = await h.events.send(
      new PutEventsCommand({
        Entries: slice.map((detail) => ({ EventBusName: 'imagegen', Source: 'bench', DetailType: 'Image Generation Requested', Detail: JSON.stringify(detail) })),
      }),
    );
    result.Entries?.forEach((entry, j) => {
      if (!entry.EventId) throw new Error(`PutEvents rejected a request: ${entry.ErrorCode}`);
      sent[b * 10 + j] = { eventId: entry.EventId, sentAt };
    });
  });
  return sent;
}

/** Sends, waits for every execution, and returns per-request latency (send → execution end). */
async function runBatch(h: Harness, details: readonly Record<string, unknown>[], concurrency = 8) {
  const since = new Date(Date.now() - 1000);
  const started = Date.now();
  const sent = await send(h, details, concurrency);
  const finished = await followExecutions(h.sfn, h.stateMachineArn, since, sent.map((s) => s.eventId), 600_000);
  const latencies = sent.map((s) => {
    const execution = finished.get(s.eventId);
    if (execution?.status !== 'SUCCEEDED') throw new Error(`a benchmark request ended ${execution?.status}: ${execution?.cause}`);
    return execution.stopMs - s.sentAt;
  });
  const lastStop = Math.max(...sent.map((s) => finished.get(s.eventId)?.stopMs ?? 0));
  return { latencies, seconds: (lastStop - started) / 1000 };
}

const nonce = Date.now().toString(36);
const missDetail = (label: string, i: number) => ({ requestId: `bench-${label}-${i}`, prompt: `benchmark ${label} ${nonce} picture ${i}`, seed: i });
const standInParams = (detail: { prompt: string; seed: number }): StandInParams => ({
  prompt: detail.prompt,
  width: 1024,
  height: 1024,
  steps: 30,
  guidanceScale: 7,
  seed: detail.seed,
});

/**
 * What a request adds beyond the image work. The stand-in answers after max(inferenceMs, its render
 * time) — the render is part of the model time, not added to it — and post-processing follows.
 */
export function orchestrationOverheadMs(latencyMs: number, modelMs: number, bare: { renderMs: number; postMs: number }): number {
  return latencyMs - Math.max(modelMs, bare.renderMs) - bare.postMs;
}

/** The image work alone: what the model container and the completion task do per image. */
async function bareImageWork(detail: { prompt: string; seed: number }): Promise<{ renderMs: number; postMs: number }> {
  const t0 = performance.now();
  const png = await renderStandInImage(standInParams(detail));
  const t1 = performance.now();
  const original = await toPng(Buffer.from(png.toString('base64'), 'base64'));
  // As the completion task does it: renditions rendered concurrently.
  await Promise.all(DEFAULT_RENDITIONS.map((r) => render(original.body, r)));
  return { renderMs: t1 - t0, postMs: performance.now() - t1 };
}

export async function benchPipeline(options: { missRequests?: number; hitRequests?: number; latencyRequests?: number } = {}): Promise<PipelineResults> {
  const missRequests = options.missRequests ?? 40;
  const hitRequests = options.hitRequests ?? 400;
  const latencyRequests = options.latencyRequests ?? 20;
  // The pipeline post-processes at most this many images at once (Complete's execution environments;
  // the endpoint's 12 slots render more), so the bare work gets the same parallelism.
  const concurrency = LAMBDA_CONCURRENCY;

  // (a) and (b): a model with no artificial delay, so orchestration overhead is fully exposed.
  const h = await harness(0, LAMBDA_CONCURRENCY);
  try {
    await runBatch(h, Array.from({ length: 4 }, (_, i) => missDetail('warm', i)));
    const misses = Array.from({ length: missRequests }, (_, i) => missDetail('miss', i));
    const pipeline = await runBatch(h, misses);
    const bareStarted = performance.now();
    await inParallel(missRequests, concurrency, async (i) => {
      await bareImageWork(misses[i] as { prompt: string; seed: number });
    });
    const bareSeconds = (performance.now() - bareStarted) / 1000;

    const hitContent = { prompt: `benchmark cache hit ${nonce}`, seed: 1 };
    await runBatch(h, [{ requestId: 'bench-hit-prime', ...hitContent }]);
    const hits = await runBatch(
      h,
      Array.from({ length: hitRequests }, (_, i) => ({ requestId: `bench-hit-${i}`, ...hitContent })),
    );

    const alone: number[] = [];
    for (let i = 0; i < 30; i++) alone.push(...(await runBatch(h, [{ requestId: `bench-hit-alone-${i}`, ...hitContent }])).latencies);

    const missResults = {
      requests: missRequests,
      pipelinePerSecond: round(missRequests / pipeline.seconds, 2),
      barePerSecond: round(missRequests / bareSeconds, 2),
      bareConcurrency: concurrency,
      ratio: round(bareSeconds / pipeline.seconds, 3),
      goal: '≥ 0.85',
    };
    const hitResults = {
      requests: hitRequests,
      perSecond: round(hitRequests / hits.seconds),
      p50Ms: round(percentile(hits.latencies, 50)),
      p99Ms: round(percentile(hits.latencies, 99)),
      goal: '≥ 500/s, p99 ≤ 100 ms',
    };
    await h.close();

    // (c): one request at a time with a fixed model time; subtract the measured image work.
    const modelMs = 300;
    const slow = await harness(modelMs);
    try {
      await runBatch(slow, [missDetail('latency-warm', 0)]);
      const overheads: number[] = [];
      for (let i = 0; i < latencyRequests; i++) {
        const detail = missDetail('latency', i);
        const { latencies } = await runBatch(slow, [detail]);
        const bare = await bareImageWork(detail);
        overheads.push(orchestrationOverheadMs(latencies[0] ?? NaN, modelMs, bare));
      }
      return {
        missThroughput: missResults,
        cacheHits: hitResults,
        cacheHitAlone: { requests: alone.length, p50Ms: round(percentile(alone, 50)), p99Ms: round(percentile(alone, 99)) },
        orchestrationLatency: {
          requests: latencyRequests,
          modelMs,
          p50Ms: round(percentile(overheads, 50)),
          p99Ms: round(percentile(overheads, 99)),
          goal: 'p50 ≤ 25 ms, p99 ≤ 80 ms',
        },
      };
    } finally {
      await slow.close();
    }
  } catch (error) {
    await h.close().catch(() => undefined);
    throw error;
  }
}
