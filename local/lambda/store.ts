/**
 * Where Lambda keeps the asynchronous invocations it has accepted (202) and not yet finished, with
 * their retry state. Each change is one synchronous method, so a durable store can commit it before
 * Invoke answers or a retry is armed; `pending()` is what a restart would resume.
 */
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
  pending(): readonly PendingInvocation[];
}

/** Today's store: in memory only, so invocations in flight when the process stops are lost, as before. */
export class MemoryLambdaStore implements LambdaStore {
  private readonly invocations = new Map<string, PendingInvocation>();

  accept(invocation: AsyncInvocation): void {
    this.invocations.set(invocation.requestId, { invocation, retryAt: undefined });
  }

  scheduleRetry(invocation: AsyncInvocation, retryAt: number): void {
    this.invocations.set(invocation.requestId, { invocation, retryAt });
  }

  startRetry(requestId: string): void {
    const pending = this.invocations.get(requestId);
    if (pending) this.invocations.set(requestId, { invocation: pending.invocation, retryAt: undefined });
  }

  settle(requestId: string): void {
    this.invocations.delete(requestId);
  }

  pending(): readonly PendingInvocation[] {
    return [...this.invocations.values()];
  }
}
