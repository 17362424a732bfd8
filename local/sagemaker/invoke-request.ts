/**
 * Reads and validates an `InvokeEndpointAsync` request from its HTTP headers and body, with the
 * constraints of the SageMaker Runtime service model and AWS's "1 validation error detected" wording.
 */
import { AwsServiceError } from '../edge/errors';
import type { EdgeRequest } from '../edge/types';

export const ASYNC_LIMITS = {
  inlineBodyBytes: 128_000,
  inferenceIdLength: 64,
  headerLength: 1024,
  requestTtlSeconds: { min: 60, max: 21_600, default: 21_600 },
  invocationTimeoutSeconds: { min: 1, max: 3_600, default: 900 },
} as const;

export const ENDPOINT_NAME_PATTERN = /^[a-zA-Z0-9](-*[a-zA-Z0-9])*$/;
// Java's \p{Print} (the model's pattern `\A\S[\p{Print}]*\z`) is printable ASCII.
const INFERENCE_ID_PATTERN = /^[\x21-\x7e][\x20-\x7e]*$/;
const LOCATION_PATTERN = /^(https|s3):\/\/([^/]+)\/?(.*)$/;
const PATH_EXTENSION_PATTERN = /^(?!s3:|https:)[a-zA-Z0-9!_.*'()/-]+$/;
const FILENAME_PATTERN = /^(?!.*\..*\.)[a-zA-Z0-9][a-zA-Z0-9-_.]*$/;
const ASCII = /^\p{ASCII}*$/u;

export interface S3Object {
  readonly bucket: string;
  readonly key: string;
}

export interface AsyncInvokeRequest {
  readonly endpointName: string;
  readonly contentType?: string;
  readonly accept?: string;
  readonly customAttributes?: string;
  readonly inferenceId?: string;
  /** The InputLocation as sent, and the object it names. */
  readonly input: { readonly kind: 'location'; readonly location: string; readonly object: S3Object } | { readonly kind: 'inline'; readonly body: Buffer };
  readonly outputPathExtension?: string;
  readonly filename?: string;
  readonly requestTtlSeconds: number;
  readonly invocationTimeoutSeconds: number;
}

export function validationError(message: string): AwsServiceError {
  return new AwsServiceError('ValidationError', message, 400);
}

function constraint(value: string | null, field: string, rule: string): AwsServiceError {
  const shown = value === null ? 'null' : `'${value}'`;
  return validationError(`1 validation error detected: Value ${shown} at '${field}' failed to satisfy constraint: Member must ${rule}`);
}

function header(request: EdgeRequest, name: string): string | undefined {
  const value = request.headers[name.toLowerCase()];
  return Array.isArray(value) ? value.join(',') : value;
}

function text(request: EdgeRequest, name: string, field: string, min: number, max: number, pattern?: RegExp, patternText?: string): string | undefined {
  const value = header(request, name);
  if (value === undefined) return undefined;
  if (value.length < min) throw constraint(value, field, `have length greater than or equal to ${min}`);
  if (value.length > max) throw constraint(value, field, `have length less than or equal to ${max}`);
  if (pattern && !pattern.test(value)) throw constraint(value, field, `satisfy regular expression pattern: ${patternText ?? pattern.source}`);
  return value;
}

function seconds(request: EdgeRequest, name: string, field: string, bounds: { min: number; max: number; default: number }): number {
  const value = header(request, name);
  if (value === undefined) return bounds.default;
  const n = /^-?\d+$/.test(value.trim()) ? Number(value.trim()) : Number.NaN;
  if (!Number.isSafeInteger(n)) throw constraint(value, field, 'be an integer');
  if (n < bounds.min) throw constraint(value, field, `have value greater than or equal to ${bounds.min}`);
  if (n > bounds.max) throw constraint(value, field, `have value less than or equal to ${bounds.max}`);
  return n;
}

/** Parses `s3://bucket/key`, path-style `https://host/bucket/key` and virtual-hosted `https://bucket.s3….amazonaws.com/key`. */
export function parseS3Location(location: string): S3Object | undefined {
  const match = LOCATION_PATTERN.exec(location);
  if (!match) return undefined;
  const [, scheme = '', host = '', path = ''] = match;
  if (scheme === 's3') return path ? { bucket: host, key: path } : undefined;
  const virtual = /^(.+)\.s3[.-]/.exec(host);
  if (virtual?.[1]) return path ? { bucket: virtual[1], key: decodeURIComponent(path) } : undefined;
  const slash = path.indexOf('/');
  if (slash <= 0 || slash === path.length - 1) return undefined;
  return { bucket: path.slice(0, slash), key: decodeURIComponent(path.slice(slash + 1)) };
}

export function parseAsyncInvoke(request: EdgeRequest, endpointName: string): AsyncInvokeRequest {
  if (endpointName.length > 63) throw constraint(endpointName, 'endpointName', 'have length less than or equal to 63');
  if (!ENDPOINT_NAME_PATTERN.test(endpointName)) {
    throw constraint(endpointName, 'endpointName', `satisfy regular expression pattern: ${ENDPOINT_NAME_PATTERN.source}`);
  }
  const max = ASYNC_LIMITS.headerLength;
  const contentType = text(request, 'x-amzn-sagemaker-content-type', 'contentType', 0, max, ASCII, '\\p{ASCII}*');
  const accept = text(request, 'x-amzn-sagemaker-accept', 'accept', 0, max, ASCII, '\\p{ASCII}*');
  const customAttributes = text(request, 'x-amzn-sagemaker-custom-attributes', 'customAttributes', 0, max, ASCII, '\\p{ASCII}*');
  const inferenceId = text(request, 'x-amzn-sagemaker-inference-id', 'inferenceId', 1, ASYNC_LIMITS.inferenceIdLength, INFERENCE_ID_PATTERN, '\\A\\S[\\p{Print}]*\\z');
  const location = text(request, 'x-amzn-sagemaker-inputlocation', 'inputLocation', 1, max, LOCATION_PATTERN);
  const outputPathExtension = text(request, 'x-amzn-sagemaker-s3outputpathextension', 's3OutputPathExtension', 1, 512, PATH_EXTENSION_PATTERN);
  const filename = text(request, 'x-amzn-sagemaker-filename', 'filename', 1, 32, FILENAME_PATTERN);
  const requestTtlSeconds = seconds(request, 'x-amzn-sagemaker-requestttlseconds', 'requestTTLSeconds', ASYNC_LIMITS.requestTtlSeconds);
  const invocationTimeoutSeconds = seconds(request, 'x-amzn-sagemaker-invocationtimeoutseconds', 'invocationTimeoutSeconds', ASYNC_LIMITS.invocationTimeoutSeconds);

  let input: AsyncInvokeRequest['input'];
  if (location !== undefined && request.body.length > 0) {
    throw validationError('Body and InputLocation are mutually exclusive. Provide exactly one of them.');
  } else if (location !== undefined) {
    const object = parseS3Location(location);
    if (!object) throw validationError(`InputLocation ${location} is not a valid Amazon S3 object URI (s3://bucket/key).`);
    input = { kind: 'location', location, object };
  } else if (request.body.length > 0) {
    if (request.body.length > ASYNC_LIMITS.inlineBodyBytes) {
      throw validationError(`The inline Body is ${request.body.length} bytes; it can be up to ${ASYNC_LIMITS.inlineBodyBytes} bytes. Use InputLocation for larger payloads.`);
    }
    input = { kind: 'inline', body: request.body };
  } else {
    throw constraint(null, 'inputLocation', 'not be null');
  }

  return {
    endpointName,
    ...(contentType !== undefined ? { contentType } : {}),
    ...(accept !== undefined ? { accept } : {}),
    ...(customAttributes !== undefined ? { customAttributes } : {}),
    ...(inferenceId !== undefined ? { inferenceId } : {}),
    input,
    ...(outputPathExtension !== undefined ? { outputPathExtension } : {}),
    ...(filename !== undefined ? { filename } : {}),
    requestTtlSeconds,
    invocationTimeoutSeconds,
  };
}
