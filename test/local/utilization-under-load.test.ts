/**
 * The published utilization under a known load, through the whole local cloud on a manual clock:
 * 30 distinct requests of 20 s each on one instance of 12 slots are 600 slot-seconds against 720
 * per minute, a true demand of 0.83. The publisher carries the rise of the described minutes
 * forward (the topology's forecast): after idle minutes the load's minute is a rise, and so is the
 * next one, whose window still holds it. The UtilizationRate computed from each must be within 10 %
 * of that demand (the arrivals forecast over the same minutes, 20 s per image), and every other value
 * must be 0. The model is a container paced by the same clock, so "20 s" is exact and the test takes
 * seconds.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import sharp from 'sharp';
import { ManualClock, type Clock } from '../../local/clock';
import { LocalCloud } from '../../local/cloud';
import { forecastArrivals } from '../../tasks/publish-utilization/forecast';
import { ARRIVALS_FORECAST } from '../../topology/imagegen-topology';

jest.setTimeout(240_000);

const ENDPOINT = 'imagegen-sdxl';
const MINUTE = 60_000;
const INFERENCE_MS = 20_000;
const REQUESTS = 30;
const TRUE_DEMAND = (REQUESTS * INFERENCE_MS) / (12 * MINUTE);

/** A model container that answers each `/invocations` INFERENCE_MS of clock time after it arrived. */
async function pacedModel(clock: Clock): Promise<{ url: string; pending: () => number; close: () => Promise<void> }> {
  const png = await sharp({ create: { width: 64, height: 64, channels: 3, background: { r: 20, g: 90, b: 160 } } }).png().toBuffer();
  const body = JSON.stringify({ generated_images: [png.toString('base64')] });
  let pending = 0;
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.url === '/ping') return void res.end('{}');
      pending++;
      clock.schedule(INFERENCE_MS, () => {
        pending--;
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(body);
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    pending: () => pending,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function waitFor(condition: () => boolean, what: string, ms = 60_000): Promise<void> {
  const until = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('UtilizationRate under a known load', () => {
  let cloud: LocalCloud;
  let clock: ManualClock;
  let model: Awaited<ReturnType<typeof pacedModel>>;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'imagegen-utilization-'));
    // The functions follow this clock too, so Resolve's InferencesStarted carries its time.
    clock = new ManualClock(Date.parse('2025-06-02T00:00:00Z'));
    model = await pacedModel(clock);
    cloud = await LocalCloud.start({ port: 0, dataDir, clock, modelUrl: model.url, instanceStartupSeconds: 0 });
  });

  afterAll(async () => {
    await cloud?.close();
    await model?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** Moves the clock in steps, letting the endpoint, the schedule and the functions settle after each. */
  async function advance(ms: number, stepMs: number): Promise<void> {
    for (let t = 0; t < ms; t += stepMs) {
      await clock.advance(stepMs);
      // Every running invocation is waiting at the model: none is between the model and its notification.
      await waitFor(() => cloud.services.sagemaker.stats(ENDPOINT).inFlight === model.pending(), 'the endpoint to settle');
      await cloud.services.events.whenIdle();
      await cloud.services.lambda.idle();
    }
  }

  /** UtilizationRate datapoints by minute, as target tracking reads them. */
  function published(): Map<number, number> {
    const result = cloud.services.cloudwatch.getMetricData(
      [{ Id: 'u', MetricStat: { Metric: { Namespace: 'ImageGen', MetricName: 'UtilizationRate', Dimensions: [{ Name: 'EndpointName', Value: ENDPOINT }] }, Period: 60, Stat: 'Average' } }],
      clock.now() - 60 * MINUTE,
      clock.now() + MINUTE,
    ).MetricDataResults[0];
    return new Map((result?.Timestamps ?? []).map((t, i) => [t.getTime(), result?.Values[i] as number]));
  }

  it('publishes the demand of 30 requests of 20 s on one instance (0.83) with its rise carried forward, ± 10 %, and 0 with no load', async () => {
    // Warm the functions (the first invocation waits for the bundle); an input without a token is refused at once.
    await cloud.services.lambda.invoke('imagegen-resolve', {});
    // A few idle minutes first, then the load at the start of a clock minute.
    await advance(3 * MINUTE, 5_000);
    const loadMinute = clock.now();

    const events = new EventBridgeClient({ endpoint: cloud.url, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
    for (let batch = 0; batch < REQUESTS / 10; batch++) {
      const entries = Array.from({ length: 10 }, (_, i) => {
        const n = batch * 10 + i;
        return { EventBusName: 'imagegen', Source: 'test.load', DetailType: 'Image Generation Requested', Detail: JSON.stringify({ requestId: `load-${n}`, prompt: `harbour at dawn, number ${n}` }) };
      });
      const put = await events.send(new PutEventsCommand({ Entries: entries }));
      expect(put.FailedEntryCount).toBe(0);
    }
    await waitFor(() => cloud.services.sagemaker.stats(ENDPOINT).queued === REQUESTS - 12 && model.pending() === 12, 'all requests at the endpoint');

    // Three waves of 12, 12 and 6 at 0, 20 and 40 s, then the metrics lag and a few idle minutes.
    await advance(MINUTE, 1_000);
    await advance(6 * MINUTE, 5_000);

    const values = published();
    const computedFromLoad = [...values.keys()].filter((t) => t >= loadMinute).sort((a, b) => a - b);
    // The load's minute lands with SageMaker's metrics: the value computed from it is the first non-zero one.
    const first = computedFromLoad.find((t) => (values.get(t) ?? 0) > 0);
    expect(first).toBeDefined();
    // Stamped with the minute it describes, the load's own.
    expect(first).toBe(loadMinute);
    // The described minutes before it were idle: the forecast's window over them, the load's and the next.
    const idle = Array.from({ length: [...values.keys()].filter((t) => t < loadMinute).length }, () => 0);
    const demand = (minutes: number[]) => (TRUE_DEMAND * forecastArrivals(minutes, ARRIVALS_FORECAST).arrivals) / REQUESTS;
    const expected = new Map([
      [loadMinute, demand([...idle, REQUESTS])],
      [loadMinute + MINUTE, demand([...idle, REQUESTS, 0])],
    ]);
    expect(expected.get(loadMinute)).toBeGreaterThan(TRUE_DEMAND);
    for (const [t, want] of expected) expect(Math.abs((values.get(t) ?? NaN) - want)).toBeLessThanOrEqual(0.1 * want);
    // No load before it and no rise after it: exactly zero, every other minute.
    for (const [t, v] of values) if (!expected.has(t)) expect({ minute: new Date(t).toISOString(), value: v }).toEqual({ minute: new Date(t).toISOString(), value: 0 });
    expect(values.size).toBeGreaterThanOrEqual(8);
  });
});
