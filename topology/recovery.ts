/**
 * How long an inference attempt may take, when the reconciler looks at it, and how long the workflow
 * waits for all its attempts: each derived from the queue TTL, the invocation timeout and the retry
 * count, so raising one of them moves the others with it (docs/design.md, "Recovery").
 */

/** Beyond TTL + invocation timeout, the time SageMaker may still take to write the output or failure object. */
export const OUTPUT_GRACE_SECONDS = 120;
/** The reconciler's schedule: EventBridge's finest rate. */
export const RECONCILE_SCHEDULE = 'rate(1 minute)';
export const RECONCILE_PERIOD_SECONDS = 60;
/** The reconciler function's timeout: a run that starts at the deadline has settled by then. */
export const RECONCILE_TIMEOUT_SECONDS = 120;
/**
 * An attempt whose InvokeEndpointAsync never returned its locations this long after it started was
 * never accepted (or its starter died): longer than any starter's function timeout.
 */
export const NOT_ACCEPTED_AFTER_SECONDS = 180;
/**
 * Beyond the last attempt's bound, the time the final settlement may take to reach the workflow:
 * SNS and Lambda asynchronous retries of Complete, and the task itself.
 */
export const CALLBACK_SLACK_SECONDS = 600;

export interface AttemptLimits {
  /** How long a request may wait in the endpoint's queue (RequestTTLSeconds). */
  readonly requestTtlSeconds: number;
  /** How long one inference may run (InvocationTimeoutSeconds). */
  readonly invocationTimeoutSeconds: number;
}

/**
 * Seconds after an attempt starts past which an attempt with neither an output nor a failure object
 * is lost: SageMaker answers every request (result, error, or expiry) within TTL + invocation timeout.
 */
export function attemptDeadlineSeconds(limits: AttemptLimits): number {
  return limits.requestTtlSeconds + limits.invocationTimeoutSeconds + OUTPUT_GRACE_SECONDS;
}

/** Seconds by which an attempt is settled even with its notification lost: the deadline, the next run, and that run. */
export function attemptBoundSeconds(limits: AttemptLimits): number {
  return attemptDeadlineSeconds(limits) + RECONCILE_PERIOD_SECONDS + RECONCILE_TIMEOUT_SECONDS;
}

/**
 * Seconds the workflow waits for an image: every attempt (the first and `inferenceRetries` more) may
 * run to its bound, one after the other, plus the slack for the final settlement. Never less: it
 * follows `requestTtlSeconds` and `inferenceRetries` when they are raised.
 */
export function callbackTimeoutSeconds(config: AttemptLimits & { readonly inferenceRetries: number }): number {
  return (1 + config.inferenceRetries) * attemptBoundSeconds(config) + CALLBACK_SLACK_SECONDS;
}
