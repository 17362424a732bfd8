import { CloudWatchClient, GetMetricDataCommand, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import { publishUtilization } from '../../../tasks/publish-utilization/publish-utilization';

const cloudwatch = mockClient(CloudWatchClient);
const config = {
  endpointName: 'imagegen-sdxl',
  variantName: 'AllTraffic',
  namespace: 'ImageGen',
  metricName: 'UtilizationRate',
  concurrencyPerInstance: 12,
  inferenceSeconds: 9.7,
  periodSeconds: 60,
};
const now = () => new Date('2026-03-01T12:00:42Z');

describe('publishUtilization', () => {
  beforeEach(() => cloudwatch.reset());

  it('queries the last whole minute and publishes the computed value for the endpoint', async () => {
    cloudwatch.on(GetMetricDataCommand).resolves({
      MetricDataResults: [
        { Id: 'instances', Values: [2] },
        { Id: 'arrivals', Values: [90] },
        { Id: 'backlog', Values: [18] },
        { Id: 'latency', Values: [10_000_000] },
      ],
    });
    cloudwatch.on(PutMetricDataCommand).resolves({});

    const result = await publishUtilization(config, { cloudwatch: new CloudWatchClient({}), now });

    const query = cloudwatch.commandCalls(GetMetricDataCommand)[0]?.args[0].input;
    expect(query?.StartTime).toEqual(new Date('2026-03-01T11:59:00Z'));
    expect(query?.EndTime).toEqual(new Date('2026-03-01T12:00:00Z'));
    expect(result.inferenceSeconds).toBe(10);
    expect(result.value).toBeCloseTo(108 / 144);
    const put = cloudwatch.commandCalls(PutMetricDataCommand)[0]?.args[0].input;
    expect(put?.Namespace).toBe('ImageGen');
    expect(put?.MetricData?.[0]).toMatchObject({
      MetricName: 'UtilizationRate',
      Dimensions: [{ Name: 'EndpointName', Value: 'imagegen-sdxl' }],
      Value: result.value,
    });
  });

  it('publishes an explicit zero when the endpoint reported nothing at all', async () => {
    cloudwatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [] });
    cloudwatch.on(PutMetricDataCommand).resolves({});

    const result = await publishUtilization(config, { cloudwatch: new CloudWatchClient({}), now });

    expect(result.value).toBe(0);
    expect(result.inferenceSeconds).toBe(9.7);
    expect(cloudwatch.commandCalls(PutMetricDataCommand)[0]?.args[0].input.MetricData?.[0]?.Value).toBe(0);
  });

  it('spreads the backlog over the configured drain horizon', async () => {
    cloudwatch.on(GetMetricDataCommand).resolves({
      MetricDataResults: [
        { Id: 'instances', Values: [2] },
        { Id: 'arrivals', Values: [72] },
        { Id: 'backlog', Values: [360] },
        { Id: 'latency', Values: [10_000_000] },
      ],
    });
    cloudwatch.on(PutMetricDataCommand).resolves({});

    const spread = await publishUtilization({ ...config, drainSeconds: 300 }, { cloudwatch: new CloudWatchClient({}), now });
    const whole = await publishUtilization(config, { cloudwatch: new CloudWatchClient({}), now });

    // 72 + 360 × 60 ÷ 300 = 144 per minute against 144: 1.0; with the default one-period horizon 432 ÷ 144.
    expect(spread.value).toBeCloseTo(1);
    expect(whole.value).toBeCloseTo(3);
    expect(cloudwatch.commandCalls(PutMetricDataCommand)[0]?.args[0].input.MetricData?.[0]?.Value).toBeCloseTo(1);
  });
});
