/** Scheduled every minute by EventBridge: publishes ImageGen/UtilizationRate for the endpoint. */
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { publishUtilization, type PublishUtilizationConfig } from './publish-utilization';

function required(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`environment variable ${name} is required`);
  return value;
}

function positiveNumber(name: string): number {
  const value = Number(required(name));
  if (!Number.isFinite(value) || value <= 0) throw new Error(`environment variable ${name} must be a positive number`);
  return value;
}

const drain = process.env['DRAIN_SECONDS'];

const config: PublishUtilizationConfig = {
  endpointName: required('ENDPOINT_NAME'),
  variantName: required('VARIANT_NAME'),
  namespace: required('UTILIZATION_NAMESPACE'),
  metricName: required('UTILIZATION_METRIC'),
  concurrencyPerInstance: positiveNumber('CONCURRENCY_PER_INSTANCE'),
  inferenceSeconds: positiveNumber('INFERENCE_SECONDS'),
  periodSeconds: 60,
  ...(drain === undefined || drain === '' ? {} : { drainSeconds: positiveNumber('DRAIN_SECONDS') }),
};
const cloudwatch = new CloudWatchClient({});

export const handler = async () => publishUtilization(config, { cloudwatch, now: () => new Date() });
