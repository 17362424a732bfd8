/** Scheduled every minute by EventBridge: publishes ImageGen/UtilizationRate for the endpoint. */
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { SageMakerClient } from '@aws-sdk/client-sagemaker';
import type { ScheduledEvent } from 'aws-lambda';
import { requirePositiveNumber, requireString } from '../shared/config';
import { readForecastConfig } from './config';
import { publishUtilization, scheduledTime, type PublishUtilizationConfig } from './publish-utilization';

// Optional too: without it the demand counts the evaluated minute's arrivals only.
const forecast = readForecastConfig();
const config: PublishUtilizationConfig = {
  endpointName: requireString('ENDPOINT_NAME'),
  variantName: requireString('VARIANT_NAME'),
  namespace: requireString('UTILIZATION_NAMESPACE'),
  metricName: requireString('UTILIZATION_METRIC'),
  arrivalsMetric: requireString('ARRIVALS_METRIC'),
  concurrencyPerInstance: requirePositiveNumber('CONCURRENCY_PER_INSTANCE'),
  inferenceSeconds: requirePositiveNumber('INFERENCE_SECONDS'),
  periodSeconds: 60,
  // Optional: without it the whole waiting backlog counts as the next minute's demand.
  ...(process.env.DRAIN_SECONDS ? { drainSeconds: requirePositiveNumber('DRAIN_SECONDS') } : {}),
  ...(forecast ? { forecast } : {}),
};
// Built here, once per cold start, not in tasks/shared: the control-plane client is a megabyte the
// other functions' bundles do not need.
const clients = { cloudwatch: new CloudWatchClient({}), sagemaker: new SageMakerClient({}) };

/** `now` is the event's scheduled time, not the moment the invocation happens to run. */
export const handler = async (event: Partial<ScheduledEvent>) => publishUtilization(config, { ...clients, now: () => scheduledTime(event) });
