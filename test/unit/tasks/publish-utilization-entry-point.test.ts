/**
 * The scheduled publisher's Lambda entry point: its environment becomes the publisher's settings
 * (each variable reaching what CloudWatch and SageMaker are asked and what is published), and the
 * event's scheduled time is the time published for.
 */
import type { CloudWatchClient as CloudWatch, MetricDataResult } from '@aws-sdk/client-cloudwatch';
import type { SageMakerClient as SageMaker } from '@aws-sdk/client-sagemaker';
import type * as Mock from 'aws-sdk-client-mock';
import type * as CloudWatchModule from '@aws-sdk/client-cloudwatch';
import type * as SageMakerModule from '@aws-sdk/client-sagemaker';
import type * as PublisherEntry from '../../../tasks/publish-utilization/handler';
import type * as Publisher from '../../../tasks/publish-utilization/publish-utilization';
import type { PublishResult, PublishUtilizationConfig, PublishedUtilization } from '../../../tasks/publish-utilization/publish-utilization';

const scheduled = new Date('2026-03-01T12:00:00Z');
const minute = (offset: number) => new Date(scheduled.getTime() + offset * 60_000);

const env = {
  ENDPOINT_NAME: 'imagegen-sdxl-entry',
  VARIANT_NAME: 'Blue',
  UTILIZATION_NAMESPACE: 'ImageGenEntry',
  UTILIZATION_METRIC: 'UtilizationRateEntry',
  ARRIVALS_METRIC: 'InferencesStartedEntry',
  CONCURRENCY_PER_INSTANCE: '3',
  INFERENCE_SECONDS: '12.5',
  DRAIN_SECONDS: '180',
  FORECAST_HORIZON_MINUTES: '5',
  FORECAST_WINDOW_MINUTES: '4',
  FORECAST_NOISE_SHARE: '0.03',
};

/** What the environment above says, as the publisher's own settings. */
const expected: PublishUtilizationConfig = {
  endpointName: 'imagegen-sdxl-entry',
  variantName: 'Blue',
  namespace: 'ImageGenEntry',
  metricName: 'UtilizationRateEntry',
  arrivalsMetric: 'InferencesStartedEntry',
  concurrencyPerInstance: 3,
  inferenceSeconds: 12.5,
  periodSeconds: 60,
  drainSeconds: 180,
  forecast: { horizonPeriods: 5, windowPeriods: 4, noiseSharePerPeriod: 0.03 },
};

/** GetMetricData as CloudWatch answers it: timestamps newest first, only the periods that hold data. */
function series(id: string, points: [Date, number][]): MetricDataResult {
  const sorted = [...points].sort((a, b) => b[0].getTime() - a[0].getTime());
  return { Id: id, Label: id, StatusCode: 'Complete', Timestamps: sorted.map(([t]) => t), Values: sorted.map(([, v]) => v) };
}

interface Loaded {
  handler: (event: object) => Promise<PublishResult>;
  publishUtilization: (config: PublishUtilizationConfig, deps: { cloudwatch: CloudWatch; sagemaker: SageMaker; now: () => Date }) => Promise<PublishResult>;
  cloudwatch: CloudWatch;
  sagemaker: SageMaker;
  queries: () => Record<string, unknown>[];
  puts: () => Record<string, unknown>[];
  described: () => Record<string, unknown>[];
}

/** A cold start with `vars` set: the SDK answers (aws-sdk-client-mock) as SageMaker and CloudWatch do. */
function coldStart(vars: Record<string, string>): Loaded {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  Object.assign(process.env, vars);
  try {
    let loaded: Loaded | undefined;
    jest.isolateModules(() => {
      const { mockClient } = jest.requireActual<typeof Mock>('aws-sdk-client-mock');
      const { CloudWatchClient, GetMetricDataCommand, PutMetricDataCommand } = jest.requireActual<typeof CloudWatchModule>('@aws-sdk/client-cloudwatch');
      const { DescribeEndpointCommand, SageMakerClient } = jest.requireActual<typeof SageMakerModule>('@aws-sdk/client-sagemaker');
      const cw = mockClient(CloudWatchClient);
      const sm = mockClient(SageMakerClient);
      sm.on(DescribeEndpointCommand).resolves({
        EndpointName: 'imagegen-sdxl-entry',
        EndpointStatus: 'InService',
        ProductionVariants: [
          { VariantName: 'AllTraffic', DesiredInstanceCount: 7, CurrentInstanceCount: 7 },
          { VariantName: 'Blue', DesiredInstanceCount: 2, CurrentInstanceCount: 2 },
        ],
      });
      // 11:53–11:57 described; the arrivals rise; no ModelLatency in the window (the fallback seconds apply).
      cw.on(GetMetricDataCommand).resolves({
        MetricDataResults: [
          series('backlog', [[minute(-7), 0], [minute(-6), 0], [minute(-5), 0], [minute(-4), 0], [minute(-3), 20]]),
          series('arrivals', [[minute(-7), 2], [minute(-6), 4], [minute(-5), 6], [minute(-4), 8], [minute(-3), 10]]),
        ],
      });
      cw.on(PutMetricDataCommand).resolves({});
      // Without a type argument, so jest's dependency scan (and `npm run mutate`) links this test to the entry point.
      const { handler } = jest.requireActual('../../../tasks/publish-utilization/handler') as typeof PublisherEntry;
      const core = jest.requireActual('../../../tasks/publish-utilization/publish-utilization') as typeof Publisher;
      loaded = {
        handler,
        publishUtilization: core.publishUtilization as Loaded['publishUtilization'],
        cloudwatch: new CloudWatchClient({}),
        sagemaker: new SageMakerClient({}),
        queries: () => cw.commandCalls(GetMetricDataCommand).map((c) => c.args[0].input as unknown as Record<string, unknown>),
        puts: () => cw.commandCalls(PutMetricDataCommand).map((c) => c.args[0].input as unknown as Record<string, unknown>),
        described: () => sm.commandCalls(DescribeEndpointCommand).map((c) => c.args[0].input as unknown as Record<string, unknown>),
      };
    });
    return loaded!;
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

describe('the publish-utilization entry point', () => {
  it('publishes what its environment configures, for the scheduled minute', async () => {
    const loaded = coldStart(env);
    const result = (await loaded.handler({ 'detail-type': 'Scheduled Event', time: '2026-03-01T12:00:00Z' })) as PublishedUtilization;

    expect(loaded.described()).toEqual([{ EndpointName: 'imagegen-sdxl-entry' }]);
    const [query] = loaded.queries();
    expect(query).toMatchObject({ EndTime: scheduled, StartTime: minute(-10) });
    expect((query!.MetricDataQueries as { MetricStat: { Metric: unknown } }[]).map((q) => q.MetricStat.Metric)).toEqual([
      { Namespace: 'AWS/SageMaker', MetricName: 'ApproximateBacklogSize', Dimensions: [{ Name: 'EndpointName', Value: 'imagegen-sdxl-entry' }] },
      { Namespace: 'ImageGenEntry', MetricName: 'InferencesStartedEntry', Dimensions: [{ Name: 'EndpointName', Value: 'imagegen-sdxl-entry' }] },
      {
        Namespace: 'AWS/SageMaker',
        MetricName: 'ModelLatency',
        Dimensions: [
          { Name: 'EndpointName', Value: 'imagegen-sdxl-entry' },
          { Name: 'VariantName', Value: 'Blue' },
        ],
      },
    ]);
    // The Blue variant's 2 instances (not AllTraffic's 7), the fallback 12.5 s, the forecast carried forward.
    expect(result).toMatchObject({ published: true, instances: 2, inferenceSeconds: 12.5, arrivals: 10, backlog: 20, evaluatedMinute: minute(-3).toISOString() });
    expect(result.forecastArrivals).toBeGreaterThan(10);
    expect(loaded.puts()).toEqual([
      {
        Namespace: 'ImageGenEntry',
        MetricData: [{ MetricName: 'UtilizationRateEntry', Dimensions: [{ Name: 'EndpointName', Value: 'imagegen-sdxl-entry' }], Timestamp: minute(-3), Value: result.value, Unit: 'None', StorageResolution: 60 }],
      },
    ]);

    // The published value is the core's for exactly these settings; each setting changes it.
    const core = (config: PublishUtilizationConfig) => loaded.publishUtilization(config, { cloudwatch: loaded.cloudwatch, sagemaker: loaded.sagemaker, now: () => scheduled });
    expect(await core(expected)).toEqual(result);
    const { drainSeconds: _d, ...withoutDrain } = expected;
    const { forecast: _f, ...withoutForecast } = expected;
    for (const other of [withoutDrain, withoutForecast, { ...expected, concurrencyPerInstance: 12 }]) {
      expect(((await core(other)) as PublishedUtilization).value).not.toBeCloseTo(result.value, 6);
    }
  });

  it('without the optional variables: the whole backlog and the evaluated minute\'s arrivals count', async () => {
    const { DRAIN_SECONDS: _d, FORECAST_HORIZON_MINUTES: _h, FORECAST_WINDOW_MINUTES: _w, FORECAST_NOISE_SHARE: _n, ...required } = env;
    const loaded = coldStart({ ...required, DRAIN_SECONDS: '', FORECAST_HORIZON_MINUTES: '', FORECAST_WINDOW_MINUTES: '', FORECAST_NOISE_SHARE: '' });
    const result = (await loaded.handler({ time: '2026-03-01T12:00:30Z' })) as PublishedUtilization;
    const { drainSeconds: _ds, forecast: _fc, ...plain } = expected;
    expect(result).toEqual(await loaded.publishUtilization(plain, { cloudwatch: loaded.cloudwatch, sagemaker: loaded.sagemaker, now: () => scheduled }));
    expect(result.forecastArrivals).toBe(10);
  });

  it('fails its cold start naming a missing variable', () => {
    const { CONCURRENCY_PER_INSTANCE: _c, ...rest } = env;
    expect(() => coldStart({ ...rest, CONCURRENCY_PER_INSTANCE: '' })).toThrow('environment variable CONCURRENCY_PER_INSTANCE is required but not set');
  });
});
