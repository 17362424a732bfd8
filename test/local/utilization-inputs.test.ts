/**
 * The utilization publisher's inputs as the services really produce them, in process: Resolve's
 * metrics through real Powertools Metrics (EMF on stdout) and the local CloudWatch's EMF extraction,
 * the endpoint's own minute metrics (late, as SageMaker's are), and DescribeEndpoint, all read by the
 * real publisher through the AWS SDK. A query for a dimension set nobody emits, or a read of a
 * minute that has not landed, shows up here as a wrong number.
 */
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { SageMakerClient } from '@aws-sdk/client-sagemaker';
import { ManualClock } from '../../local/clock';
import { CloudWatchService } from '../../local/cloudwatch/cloudwatch-service';
import { EdgeServer } from '../../local/edge/server';
import { extractEmf } from '../../local/lambda/emf';
import { SageMakerService } from '../../local/sagemaker/sagemaker-service';
import { publishUtilization, type PublishedUtilization, type PublishResult } from '../../tasks/publish-utilization/publish-utilization';
import { resolve } from '../../tasks/resolve/resolve';
import { createObservability, publishIfAny } from '../../tasks/shared/observability';
import { loadSample } from '../../events/samples';
import { ARRIVALS_METRIC, METRIC_NAMESPACE } from '../../topology/imagegen-topology';
import { TestCloud } from '../workflows/test-cloud';
import { TestClock, resolveDeps } from '../workflows/harness';
import { MemoryObjects, MemoryTopics } from './sagemaker/harness';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
const publisherConfig = {
  endpointName: 'imagegen-sdxl',
  variantName: 'AllTraffic',
  namespace: METRIC_NAMESPACE,
  metricName: 'UtilizationRate',
  arrivalsMetric: ARRIVALS_METRIC,
  concurrencyPerInstance: 12,
  inferenceSeconds: 10,
  periodSeconds: 60,
};

describe('utilization inputs from the emitting services', () => {
  let clock: ManualClock;
  let cloudwatchService: CloudWatchService;
  let sagemakerService: SageMakerService;
  let edge: EdgeServer;
  let deps: Parameters<typeof publishUtilization>[1];
  let cloud: TestCloud;

  beforeAll(async () => {
    cloud = await TestCloud.start();
  });
  afterAll(() => cloud.close());

  beforeEach(async () => {
    await cloud.reset();
    // Powertools stamps EMF with Date.now(): pin the date (only the date) to the local cloud's clock.
    jest.useFakeTimers({ now: T0, doNotFake: ['nextTick', 'setImmediate', 'clearImmediate', 'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'queueMicrotask', 'hrtime', 'performance'] });
    clock = new ManualClock(T0);
    cloudwatchService = new CloudWatchService({ clock });
    sagemakerService = new SageMakerService({
      region: 'us-east-1',
      account: '000000000000',
      clock,
      objects: new MemoryObjects(),
      topics: new MemoryTopics(),
      metrics: cloudwatchService,
      endpoints: [
        {
          name: 'imagegen-sdxl',
          variantName: 'AllTraffic',
          modelUrl: 'http://127.0.0.1:9',
          initialInstanceCount: 1,
          maxConcurrentInvocationsPerInstance: 12,
          instanceStartupSeconds: 0,
          output: { bucket: 'imagegen-images', prefix: 'async-output/' },
          failure: { bucket: 'imagegen-images', prefix: 'async-failures/' },
          successTopicArn: '',
          errorTopicArn: '',
        },
      ],
    });
    sagemakerService.start();
    edge = new EdgeServer({ services: [cloudwatchService.handler, sagemakerService.handler], port: 0, region: 'us-east-1' });
    const url = await edge.listen();
    deps = {
      cloudwatch: new CloudWatchClient({ endpoint: url, region: 'us-east-1', credentials }),
      sagemaker: new SageMakerClient({ endpoint: url, region: 'us-east-1', credentials }),
      now: () => new Date(clock.now()),
    };
  });

  afterEach(async () => {
    jest.useRealTimers();
    await sagemakerService.close();
    await edge.close();
  });

  /** Runs the real Resolve core for `n` distinct misses and hands its EMF lines to CloudWatch, as the local Lambda does. */
  async function missesThroughResolve(n: number): Promise<void> {
    // The test setup's POWERTOOLS_DEV would disable metrics: emit them as a deployed function does.
    process.env.POWERTOOLS_METRICS_DISABLED = 'false';
    const { metrics, scalingMetrics } = createObservability('imagegen-resolve');
    delete process.env.POWERTOOLS_METRICS_DISABLED;
    const lines: string[] = [];
    const spy = jest.spyOn(console, 'log').mockImplementation((line: unknown) => void lines.push(String(line)));
    try {
      for (let i = 0; i < n; i++) {
        const event = { ...loadSample('image-generation-requested', 'minimal'), detail: { requestId: `u${i}`, prompt: `picture ${i}` } };
        await resolve({ event, taskToken: `t${i}`, executionArn: `arn:exec:${i}` }, { ...resolveDeps(cloud, new TestClock(T0)), metrics, scalingMetrics });
        metrics.publishStoredMetrics();
        publishIfAny(scalingMetrics);
      }
    } finally {
      spy.mockRestore();
    }
    for (const line of lines) for (const { namespace, data } of extractEmf(line)?.metrics ?? []) cloudwatchService.putMetricData(namespace, data);
  }

  const minutes = async (n: number) => clock.advance(n * 60_000);

  it('reads the inferences Resolve started, by the dimension set they are emitted with', async () => {
    await missesThroughResolve(5);
    // The dashboards' CacheMisses carry Powertools' service dimension: a {EndpointName} query finds none.
    const byEndpointOnly = cloudwatchService.getMetricData(
      [{ Id: 'm', MetricStat: { Metric: { Namespace: METRIC_NAMESPACE, MetricName: 'CacheMisses', Dimensions: [{ Name: 'EndpointName', Value: 'imagegen-sdxl' }] }, Period: 60, Stat: 'Sum' } }],
      T0,
      T0 + 60_000,
    );
    expect(byEndpointOnly.MetricDataResults[0]?.Values).toEqual([]);

    await minutes(3);
    const published = publishedOnly(await publishUtilization(publisherConfig, deps));
    expect(published.evaluatedMinute).toBe(new Date(T0).toISOString());
    expect(published.arrivals).toBe(5);
    expect(published.instances).toBe(1);
    expect(published.value).toBeCloseTo(5 / 72);
  });

  it("never reads the minute that just closed: SageMaker's datapoints of it have not landed", async () => {
    await missesThroughResolve(12);
    await minutes(1);
    // The load's minute is closed but its endpoint metrics land two minutes later: nothing to evaluate yet.
    const early = await publishUtilization(publisherConfig, deps);
    expect(early).toMatchObject({ published: false, instances: 1 });
    await minutes(2);
    const landed = publishedOnly(await publishUtilization(publisherConfig, deps));
    expect(landed.evaluatedMinute).toBe(new Date(T0).toISOString());
    expect(landed.arrivals).toBe(12);
    await minutes(1);
    // The next minute had no load: the same arrivals are not counted again.
    const after = publishedOnly(await publishUtilization(publisherConfig, deps));
    expect(after.evaluatedMinute).toBe(new Date(T0 + 60_000).toISOString());
    expect(after.value).toBe(0);
  });
});

function publishedOnly(result: PublishResult): PublishedUtilization {
  if (!result.published) throw new Error(`expected a published datapoint, got: ${result.reason}`);
  return result;
}
