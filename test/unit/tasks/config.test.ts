import { readReportFailureConfig, readResolveConfig, readSettleConfig } from '../../../tasks/shared/config';

const env = {
  IMAGES_BUCKET: 'imagegen-images',
  TABLE_NAME: 'imagegen-coordination',
  ENDPOINT_NAME: 'imagegen-sdxl',
  MODEL_ID: 'm',
  SUPPORTED_SIZES: '1024x1024, 768x1344',
  REQUEST_TTL_SECONDS: '3600',
  INVOCATION_TIMEOUT_SECONDS: '900',
  INFERENCE_RETRIES: '2',
  RECONCILE_AFTER_SECONDS: '45',
};

describe('task configuration', () => {
  it('reads every variable once', () => {
    expect(readResolveConfig(env)).toMatchObject({ supportedSizes: ['1024x1024', '768x1344'], requestTtlSeconds: 3600, invocationTimeoutSeconds: 900, inferenceRetries: 2, reconcileAfterSeconds: 45 });
  });

  it('reads what Complete and the reconciler need to start a retry', () => {
    expect(readSettleConfig(env)).toEqual({
      bucket: 'imagegen-images',
      tableName: 'imagegen-coordination',
      endpointName: 'imagegen-sdxl',
      requestTtlSeconds: 3600,
      invocationTimeoutSeconds: 900,
      inferenceRetries: 2,
      reconcileAfterSeconds: 45,
    });
  });

  it.each([
    [{ ...env, TABLE_NAME: undefined }, 'environment variable TABLE_NAME is required but not set'],
    [{ ...env, REQUEST_TTL_SECONDS: '30' }, 'environment variable REQUEST_TTL_SECONDS must be an integer from 60 to 21600 (got "30")'],
    [{ ...env, INFERENCE_RETRIES: '6' }, 'environment variable INFERENCE_RETRIES must be an integer from 0 to 5 (got "6")'],
    [{ ...env, SUPPORTED_SIZES: '1024' }, 'environment variable SUPPORTED_SIZES must list WIDTHxHEIGHT pairs separated by commas (got "1024")'],
  ])('fails fast naming the variable (%#)', (bad, message) => {
    expect(() => readResolveConfig(bad)).toThrow(message);
  });

  it('requires the bus for report-failure', () => {
    expect(() => readReportFailureConfig({})).toThrow('EVENT_BUS_NAME');
  });
});
