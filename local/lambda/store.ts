/**
 * Where Lambda keeps the asynchronous invocations it has accepted (202) and not yet finished, with
 * their retry state: table `lambda_async_invocations` of the local cloud's database. Each change is
 * one synchronous method, committed before Invoke answers or a retry is armed; `pending()` is what a
 * restart resumes.
 */
import type { LocalDatabase } from '../shared/database';
import type { AsyncInvocation } from './models';

export interface PendingInvocation {
  readonly invocation: AsyncInvocation;
  /** Clock time of the next attempt when it waits for a retry; undefined while an attempt runs. */
  readonly retryAt: number | undefined;
}

export interface LambdaStore {
  accept(invocation: AsyncInvocation): void;
  /** The attempt failed and `invocation` (its attempt counter advanced) runs again at `retryAt`. */
  scheduleRetry(invocation: AsyncInvocation, retryAt: number): void;
  /** The retry is due and its attempt starts. */
  startRetry(requestId: string): void;
  /** Succeeded, or dropped after the last retry: nothing is owed any more. */
  settle(requestId: string): void;
  /** In the order they were accepted. */
  pending(): readonly PendingInvocation[];
  /** Runs `work` once the enclosing transaction (an SNS fan-out) has committed; at once outside one. */
  afterCommit(work: () => void): void;
}

export class SqliteLambdaStore implements LambdaStore {
  constructor(private readonly db: LocalDatabase) {
    db.exec('CREATE TABLE IF NOT EXISTS lambda_async_invocations (request_id TEXT PRIMARY KEY, invocation TEXT NOT NULL, retry_at INTEGER)');
  }

  accept(invocation: AsyncInvocation): void {
    this.db.run('INSERT INTO lambda_async_invocations (request_id, invocation, retry_at) VALUES (?, ?, NULL)', invocation.requestId, JSON.stringify(invocation));
  }

  scheduleRetry(invocation: AsyncInvocation, retryAt: number): void {
    this.db.run('UPDATE lambda_async_invocations SET invocation = ?, retry_at = ? WHERE request_id = ?', JSON.stringify(invocation), retryAt, invocation.requestId);
  }

  startRetry(requestId: string): void {
    this.db.run('UPDATE lambda_async_invocations SET retry_at = NULL WHERE request_id = ?', requestId);
  }

  settle(requestId: string): void {
    this.db.run('DELETE FROM lambda_async_invocations WHERE request_id = ?', requestId);
  }

  pending(): readonly PendingInvocation[] {
    return this.db
      .all<{ invocation: string; retry_at: number | null }>('SELECT invocation, retry_at FROM lambda_async_invocations ORDER BY rowid')
      .map((row) => ({ invocation: JSON.parse(row.invocation) as AsyncInvocation, retryAt: row.retry_at ?? undefined }));
  }

  afterCommit(work: () => void): void {
    this.db.afterCommit(work);
  }
}
