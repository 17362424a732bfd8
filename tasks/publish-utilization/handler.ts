/** Scheduled every minute by EventBridge: publishes ImageGen/UtilizationRate for the endpoint. */
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { requirePositiveNumber, requireString } from '../shared/config';
import { publishUtilization, type PublishUtilizationConfig } from './publish-utilization';

const config: PublishUtilizationConfig = {
  endpointName: requireString('ENDPOINT_NAME'),
  variantName: requireString('VARIANT_NAME'),
  namespace: requireString('UTILIZATION_NAMESPACE'),
  metricName: requireString('UTILIZATION_METRIC'),
  concurrencyPerInstance: requirePositiveNumber('CONCURRENCY_PER_INSTANCE'),
  inferenceSeconds: requirePositiveNumber('INFERENCE_SECONDS'),
  periodSeconds: 60,
  // Optional: without it the whole backlog counts as the next minute's demand.
  ...(process.env.DRAIN_SECONDS ? { drainSeconds: requirePositiveNumber('DRAIN_SECONDS') } : {}),
};
const cloudwatch = new CloudWatchClient({});

export const handler = async () => publishUtilization(config, { cloudwatch, now: () => new Date() });
