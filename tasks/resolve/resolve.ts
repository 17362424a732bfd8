/**
 * Resolve: validate → normalize → cache key → claim the requestId → serve a cache hit at once, or
 * join / start the one inference for this image and leave the task token open (docs/design.md).
 */
import { randomUUID } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import type { SFNClient } from '@aws-sdk/client-sfn';
import { DeleteCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { parseRequestEvent } from '../../events/image-generation-requested/schema';
import type { SucceededDetail } from '../../events/image-generation-succeeded/schema';
import type { ResolvePayload } from '../../workflows/payload';
import { attemptExpiresAt, deleteDue, invokeAttempt, recordAttempt } from '../shared/attempts';
import type { ResolveConfig } from '../shared/config';
import { CLAIM_TTL_SECONDS, claimKey, failLease, getInference, getLease, isConditionFailure, leaseExpiresAt, leaseKey, waiterKey, type InferenceItem } from '../shared/coordination';
import { InvalidRequestError, classify } from '../shared/errors';
import { imageRef } from '../shared/images';
import { MetricUnit, type LogSink, type MetricsSink } from '../shared/observability';
import { cacheKeyOf, contentHashOf, modelInput, normalize, type NormalizedRequest } from '../shared/request';
import { ensureRenditions, getBytes, headObject, originalKey, type Head } from '../shared/store';
import { sendSuccess } from '../shared/tokens';

/** The state's Parameters: `{event.$: $, taskToken.$: $$.Task.Token, executionArn.$: $$.Execution.Id}`. */
export type ResolveInput = ResolvePayload;

export interface ResolveDeps {
  readonly s3: S3Client;
  readonly sfn: SFNClient;
  readonly ddb: DynamoDBDocumentClient;
  readonly sagemaker: SageMakerRuntimeClient;
  readonly config: ResolveConfig;
  readonly clock: { now(): number };
  readonly logger: LogSink;
  /** Per-request counts for dashboards (Powertools adds its `service` dimension). */
  readonly metrics: MetricsSink;
  /** The utilization publisher's input, emitted with exactly the dimension set it queries: `{EndpointName}`. */
  readonly scalingMetrics: MetricsSink;
  /** InferenceId generator. @default randomUUID */
  readonly newId?: () => string;
}

export type ResolveOutcome =
  | { readonly outcome: 'hit'; readonly cacheKey: string }
  | { readonly outcome: 'started'; readonly cacheKey: string; readonly inferenceId: string }
  | { readonly outcome: 'joined'; readonly cacheKey: string };


export async function resolve(input: ResolveInput, deps: ResolveDeps): Promise<ResolveOutcome> {
  const { config, metrics } = deps;
  metrics.addDimension('EndpointName', config.endpointName);
  metrics.addMetric('Requests', MetricUnit.Count, 1);

  if (typeof input?.taskToken !== 'string' || input.taskToken === '' || typeof input.executionArn !== 'string') {
    throw new Error('Resolve input must carry taskToken and executionArn (check the state Parameters)');
  }
  const parsed = parseRequestEvent(input.event, config.supportedSizes);
  if (!parsed.ok) throw new InvalidRequestError(parsed.issues);
  const request = normalize(parsed.event.detail, config.modelId, config.supportedSizes);
  const cacheKey = cacheKeyOf(config.modelId, request);
  const receivedAt = new Date(Date.parse(parsed.event.time)).toISOString();

  // The claim and the first cache look-up are independent: run them together, but act on the
  // look-up only once the claim has succeeded (a conflicting requestId must never be served).
  const firstLook = lookUpCache(cacheKey, deps);
  firstLook.catch(() => undefined);
  await claim(request, cacheKey, deps);

  if (await serveFromCache(request, cacheKey, receivedAt, input.taskToken, deps, await firstLook)) {
    metrics.addMetric('CacheHits', MetricUnit.Count, 1);
    return { outcome: 'hit', cacheKey };
  }

  const nowMs = deps.clock.now();
  const waiter = waiterKey(cacheKey, input.executionArn);
  // Overwritten on every attempt: a retried or redriven task carries a new token.
  await send(deps, 'put waiter', () =>
    deps.ddb.send(
      new PutCommand({
        TableName: config.tableName,
        Item: {
          ...waiter,
          taskToken: input.taskToken,
          executionArn: input.executionArn,
          requestId: request.requestId,
          receivedAt,
          renditions: request.renditions,
          ...(request.metadata === undefined ? {} : { metadata: request.metadata }),
          createdAt: nowMs,
          expiresAt: attemptExpiresAt(config, nowMs),
        },
      }),
    ),
  );

  // Complete writes the cache before reading waiters; re-checking after our write closes the gap.
  if (await serveFromCache(request, cacheKey, receivedAt, input.taskToken, deps, await lookUpCache(cacheKey, deps))) {
    await deps.ddb.send(new DeleteCommand({ TableName: config.tableName, Key: waiter, ConditionExpression: 'taskToken = :t', ExpressionAttributeValues: { ':t': input.taskToken } })).catch((e: unknown) => {
      if (!isConditionFailure(e)) throw e;
    });
    // Served from the cache after all: the image landed while this request registered itself.
    metrics.addMetric('CacheHits', MetricUnit.Count, 1);
    return { outcome: 'hit', cacheKey };
  }
  metrics.addMetric('CacheMisses', MetricUnit.Count, 1);

  let inferenceId = (deps.newId ?? randomUUID)();
  let attempt: InferenceItem | undefined;
  const won = await takeLease(cacheKey, inferenceId, nowMs, input.executionArn, deps);
  if (!won) {
    const unstarted = await ownUnstartedInference(cacheKey, input.executionArn, deps);
    if (unstarted === undefined) {
      deps.logger.info('joined in-flight inference', { requestId: request.requestId, cacheKey });
      metrics.addMetric('InferencesJoined', MetricUnit.Count, 1);
      return { outcome: 'joined', cacheKey };
    }
    // This execution took the lease in an attempt that ended before the endpoint confirmed the
    // inference (the process running it died): start it now, under the same InferenceId.
    deps.logger.info('starting the inference an earlier attempt left unconfirmed', { requestId: request.requestId, cacheKey, inferenceId: unstarted.inferenceId });
    inferenceId = unstarted.inferenceId;
    attempt = unstarted.item;
  }
  try {
    // A recorded attempt keeps its start and its place in the reconciler's index.
    attempt ??= await recordAttempt({ inferenceId, cacheKey, attempt: 1, modelInput: JSON.stringify(modelInput(request)), startedAt: nowMs }, deps);
    await invokeAttempt(attempt, deps);
  } catch (error) {
    // Release the lease so the next attempt (Retry, or another request) can start over.
    await failLease(deps.ddb, config.tableName, cacheKey, inferenceId, deps.clock.now()).catch((e: unknown) =>
      deps.logger.warn('could not release lease', { cacheKey, error: String(e) }),
    );
    // Nothing for the reconciler to settle: the workflow retries or reports this failure itself.
    if (attempt) await deleteDue(attempt, deps).catch((e: unknown) => deps.logger.warn('could not remove the attempt from the index', { inferenceId, error: String(e) }));
    throw classify(error, 'starting the inference failed');
  }
  deps.logger.info('started inference', { requestId: request.requestId, cacheKey, inferenceId });
  return { outcome: 'started', cacheKey, inferenceId };
}

async function send<T>(_deps: ResolveDeps, what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw classify(error, what);
  }
}

async function claim(request: NormalizedRequest, cacheKey: string, deps: ResolveDeps): Promise<void> {
  const contentHash = contentHashOf(request);
  try {
    await deps.ddb.send(
      new PutCommand({
        TableName: deps.config.tableName,
        Item: {
          ...claimKey(request.requestId),
          contentHash,
          cacheKey,
          expiresAt: Math.ceil(deps.clock.now() / 1000) + CLAIM_TTL_SECONDS,
        },
        // An expired claim counts as absent: DynamoDB's TTL may keep it for days after it expires.
        ConditionExpression: 'attribute_not_exists(pk) OR contentHash = :h OR expiresAt < :now',
        ExpressionAttributeValues: { ':h': contentHash, ':now': Math.floor(deps.clock.now() / 1000) },
      }),
    );
  } catch (error) {
    if (isConditionFailure(error)) {
      throw new InvalidRequestError(
        `detail.requestId "${request.requestId}" was already used for a request with different content; send a new requestId for a different request`,
      );
    }
    throw classify(error, 'claiming the requestId failed');
  }
}

/** HEAD of the cached original: undefined on a miss. */
function lookUpCache(cacheKey: string, deps: ResolveDeps): Promise<Head | undefined> {
  return send(deps, 'checking the cache failed', () => headObject(deps.s3, deps.config.bucket, originalKey(cacheKey)));
}

/** On a cache hit, creates missing renditions and completes this execution's token. */
async function serveFromCache(
  request: NormalizedRequest,
  cacheKey: string,
  receivedAt: string,
  taskToken: string,
  deps: ResolveDeps,
  head: Head | undefined,
): Promise<boolean> {
  const { s3, config } = deps;
  const key = originalKey(cacheKey);
  if (!head) return false;
  const original = imageRef(config.bucket, key, 'png', head.width ?? request.width, head.height ?? request.height, head.bytes);
  let bytes: Promise<Buffer> | undefined;
  const renditions = await ensureRenditions(s3, config.bucket, cacheKey, original, request.renditions, () => (bytes ??= getBytes(s3, config.bucket, key)));
  const completedMs = deps.clock.now();
  const detail: SucceededDetail = {
    requestId: request.requestId,
    cacheKey,
    cacheHit: true,
    image: original,
    renditions,
    timings: {
      receivedAt,
      completedAt: new Date(completedMs).toISOString(),
      totalMs: Math.max(0, completedMs - Date.parse(receivedAt)),
    },
    ...(request.metadata === undefined ? {} : { metadata: request.metadata as SucceededDetail['metadata'] & object }),
  };
  await sendSuccess(deps.sfn, taskToken, detail, deps.logger);
  return true;
}

/** Takes the image's lease if it is absent, expired or failed; false when another inference owns it. */
async function takeLease(cacheKey: string, inferenceId: string, nowMs: number, executionArn: string, deps: ResolveDeps): Promise<boolean> {
  const nowS = Math.floor(nowMs / 1000);
  try {
    await deps.ddb.send(
      new UpdateCommand({
        TableName: deps.config.tableName,
        Key: leaseKey(cacheKey),
        // A new series of attempts: its retries are counted from this one.
        UpdateExpression: 'SET inferenceId = :id, #status = :inflight, expiresAt = :exp, executionArn = :exec, attempt = :one',
        ConditionExpression: 'attribute_not_exists(pk) OR expiresAt < :now OR #status = :failed',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':id': inferenceId,
          ':exec': executionArn,
          ':inflight': 'inflight',
          ':failed': 'failed',
          ':now': nowS,
          ':exp': leaseExpiresAt(deps.config, nowMs),
          ':one': 1,
        },
      }),
    );
    return true;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    throw classify(error, 'taking the image lease failed');
  }
}

/**
 * The first attempt of a lease this execution took in an earlier try of Resolve whose inference the
 * endpoint never confirmed (`item` absent when that try died before recording it); undefined when
 * the lease is another execution's, its inference was accepted, or it has moved on to a retry (a
 * retry is started, and restarted, by Complete or the reconciler). An execution runs one try of a
 * state at a time, so an earlier try of its own has ended.
 */
async function ownUnstartedInference(cacheKey: string, executionArn: string, deps: ResolveDeps): Promise<{ inferenceId: string; item?: InferenceItem } | undefined> {
  const { ddb, config } = deps;
  const lease = await getLease(ddb, config.tableName, cacheKey);
  if (lease?.executionArn !== executionArn || lease.status !== 'inflight' || lease.attempt !== 1) return undefined;
  const item = await getInference(ddb, config.tableName, lease.inferenceId);
  if (item?.outputLocation) return undefined;
  return { inferenceId: lease.inferenceId, ...(item?.modelInput ? { item } : {}) };
}
