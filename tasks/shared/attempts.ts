/**
 * One inference attempt: its item (keyed by the InferenceId the notification echoes) and its entry in
 * the reconciler's index are written before InvokeEndpointAsync, because a fast endpoint can notify
 * before the call returns and a starter that dies after the call must still leave a trace to settle.
 * Resolve starts the first attempt of an image; Complete and the reconciler start the retries.
 */
import { InvokeEndpointAsyncCommand, type SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { DeleteCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ARRIVALS_METRIC, callbackTimeoutSeconds } from '../../topology/imagegen-topology';
import type { AttemptConfig } from './config';
import { DUE_PK, LEASE_SLACK_SECONDS, dueKey, inferenceKey, type DueItem, type InferenceItem } from './coordination';
import { MetricUnit, type MetricsSink } from './observability';

export interface AttemptDeps {
  readonly ddb: Pick<DynamoDBDocumentClient, 'send'>;
  readonly sagemaker: Pick<SageMakerRuntimeClient, 'send'>;
  readonly config: AttemptConfig;
  /** The utilization publisher's input, emitted with exactly the dimension set it queries: `{EndpointName}`. */
  readonly scalingMetrics: MetricsSink;
}

export interface AttemptSpec {
  readonly inferenceId: string;
  readonly cacheKey: string;
  readonly attempt: number;
  /** The endpoint's request body (JSON). */
  readonly modelInput: string;
  /** Epoch milliseconds. */
  readonly startedAt: number;
}

/** Seconds (epoch) until which an attempt's items are kept: as long as any execution may wait for it. */
export function attemptExpiresAt(config: AttemptConfig, nowMs: number): number {
  return Math.ceil(nowMs / 1000) + callbackTimeoutSeconds(config) + LEASE_SLACK_SECONDS;
}

/** Writes the attempt's item and its index entry (due `reconcileAfterSeconds` after the start). */
export async function recordAttempt(spec: AttemptSpec, deps: Pick<AttemptDeps, 'ddb' | 'config'>): Promise<InferenceItem> {
  const { config } = deps;
  const expiresAt = attemptExpiresAt(config, spec.startedAt);
  const due = dueKey(spec.startedAt + config.reconcileAfterSeconds * 1000, spec.inferenceId);
  const item: InferenceItem = { ...inferenceKey(spec.inferenceId), ...spec, dueSk: due.sk, expiresAt };
  const dueItem: DueItem = { ...due, inferenceId: spec.inferenceId, expiresAt };
  await Promise.all([
    deps.ddb.send(new PutCommand({ TableName: config.tableName, Item: item })),
    deps.ddb.send(new PutCommand({ TableName: config.tableName, Item: dueItem })),
  ]);
  return item;
}

/** Sends the attempt to the endpoint and records where its output or failure will land. */
export async function invokeAttempt(item: InferenceItem, deps: AttemptDeps): Promise<void> {
  const { config } = deps;
  const out = await deps.sagemaker.send(
    new InvokeEndpointAsyncCommand({
      EndpointName: config.endpointName,
      InferenceId: item.inferenceId,
      // Inline, not staged in S3: the request is a few KB (the limit is 128,000 bytes), and this saves
      // a PUT here and a GET by the endpoint on every inference.
      Body: Buffer.from(item.modelInput),
      ContentType: 'application/json',
      Accept: 'application/json',
      RequestTTLSeconds: config.requestTtlSeconds,
      InvocationTimeoutSeconds: config.invocationTimeoutSeconds,
    }),
  );
  // The endpoint accepted one more inference: the arrivals the utilization metric counts.
  deps.scalingMetrics.addDimension('EndpointName', config.endpointName);
  deps.scalingMetrics.addMetric(ARRIVALS_METRIC, MetricUnit.Count, 1);
  await deps.ddb.send(
    new UpdateCommand({
      TableName: config.tableName,
      Key: inferenceKey(item.inferenceId),
      UpdateExpression: 'SET outputLocation = :o, failureLocation = :f',
      ExpressionAttributeValues: { ':o': out.OutputLocation ?? null, ':f': out.FailureLocation ?? null },
    }),
  );
}

/** Takes an attempt out of the reconciler's index: it is settled, or superseded. */
export async function deleteDue(item: Pick<InferenceItem, 'dueSk'>, deps: Pick<AttemptDeps, 'ddb' | 'config'>): Promise<void> {
  if (!item.dueSk) return;
  await deps.ddb.send(new DeleteCommand({ TableName: deps.config.tableName, Key: { pk: DUE_PK, sk: item.dueSk } }));
}
