/**
 * The scaling loop as wired in the local cloud, on an advanced clock: the every-minute schedule
 * rule runs the real publish-utilization function, which publishes ImageGen/UtilizationRate with
 * explicit zeros, and the autoscaler acts on the endpoint — here, scaling an idle endpoint to zero.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { SFNClient } from '@aws-sdk/client-sfn';
import { followExecutions } from '../../local/cli/follow';
import { ManualClock } from '../../local/clock';
import { LocalCloud } from '../../local/cloud';

jest.setTimeout(120_000);

describe('local scaling loop', () => {
  let cloud: LocalCloud;
  let clock: ManualClock;
  let dataDir: string;
  const log: string[] = [];

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'imagegen-scaling-'));
    // Start at a whole minute of real time: the function reads the wall clock, CloudWatch this one.
    clock = new ManualClock(Math.floor(Date.now() / 60_000) * 60_000);
    cloud = await LocalCloud.start({ port: 0, dataDir, clock, instanceStartupSeconds: 0, standIn: { inferenceMs: 1 }, log: (line) => log.push(line) });
  });

  afterAll(async () => {
    await cloud?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function minute(): Promise<void> {
    await clock.advance(60_000);
    await cloud.services.events.whenIdle();
    await cloud.services.lambda.idle();
  }

  it('publishes UtilizationRate every minute, zeros included, from the scheduled function', async () => {
    for (let i = 0; i < 3; i++) await minute();

    const result = cloud.services.cloudwatch.getMetricData(
      [
        {
          Id: 'u',
          MetricStat: {
            Metric: { Namespace: 'ImageGen', MetricName: 'UtilizationRate', Dimensions: [{ Name: 'EndpointName', Value: 'imagegen-sdxl' }] },
            Period: 60,
            Stat: 'SampleCount',
          },
        },
      ],
      clock.now() - 10 * 60_000,
      clock.now() + 60_000,
    );
    const samples = result.MetricDataResults[0]?.Values ?? [];
    expect(samples.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(3);
    expect(log.some((line) => line.includes('imagegen-publish-utilization') && line.includes('REPORT'))).toBe(true);
  });

  it('scales the idle endpoint in to zero, but only after target tracking saw 15 low minutes', async () => {
    const capacity = () => cloud.services.sagemaker.getCapacity('imagegen-sdxl', 'AllTraffic').desired;
    expect(capacity()).toBe(1);
    let minutes = 3; // from the first test
    while (capacity() > 0 && minutes < 30) {
      await minute();
      minutes++;
    }
    expect(capacity()).toBe(0);
    // Never earlier than AWS's low alarm allows: 15 one-minute datapoints after the target was created.
    expect(minutes).toBeGreaterThanOrEqual(15);
    expect(log.some((line) => /autoscaling: imagegen-sdxl 1 → 0 \(UtilizationRate 0 < 0\.72, 15\/15 datapoints\)/.test(line))).toBe(true);
  });

  it('scales from zero when a request arrives, and the request then completes', async () => {
    const capacity = () => cloud.services.sagemaker.getCapacity('imagegen-sdxl', 'AllTraffic');
    expect(capacity().desired).toBe(0);
    const config = { endpoint: cloud.url, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };
    const since = new Date(Date.now() - 1000);
    const put = await new EventBridgeClient(config).send(
      new PutEventsCommand({
        Entries: [{ EventBusName: 'imagegen', Source: 'test', DetailType: 'Image Generation Requested', Detail: JSON.stringify({ requestId: 'from-zero', prompt: 'a koi pond', seed: 3 }) }],
      }),
    );
    const eventId = put.Entries?.[0]?.EventId ?? '';
    // The request waits in the endpoint's queue until the backlog-without-capacity alarm adds an instance.
    await new Promise((r) => setTimeout(r, 1000));
    expect(cloud.services.sagemaker.stats('imagegen-sdxl').queued).toBe(1);
    for (let i = 0; i < 5 && capacity().current === 0; i++) await minute();
    expect(capacity().current).toBeGreaterThanOrEqual(1);
    expect(log.some((line) => /autoscaling: imagegen-sdxl 0 → [1-9]/.test(line))).toBe(true);

    const finished = await followExecutions(new SFNClient(config), 'arn:aws:states:us-east-1:000000000000:stateMachine:imagegen-request', since, [eventId], 60_000);
    expect(finished.get(eventId)?.status).toBe('SUCCEEDED');
  });
});
