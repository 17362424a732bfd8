/**
 * Settling an inference attempt: the one code path behind Complete (the endpoint's notification) and
 * the reconciler (what it finds in S3 when the notification never came). An output completes every
 * waiter; a transient failure starts a new attempt under the same lease while retries remain; a
 * permanent failure, an expiry in the queue or the last failed attempt fails the waiters of the
 * attempt. Every step is idempotent against a second settlement of the same attempt racing it.
 */
import { randomUUID } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SFNClient } from '@aws-sdk/client-sfn';
import { UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { attemptDeadlineSeconds, OUTPUT_GRACE_SECONDS } from '../../topology/recovery';
import { deleteDue, invokeAttempt, recordAttempt, type AttemptDeps } from './attempts';
import type { SettleConfig } from './config';
import { failLease, getLease, isConditionFailure, leaseExpiresAt, leaseKey, type InferenceItem, type LeaseItem } from './coordination';
import { deliver } from './deliver';
import { INFERENCE_FAILED, INFERENCE_TIMED_OUT, POST_PROCESSING_FAILED } from './errors';
import type { FailureKind } from './failure-kinds';
import { MetricUnit, type LogSink, type MetricsSink } from './observability';
import { sendFailure } from './tokens';
import { deleteWaiter, queryWaiters } from './waiters';

export interface SettleDeps extends AttemptDeps {
  readonly s3: S3Client;
  readonly sfn: SFNClient;
  readonly ddb: DynamoDBDocumentClient;
  readonly config: SettleConfig;
  readonly clock: { now(): number };
  readonly logger: LogSink;
  readonly metrics: MetricsSink;
  /** InferenceId generator for retries. @default randomUUID */
  readonly newId?: () => string;
}

/** What is known about how an attempt ended. */
export type Observation =
  /** A success notification, or the output object found. */
  | { readonly kind: 'output'; readonly outputLocation?: string; readonly inferenceMs?: number }
  /** An error notification, or the failure object found. */
  | { readonly kind: 'failure'; readonly reason: string; readonly failureKind: FailureKind }
  /** Neither object past the attempt's deadline: the endpoint lost the request. */
  | { readonly kind: 'lost' }
  /** No locations long after the start: InvokeEndpointAsync never returned them. */
  | { readonly kind: 'not-accepted' };

export type SettleOutcome = 'succeeded' | 'failed' | 'timed-out' | 'post-processing-failed' | 'retried' | 'stale';

export interface Settled {
  readonly outcome: SettleOutcome;
  /** Tokens completed by this run (closed tokens not counted). */
  readonly completed: number;
  /** The new attempt's InferenceId, when one was started. */
  readonly retryId?: string;
}

export async function settle(inference: InferenceItem, observation: Observation, deps: SettleDeps): Promise<Settled> {
  let settled: Settled;
  if (observation.kind === 'output') {
    const delivered = await deliver(inference, observation, deps);
    settled = 'problem' in delivered ? await failWaiters(inference, POST_PROCESSING_FAILED, delivered.problem, 'post-processing-failed', deps) : delivered;
  } else {
    settled = await unsuccessful(inference, observation, deps);
  }
  // Last: until here a crash leaves the attempt in the reconciler's index, to be settled again.
  await deleteDue(inference, deps);
  return settled;
}

type Unsuccessful = Exclude<Observation, { kind: 'output' }>;

async function unsuccessful(inference: InferenceItem, observation: Unsuccessful, deps: SettleDeps): Promise<Settled> {
  const reason = describe(inference, observation, deps.config);
  const kind: FailureKind = observation.kind === 'failure' ? observation.failureKind : 'transient';
  if (kind === 'permanent') return failWaiters(inference, INFERENCE_FAILED, reason, 'failed', deps);
  if (kind === 'expired') return failWaiters(inference, INFERENCE_TIMED_OUT, reason, 'timed-out', deps);

  const lease = await getLease(deps.ddb, deps.config.tableName, inference.cacheKey);
  const owns = lease?.inferenceId === inference.inferenceId;
  // Attempts counted on the lease: 1 for the request's own, one more per retry.
  if (owns && lease.status === 'inflight' && lease.attempt <= deps.config.inferenceRetries && inference.modelInput) {
    return retry(inference, lease, reason, deps);
  }
  const attempts = owns ? lease.attempt : inference.attempt;
  const cause = attempts > 1 ? `${reason} (gave up after ${attempts} attempts)` : reason;
  return observation.kind === 'lost'
    ? failWaiters(inference, INFERENCE_TIMED_OUT, cause, 'timed-out', deps)
    : failWaiters(inference, INFERENCE_FAILED, cause, 'failed', deps);
}

function describe(inference: InferenceItem, observation: Unsuccessful, config: SettleConfig): string {
  switch (observation.kind) {
    case 'failure':
      return observation.reason;
    case 'lost':
      return `the endpoint reported neither a result nor an error for inference ${inference.inferenceId} within ${attemptDeadlineSeconds(config)} s (RequestTTLSeconds + InvocationTimeoutSeconds + ${OUTPUT_GRACE_SECONDS} s)`;
    case 'not-accepted':
      return `the endpoint never acknowledged inference ${inference.inferenceId} (InvokeEndpointAsync returned no output location)`;
  }
}

/**
 * A new attempt under the same lease: written first (so a crash leaves something to settle), then the
 * lease moves to it — only from this attempt, so of two settlements racing, one starts the retry —
 * then the endpoint is called. The waiters stay: their tokens are completed by the attempt that ends it.
 */
async function retry(inference: InferenceItem, lease: LeaseItem, reason: string, deps: SettleDeps): Promise<Settled> {
  const { config } = deps;
  const startedAt = deps.clock.now();
  const next = await recordAttempt(
    { inferenceId: (deps.newId ?? randomUUID)(), cacheKey: inference.cacheKey, attempt: lease.attempt + 1, modelInput: inference.modelInput, startedAt },
    deps,
  );
  try {
    await deps.ddb.send(
      new UpdateCommand({
        TableName: config.tableName,
        Key: leaseKey(inference.cacheKey),
        UpdateExpression: 'SET inferenceId = :next, attempt = :attempt, expiresAt = :exp',
        ConditionExpression: 'inferenceId = :id AND #status = :inflight',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':next': next.inferenceId,
          ':attempt': next.attempt,
          ':exp': leaseExpiresAt(config, startedAt),
          ':id': inference.inferenceId,
          ':inflight': 'inflight',
        },
      }),
    );
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
    // Another settlement of this attempt moved the lease first: the attempt written here is unused.
    await deleteDue(next, deps);
    deps.logger.info('another settlement already handled this attempt', { inferenceId: inference.inferenceId, cacheKey: inference.cacheKey });
    return { outcome: 'stale', completed: 0 };
  }
  try {
    await invokeAttempt(next, deps);
  } catch (error) {
    // Left to the reconciler: it finds the attempt without locations and settles it as not accepted.
    deps.logger.error('could not start the retry', { inferenceId: next.inferenceId, cacheKey: inference.cacheKey, error: String(error) });
  }
  deps.metrics.addMetric('InferenceRetries', MetricUnit.Count, 1);
  deps.logger.warn('inference failed, retrying', {
    inferenceId: inference.inferenceId,
    retryId: next.inferenceId,
    attempt: next.attempt,
    of: 1 + config.inferenceRetries,
    cacheKey: inference.cacheKey,
    reason,
  });
  return { outcome: 'retried', completed: 0, retryId: next.inferenceId };
}

/** How far apart the clocks of the function that marks a failure and the one that wrote a waiter may be. */
export const CLOCK_SKEW_MS = 5_000;

type FailureError = typeof INFERENCE_FAILED | typeof INFERENCE_TIMED_OUT | typeof POST_PROCESSING_FAILED;

const FAILURE_METRICS: Record<FailureError, string> = {
  [INFERENCE_FAILED]: 'InferenceFailures',
  [INFERENCE_TIMED_OUT]: 'InferenceTimeouts',
  [POST_PROCESSING_FAILED]: 'PostProcessingFailures',
};

/**
 * Fails the waiters of this attempt. The lease is marked failed first (only while this attempt owns
 * it, otherwise the settlement is stale); waiters written after the mark belong to a new attempt.
 */
async function failWaiters(inference: InferenceItem, error: FailureError, cause: string, outcome: SettleOutcome, deps: SettleDeps): Promise<Settled> {
  const { inferenceId, cacheKey } = inference;
  const markedAt = await failLease(deps.ddb, deps.config.tableName, cacheKey, inferenceId, deps.clock.now());
  if (markedAt === undefined) {
    deps.logger.info('ignoring the end of a superseded attempt', { inferenceId, cacheKey });
    return { outcome: 'stale', completed: 0 };
  }
  // Two functions' clocks are compared: within the margin a waiter shares this failure (an answer),
  // rather than be taken for a new attempt's and left waiting when it was this attempt's.
  const waiters = (await queryWaiters(cacheKey, deps)).filter((w) => w.createdAt <= markedAt + CLOCK_SKEW_MS);
  let completed = 0;
  for (const waiter of waiters) {
    if (await sendFailure(deps.sfn, waiter.taskToken, error, cause, deps.logger)) completed += 1;
    await deleteWaiter(waiter, deps);
  }
  deps.metrics.addMetric(FAILURE_METRICS[error], MetricUnit.Count, 1);
  deps.logger.warn('inference failed', { inferenceId, cacheKey, error, cause, waiters: waiters.length });
  return { outcome, completed };
}
