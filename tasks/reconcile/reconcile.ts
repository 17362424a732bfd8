/**
 * The reconciler, run every minute: settles the attempts whose notification never came (or whose
 * Complete failed all its tries). One Query reads the attempts due for a look — at idle it returns
 * nothing and the run ends — and each due attempt is looked up in S3 where the endpoint said it would
 * write: an output is delivered, a failure object fails or retries the image, neither past the
 * attempt's deadline is a lost request, retried or failed as InferenceTimedOut. Settling goes through
 * the same code as Complete, so a late notification racing a look changes nothing.
 */
import type { ScheduledEvent } from 'aws-lambda';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { attemptDeadlineSeconds, NOT_ACCEPTED_AFTER_SECONDS } from '../../topology/recovery';
import { deleteDue } from '../shared/attempts';
import { DUE_PK, getInference, type DueItem, type InferenceItem } from '../shared/coordination';
import { failureFromObject } from '../shared/failure-kinds';
import { MetricUnit } from '../shared/observability';
import { settle, type Observation, type SettleDeps, type SettleOutcome } from '../shared/settle';
import { findBytes, headObject, parseS3Uri } from '../shared/store';

export type ReconcileDeps = SettleDeps;

/** Due attempts read per Query page. */
export const PAGE_SIZE = 100;
/** Attempts looked at concurrently (each a few S3 and DynamoDB requests). */
export const LOOK_CONCURRENCY = 8;
/** No new look starts after this much of a run: the run ends well inside its timeout and before the next one. */
export const LOOK_BUDGET_MS = 50_000;

export type LookOutcome = SettleOutcome | 'in-flight' | 'gone';

export interface ReconcileSummary {
  /** The time the run judged due-ness and deadlines by (ISO-8601). */
  readonly at: string;
  /** Attempts the Query returned and were looked at. */
  readonly looked: number;
  readonly outcomes: Readonly<Partial<Record<LookOutcome, number>>>;
  /** True when the budget ran out with due attempts left for the next run. */
  readonly truncated: boolean;
}

export async function reconcile(event: Partial<Pick<ScheduledEvent, 'time'>> | undefined, deps: ReconcileDeps): Promise<ReconcileSummary> {
  const startedMs = deps.clock.now();
  // The schedule's time or the clock, whichever is later: a late or retried run acts at the time it runs.
  const scheduled = typeof event?.time === 'string' ? Date.parse(event.time) : Number.NaN;
  const now = Number.isFinite(scheduled) ? Math.max(scheduled, startedMs) : startedMs;
  const outcomes: Partial<Record<LookOutcome, number>> = {};
  let looked = 0;
  let start: Record<string, unknown> | undefined;
  do {
    const page = await deps.ddb.send(
      new QueryCommand({
        TableName: deps.config.tableName,
        KeyConditionExpression: 'pk = :pk AND sk < :now',
        ExpressionAttributeValues: { ':pk': DUE_PK, ':now': new Date(now).toISOString() },
        Limit: PAGE_SIZE,
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    const due = (page.Items ?? []) as DueItem[];
    await forEachConcurrently(due, LOOK_CONCURRENCY, async (item) => {
      const outcome = await look(item, now, deps);
      outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
    });
    looked += due.length;
    start = page.LastEvaluatedKey;
  } while (start && deps.clock.now() - startedMs < LOOK_BUDGET_MS);

  const summary: ReconcileSummary = { at: new Date(now).toISOString(), looked, outcomes, truncated: start !== undefined };
  const settled = looked - (outcomes['in-flight'] ?? 0) - (outcomes.gone ?? 0) - (outcomes.stale ?? 0);
  if (settled > 0) deps.metrics.addMetric('InferencesReconciled', MetricUnit.Count, settled);
  if (looked > 0) deps.logger.info('reconciled due attempts', { ...summary });
  if (summary.truncated) deps.logger.warn('due attempts left for the next run', { looked });
  return summary;
}

/** One due attempt: what the endpoint left in S3 decides how it is settled, if at all yet. */
async function look(due: DueItem, now: number, deps: ReconcileDeps): Promise<LookOutcome> {
  const inference = await getInference(deps.ddb, deps.config.tableName, due.inferenceId);
  if (!inference || inference.dueSk !== due.sk) {
    // Expired, or an entry its attempt no longer points at (a write that was repeated): nothing to settle from it.
    await deleteDue({ dueSk: due.sk }, deps);
    return 'gone';
  }
  const observation = await observe(inference, now, deps);
  if (!observation) return 'in-flight';
  const settled = await settle(inference, observation, deps);
  deps.logger.info('settled an attempt without its notification', { inferenceId: inference.inferenceId, cacheKey: inference.cacheKey, found: observation.kind, outcome: settled.outcome });
  return settled.outcome;
}

async function observe(inference: InferenceItem, now: number, deps: ReconcileDeps): Promise<Observation | undefined> {
  const age = now - inference.startedAt;
  if (!inference.outputLocation) return age >= NOT_ACCEPTED_AFTER_SECONDS * 1000 ? { kind: 'not-accepted' } : undefined;
  const output = parseS3Uri(inference.outputLocation);
  if (await headObject(deps.s3, output.bucket, output.key)) return { kind: 'output', outputLocation: inference.outputLocation };
  if (inference.failureLocation) {
    const failure = parseS3Uri(inference.failureLocation);
    const body = await findBytes(deps.s3, failure.bucket, failure.key);
    if (body) {
      const { reason, kind } = failureFromObject(inference.failureLocation, body.toString('utf8'));
      return { kind: 'failure', reason, failureKind: kind };
    }
  }
  return age >= attemptDeadlineSeconds(deps.config) * 1000 ? { kind: 'lost' } : undefined;
}

async function forEachConcurrently<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
