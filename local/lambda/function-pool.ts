/**
 * The execution environments of one function: reused between invocations (warm starts), each
 * running one invocation at a time, at most `maxConcurrency` at once; further invocations wait in
 * order. Timeouts are measured in real time, like the handler's own `getRemainingTimeInMillis`:
 * a handler runs on the machine's clock whatever clock drives the rest of the local cloud.
 */
import { ExecutionEnvironment } from './execution-environment';
import type { EnvironmentOutcome } from './execution-environment';
import type { FunctionErrorDocument } from './protocol';

/** AWS's limit on a function's init phase. */
export const INIT_TIMEOUT_MS = 10_000;

export interface PoolOptions {
  readonly functionName: string;
  readonly timeoutSeconds: number;
  readonly memoryMb: number;
  readonly maxConcurrency: number;
  readonly spawn: (initRequestId: string) => ExecutionEnvironment;
  /** Awaited before a new environment is spawned (code preparation is not part of the init phase). */
  readonly prepare?: () => Promise<void>;
  /** Runtime lines (START, END, REPORT) for the function's log. */
  readonly systemLine: (requestId: string, line: string) => void;
}

export interface InvocationRequest {
  readonly requestId: string;
  /** The event as JSON text. */
  readonly event: string;
  readonly invokedFunctionArn: string;
}

export interface InvocationOutcome {
  /** JSON text: the handler's result, or the error document when `error` is set. */
  readonly payload: string;
  readonly error?: FunctionErrorDocument;
  readonly durationMs: number;
  /** Set on a cold start: how long loading the handler module took. */
  readonly initDurationMs?: number;
}

interface Job {
  readonly request: InvocationRequest;
  readonly resolve: (outcome: InvocationOutcome) => void;
  readonly reject: (error: Error) => void;
}

export class FunctionPool {
  private readonly idle: ExecutionEnvironment[] = [];
  private readonly environments = new Set<ExecutionEnvironment>();
  private readonly queue: Job[] = [];
  private active = 0;
  private closed = false;

  constructor(private readonly options: PoolOptions) {}

  /** Invocations running or waiting for an environment. */
  get pending(): number {
    return this.active + this.queue.length;
  }

  /** Live execution environments (warm or busy). */
  get size(): number {
    return this.environments.size;
  }

  run(request: InvocationRequest): Promise<InvocationOutcome> {
    if (this.closed) return Promise.reject(new Error(`function ${this.options.functionName} is shut down`));
    return new Promise((resolve, reject) => {
      this.queue.push({ request, resolve, reject });
      this.pump();
    });
  }

  async close(error: Error): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) job.reject(error);
    await Promise.all([...this.environments].map((environment) => environment.terminate()));
    this.environments.clear();
    this.idle.length = 0;
  }

  private pump(): void {
    while (!this.closed && this.active < this.options.maxConcurrency && this.queue.length > 0) {
      const job = this.queue.shift()!;
      this.active++;
      this.execute(job.request)
        .then(job.resolve, job.reject)
        .finally(() => {
          this.active--;
          this.pump();
        });
    }
  }

  private async execute(request: InvocationRequest): Promise<InvocationOutcome> {
    const { requestId } = request;
    let environment = this.idle.pop();
    // An idle environment whose runtime exited (a late unhandled rejection) is replaced, not used.
    while (environment && !environment.alive) {
      this.environments.delete(environment);
      environment = this.idle.pop();
    }
    let initDurationMs: number | undefined;
    if (!environment) {
      await this.options.prepare?.();
      const started = performance.now();
      environment = this.options.spawn(requestId);
      this.environments.add(environment);
      const initError = await withTimer(environment.ready, INIT_TIMEOUT_MS, () => {
        void environment!.terminate();
        return { errorType: 'Sandbox.Timedout', errorMessage: `Init phase timed out after ${(INIT_TIMEOUT_MS / 1000).toFixed(2)} seconds`, trace: [] };
      });
      initDurationMs = performance.now() - started;
      if (initError) {
        this.discard(environment);
        this.options.systemLine(requestId, `INIT_REPORT Init Duration: ${initDurationMs.toFixed(2)} ms\tPhase: init\tStatus: error\tError Type: ${initError.errorType}`);
        return { payload: JSON.stringify(initError), error: initError, durationMs: 0, initDurationMs };
      }
    }
    this.options.systemLine(requestId, `START RequestId: ${requestId} Version: $LATEST`);
    const timeoutMs = this.options.timeoutSeconds * 1000;
    const started = performance.now();
    const running = environment;
    const outcome: EnvironmentOutcome = await withTimer(
      running.invoke({ requestId, event: request.event, remainingMs: timeoutMs, invokedFunctionArn: request.invokedFunctionArn }),
      timeoutMs,
      () => {
        // As the Lambda service words it in the invoke response since the Sandbox.* error types.
        const errorMessage = `RequestId: ${requestId} Error: Task timed out after ${this.options.timeoutSeconds.toFixed(2)} seconds`;
        const error = { errorType: 'Sandbox.Timedout', errorMessage, trace: [] };
        void running.abort(error);
        return { kind: 'error', error, discard: true };
      },
    );
    const durationMs = performance.now() - started;
    if (outcome.kind === 'error' && outcome.discard) this.discard(running);
    else this.idle.push(running);
    this.options.systemLine(requestId, `END RequestId: ${requestId}`);
    const init = initDurationMs === undefined ? '' : `\tInit Duration: ${initDurationMs.toFixed(2)} ms`;
    const status = outcome.kind === 'error' && outcome.error.errorType === 'Sandbox.Timedout' ? '\tStatus: timeout' : '';
    this.options.systemLine(
      requestId,
      `REPORT RequestId: ${requestId}\tDuration: ${durationMs.toFixed(2)} ms\tBilled Duration: ${Math.ceil(durationMs)} ms\tMemory Size: ${this.options.memoryMb} MB${init}${status}`,
    );
    const base = { durationMs, ...(initDurationMs === undefined ? {} : { initDurationMs }) };
    return outcome.kind === 'result'
      ? { payload: outcome.payload, ...base }
      : { payload: JSON.stringify(outcome.error), error: outcome.error, ...base };
  }

  private discard(environment: ExecutionEnvironment): void {
    this.environments.delete(environment);
    void environment.terminate();
  }
}

/** Resolves with `promise`, or with `onTimeout()` if it is still pending after `ms` real milliseconds. */
function withTimer<T>(promise: Promise<T>, ms: number, onTimeout: () => T): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => resolve(onTimeout()), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}
