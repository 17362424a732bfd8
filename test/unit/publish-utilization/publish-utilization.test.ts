import { CloudWatchClient, GetMetricDataCommand, PutMetricDataCommand, type MetricDataResult } from '@aws-sdk/client-cloudwatch';
import { DescribeEndpointCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { mockClient } from 'aws-sdk-client-mock';
import { EndpointVariantError, publishUtilization, scheduledTime, type PublishUtilizationConfig, type PublishedUtilization } from '../../../tasks/publish-utilization/publish-utilization';

const cloudwatch = mockClient(CloudWatchClient);
const sagemaker = mockClient(SageMakerClient);
const config = {
  endpointName: 'imagegen-sdxl',
  variantName: 'AllTraffic',
  namespace: 'ImageGen',
  metricName: 'UtilizationRate',
  arrivalsMetric: 'InferencesStarted',
  concurrencyPerInstance: 12,
  inferenceSeconds: 9.7,
  periodSeconds: 60,
};
const scheduled = new Date('2026-03-01T12:00:00Z');
const minute = (offset: number) => new Date(scheduled.getTime() + offset * 60_000);
const deps = () => ({ cloudwatch: new CloudWatchClient({}), sagemaker: new SageMakerClient({}), now: () => scheduled });

async function published(c: PublishUtilizationConfig = config): Promise<PublishedUtilization> {
  const result = await publishUtilization(c, deps());
  if (!result.published) throw new Error(`expected a published datapoint, got: ${result.reason}`);
  return result;
}

/** DescribeEndpoint as SageMaker answers it (only the fields read here, with their real names). */
function endpointWith(currentInstances: number | undefined, desiredInstances = currentInstances ?? 1): void {
  sagemaker.on(DescribeEndpointCommand).resolves({
    EndpointName: 'imagegen-sdxl',
    EndpointStatus: currentInstances === desiredInstances ? 'InService' : 'Updating',
    ProductionVariants: [{ VariantName: 'AllTraffic', DesiredInstanceCount: desiredInstances, ...(currentInstances === undefined ? {} : { CurrentInstanceCount: currentInstances }) }],
  });
}

/** GetMetricData as CloudWatch answers it: timestamps newest first, only the periods that hold data. */
function series(id: string, points: [Date, number][]): MetricDataResult {
  const sorted = [...points].sort((a, b) => b[0].getTime() - a[0].getTime());
  return { Id: id, Label: id, StatusCode: 'Complete', Timestamps: sorted.map(([t]) => t), Values: sorted.map(([, v]) => v) };
}

describe('publishUtilization', () => {
  beforeEach(() => {
    cloudwatch.reset();
    sagemaker.reset();
    cloudwatch.on(PutMetricDataCommand).resolves({});
  });

  it('evaluates the latest minute whose endpoint metrics have landed, not the minute that just closed, and stamps the datapoint with it', async () => {
    endpointWith(2);
    // 11:57 has landed; 11:58 and 11:59 have not (SageMaker's metrics arrive minutes late).
    cloudwatch.on(GetMetricDataCommand).resolves({
      MetricDataResults: [
        series('backlog', [[minute(-4), 0], [minute(-3), 30]]),
        series('arrivals', [[minute(-3), 90], [minute(-1), 7]]),
        series('latency', [[minute(-3), 10_000_000]]),
      ],
    });

    const result = await published();

    const query = cloudwatch.commandCalls(GetMetricDataCommand)[0]!.args[0].input;
    expect(query.EndTime).toEqual(scheduled);
    expect(query.StartTime).toEqual(minute(-10));
    expect(result.evaluatedMinute).toBe(minute(-3).toISOString());
    // 2 instances × 12 × 60 s ÷ 10 s = 144 per minute; 30 in the backlog fit in the 24 slots but 6.
    expect(result).toMatchObject({ instances: 2, arrivals: 90, backlog: 30, waiting: 6, inferenceSeconds: 10 });
    expect(result.value).toBeCloseTo(96 / 144);
    const put = cloudwatch.commandCalls(PutMetricDataCommand)[0]!.args[0].input;
    expect(put.Namespace).toBe('ImageGen');
    // Stamped with the minute it describes (closed, so readable at once), not the minute the task runs in.
    expect(put.MetricData?.[0]).toMatchObject({ MetricName: 'UtilizationRate', Dimensions: [{ Name: 'EndpointName', Value: 'imagegen-sdxl' }], Timestamp: minute(-3), Value: result.value });
  });

  it('asks for exactly the emitted metrics and dimension sets: arrivals by {EndpointName} only', async () => {
    endpointWith(1);
    cloudwatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [] });
    await publishUtilization(config, deps());
    const queries = cloudwatch.commandCalls(GetMetricDataCommand)[0]!.args[0].input.MetricDataQueries!;
    expect(queries.map((q) => [q.Id, q.MetricStat?.Metric?.Namespace, q.MetricStat?.Metric?.MetricName, q.MetricStat?.Metric?.Dimensions, q.MetricStat?.Stat])).toEqual([
      ['backlog', 'AWS/SageMaker', 'ApproximateBacklogSize', [{ Name: 'EndpointName', Value: 'imagegen-sdxl' }], 'Minimum'],
      ['arrivals', 'ImageGen', 'InferencesStarted', [{ Name: 'EndpointName', Value: 'imagegen-sdxl' }], 'Sum'],
      ['latency', 'AWS/SageMaker', 'ModelLatency', [{ Name: 'EndpointName', Value: 'imagegen-sdxl' }, { Name: 'VariantName', Value: 'AllTraffic' }], 'Average'],
    ]);
    expect(sagemaker.commandCalls(DescribeEndpointCommand)[0]!.args[0].input).toEqual({ EndpointName: 'imagegen-sdxl' });
  });

  it('takes the instance count from DescribeEndpoint: late or absent CPU samples never read as zero instances', async () => {
    endpointWith(3);
    cloudwatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [series('backlog', [[minute(-3), 0]]), series('arrivals', [[minute(-3), 72]]), series('latency', [[minute(-3), 10_000_000]])] });
    const result = await published();
    // 72 ÷ (3 × 72): not 3× inflated by a missing instance count.
    expect(result.instances).toBe(3);
    expect(result.value).toBeCloseTo(1 / 3);
  });

  it('divides by the capacity of the desired count while instances start (target tracking multiplies the desired count by the metric)', async () => {
    endpointWith(2, 8);
    cloudwatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [series('backlog', [[minute(-3), 0]]), series('arrivals', [[minute(-3), 288]]), series('latency', [[minute(-3), 10_000_000]])] });
    const result = await published();
    // 288 against 8 × 72, not 2 × 72.
    expect(result).toMatchObject({ instances: 2, desiredInstances: 8 });
    expect(result.value).toBeCloseTo(0.5);
  });

  it('carries the rise of the described minutes forward when a forecast is configured', async () => {
    endpointWith(4);
    // 11:53–11:57 described (a backlog datapoint each); 11:55 had no InferencesStarted, so none.
    cloudwatch.on(GetMetricDataCommand).resolves({
      MetricDataResults: [
        series('backlog', [-7, -6, -5, -4, -3].map((m) => [minute(m), 0] as [Date, number])),
        series('arrivals', [[minute(-7), 500], [minute(-6), 40], [minute(-4), 80], [minute(-3), 120]]),
        series('latency', [[minute(-3), 10_000_000]]),
      ],
    });
    const forecast = { horizonPeriods: 5, windowPeriods: 4, noiseSharePerPeriod: 0.03 };
    const result = await published({ ...config, forecast });
    // Window 40, 0, 80, 120: slope 32, mean 60; 120 + 5 × (32 − 1.8) = 271 against 4 × 72.
    expect(result).toMatchObject({ arrivals: 120, forecastArrivals: 271 });
    expect(result.value).toBeCloseTo(271 / 288);
    // Without it: the evaluated minute's arrivals.
    expect(await published()).toMatchObject({ arrivals: 120, forecastArrivals: 120 });
  });

  it('fits no trend over minutes the endpoint did not describe (a new endpoint)', async () => {
    endpointWith(1);
    cloudwatch.on(GetMetricDataCommand).resolves({
      MetricDataResults: [series('backlog', [[minute(-4), 0], [minute(-3), 0]]), series('arrivals', [[minute(-4), 10], [minute(-3), 70]])],
    });
    expect(await published({ ...config, forecast: { horizonPeriods: 5, windowPeriods: 4, noiseSharePerPeriod: 0.03 } })).toMatchObject({ arrivals: 70, forecastArrivals: 70 });
  });

  it('publishes an explicit zero for a landed idle minute', async () => {
    endpointWith(1);
    cloudwatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [series('backlog', [[minute(-3), 0]])] });
    const result = await published();
    expect(result).toMatchObject({ value: 0, arrivals: 0, inferenceSeconds: 9.7, evaluatedMinute: minute(-3).toISOString() });
    expect(cloudwatch.commandCalls(PutMetricDataCommand)[0]!.args[0].input.MetricData?.[0]).toMatchObject({ Value: 0, Timestamp: minute(-3) });
  });

  it('publishes nothing when the endpoint reported no minute in the lookback: a zero there would read as idle', async () => {
    endpointWith(0);
    cloudwatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [series('arrivals', [[minute(-1), 40]])] });
    const result = await publishUtilization(config, deps());
    expect(result).toEqual({ published: false, instances: 0, reason: 'no ApproximateBacklogSize for imagegen-sdxl in the last 10 minutes' });
    expect(cloudwatch.commandCalls(PutMetricDataCommand)).toHaveLength(0);
  });

  it('counts the backlog at zero instances as waiting demand against one instance', async () => {
    endpointWith(0);
    cloudwatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [series('backlog', [[minute(-3), 18]])] });
    const result = await published();
    // 18 waiting against one instance of 12 × 60 ÷ 9.7 ≈ 74.2 per minute.
    expect(result).toMatchObject({ instances: 0, waiting: 18 });
    expect(result.value).toBeCloseTo(18 / ((12 * 60) / 9.7));
  });

  it('spreads the waiting backlog over the configured drain horizon', async () => {
    endpointWith(2);
    cloudwatch.on(GetMetricDataCommand).resolves({
      MetricDataResults: [series('backlog', [[minute(-3), 384]]), series('arrivals', [[minute(-3), 72]]), series('latency', [[minute(-3), 10_000_000]])],
    });
    const spread = await published({ ...config, drainSeconds: 300 });
    const whole = await published();
    // 360 waiting beyond the 24 slots: 72 + 360 × 60 ÷ 300 = 144 against 144; with one period, 432 ÷ 144.
    expect(spread.value).toBeCloseTo(1);
    expect(whole.value).toBeCloseTo(3);
  });

  it('uses the latest latency at or before the evaluated minute when that minute completed nothing', async () => {
    endpointWith(1);
    cloudwatch.on(GetMetricDataCommand).resolves({
      MetricDataResults: [series('backlog', [[minute(-3), 0]]), series('arrivals', [[minute(-3), 12]]), series('latency', [[minute(-6), 20_000_000]])],
    });
    expect((await published()).inferenceSeconds).toBe(20);
  });

  it('names the variant when the endpoint has no such production variant', async () => {
    sagemaker.on(DescribeEndpointCommand).resolves({ EndpointName: 'imagegen-sdxl', ProductionVariants: [{ VariantName: 'Blue' }] });
    cloudwatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [] });
    await expect(publishUtilization(config, deps())).rejects.toThrow(new EndpointVariantError('endpoint imagegen-sdxl has no production variant AllTraffic (VARIANT_NAME)'));
    expect(cloudwatch.commandCalls(PutMetricDataCommand)).toHaveLength(0);
  });
});

describe('scheduledTime', () => {
  it("is the scheduled event's time, whenever the invocation runs", () => {
    expect(scheduledTime({ time: '2026-03-01T12:00:00Z' }, () => new Date(0))).toEqual(scheduled);
  });

  it('is the clock when invoked by hand without a time', () => {
    expect(scheduledTime({}, () => new Date(5))).toEqual(new Date(5));
    expect(scheduledTime({ time: 'yesterday' }, () => new Date(5))).toEqual(new Date(5));
  });
});
