/**
 * Task states at run time: each attempt records its Task* (or LambdaFunction*) history events, runs
 * its resource, and for `.waitForTaskToken` waits for SendTaskSuccess/Failure under its token, with
 * TimeoutSeconds and HeartbeatSeconds on the `Clock`.
 */
import type { Clock } from '../clock';
import type { EventBusPort, LambdaPort } from '../ports';
import { RunStoppedError, taskError, timeoutError } from './asl-errors';
import { referencePath } from './asl-paths';
import type { JsonValue, RunHandle, TaskInvocation } from './asl-runtime';
import { mintToken, type ExecutionRecord, type TaskOutcomeRecord } from './models';
import { invokeFunction, lambdaInvoke, parseTaskResource, putEvents, type TaskResource } from './task-resources';

/** The interpreter run behind a RUNNING execution. */
export interface LiveRun {
  readonly record: ExecutionRecord;
  handle: RunHandle | undefined;
  stopped: boolean;
  readonly attempts: Set<TaskAttempt>;
  readonly cancels: Set<() => void>;
  /** A resumed run's first task: the outcome recorded before the restart, given back instead of running it again. */
  replay?: { readonly stateName: string; readonly outcome: TaskOutcomeRecord } | undefined;
}

export type TaskOutcome = { ok: true; value: JsonValue } | { ok: false; error: Error };

/** One task attempt waiting for its work, a callback, or a timer. */
export interface TaskAttempt {
  readonly run: LiveRun;
  readonly token: string | undefined;
  readonly settle: (outcome: TaskOutcome) => void;
  heartbeat(): void;
  settled: boolean;
}

export interface TaskAttemptsDeps {
  readonly partition: { readonly region: string };
  readonly clock: Clock;
  readonly lambda: LambdaPort;
  readonly events: EventBusPort;
  /** Appends a history event to the execution and saves it. */
  readonly record: (record: ExecutionRecord, type: string, detailsKey?: string, details?: Record<string, unknown>) => void;
}

export class TaskAttempts {
  private readonly byToken = new Map<string, TaskAttempt>();

  constructor(private readonly deps: TaskAttemptsDeps) {}

  /** The open attempt a task token belongs to; undefined once it is closed (or never was). */
  open(token: string): TaskAttempt | undefined {
    const attempt = this.byToken.get(token);
    return attempt && !attempt.settled ? attempt : undefined;
  }

  /** Task tokens currently waiting for SendTaskSuccess/Failure, for an execution. */
  openTokens(executionArn: string): string[] {
    return [...this.byToken.entries()].filter(([, a]) => a.run.record.executionArn === executionArn).map(([token]) => token);
  }

  async run(run: LiveRun, invocation: TaskInvocation): Promise<JsonValue> {
    if (run.stopped) throw new RunStoppedError();
    const replay = run.replay;
    if (replay?.stateName === invocation.stateName) {
      run.replay = undefined;
      return replayed(replay.outcome);
    }
    const { clock, record: recordEvent } = this.deps;
    const resource = parseTaskResource(invocation.state.Resource) as TaskResource;
    const record = run.record;
    const state = invocation.state;
    // The top-level state's last attempt is the one a restart may continue from.
    const current = record.current?.stateName === invocation.stateName ? record.current : undefined;
    if (current) delete current.outcome;
    const timeoutSeconds = positiveSeconds(state.TimeoutSeconds, state.TimeoutSecondsPath, invocation.input, 'TimeoutSeconds');
    const heartbeatSeconds = resource.waitForTaskToken ? positiveSeconds(state.HeartbeatSeconds, state.HeartbeatSecondsPath, invocation.input, 'HeartbeatSeconds') : undefined;
    const isFunction = resource.kind === 'lambda-function';
    const labels = isFunction ? {} : { resourceType: resource.resourceType, resource: resource.resource };
    const prefix = isFunction ? 'LambdaFunction' : 'Task';
    const detailKey = (suffix: string): string => `${isFunction ? 'lambdaFunction' : 'task'}${suffix}EventDetails`;

    if (isFunction) {
      recordEvent(record, 'LambdaFunctionScheduled', detailKey('Scheduled'), {
        resource: resource.functionArn,
        input: JSON.stringify(invocation.input),
        inputDetails: { truncated: false },
        ...(timeoutSeconds !== undefined ? { timeoutInSeconds: timeoutSeconds } : {}),
      });
      recordEvent(record, 'LambdaFunctionStarted');
    } else {
      recordEvent(record, 'TaskScheduled', detailKey('Scheduled'), {
        ...labels,
        region: this.deps.partition.region,
        parameters: JSON.stringify(invocation.input),
        ...(timeoutSeconds !== undefined ? { timeoutInSeconds: timeoutSeconds } : {}),
        ...(heartbeatSeconds !== undefined ? { heartbeatInSeconds: heartbeatSeconds } : {}),
      });
      recordEvent(record, 'TaskStarted', detailKey('Started'), labels);
    }

    const token = resource.waitForTaskToken ? (invocation.taskToken ?? mintToken(record.executionArn)) : undefined;
    let resolveResult!: (value: JsonValue) => void;
    let rejectResult!: (error: Error) => void;
    const result = new Promise<JsonValue>((resolve, reject) => {
      resolveResult = resolve;
      rejectResult = reject;
    });
    const timers = new Set<() => void>();
    let cancelHeartbeat: (() => void) | undefined;
    const attempt: TaskAttempt = {
      run,
      token,
      settled: false,
      settle: (outcome) => {
        if (attempt.settled) return;
        attempt.settled = true;
        for (const cancel of timers) cancel();
        cancelHeartbeat?.();
        run.attempts.delete(attempt);
        if (token) this.byToken.delete(token);
        if (outcome.ok) {
          if (!run.stopped) {
            const output = JSON.stringify(outcome.value);
            if (current) current.outcome = { ok: true, output };
            recordEvent(record, `${prefix}Succeeded`, detailKey('Succeeded'), { ...labels, output, outputDetails: { truncated: false } });
          }
          resolveResult(outcome.value);
          return;
        }
        const error = outcome.error;
        if (!(error instanceof RunStoppedError) && !run.stopped) {
          if (current) current.outcome = { ok: false, ...nameAndMessage(error) };
          const timedOut = error.name === 'States.Timeout' || error.name === 'States.HeartbeatTimeout';
          recordEvent(record, `${prefix}${timedOut ? 'TimedOut' : 'Failed'}`, detailKey(timedOut ? 'TimedOut' : 'Failed'), {
            ...labels,
            ...(typeof error.name === 'string' ? { error: error.name } : {}),
            ...(typeof error.message === 'string' ? { cause: error.message } : {}),
          });
        }
        rejectResult(error);
      },
      heartbeat: () => {
        if (heartbeatSeconds === undefined || attempt.settled) return;
        cancelHeartbeat?.();
        cancelHeartbeat = clock.schedule(heartbeatSeconds * 1000, () => attempt.settle({ ok: false, error: taskError('States.HeartbeatTimeout', undefined) }));
      },
    };
    run.attempts.add(attempt);
    if (token) this.byToken.set(token, attempt);
    if (timeoutSeconds !== undefined) timers.add(clock.schedule(timeoutSeconds * 1000, () => attempt.settle({ ok: false, error: timeoutError() })));
    attempt.heartbeat();

    void this.perform(resource, invocation.input).then(
      (value) => {
        if (attempt.settled) return;
        if (!resource.waitForTaskToken) return attempt.settle({ ok: true, value });
        recordEvent(record, 'TaskSubmitted', 'taskSubmittedEventDetails', { ...labels, output: JSON.stringify(value), outputDetails: { truncated: false } });
      },
      (error: unknown) => attempt.settle({ ok: false, error: error instanceof Error ? error : taskError('States.TaskFailed', String(error)) }),
    );
    return result;
  }

  private perform(resource: TaskResource, input: JsonValue): Promise<JsonValue> {
    switch (resource.kind) {
      case 'lambda:invoke':
        return lambdaInvoke(this.deps.lambda, input);
      case 'events:putEvents':
        return putEvents(this.deps.events, input);
      case 'lambda-function':
        return invokeFunction(this.deps.lambda, resource.functionArn, input);
    }
  }
}

/** A recorded outcome as the interpreter sees a live one: the output, or the same error for Retry and Catch. */
function replayed(outcome: TaskOutcomeRecord): JsonValue {
  if (outcome.ok) return JSON.parse(outcome.output) as JsonValue;
  throw outcome.error === 'States.Timeout' ? timeoutError(outcome.cause) : taskError(outcome.error, outcome.cause);
}

function nameAndMessage(error: Error): { error?: string; cause?: string } {
  return { ...(typeof error.name === 'string' ? { error: error.name } : {}), ...(typeof error.message === 'string' ? { cause: error.message } : {}) };
}

function positiveSeconds(fixed: unknown, path: unknown, input: JsonValue, field: string): number | undefined {
  if (typeof fixed === 'number') return fixed;
  if (typeof path !== 'string') return undefined;
  const value = referencePath(input, path);
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw taskError('States.Runtime', `${field}Path ${path} must select a positive integer`);
  }
  return value;
}
