/**
 * The CloudWatch metrics an asynchronous endpoint publishes, one datapoint per metric per minute,
 * zeros included, each stamped with the start of the minute it describes. Async endpoints publish
 * no `Invocations` (that is a real-time endpoint metric), and no CPUUtilization while no instance
 * serves: a query for the instance count then finds no datapoint rather than a zero.
 */
import type { MetricDatum } from '../ports';
import { emptyWindow, type AsyncEndpoint } from './models';

export const METRICS_PERIOD_MS = 60_000;
export const SAGEMAKER_NAMESPACE = 'AWS/SageMaker';
export const INSTANCE_NAMESPACE = '/aws/sagemaker/Endpoints';
/**
 * How long after a minute closes its datapoints become readable. AWS documents no bound; service
 * metrics are commonly readable a minute or two after the period, so the default is two minutes: a
 * reader of the minute that just closed finds nothing, as it may on AWS.
 */
export const DEFAULT_METRICS_LAG_SECONDS = 120;

export interface MetricBatch {
  readonly namespace: string;
  readonly data: readonly MetricDatum[];
}

/** The next whole minute of the clock strictly after `now`. */
export function nextMinute(now: number): number {
  return (Math.floor(now / METRICS_PERIOD_MS) + 1) * METRICS_PERIOD_MS;
}

/**
 * Closes the endpoint's metrics minute ending at `minuteEnd`: the counters of the minute, and the
 * backlog, oldest age and instances as they stand at its end. Starts the next minute's counters.
 */
export function closeMinute(endpoint: AsyncEndpoint, minuteEnd: number): MetricBatch[] {
  const { name, variantName, maxConcurrentInvocationsPerInstance } = endpoint.config;
  const w = endpoint.window;
  endpoint.window = emptyWindow();
  const timestamp = minuteEnd - METRICS_PERIOD_MS;
  const backlog = endpoint.backlog;
  const inService = endpoint.inService;
  const byEndpoint = { EndpointName: name };
  const byVariant = { EndpointName: name, VariantName: variantName };
  const datum = (metricName: string, dimensions: Record<string, string>, value: number, unit: string): MetricDatum => ({ metricName, dimensions, value, unit, timestamp });
  const batches: MetricBatch[] = [
    {
      namespace: SAGEMAKER_NAMESPACE,
      data: [
        datum('ApproximateBacklogSize', byEndpoint, backlog, 'Count'),
        // With no instances the per-instance backlog is the whole backlog (AWS divides by at least one).
        datum('ApproximateBacklogSizePerInstance', byEndpoint, backlog / Math.max(1, inService), 'Count'),
        datum('ApproximateAgeOfOldestRequest', byEndpoint, endpoint.oldestAgeSeconds(minuteEnd), 'Seconds'),
        datum('HasBacklogWithoutCapacity', byEndpoint, backlog > 0 && inService === 0 ? 1 : 0, 'Count'),
        datum('InvocationsProcessed', byVariant, w.processed, 'Count'),
        // AWS's metric table spells it with three s's; it is UNVERIFIED which name CloudWatch carries.
        datum('InvocationsProcesssed', byVariant, w.processed, 'Count'),
        datum('InvocationFailures', byVariant, w.failures, 'Count'),
        datum('ExpiredRequests', byVariant, w.expired, 'Count'),
        datum('RequestDownloadFailures', byVariant, w.downloadFailures, 'Count'),
        datum('ResponseUploadFailures', byVariant, w.uploadFailures, 'Count'),
        datum('NotificationFailures', byVariant, w.notificationFailures, 'Count'),
        // A latency of zero would be a false sample, so ModelLatency is only sent for real invocations.
        ...w.modelLatencyMicros.map((us) => datum('ModelLatency', byVariant, us, 'Microseconds')),
      ],
    },
  ];
  // One CPU sample per in-service instance, so SampleCount over a minute is the instance count.
  const cpu = endpoint.instances
    .filter((i) => i.state === 'inService')
    .map((i) => datum('CPUUtilization', byVariant, (100 * i.busy) / maxConcurrentInvocationsPerInstance, 'Percent'));
  if (cpu.length > 0) batches.push({ namespace: INSTANCE_NAMESPACE, data: cpu });
  return batches;
}
