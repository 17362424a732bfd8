/**
 * The functions' environment, set before their modules load (imported first by the entry-point tests):
 * each reads it at cold start. The S3 and DynamoDB endpoints are added once the test cloud listens;
 * the SDK reads them at the first request.
 */
import { defaultConfig } from '../../../topology/imagegen-topology';

export const ENDPOINT = 'imagegen-sdxl-entry-points';
export const BUS = 'arn:aws:events:us-east-1:000000000000:event-bus/imagegen-entry-points';

export const entryPointEnv: Record<string, string> = {
  IMAGES_BUCKET: defaultConfig.bucketName,
  TABLE_NAME: defaultConfig.tableName,
  ENDPOINT_NAME: ENDPOINT,
  REQUEST_TTL_SECONDS: '3600',
  INVOCATION_TIMEOUT_SECONDS: '900',
  INFERENCE_RETRIES: '2',
  RECONCILE_AFTER_SECONDS: '45',
  MODEL_ID: defaultConfig.modelId,
  SUPPORTED_SIZES: defaultConfig.supportedSizes.join(','),
  EVENT_BUS_NAME: BUS,
  // Powertools' dev mode (test/setup-env.ts) turns metrics off unless this says otherwise.
  POWERTOOLS_METRICS_DISABLED: 'false',
};

export const savedEnv = Object.fromEntries(Object.keys(entryPointEnv).map((k) => [k, process.env[k]]));
Object.assign(process.env, entryPointEnv);
