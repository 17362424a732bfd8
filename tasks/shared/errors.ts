/**
 * Error names shared by the tasks and the workflow definition. The `name` of each error is what a
 * Lambda function error shows the state machine as `Error`, so these strings are the contract
 * between the code and `workflows/imagegen-request.asl.json` (`Retry`/`Catch`) and report-failure.
 */
import { INFERENCE_FAILED, INVALID_REQUEST, POST_PROCESSING_FAILED } from '../../events/contract';

export { ERROR_CODES, INFERENCE_FAILED, INFERENCE_TIMED_OUT, INTERNAL, INVALID_REQUEST, POST_PROCESSING_FAILED, type ErrorCode } from '../../events/contract';
/** Retried by the workflow (`Retry` on Resolve) before anything is reported. */
export const TRANSIENT = 'Transient';

export class InvalidRequestError extends Error {
  override readonly name = INVALID_REQUEST;
  /** Each problem found, e.g. `detail.steps must be an integer from 1 to 100 (got 250)`. */
  readonly issues: readonly string[];
  constructor(issues: readonly string[] | string, options?: ErrorOptions) {
    const list = typeof issues === 'string' ? [issues] : issues;
    super(list.join('; '), options);
    this.issues = list;
  }
}

export class InferenceFailedError extends Error {
  override readonly name = INFERENCE_FAILED;
}

export class PostProcessingFailedError extends Error {
  override readonly name = POST_PROCESSING_FAILED;
}

/** A dependency failed in a way worth retrying (throttling, a lost race that will settle). */
export class TransientError extends Error {
  override readonly name = TRANSIENT;
}

/** True when an SDK error is throttling or a 5xx, i.e. retrying the same call may succeed. */
export function isRetryableSdkError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as { $retryable?: unknown; $metadata?: { httpStatusCode?: number }; name?: string };
  if (e.$retryable) return true;
  const status = e.$metadata?.httpStatusCode;
  if (status !== undefined && status >= 500) return true;
  // Throttling comes as a 400; SlowDown, ServiceUnavailable and InternalFailure always carry their 5xx status.
  return ['ThrottlingException', 'ProvisionedThroughputExceededException', 'RequestLimitExceeded'].includes(e.name ?? '');
}

/** Rethrows retryable SDK errors as `TransientError` (so the workflow retries them); others unchanged. */
export function classify(error: unknown, what: string): unknown {
  if (isRetryableSdkError(error)) {
    const message = error instanceof Error ? error.message : String(error);
    return new TransientError(`${what}: ${message}`, { cause: error });
  }
  return error;
}
