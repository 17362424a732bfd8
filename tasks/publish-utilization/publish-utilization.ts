/**
 * Core of the scheduled publish-utilization task: read the last period's endpoint metrics, compute
 * utilization, publish `UtilizationRate` with an explicit value every time (zeros included), so the
 * target-tracking alarm never sees a gap.
 */
import { GetMetricDataCommand, PutMetricDataCommand, type CloudWatchClient, type MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import { computeUtilization, type Utilization } from './utilization';

export interface PublishUtilizationConfig {
  readonly endpointName: string;
  readonly variantName: string;
  readonly namespace: string;
  readonly metricName: string;
  readonly concurrencyPerInstance: number;
  /** Fallback seconds per image when the endpoint reported no ModelLatency in the window. */
  readonly inferenceSeconds: number;
  readonly periodSeconds: number;
  /** Seconds over which the backlog counts as demand. @default DEFAULT_DRAIN_SECONDS (one period) */
  readonly drainSeconds?: number;
}

export interface PublishUtilizationDeps {
  readonly cloudwatch: Pick<CloudWatchClient, 'send'>;
  readonly now: () => Date;
}

export interface PublishedUtilization extends Utilization {
  readonly instances: number;
  readonly arrivals: number;
  readonly backlog: number;
  readonly inferenceSeconds: number;
  readonly timestamp: string;
}

export async function publishUtilization(config: PublishUtilizationConfig, deps: PublishUtilizationDeps): Promise<PublishedUtilization> {
  const end = alignToPeriod(deps.now(), config.periodSeconds);
  const start = new Date(end.getTime() - config.periodSeconds * 1000);
  const endpoint = [{ Name: 'EndpointName', Value: config.endpointName }];
  const variant = [...endpoint, { Name: 'VariantName', Value: config.variantName }];
  const stat = (id: string, namespace: string, metricName: string, dimensions: typeof endpoint, statName: string): MetricDataQuery => ({
    Id: id,
    MetricStat: { Metric: { Namespace: namespace, MetricName: metricName, Dimensions: dimensions }, Period: config.periodSeconds, Stat: statName },
    ReturnData: true,
  });
  const result = await deps.cloudwatch.send(
    new GetMetricDataCommand({
      StartTime: start,
      EndTime: end,
      MetricDataQueries: [
        stat('instances', '/aws/sagemaker/Endpoints', 'CPUUtilization', variant, 'SampleCount'),
        stat('arrivals', config.namespace, 'CacheMisses', endpoint, 'Sum'),
        stat('backlog', 'AWS/SageMaker', 'ApproximateBacklogSize', endpoint, 'Maximum'),
        stat('latency', 'AWS/SageMaker', 'ModelLatency', variant, 'Average'),
      ],
    }),
  );
  const latest = (id: string): number | undefined => result.MetricDataResults?.find((r) => r.Id === id)?.Values?.[0];
  const latencyMicros = latest('latency');
  const inputs = {
    instances: latest('instances') ?? 0,
    arrivals: latest('arrivals') ?? 0,
    backlog: latest('backlog') ?? 0,
    inferenceSeconds: latencyMicros && latencyMicros > 0 ? latencyMicros / 1e6 : config.inferenceSeconds,
  };
  const utilization = computeUtilization({
    ...inputs,
    concurrencyPerInstance: config.concurrencyPerInstance,
    periodSeconds: config.periodSeconds,
    ...(config.drainSeconds === undefined ? {} : { drainSeconds: config.drainSeconds }),
  });
  await deps.cloudwatch.send(
    new PutMetricDataCommand({
      Namespace: config.namespace,
      MetricData: [
        {
          MetricName: config.metricName,
          Dimensions: endpoint,
          Timestamp: end,
          Value: utilization.value,
          Unit: 'None',
          StorageResolution: 60,
        },
      ],
    }),
  );
  return { ...utilization, ...inputs, timestamp: end.toISOString() };
}

function alignToPeriod(date: Date, periodSeconds: number): Date {
  const periodMs = periodSeconds * 1000;
  return new Date(Math.floor(date.getTime() / periodMs) * periodMs);
}
