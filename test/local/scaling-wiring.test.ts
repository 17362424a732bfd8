/**
 * The scaling loop as wired in the local cloud, on a manual clock that the functions follow too:
 * the every-minute schedule rule runs the real publish-utilization function, which publishes
 * ImageGen/UtilizationRate with explicit zeros, and the autoscaler acts on the endpoint — scaling an
 * idle endpoint to zero only after 15 published low minutes, and out of zero when a request waits.
 * Each datapoint is stamped with the minute it describes, once that minute's endpoint metrics have
 * landed (120 s after it closes), and the alarms read the published metric itself: these tests check
 * the published values and their minutes, and a busy minute that must postpone the scale-in.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { SFNClient } from '@aws-sdk/client-sfn';
import { followExecutions } from '../../local/cli/follow';
import { ManualClock } from '../../local/clock';
import { LocalCloud } from '../../local/cloud';
import { ARRIVALS_METRIC, METRIC_NAMESPACE } from '../../topology/imagegen-topology';

jest.setTimeout(120_000);

const MINUTE = 60_000;
// Far from the machine's own time: anything still stamped with the wall clock lands outside every query.
const T0 = Date.parse('2025-06-02T00:00:00Z');
const ENDPOINT = 'imagegen-sdxl';

async function until(condition: () => boolean, what: string, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('local scaling loop', () => {
  let cloud: LocalCloud;
  let clock: ManualClock;
  let dataDir: string;
  const log: string[] = [];
  const config = () => ({ endpoint: cloud.url, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'imagegen-scaling-'));
    clock = new ManualClock(T0);
    cloud = await LocalCloud.start({ port: 0, dataDir, clock, instanceStartupSeconds: 0, standIn: { inferenceMs: 1 }, log: (line) => log.push(line) });
  });

  afterAll(async () => {
    await cloud?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function minute(): Promise<void> {
    await clock.advance(MINUTE);
    await cloud.services.events.whenIdle();
    await cloud.services.lambda.idle();
  }

  /** UtilizationRate by minute (Average and SampleCount), as target tracking reads it. */
  function published(stat: 'Average' | 'SampleCount'): Map<number, number> {
    const result = cloud.services.cloudwatch.getMetricData(
      [{ Id: 'u', MetricStat: { Metric: { Namespace: METRIC_NAMESPACE, MetricName: 'UtilizationRate', Dimensions: [{ Name: 'EndpointName', Value: ENDPOINT }] }, Period: 60, Stat: stat } }],
      T0 - 60 * MINUTE,
      clock.now() + MINUTE,
    ).MetricDataResults[0];
    return new Map((result?.Timestamps ?? []).map((t, i) => [t.getTime(), result?.Values[i] as number] as const).sort(([a], [b]) => a - b));
  }

  const capacity = () => cloud.services.sagemaker.getCapacity(ENDPOINT, 'AllTraffic');

  it('publishes UtilizationRate every minute, zeros included, stamped with the landed minute it describes', async () => {
    for (let i = 0; i < 5; i++) await minute();

    // Nothing before the first minute landed (at 3 minutes); then one explicit 0 per scheduled run,
    // stamped with the minute it describes: nothing from the wall clock.
    const minutes = [T0, T0 + MINUTE, T0 + 2 * MINUTE];
    expect([...published('Average')]).toEqual(minutes.map((t) => [t, 0]));
    expect([...published('SampleCount')]).toEqual(minutes.map((t) => [t, 1]));
    expect(log.some((line) => line.includes('imagegen-publish-utilization') && line.includes('REPORT'))).toBe(true);
  });

  it('scales the idle endpoint in to zero only after 15 published low minutes: a busy minute postpones it', async () => {
    expect(capacity().desired).toBe(1);
    // One minute's inferences after idle ones, as Resolve emits them (namespace, name, {EndpointName}
    // only). The publisher carries the rise forward: 23 + 5 × (the slope 6.9 − 3 % of the mean 5.75)
    // = 56.6 against one instance's 74.2, close to target, above the scale-in threshold (90 % of it),
    // below the scale-out one.
    const busyMinute = clock.now();
    await new CloudWatchClient(config()).send(
      new PutMetricDataCommand({
        Namespace: METRIC_NAMESPACE,
        MetricData: [{ MetricName: ARRIVALS_METRIC, Dimensions: [{ Name: 'EndpointName', Value: ENDPOINT }], Timestamp: new Date(busyMinute + 30_000), Value: 23, Unit: 'Count' }],
      }),
    );
    while (capacity().desired > 0 && clock.now() < T0 + 40 * MINUTE) await minute();
    expect(capacity().desired).toBe(0);
    const scaledInAt = clock.now();

    const values = published('Average');
    const busy = [...values].filter(([, v]) => v > 0);
    // Two non-zero values once the endpoint metrics landed: the busy minute, and the next one, whose
    // fitted slope still rises (2.3 − 0.17, 5 minutes forward: 10.6, below the scale-in threshold).
    expect(busy.map(([t]) => t)).toEqual([busyMinute, busyMinute + MINUTE]);
    const [[busyAt, busyValue], [, afterValue]] = busy as [[number, number], [number, number]];
    expect(busyValue).toBeCloseTo(56.6375 / ((12 * 60) / 9.7), 6);
    expect(busyValue).toBeGreaterThan(0.72);
    expect(busyValue).toBeLessThan(0.8);
    expect(afterValue).toBeCloseTo(10.6375 / ((12 * 60) / 9.7), 6);
    // Every other minute described up to the scale-in published an explicit 0 (the last run, at
    // scaledInAt, described the minute 3 minutes before it).
    for (let t = T0; t <= scaledInAt - 3 * MINUTE; t += MINUTE) {
      if (t !== busyAt && t !== busyAt + MINUTE) expect({ minute: new Date(t).toISOString(), value: values.get(t) }).toEqual({ minute: new Date(t).toISOString(), value: 0 });
    }
    expect(values.has(scaledInAt - 2 * MINUTE)).toBe(false);
    // Fifteen low datapoints after the busy one (the next one's 0.14 among them): the last describes the minute 15 after it, published
    // 3 minutes later; the autoscaler reads it 20 s after that (before the next whole minute), not later.
    expect((scaledInAt - busyAt) / MINUTE).toBe(15 + 3 + 1);
    expect(log.some((line) => /autoscaling: imagegen-sdxl 1 → 0 \(UtilizationRate 0 < 0\.72, 15\/15 datapoints\)/.test(line))).toBe(true);
  });

  it('scales from zero when a request arrives, and the request then completes', async () => {
    expect(capacity().desired).toBe(0);
    const arrivedAt = clock.now();
    const since = new Date(arrivedAt - 1000);
    const put = await new EventBridgeClient(config()).send(
      new PutEventsCommand({
        Entries: [{ EventBusName: 'imagegen', Source: 'test', DetailType: 'Image Generation Requested', Detail: JSON.stringify({ requestId: 'from-zero', prompt: 'a koi pond', seed: 3 }) }],
      }),
    );
    const eventId = put.Entries?.[0]?.EventId ?? '';
    // The request waits in the endpoint's queue until the backlog-without-capacity alarm adds an instance.
    await until(() => cloud.services.sagemaker.stats(ENDPOINT).queued === 1, 'the request in the endpoint queue');
    for (let i = 0; i < 5 && capacity().current === 0; i++) await minute();
    expect(capacity().current).toBeGreaterThanOrEqual(1);
    expect(log.some((line) => /autoscaling: imagegen-sdxl 0 → [1-9]/.test(line))).toBe(true);

    const finished = await followExecutions(new SFNClient(config()), 'arn:aws:states:us-east-1:000000000000:stateMachine:imagegen-request', since, [eventId], 60_000);
    expect(finished.get(eventId)?.status).toBe('SUCCEEDED');
    // Resolve's InferencesStarted carries the cloud's time: it lands in the minute the request arrived.
    const started = cloud.services.cloudwatch.getMetricData(
      [{ Id: 's', MetricStat: { Metric: { Namespace: METRIC_NAMESPACE, MetricName: ARRIVALS_METRIC, Dimensions: [{ Name: 'EndpointName', Value: ENDPOINT }] }, Period: 60, Stat: 'Sum' } }],
      since.getTime() - MINUTE,
      clock.now() + MINUTE,
    ).MetricDataResults[0];
    expect(started?.Timestamps.map((t) => t.getTime())).toEqual([Math.floor(arrivedAt / MINUTE) * MINUTE]);
    expect(started?.Values).toEqual([1]);
  });
});
