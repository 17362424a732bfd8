import { ConfigError, requireInt, requirePositiveNumber, requireSizes, requireString } from '../../../tasks/shared/config';

/** The error a function fails its cold start with, so a test can check its class and message together. */
function failure(read: () => unknown): { name: string; isConfigError: boolean; message: string } {
  try {
    read();
  } catch (error) {
    return { name: (error as Error).name, isConfigError: error instanceof ConfigError, message: (error as Error).message };
  }
  throw new Error('expected the read to fail');
}

describe('environment variables: what is accepted and how a bad one is named', () => {
  it('fails as a ConfigError named as such, so the cold-start log says what kind of failure it is', () => {
    expect(failure(() => requireString('TABLE_NAME', {}))).toEqual({ name: 'ConfigError', isConfigError: true, message: 'environment variable TABLE_NAME is required but not set' });
  });

  it('treats a blank value as unset and trims the surrounding spaces of a set one', () => {
    expect(failure(() => requireString('TABLE_NAME', { TABLE_NAME: '   ' })).message).toBe('environment variable TABLE_NAME is required but not set');
    expect(requireString('TABLE_NAME', { TABLE_NAME: '  imagegen-coordination \n' })).toBe('imagegen-coordination');
  });

  it('accepts an integer at either bound and refuses one just outside, naming the bounds', () => {
    expect(requireInt('INFERENCE_RETRIES', 0, 5, { INFERENCE_RETRIES: '0' })).toBe(0);
    expect(requireInt('INFERENCE_RETRIES', 0, 5, { INFERENCE_RETRIES: '5' })).toBe(5);
    expect(failure(() => requireInt('INFERENCE_RETRIES', 0, 5, { INFERENCE_RETRIES: '-1' })).message).toBe('environment variable INFERENCE_RETRIES must be an integer from 0 to 5 (got "-1")');
    expect(failure(() => requireInt('INFERENCE_RETRIES', 0, 5, { INFERENCE_RETRIES: '2.5' })).message).toBe('environment variable INFERENCE_RETRIES must be an integer from 0 to 5 (got "2.5")');
  });

  it('accepts any positive finite number and refuses zero, a negative, infinity and text', () => {
    expect(requirePositiveNumber('INFERENCE_SECONDS', { INFERENCE_SECONDS: '9.7' })).toBe(9.7);
    expect(requirePositiveNumber('INFERENCE_SECONDS', { INFERENCE_SECONDS: '0.001' })).toBe(0.001);
    for (const raw of ['0', '-3', 'Infinity', 'nine']) {
      expect(failure(() => requirePositiveNumber('INFERENCE_SECONDS', { INFERENCE_SECONDS: raw }))).toEqual({
        name: 'ConfigError',
        isConfigError: true,
        message: `environment variable INFERENCE_SECONDS must be a positive number (got "${raw}")`,
      });
    }
  });

  it('reads sizes separated by commas, skipping empty entries and spaces around each', () => {
    expect(requireSizes('SUPPORTED_SIZES', { SUPPORTED_SIZES: ' 1024x1024 ,, 768x1344,' })).toEqual(['1024x1024', '768x1344']);
  });

  it('refuses a size with anything before or after WIDTHxHEIGHT, naming the entry', () => {
    for (const size of ['a1024x1024', '1024x1024px']) {
      expect(failure(() => requireSizes('SUPPORTED_SIZES', { SUPPORTED_SIZES: `768x1344,${size}` })).message).toBe(
        `environment variable SUPPORTED_SIZES must list WIDTHxHEIGHT pairs separated by commas (got "${size}")`,
      );
    }
  });

  it('refuses a list of commas only: at least one size must be served', () => {
    expect(failure(() => requireSizes('SUPPORTED_SIZES', { SUPPORTED_SIZES: ' , ,' }))).toEqual({
      name: 'ConfigError',
      isConfigError: true,
      message: 'environment variable SUPPORTED_SIZES must list at least one WIDTHxHEIGHT pair',
    });
  });
});
