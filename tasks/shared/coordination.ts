/**
 * The coordination table's items (docs/design.md, "Coordination table"). Key builders and item
 * shapes live here so resolve and complete cannot disagree about them.
 */
import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { JsonObject, Rendition } from './request';

export const claimKey = (requestId: string) => ({ pk: `request#${requestId}`, sk: 'claim' });
export const leaseKey = (cacheKey: string) => ({ pk: `image#${cacheKey}`, sk: 'lease' });
export const WAITER_PREFIX = 'waiter#';
export const waiterKey = (cacheKey: string, executionArn: string) => ({ pk: `image#${cacheKey}`, sk: `${WAITER_PREFIX}${executionArn}` });
export const inferenceKey = (inferenceId: string) => ({ pk: `inference#${inferenceId}`, sk: 'inference' as const });
/**
 * The reconciler's index: one item per attempt in flight, in one partition, sorted by the time the
 * reconciler first looks at it, so one Query for `sk < now` returns exactly the attempts due.
 */
export const DUE_PK = 'due' as const;
export const dueKey = (dueAtMs: number, inferenceId: string) => ({ pk: DUE_PK, sk: `${new Date(dueAtMs).toISOString()}#${inferenceId}` });

export type LeaseStatus = 'inflight' | 'failed';

export interface LeaseItem {
  readonly pk: string;
  readonly sk: 'lease';
  readonly inferenceId: string;
  /** 1 for the attempt a request started, one more for each retry. */
  readonly attempt: number;
  readonly status: LeaseStatus;
  /** Epoch milliseconds when the lease was marked failed: the waiters written before belong to that attempt. */
  readonly failedAt?: number;
  /** The execution whose Resolve took the lease: a later attempt of the same execution may start its inference again. */
  readonly executionArn?: string;
  /** Epoch seconds (the table's TTL attribute); past it the lease may be taken over. */
  readonly expiresAt: number;
}

export interface WaiterItem {
  readonly pk: string;
  readonly sk: string;
  readonly taskToken: string;
  readonly executionArn: string;
  readonly requestId: string;
  readonly receivedAt: string;
  readonly renditions: readonly Rendition[];
  readonly metadata?: JsonObject;
  /** Epoch milliseconds when this waiter was written (orders it against a lease failure). */
  readonly createdAt: number;
  readonly expiresAt: number;
}

export interface InferenceItem {
  readonly pk: string;
  readonly sk: 'inference';
  readonly inferenceId: string;
  readonly cacheKey: string;
  /** Epoch milliseconds when the attempt was written, just before InvokeEndpointAsync. */
  readonly startedAt: number;
  readonly attempt: number;
  /** The request body sent to the endpoint (JSON), kept so a retry can send it again. */
  readonly modelInput: string;
  /** Sort key of this attempt's item in the reconciler's index (`DUE_PK`). */
  readonly dueSk: string;
  /** Set once InvokeEndpointAsync returned: null or absent before (the endpoint may not have it). */
  readonly outputLocation?: string | null;
  readonly failureLocation?: string | null;
  readonly expiresAt: number;
}

export interface DueItem {
  readonly pk: typeof DUE_PK;
  readonly sk: string;
  readonly inferenceId: string;
  readonly expiresAt: number;
}

/** Seconds a claim is remembered: the request archive's retention, so replays still match. */
export const CLAIM_TTL_SECONDS = 30 * 24 * 3600;
/** Extra seconds a lease outlives the endpoint's own limits (instance cold start). */
export const LEASE_SLACK_SECONDS = 600;

/** Seconds (epoch) until which a lease taken at `nowMs` holds off other inferences of its image: one attempt's limits plus the slack. */
export function leaseExpiresAt(config: { readonly requestTtlSeconds: number; readonly invocationTimeoutSeconds: number }, nowMs: number): number {
  return Math.floor(nowMs / 1000) + config.requestTtlSeconds + config.invocationTimeoutSeconds + LEASE_SLACK_SECONDS;
}

export const isConditionFailure = (e: unknown) => (e as { name?: string })?.name === 'ConditionalCheckFailedException';

/**
 * Marks the image's lease failed if `inferenceId` still owns it and is in flight, so the next request
 * may start a new attempt, and returns the time of the mark: waiters written before it are this
 * attempt's. A second settlement of the same attempt (a duplicate notification, the reconciler racing
 * Complete, a rerun after a crash) gets the first mark back, so it fails the same waiters and no new
 * one. Undefined when another attempt owns the lease (nothing changed).
 */
export async function failLease(ddb: Pick<DynamoDBDocumentClient, 'send'>, tableName: string, cacheKey: string, inferenceId: string, atMs: number): Promise<number | undefined> {
  try {
    await ddb.send(
      new UpdateCommand({
        TableName: tableName,
        Key: leaseKey(cacheKey),
        UpdateExpression: 'SET #status = :failed, failedAt = :at',
        ConditionExpression: 'inferenceId = :id AND #status = :inflight',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':failed': 'failed', ':inflight': 'inflight', ':id': inferenceId, ':at': atMs },
      }),
    );
    return atMs;
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
  }
  const lease = await getLease(ddb, tableName, cacheKey);
  return lease?.inferenceId === inferenceId && lease.status === 'failed' ? (lease.failedAt ?? atMs) : undefined;
}

/**
 * The attempt an InferenceId names, or undefined. Items written before retries existed lack the
 * attempt fields: they read as a first attempt without a model input (so never retried) and
 * without an index entry.
 */
export async function getInference(ddb: Pick<DynamoDBDocumentClient, 'send'>, tableName: string, inferenceId: string): Promise<InferenceItem | undefined> {
  const got = await ddb.send(new GetCommand({ TableName: tableName, Key: inferenceKey(inferenceId), ConsistentRead: true }));
  const item = got.Item as Partial<InferenceItem> | undefined;
  if (!item) return undefined;
  return { attempt: 1, modelInput: '', dueSk: '', ...item, inferenceId } as InferenceItem;
}

export async function getLease(ddb: Pick<DynamoDBDocumentClient, 'send'>, tableName: string, cacheKey: string): Promise<LeaseItem | undefined> {
  const got = await ddb.send(new GetCommand({ TableName: tableName, Key: leaseKey(cacheKey), ConsistentRead: true }));
  return got.Item as LeaseItem | undefined;
}
