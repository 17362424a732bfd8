/**
 * The coordination table's items (docs/design.md, "Coordination table"). Key builders and item
 * shapes live here so resolve and complete cannot disagree about them.
 */
import { UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { JsonObject, Rendition } from './request';

export const claimKey = (requestId: string) => ({ pk: `request#${requestId}`, sk: 'claim' });
export const leaseKey = (cacheKey: string) => ({ pk: `image#${cacheKey}`, sk: 'lease' });
export const WAITER_PREFIX = 'waiter#';
export const waiterKey = (cacheKey: string, executionArn: string) => ({ pk: `image#${cacheKey}`, sk: `${WAITER_PREFIX}${executionArn}` });
export const inferenceKey = (inferenceId: string) => ({ pk: `inference#${inferenceId}`, sk: 'inference' });

export type LeaseStatus = 'inflight' | 'failed';

export interface LeaseItem {
  readonly pk: string;
  readonly sk: 'lease';
  readonly inferenceId: string;
  readonly attempt: number;
  readonly status: LeaseStatus;
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
  readonly cacheKey: string;
  readonly startedAt: number;
  readonly outputLocation?: string;
  readonly failureLocation?: string;
  readonly expiresAt: number;
}

/** Seconds a claim is remembered: the request archive's retention, so replays still match. */
export const CLAIM_TTL_SECONDS = 30 * 24 * 3600;
/** Extra seconds a lease outlives the endpoint's own limits (instance cold start). */
export const LEASE_SLACK_SECONDS = 600;

export const isConditionFailure = (e: unknown) => (e as { name?: string })?.name === 'ConditionalCheckFailedException';

/**
 * Marks the image's lease failed if `inferenceId` still owns it, so the next request may start a new
 * attempt. Returns false when a newer attempt owns the lease (nothing changed).
 */
export async function failLease(ddb: Pick<DynamoDBDocumentClient, 'send'>, tableName: string, cacheKey: string, inferenceId: string, atMs: number): Promise<boolean> {
  try {
    await ddb.send(
      new UpdateCommand({
        TableName: tableName,
        Key: leaseKey(cacheKey),
        UpdateExpression: 'SET #status = :failed, failedAt = :at',
        ConditionExpression: 'inferenceId = :id',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':failed': 'failed', ':id': inferenceId, ':at': atMs },
      }),
    );
    return true;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    throw error;
  }
}
