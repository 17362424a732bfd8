/**
 * Runs executions: drives the ASL interpreter for each RUNNING execution, records every step in its
 * history (saved through the store at each event), runs execution timeouts and Wait states on the
 * `Clock`, and closes executions with their outcome. Task attempts and their tokens are in
 * task-attempts.ts.
 */
import type { Partition } from '../arns';
import type { Clock } from '../clock';
import type { EventBusPort, LambdaPort } from '../ports';
import { RunStoppedError } from './asl-errors';
import type { JsonValue, RuntimeEvent } from './asl-runtime';
import { appendHistory, close, mintToken, reopen, roleArn, snapshot, type ExecutionRecord, type ExecutionSnapshot, type ExecutionStatus, type StateMachine } from './models';
import type { ExecutionStore } from './store';
import { TaskAttempts, type LiveRun } from './task-attempts';

export interface ExecutorDeps {
  readonly partition: Partition;
  readonly clock: Clock;
  readonly store: ExecutionStore;
  readonly machine: (arn: string) => StateMachine | undefined;
  readonly lambda: LambdaPort;
  readonly events: EventBusPort;
  readonly log: (line: string) => void;
}

export class Executor {
  /** Task attempts waiting for their work, a callback or a timer, by task token. */
  readonly attempts: TaskAttempts;
  private readonly live = new Map<string, LiveRun>();
  private readonly finishWaiters = new Map<string, Set<(record: ExecutionRecord) => void>>();
  private closing = false;

  constructor(private readonly deps: ExecutorDeps) {
    this.attempts = new TaskAttempts({ ...deps, record: (record, type, key, details) => this.record(record, type, key, details) });
  }

  /** A new execution: `ExecutionStarted`, then the interpreter from the definition's StartAt. */
  start(record: ExecutionRecord, machine: StateMachine): void {
    this.record(record, 'ExecutionStarted', 'executionStartedEventDetails', {
      input: record.input,
      inputDetails: { truncated: false },
      roleArn: roleArn(this.deps.partition.account, machine.name),
    });
    this.launch(record);
  }

  /** RedriveExecution: reopened, `ExecutionRedriven`, resumed at the state that was in progress. */
  redrive(record: ExecutionRecord): void {
    reopen(record, this.deps.clock.now());
    this.record(record, 'ExecutionRedriven', 'executionRedrivenEventDetails', { redriveCount: record.redriveCount });
    this.launch(record);
  }

  /**
   * An execution that was RUNNING when the previous process stopped resumes, after an
   * `ExecutionResumed` event, from the top-level state entered last, with that state's recorded
   * input (as a redrive does). If that state's task had already succeeded or failed, the recorded
   * outcome is used (a `SendTaskSuccess` that was answered is never lost, and a `putEvents` that
   * succeeded is not sent again); otherwise the task runs again. Open task tokens are gone: a resumed
   * callback task gets a new token and callbacks with the old one receive `TaskTimedOut`, as after a
   * redrive on AWS.
   */
  resume(record: ExecutionRecord): void {
    if (this.live.has(record.executionArn) || !this.deps.machine(record.stateMachineArn)) return;
    this.record(record, 'ExecutionResumed', 'executionResumedEventDetails', { ...(record.current ? { stateName: record.current.stateName } : {}) });
    this.deps.log(`stepfunctions: resuming ${record.executionArn}${record.current ? ` at ${record.current.stateName}` : ''}`);
    this.launch(record);
  }

  /** StopExecution: ABORTED with the given error and cause, if it is still running here. */
  stop(record: ExecutionRecord, error: string | undefined, cause: string | undefined): void {
    const run = this.live.get(record.executionArn);
    if (record.status === 'RUNNING' && run) this.finishStopped(run, 'ABORTED', error, cause);
  }

  /** Resolves when the execution leaves RUNNING; rejects after `timeoutMs` of wall-clock time. */
  waitFor(record: ExecutionRecord, timeoutMs: number): Promise<ExecutionSnapshot> {
    if (record.status !== 'RUNNING') return Promise.resolve(snapshot(record));
    return new Promise((resolve, reject) => {
      const waiters = this.finishWaiters.get(record.executionArn) ?? new Set();
      this.finishWaiters.set(record.executionArn, waiters);
      const waiter = (finished: ExecutionRecord): void => {
        clearTimeout(timer);
        resolve(snapshot(finished));
      };
      const timer = setTimeout(() => {
        waiters.delete(waiter);
        reject(new Error(`execution ${record.executionArn} still ${record.status} after ${timeoutMs} ms`));
      }, timeoutMs);
      waiters.add(waiter);
    });
  }

  /** Stops interpreting; RUNNING executions stay RUNNING in the store, to resume. */
  close(): void {
    this.closing = true;
    for (const run of [...this.live.values()]) this.halt(run);
    this.live.clear();
  }

  /** Starts (or resumes) the interpreter for a RUNNING record. */
  private launch(record: ExecutionRecord): void {
    const machine = this.deps.machine(record.stateMachineArn);
    if (!machine || this.closing) return;
    const { clock } = this.deps;
    const from = record.current && machine.compiled.isTopLevel(record.current.stateName) ? record.current : undefined;
    const replay = from?.outcome ? { stateName: from.stateName, outcome: from.outcome } : undefined;
    const run: LiveRun = { record, handle: undefined, stopped: false, attempts: new Set(), cancels: new Set(), replay };
    this.live.set(record.executionArn, run);
    const execution: Record<string, JsonValue> = {
      Id: record.executionArn,
      Name: record.name,
      Input: JSON.parse(record.input) as JsonValue,
      StartTime: new Date(record.startDate).toISOString(),
      RoleArn: roleArn(this.deps.partition.account, machine.name),
      RedriveCount: record.redriveCount,
      ...(record.redriveDate !== undefined ? { RedriveTime: new Date(record.redriveDate).toISOString() } : {}),
    };
    const timeoutSeconds = machine.compiled.timeoutSeconds;
    if (timeoutSeconds !== undefined) {
      run.cancels.add(clock.schedule(timeoutSeconds * 1000, () => this.finishStopped(run, 'TIMED_OUT', 'States.Timeout', undefined)));
    }
    const handle = machine.compiled.run(
      JSON.parse(from ? from.input : record.input) as JsonValue,
      {
        execution,
        stateMachine: { Id: machine.arn, Name: machine.name },
        now: () => clock.now(),
        onEvent: (event) => this.onRuntimeEvent(run, event),
        mintTaskToken: () => mintToken(record.executionArn),
        sleep: (ms) => this.sleep(run, ms),
        runTask: (invocation) => this.attempts.run(run, invocation),
      },
      from?.stateName,
    );
    run.handle = handle;
    void handle.outcome.then((outcome) => {
      if (run.stopped) return;
      if (outcome.status === 'SUCCEEDED') {
        const output = JSON.stringify(outcome.output);
        this.finish(run, 'SUCCEEDED', { output }, 'ExecutionSucceeded', 'executionSucceededEventDetails', { output, outputDetails: { truncated: false } });
      } else if (outcome.status === 'FAILED') {
        this.finish(run, 'FAILED', { error: outcome.error, cause: outcome.cause }, 'ExecutionFailed', 'executionFailedEventDetails', {
          ...(outcome.error !== undefined ? { error: outcome.error } : {}),
          ...(outcome.cause !== undefined ? { cause: outcome.cause } : {}),
        });
      }
    });
  }

  private onRuntimeEvent(run: LiveRun, event: RuntimeEvent): void {
    if (run.stopped) return;
    const record = run.record;
    switch (event.kind) {
      case 'StateEntered': {
        const input = JSON.stringify(event.input);
        // Re-entering the state a restart resumed keeps its recorded outcome until the task takes it.
        const outcome = run.replay?.stateName === event.name ? run.replay.outcome : undefined;
        if (!event.nested) record.current = { stateName: event.name, input, ...(outcome ? { outcome } : {}) };
        this.record(record, `${event.type}StateEntered`, 'stateEnteredEventDetails', { name: event.name, input, inputDetails: { truncated: false } });
        return;
      }
      case 'StateExited': {
        // `current` stays: a restart before the next state is entered re-runs this one from its record.
        const output = JSON.stringify(event.output);
        this.record(record, `${event.type}StateExited`, 'stateExitedEventDetails', { name: event.name, output, outputDetails: { truncated: false } });
        return;
      }
      case 'MapIterationStarted':
      case 'MapIterationSucceeded':
      case 'MapIterationFailed': {
        const key = `${event.kind.charAt(0).toLowerCase()}${event.kind.slice(1)}EventDetails`;
        this.record(record, event.kind, key, { name: event.name, index: event.index });
        return;
      }
      default:
        // Failed/Retried/Caught have no history events of their own: the Task* events record them.
        return;
    }
  }

  private sleep(run: LiveRun, ms: number): Promise<void> {
    return new Promise((resolve, reject) => {
      if (run.stopped) return reject(new RunStoppedError());
      const stop = (): void => reject(new RunStoppedError());
      const cancel = this.deps.clock.schedule(ms, () => {
        run.cancels.delete(cancelAll);
        resolve();
      });
      const cancelAll = (): void => {
        cancel();
        stop();
      };
      run.cancels.add(cancelAll);
    });
  }

  private finish(
    run: LiveRun,
    status: Exclude<ExecutionStatus, 'RUNNING'>,
    fields: { output?: string; error?: string | undefined; cause?: string | undefined },
    eventType: string,
    detailsKey: string,
    details: Record<string, unknown>,
  ): void {
    const record = run.record;
    this.halt(run);
    this.live.delete(record.executionArn);
    close(record, status, this.deps.clock.now(), fields);
    this.record(record, eventType, detailsKey, details);
    this.deps.log(`stepfunctions: ${record.name} ${status}${record.error ? ` (${record.error})` : ''}`);
    const waiters = this.finishWaiters.get(record.executionArn);
    this.finishWaiters.delete(record.executionArn);
    for (const waiter of waiters ?? []) waiter(record);
  }

  /** Ends a run from outside the interpreter (StopExecution, execution TimeoutSeconds). */
  private finishStopped(run: LiveRun, status: 'ABORTED' | 'TIMED_OUT', error: string | undefined, cause: string | undefined): void {
    if (run.stopped) return;
    const eventType = status === 'ABORTED' ? 'ExecutionAborted' : 'ExecutionTimedOut';
    const details = { ...(error !== undefined ? { error } : {}), ...(cause !== undefined ? { cause } : {}) };
    this.finish(run, status, { error, cause }, eventType, status === 'ABORTED' ? 'executionAbortedEventDetails' : 'executionTimedOutEventDetails', details);
  }

  /** Stops the interpreter and every timer, and closes the run's tokens (without recording anything). */
  private halt(run: LiveRun): void {
    if (run.stopped) return;
    run.stopped = true;
    for (const cancel of [...run.cancels]) cancel();
    run.cancels.clear();
    for (const attempt of [...run.attempts]) attempt.settle({ ok: false, error: new RunStoppedError() });
    run.handle?.abort();
  }

  /** One history event, saved with the execution's new state. */
  private record(record: ExecutionRecord, type: string, detailsKey?: string, details?: Record<string, unknown>): void {
    appendHistory(record, this.deps.clock.now(), type, detailsKey, details);
    this.deps.store.save(record);
  }
}
