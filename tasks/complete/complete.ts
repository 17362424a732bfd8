/**
 * Complete: runs once per endpoint notification. On success it writes the image once, renders the
 * union of the waiting executions' renditions and completes each token with that execution's
 * result; on error it fails the waiters of the current attempt. Safe to run twice for one message.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { SFNClient } from '@aws-sdk/client-sfn';
import { DeleteCommand, GetCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { SNSEvent } from 'aws-lambda';
import type { ImageRef, SucceededDetail } from '../../events/image-generation-succeeded/schema';
import type { CompleteConfig } from '../shared/config';
import { WAITER_PREFIX, failLease, inferenceKey, isConditionFailure, leaseKey, type InferenceItem, type LeaseItem, type WaiterItem } from '../shared/coordination';
import { INFERENCE_FAILED, POST_PROCESSING_FAILED } from '../shared/errors';
import { imageRef, toPng, unionRenditions } from '../shared/images';
import { MetricUnit, type LogSink, type MetricsSink } from '../shared/observability';
import { ensureRenditions, getBytes, headObject, originalKey, parseS3Uri, putImage } from '../shared/store';
import { sendFailure, sendSuccess } from '../shared/tokens';
import { parseMessage, reportedInferenceMs, type InferenceNotification } from './notification';

export interface CompleteDeps {
  readonly s3: S3Client;
  readonly sfn: SFNClient;
  readonly ddb: DynamoDBDocumentClient;
  readonly config: CompleteConfig;
  readonly clock: { now(): number };
  readonly logger: LogSink;
  readonly metrics: MetricsSink;
}

export type CompleteSummary =
  | {
      readonly inferenceId: string;
      readonly outcome: 'succeeded' | 'failed' | 'post-processing-failed' | 'stale' | 'unknown-inference';
      /** Tokens completed by this run (closed tokens not counted). */
      readonly completed: number;
    }
  | { readonly outcome: 'test-notification'; readonly completed: 0 };

export async function complete(event: SNSEvent, deps: CompleteDeps): Promise<CompleteSummary[]> {
  const summaries: CompleteSummary[] = [];
  for (const record of event.Records ?? []) {
    const message = parseMessage(record.Sns.Message);
    if (message.kind === 'test') {
      // Sent after every deployment and capacity change; throwing would retry it into the DLQ.
      deps.logger.info('ignoring SageMaker test notification', { topicArn: record.Sns.TopicArn, messageId: record.Sns.MessageId });
      summaries.push({ outcome: 'test-notification', completed: 0 });
    } else {
      summaries.push(await completeOne(message.notification, deps));
    }
  }
  return summaries;
}

export async function completeOne(n: InferenceNotification, deps: CompleteDeps): Promise<InferenceSummary> {
  const { ddb, config } = deps;
  const got = await ddb.send(new GetCommand({ TableName: config.tableName, Key: inferenceKey(n.inferenceId), ConsistentRead: true }));
  const inference = got.Item as InferenceItem | undefined;
  if (!inference) {
    // Resolve writes this item before invoking, so an unknown id is not one of ours (or long expired).
    deps.logger.warn('notification for an unknown inference', { inferenceId: n.inferenceId });
    return { inferenceId: n.inferenceId, outcome: 'unknown-inference', completed: 0 };
  }
  if (n.invocationStatus === 'Completed') return succeeded(n, inference, deps);
  const reason = await failureReason(n, inference, deps);
  return failed(n.inferenceId, inference.cacheKey, INFERENCE_FAILED, reason, 'failed', deps);
}

type InferenceSummary = Extract<CompleteSummary, { inferenceId: string }>;

async function succeeded(n: InferenceNotification, inference: InferenceItem, deps: CompleteDeps): Promise<InferenceSummary> {
  const { s3, config } = deps;
  const { cacheKey } = inference;
  const key = originalKey(cacheKey);
  let original: ImageRef;
  let png: Buffer | undefined;
  const head = await headObject(s3, config.bucket, key);
  if (head?.width && head.height) {
    // A duplicate notification: the image is already cached, serve waiters from it.
    original = imageRef(config.bucket, key, 'png', head.width, head.height, head.bytes);
  } else {
    const decoded = await decodeOutput(n, inference, deps);
    if ('problem' in decoded) {
      return failed(n.inferenceId, cacheKey, POST_PROCESSING_FAILED, decoded.problem, 'post-processing-failed', deps);
    }
    png = decoded.body;
    original = await putImage(s3, config.bucket, key, 'png', decoded.body, decoded.width, decoded.height);
  }

  const waiters = await queryWaiters(cacheKey, deps);
  const known = new Map<string, ImageRef>();
  // Memoized as a promise: concurrent renditions share one download.
  let download: Promise<Buffer> | undefined;
  const loadOriginal = () => (png ? Promise.resolve(png) : (download ??= getBytes(s3, config.bucket, key)));
  // Render the union once; each waiter then picks its own list from `known`.
  await ensureRenditions(s3, config.bucket, cacheKey, original, unionRenditions(cacheKey, waiters.map((w) => w.renditions)), loadOriginal, known);

  const completedMs = deps.clock.now();
  const inferenceMs = reportedInferenceMs(n) ?? Math.max(0, completedMs - inference.startedAt);
  let completed = 0;
  for (const waiter of waiters) {
    const renditions = await ensureRenditions(s3, config.bucket, cacheKey, original, waiter.renditions, loadOriginal, known);
    const detail: SucceededDetail = {
      requestId: waiter.requestId,
      cacheKey,
      cacheHit: false,
      image: original,
      renditions,
      timings: {
        receivedAt: waiter.receivedAt,
        completedAt: new Date(completedMs).toISOString(),
        totalMs: Math.max(0, completedMs - Date.parse(waiter.receivedAt)),
        inferenceMs,
      },
      ...(waiter.metadata === undefined ? {} : { metadata: waiter.metadata as SucceededDetail['metadata'] & object }),
    };
    if (await sendSuccess(deps.sfn, waiter.taskToken, detail, deps.logger)) completed += 1;
    await deleteWaiter(waiter, deps);
  }
  await deps.ddb
    .send(
      new DeleteCommand({
        TableName: config.tableName,
        Key: leaseKey(cacheKey),
        ConditionExpression: 'inferenceId = :id',
        ExpressionAttributeValues: { ':id': n.inferenceId },
      }),
    )
    .catch((e: unknown) => {
      if (!isConditionFailure(e)) throw e;
    });
  deps.metrics.addMetric('ImagesCompleted', MetricUnit.Count, 1);
  deps.metrics.addMetric('InferenceTime', MetricUnit.Milliseconds, inferenceMs);
  deps.logger.info('inference completed', { inferenceId: n.inferenceId, cacheKey, waiters: waiters.length, completed });
  return { inferenceId: n.inferenceId, outcome: 'succeeded', completed };
}

type Decoded = { body: Buffer; width: number; height: number } | { problem: string };

/** Reads the model's `{"generated_images":[base64]}` output and proves it is an image. */
async function decodeOutput(n: InferenceNotification, inference: InferenceItem, deps: CompleteDeps): Promise<Decoded> {
  const location = n.responseParameters?.outputLocation ?? inference.outputLocation;
  if (!location) return { problem: `the endpoint reported success for inference ${n.inferenceId} but gave no output location` };
  const { bucket, key } = parseS3Uri(location);
  const raw = await getBytes(deps.s3, bucket, key);
  let images: unknown;
  try {
    images = (JSON.parse(raw.toString('utf8')) as { generated_images?: unknown }).generated_images;
  } catch {
    return { problem: `model output ${location} is not JSON (expected {"generated_images":[<base64 image>]})` };
  }
  const first = Array.isArray(images) ? images[0] : undefined;
  if (typeof first !== 'string' || first.length === 0) {
    return { problem: `model output ${location} has no generated_images[0] (expected {"generated_images":[<base64 image>]})` };
  }
  try {
    return await toPng(Buffer.from(first, 'base64'));
  } catch (error) {
    return { problem: `model output ${location}: generated_images[0] is not a readable image (${(error as Error).message})` };
  }
}

async function failureReason(n: InferenceNotification, inference: InferenceItem, deps: CompleteDeps): Promise<string> {
  const reason = n.failureReason ?? 'the endpoint reported a failed inference without a reason';
  const location = n.responseParameters?.failureLocation ?? n.failureLocation ?? inference.failureLocation;
  if (!location) return reason;
  try {
    const { bucket, key } = parseS3Uri(location);
    const body = (await getBytes(deps.s3, bucket, key)).toString('utf8').trim();
    return body ? `${reason} (model response: ${body.slice(0, 2000)})` : reason;
  } catch (error) {
    // The failure body is a detail; the reason alone still tells the producer what happened.
    deps.logger.warn('could not read failure location', { location, error: String(error) });
    return reason;
  }
}

/**
 * Fails the waiters of this attempt. The lease is marked failed first (only if this inference still
 * owns it, otherwise the notification is stale); waiters written after that belong to a new attempt.
 */
async function failed(
  inferenceId: string,
  cacheKey: string,
  error: string,
  cause: string,
  outcome: InferenceSummary['outcome'],
  deps: CompleteDeps,
): Promise<InferenceSummary> {
  const markedAt = deps.clock.now();
  if (!(await failLease(deps.ddb, deps.config.tableName, cacheKey, inferenceId, markedAt))) {
    deps.logger.info('ignoring a notification for a superseded attempt', { inferenceId, cacheKey });
    return { inferenceId, outcome: 'stale', completed: 0 };
  }
  const waiters = (await queryWaiters(cacheKey, deps)).filter((w) => w.createdAt <= markedAt);
  let completed = 0;
  for (const waiter of waiters) {
    if (await sendFailure(deps.sfn, waiter.taskToken, error, cause, deps.logger)) completed += 1;
    await deleteWaiter(waiter, deps);
  }
  deps.metrics.addMetric(error === INFERENCE_FAILED ? 'InferenceFailures' : 'PostProcessingFailures', MetricUnit.Count, 1);
  deps.logger.warn('inference failed', { inferenceId, cacheKey, error, cause, waiters: waiters.length });
  return { inferenceId, outcome, completed };
}

async function queryWaiters(cacheKey: string, deps: CompleteDeps): Promise<WaiterItem[]> {
  const waiters: WaiterItem[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await deps.ddb.send(
      new QueryCommand({
        TableName: deps.config.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :w)',
        ExpressionAttributeValues: { ':pk': leaseKey(cacheKey).pk, ':w': WAITER_PREFIX },
        ConsistentRead: true,
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    waiters.push(...((page.Items ?? []) as WaiterItem[]));
    start = page.LastEvaluatedKey;
  } while (start);
  return waiters;
}

/** Deletes a waiter unless a newer attempt of the same execution replaced its token. */
async function deleteWaiter(waiter: WaiterItem, deps: CompleteDeps): Promise<void> {
  await deps.ddb
    .send(
      new DeleteCommand({
        TableName: deps.config.tableName,
        Key: { pk: waiter.pk, sk: waiter.sk },
        ConditionExpression: 'taskToken = :t',
        ExpressionAttributeValues: { ':t': waiter.taskToken },
      }),
    )
    .catch((e: unknown) => {
      if (!isConditionFailure(e)) throw e;
    });
}

export type { LeaseItem };
