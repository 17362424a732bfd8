/**
 * The utilization publisher's reading of CloudWatch's answer (every page, the latest latency that
 * describes the evaluated minute) and the errors it fails with, named so an operator can tell them apart.
 */
import { CloudWatchClient, GetMetricDataCommand, PutMetricDataCommand, type MetricDataResult } from '@aws-sdk/client-cloudwatch';
import { DescribeEndpointCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { mockClient } from 'aws-sdk-client-mock';
import { EndpointVariantError, publishUtilization, type PublishedUtilization } from '../../../tasks/publish-utilization/publish-utilization';
import { computeUtilization, UtilizationInputError } from '../../../tasks/publish-utilization/utilization';

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

/** GetMetricData as CloudWatch answers it: timestamps newest first, only the periods that hold data. */
function series(id: string, points: [Date, number][]): MetricDataResult {
  const sorted = [...points].sort((a, b) => b[0].getTime() - a[0].getTime());
  return { Id: id, Label: id, StatusCode: 'Complete', Timestamps: sorted.map(([t]) => t), Values: sorted.map(([, v]) => v) };
}

async function published(): Promise<PublishedUtilization> {
  const result = await publishUtilization(config, deps());
  if (!result.published) throw new Error(`expected a published datapoint, got: ${result.reason}`);
  return result;
}

describe('the publisher reading CloudWatch', () => {
  beforeEach(() => {
    cloudwatch.reset();
    sagemaker.reset();
    cloudwatch.on(PutMetricDataCommand).resolves({});
    sagemaker.on(DescribeEndpointCommand).resolves({ EndpointName: 'imagegen-sdxl', EndpointStatus: 'InService', ProductionVariants: [{ VariantName: 'AllTraffic', DesiredInstanceCount: 1, CurrentInstanceCount: 1 }] });
  });

  it('reads every page of GetMetricData, asking for the next with the NextToken CloudWatch returned', async () => {
    // A paged answer: the newest datapoints first, the rest (and a StatusCode of PartialData) before the token.
    cloudwatch
      .on(GetMetricDataCommand)
      .resolvesOnce({ MetricDataResults: [{ ...series('backlog', [[minute(-4), 0]]), StatusCode: 'PartialData' }], NextToken: 'page-2' })
      .resolvesOnce({ MetricDataResults: [series('arrivals', [[minute(-4), 36]]), series('latency', [[minute(-4), 5_000_000]])] });

    const result = await published();

    const calls = cloudwatch.commandCalls(GetMetricDataCommand).map((c) => c.args[0].input);
    expect(calls).toHaveLength(2);
    expect(calls[0]!.NextToken).toBeUndefined();
    expect(calls[1]!.NextToken).toBe('page-2');
    expect(result).toMatchObject({ evaluatedMinute: minute(-4).toISOString(), arrivals: 36, inferenceSeconds: 5 });
  });

  it('asks for each series to be returned, per minute, with the statistic the demand reads', async () => {
    cloudwatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [] });
    await publishUtilization(config, deps());
    const queries = cloudwatch.commandCalls(GetMetricDataCommand)[0]!.args[0].input.MetricDataQueries!;
    // CloudWatch leaves a query with ReturnData false out of its answer.
    expect(queries.map((q) => ({ id: q.Id, returned: q.ReturnData, period: q.MetricStat?.Period, stat: q.MetricStat?.Stat }))).toEqual([
      { id: 'backlog', returned: true, period: 60, stat: 'Minimum' },
      { id: 'arrivals', returned: true, period: 60, stat: 'Sum' },
      { id: 'latency', returned: true, period: 60, stat: 'Average' },
    ]);
  });

  it('takes the latest latency at or before the evaluated minute, never one from a later minute', async () => {
    cloudwatch.on(GetMetricDataCommand).resolves({
      MetricDataResults: [
        series('backlog', [[minute(-4), 0]]),
        series('arrivals', [[minute(-4), 10]]),
        // 11:59 has landed for ModelLatency but not for the backlog; 11:56 describes the evaluated minute best.
        series('latency', [[minute(-1), 30_000_000], [minute(-6), 8_000_000], [minute(-7), 4_000_000]]),
      ],
    });
    expect(await published()).toMatchObject({ evaluatedMinute: minute(-4).toISOString(), inferenceSeconds: 8 });
  });

  it('fails as EndpointVariantError when the configured variant is not on the endpoint', async () => {
    sagemaker.on(DescribeEndpointCommand).resolves({ EndpointName: 'imagegen-sdxl', ProductionVariants: [{ VariantName: 'Blue', CurrentInstanceCount: 1 }] });
    cloudwatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [] });
    await expect(publishUtilization(config, deps())).rejects.toMatchObject({ name: 'EndpointVariantError', constructor: EndpointVariantError });
  });
});

describe('utilization inputs', () => {
  const base = { instances: 1, arrivals: 1, backlog: 0, concurrencyPerInstance: 12, inferenceSeconds: 10, periodSeconds: 60 };

  it.each(['inferenceSeconds', 'concurrencyPerInstance', 'periodSeconds'] as const)('refuses a zero %s as UtilizationInputError, naming the field', (field) => {
    let caught: unknown;
    try {
      computeUtilization({ ...base, [field]: 0 });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(UtilizationInputError);
    expect(caught).toMatchObject({ name: 'UtilizationInputError', message: `${field} must be greater than 0` });
  });
});
