/**
 * Step Functions (Standard workflows) for the local cloud: the AWS JSON 1.0 API around the ASL
 * runtime, task tokens, Clock-driven task/heartbeat/execution timeouts, AWS-shaped history, and
 * executions that survive a restart.
 *
 * Restart semantics (a choice; AWS never restarts): an execution that was RUNNING when the process
 * stopped resumes on `start()` from the top-level state that was in progress, with that state's
 * recorded input (the same mechanism as RedriveExecution), after an `ExecutionResumed` history
 * event. Its open task tokens are gone, so a resumed callback task gets a new token and callbacks
 * with the old one receive `TaskTimedOut` — exactly what a redrive does on AWS.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Clock } from '../clock';
import { AwsServiceError } from '../edge/errors';
import { jsonService } from '../edge/json-protocol';
import type { ServiceHandler } from '../edge/types';
import type { EventBusPort, LambdaPort, StepFunctionsPort } from '../ports';
import {
  compileStateMachine,
  referencePath,
  RunStoppedError,
  taskError,
  timeoutError,
  type CompiledStateMachine,
  type JsonValue,
  type RunHandle,
  type RuntimeEvent,
  type TaskInvocation,
} from './asl-runtime';
import { ExecutionStore, type ExecutionRecord, type ExecutionStatus, type HistoryEvent } from './execution-store';
import { invokeFunction, lambdaInvoke, parseTaskResource, putEvents, type TaskResource } from './task-resources';

export interface StateMachineConfig {
  readonly name: string;
  /** ASL JSON with placeholders already substituted. */
  readonly definition: string;
  readonly type: 'STANDARD';
}

export interface StepFunctionsServiceOptions {
  readonly region: string;
  readonly account: string;
  readonly clock: Clock;
  /** Executions persist under `<dataDir>/stepfunctions/`; in memory only when absent. */
  readonly dataDir?: string;
  readonly stateMachines: readonly StateMachineConfig[];
  readonly lambda: LambdaPort;
  readonly events: EventBusPort;
  readonly log?: (line: string) => void;
}

/** What `describeExecution`/`waitForExecution` return in-process (dates in epoch ms). */
export interface ExecutionSnapshot {
  readonly executionArn: string;
  readonly name: string;
  readonly status: ExecutionStatus;
  readonly input: string;
  readonly output?: string;
  readonly error?: string;
  readonly cause?: string;
  readonly startDate: number;
  readonly stopDate?: number;
  readonly redriveCount: number;
}

interface MachineEntry {
  readonly name: string;
  readonly arn: string;
  readonly definition: string;
  readonly compiled: CompiledStateMachine;
  readonly creationDate: number;
}

/** One task attempt waiting for its work, a callback, or a timer. */
interface Attempt {
  readonly run: LiveRun;
  readonly token: string | undefined;
  readonly settle: (outcome: { ok: true; value: JsonValue } | { ok: false; error: Error }) => void;
  heartbeat(): void;
  settled: boolean;
}

/** The interpreter run behind a RUNNING execution. */
interface LiveRun {
  readonly record: ExecutionRecord;
  handle: RunHandle | undefined;
  stopped: boolean;
  readonly attempts: Set<Attempt>;
  readonly cancels: Set<() => void>;
}

const MAX_PAYLOAD_BYTES = 262_144;
const REDRIVE_WINDOW_MS = 14 * 24 * 3600 * 1000;
const STATUSES: readonly ExecutionStatus[] = ['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED'];
// AWS's forbidden characters for execution names: whitespace, brackets, wildcards, specials, controls, surrogates.
// eslint-disable-next-line no-control-regex -- control characters are exactly what AWS forbids
const INVALID_NAME_CHARS = /[\s<>{}[\]?*"#%\\^|~`$&,;:/\u0000-\u001f\u007f-\u009f\ufffe\uffff\ud800-\udfff]/;

export class StepFunctionsService implements StepFunctionsPort {
  readonly handler: ServiceHandler;
  private readonly machines = new Map<string, MachineEntry>();
  private readonly executions = new Map<string, ExecutionRecord>();
  private readonly live = new Map<string, LiveRun>();
  private readonly tokens = new Map<string, Attempt>();
  private readonly finishWaiters = new Map<string, Set<(record: ExecutionRecord) => void>>();
  private readonly store: ExecutionStore;
  private readonly lastRedrive = new Map<string, { clientToken: string; at: number }>();
  private started = false;
  private closing = false;

  constructor(private readonly options: StepFunctionsServiceOptions) {
    const now = options.clock.now();
    for (const machine of options.stateMachines) {
      const compiled = compileStateMachine(machine.definition);
      for (const state of compiled.taskStates()) {
        if (!parseTaskResource(state.definition.Resource)) {
          throw new Error(`state machine ${machine.name}: Task state ${state.name} uses unsupported Resource ${String(state.definition.Resource)}`);
        }
      }
      const arn = `arn:aws:states:${options.region}:${options.account}:stateMachine:${machine.name}`;
      this.machines.set(arn, { name: machine.name, arn, definition: machine.definition, compiled, creationDate: now });
    }
    this.store = new ExecutionStore(options.dataDir);
    for (const record of this.store.loadAll()) this.executions.set(record.executionArn, record);
    this.handler = jsonService({
      name: 'stepfunctions',
      signingNames: ['states'],
      targetPrefix: 'AWSStepFunctions',
      version: '1.0',
      errorTypePrefix: 'com.amazonaws.sfn#',
      operations: {
        ListStateMachines: (input) => this.listStateMachines(input),
        DescribeStateMachine: (input) => this.describeStateMachine(input),
        DescribeStateMachineForExecution: (input) => this.describeStateMachineForExecution(input),
        StartExecution: (input) => this.apiStartExecution(input),
        DescribeExecution: (input) => this.apiDescribeExecution(input),
        ListExecutions: (input) => this.listExecutions(input),
        GetExecutionHistory: (input) => this.getExecutionHistory(input),
        StopExecution: (input) => this.apiStopExecution(input),
        RedriveExecution: (input) => this.redriveExecution(input),
        SendTaskSuccess: (input) => this.sendTaskSuccess(input),
        SendTaskFailure: (input) => this.sendTaskFailure(input),
        SendTaskHeartbeat: (input) => this.sendTaskHeartbeat(input),
      },
    });
  }

  /** Resumes executions that were RUNNING when the previous process stopped. */
  start(): void {
    if (this.started) return;
    this.started = true;
    for (const record of this.executions.values()) {
      if (record.status !== 'RUNNING' || this.live.has(record.executionArn)) continue;
      if (!this.machines.has(record.stateMachineArn)) continue;
      this.addEvent(record, 'ExecutionResumed', 'executionResumedEventDetails', {
        ...(record.current ? { stateName: record.current.stateName } : {}),
      });
      this.options.log?.(`stepfunctions: resuming ${record.executionArn}${record.current ? ` at ${record.current.stateName}` : ''}`);
      this.launch(record);
    }
  }

  /** Stops interpreting (RUNNING executions stay RUNNING on disk, to resume) and flushes state. */
  async close(): Promise<void> {
    this.closing = true;
    for (const run of [...this.live.values()]) this.haltRun(run);
    this.live.clear();
    await this.store.flush();
  }

  // ---- in-process helpers -------------------------------------------------------------------

  async startExecution(input: { stateMachineArn: string; input: string; name?: string }): Promise<{ executionArn: string }> {
    const { executionArn } = this.doStartExecution(input.stateMachineArn, input.name, input.input);
    return { executionArn };
  }

  describeExecution(executionArn: string): ExecutionSnapshot {
    return snapshot(this.requireExecution(executionArn));
  }

  /** Resolves when the execution leaves RUNNING; rejects after `timeoutMs` of wall-clock time. */
  waitForExecution(executionArn: string, timeoutMs = 30_000): Promise<ExecutionSnapshot> {
    const record = this.requireExecution(executionArn);
    if (record.status !== 'RUNNING') return Promise.resolve(snapshot(record));
    return new Promise((resolve, reject) => {
      const waiters = this.finishWaiters.get(executionArn) ?? new Set();
      this.finishWaiters.set(executionArn, waiters);
      const waiter = (finished: ExecutionRecord): void => {
        clearTimeout(timer);
        resolve(snapshot(finished));
      };
      const timer = setTimeout(() => {
        waiters.delete(waiter);
        reject(new Error(`execution ${executionArn} still ${record.status} after ${timeoutMs} ms`));
      }, timeoutMs);
      waiters.add(waiter);
    });
  }

  /** Task tokens currently waiting for SendTaskSuccess/Failure, for an execution. */
  openTaskTokens(executionArn: string): string[] {
    return [...this.tokens.entries()].filter(([, a]) => a.run.record.executionArn === executionArn).map(([token]) => token);
  }

  // ---- executions ---------------------------------------------------------------------------

  private doStartExecution(stateMachineArn: unknown, name: unknown, input: unknown): ExecutionRecord {
    const machine = this.requireMachine(stateMachineArn);
    if (name !== undefined && typeof name !== 'string') throw validation('name must be a string');
    const executionName = name ?? randomUUID();
    if (executionName.length < 1 || executionName.length > 80) {
      throw new AwsServiceError('InvalidName', `Invalid Name: '${executionName}' (the name must be 1-80 characters)`);
    }
    if (INVALID_NAME_CHARS.test(executionName)) {
      throw new AwsServiceError('InvalidName', `Invalid Name: '${executionName}' (no whitespace, brackets, wildcards, special or control characters)`);
    }
    const inputText = input === undefined ? '{}' : input;
    if (typeof inputText !== 'string') throw validation('input must be a string');
    if (Buffer.byteLength(inputText) > MAX_PAYLOAD_BYTES) {
      throw new AwsServiceError('InvalidExecutionInput', `Invalid execution input: larger than ${MAX_PAYLOAD_BYTES} bytes`);
    }
    try {
      JSON.parse(inputText);
    } catch {
      throw new AwsServiceError('InvalidExecutionInput', 'Invalid execution input: not valid JSON');
    }
    const executionArn = `arn:aws:states:${this.options.region}:${this.options.account}:execution:${machine.name}:${executionName}`;
    const existing = this.executions.get(executionArn);
    if (existing) {
      // Standard idempotency: same name + same input while RUNNING returns the original response.
      if (existing.status === 'RUNNING' && existing.input === inputText) return existing;
      throw new AwsServiceError('ExecutionAlreadyExists', `Execution Already Exists: '${executionArn}'`);
    }
    const record: ExecutionRecord = {
      executionArn,
      stateMachineArn: machine.arn,
      stateMachineName: machine.name,
      name: executionName,
      input: inputText,
      startDate: this.options.clock.now(),
      status: 'RUNNING',
      redriveCount: 0,
      history: [],
    };
    this.executions.set(executionArn, record);
    this.addEvent(record, 'ExecutionStarted', 'executionStartedEventDetails', {
      input: inputText,
      inputDetails: { truncated: false },
      roleArn: roleArn(this.options.account, machine.name),
    });
    this.launch(record);
    return record;
  }

  /** Starts (or resumes) the interpreter for a RUNNING record. */
  private launch(record: ExecutionRecord): void {
    const machine = this.machines.get(record.stateMachineArn);
    if (!machine || this.closing) return;
    const run: LiveRun = { record, handle: undefined, stopped: false, attempts: new Set(), cancels: new Set() };
    this.live.set(record.executionArn, run);
    const from = record.current && machine.compiled.isTopLevel(record.current.stateName) ? record.current : undefined;
    const execution: Record<string, JsonValue> = {
      Id: record.executionArn,
      Name: record.name,
      Input: JSON.parse(record.input) as JsonValue,
      StartTime: new Date(record.startDate).toISOString(),
      RoleArn: roleArn(this.options.account, machine.name),
      RedriveCount: record.redriveCount,
      ...(record.redriveDate !== undefined ? { RedriveTime: new Date(record.redriveDate).toISOString() } : {}),
    };
    const timeoutSeconds = machine.compiled.timeoutSeconds;
    if (timeoutSeconds !== undefined) {
      run.cancels.add(this.options.clock.schedule(timeoutSeconds * 1000, () => this.finishStopped(run, 'TIMED_OUT', 'States.Timeout', undefined)));
    }
    const handle = machine.compiled.run(
      from ? (JSON.parse(from.input) as JsonValue) : (JSON.parse(record.input) as JsonValue),
      {
        execution,
        stateMachine: { Id: machine.arn, Name: machine.name },
        now: () => this.options.clock.now(),
        onEvent: (event) => this.onRuntimeEvent(run, event),
        mintTaskToken: () => mintToken(record.executionArn),
        sleep: (ms) => this.sleep(run, ms),
        runTask: (invocation) => this.runTask(run, invocation),
      },
      from?.stateName,
    );
    run.handle = handle;
    void handle.outcome.then((outcome) => {
      if (run.stopped) return;
      if (outcome.status === 'SUCCEEDED') {
        const output = JSON.stringify(outcome.output);
        this.finish(run, 'SUCCEEDED', { output }, 'ExecutionSucceeded', 'executionSucceededEventDetails', {
          output,
          outputDetails: { truncated: false },
        });
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
        if (!event.nested) record.current = { stateName: event.name, input };
        this.addEvent(record, `${event.type}StateEntered`, 'stateEnteredEventDetails', { name: event.name, input, inputDetails: { truncated: false } });
        return;
      }
      case 'StateExited': {
        if (!event.nested && record.current?.stateName === event.name) delete record.current;
        const output = JSON.stringify(event.output);
        this.addEvent(record, `${event.type}StateExited`, 'stateExitedEventDetails', { name: event.name, output, outputDetails: { truncated: false } });
        return;
      }
      case 'MapIterationStarted':
      case 'MapIterationSucceeded':
      case 'MapIterationFailed': {
        const key = `${event.kind.charAt(0).toLowerCase()}${event.kind.slice(1)}EventDetails`;
        this.addEvent(record, event.kind, key, { name: event.name, index: event.index });
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
      const cancel = this.options.clock.schedule(ms, () => {
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
    status: ExecutionStatus,
    fields: { output?: string; error?: string | undefined; cause?: string | undefined },
    eventType: string,
    detailsKey: string,
    details: Record<string, unknown>,
  ): void {
    const record = run.record;
    this.haltRun(run);
    this.live.delete(record.executionArn);
    record.status = status;
    record.stopDate = this.options.clock.now();
    if (fields.output !== undefined) record.output = fields.output;
    if (fields.error !== undefined) record.error = fields.error;
    if (fields.cause !== undefined) record.cause = fields.cause;
    this.addEvent(record, eventType, detailsKey, details);
    this.options.log?.(`stepfunctions: ${record.name} ${status}${record.error ? ` (${record.error})` : ''}`);
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
  private haltRun(run: LiveRun): void {
    if (run.stopped) return;
    run.stopped = true;
    for (const cancel of [...run.cancels]) cancel();
    run.cancels.clear();
    for (const attempt of [...run.attempts]) attempt.settle({ ok: false, error: new RunStoppedError() });
    run.handle?.abort();
  }

  // ---- tasks --------------------------------------------------------------------------------

  private async runTask(run: LiveRun, invocation: TaskInvocation): Promise<JsonValue> {
    if (run.stopped) throw new RunStoppedError();
    const resource = parseTaskResource(invocation.state.Resource) as TaskResource;
    const record = run.record;
    const state = invocation.state;
    const timeoutSeconds = positiveSeconds(state.TimeoutSeconds, state.TimeoutSecondsPath, invocation.input, 'TimeoutSeconds');
    const heartbeatSeconds = resource.waitForTaskToken
      ? positiveSeconds(state.HeartbeatSeconds, state.HeartbeatSecondsPath, invocation.input, 'HeartbeatSeconds')
      : undefined;
    const isFunction = resource.kind === 'lambda-function';
    const labels = isFunction ? {} : { resourceType: resource.resourceType, resource: resource.resource };
    const prefix = isFunction ? 'LambdaFunction' : 'Task';
    const detailKey = (suffix: string): string => `${isFunction ? 'lambdaFunction' : 'task'}${suffix}EventDetails`;

    if (isFunction) {
      this.addEvent(record, 'LambdaFunctionScheduled', detailKey('Scheduled'), {
        resource: resource.functionArn,
        input: JSON.stringify(invocation.input),
        inputDetails: { truncated: false },
        ...(timeoutSeconds !== undefined ? { timeoutInSeconds: timeoutSeconds } : {}),
      });
      this.addEvent(record, 'LambdaFunctionStarted');
    } else {
      this.addEvent(record, 'TaskScheduled', detailKey('Scheduled'), {
        ...labels,
        region: this.options.region,
        parameters: JSON.stringify(invocation.input),
        ...(timeoutSeconds !== undefined ? { timeoutInSeconds: timeoutSeconds } : {}),
        ...(heartbeatSeconds !== undefined ? { heartbeatInSeconds: heartbeatSeconds } : {}),
      });
      this.addEvent(record, 'TaskStarted', detailKey('Started'), labels);
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
    const attempt: Attempt = {
      run,
      token,
      settled: false,
      settle: (outcome) => {
        if (attempt.settled) return;
        attempt.settled = true;
        for (const cancel of timers) cancel();
        cancelHeartbeat?.();
        run.attempts.delete(attempt);
        if (token) this.tokens.delete(token);
        if (outcome.ok) {
          if (!run.stopped) {
            this.addEvent(record, `${prefix}Succeeded`, detailKey('Succeeded'), {
              ...labels,
              output: JSON.stringify(outcome.value),
              outputDetails: { truncated: false },
            });
          }
          resolveResult(outcome.value);
          return;
        }
        const error = outcome.error;
        if (!(error instanceof RunStoppedError) && !run.stopped) {
          const timedOut = error.name === 'States.Timeout' || error.name === 'States.HeartbeatTimeout';
          this.addEvent(record, `${prefix}${timedOut ? 'TimedOut' : 'Failed'}`, detailKey(timedOut ? 'TimedOut' : 'Failed'), {
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
        cancelHeartbeat = this.options.clock.schedule(heartbeatSeconds * 1000, () =>
          attempt.settle({ ok: false, error: taskError('States.HeartbeatTimeout', undefined) }),
        );
      },
    };
    run.attempts.add(attempt);
    if (token) this.tokens.set(token, attempt);
    if (timeoutSeconds !== undefined) {
      timers.add(this.options.clock.schedule(timeoutSeconds * 1000, () => attempt.settle({ ok: false, error: timeoutError() })));
    }
    attempt.heartbeat();

    void this.performTask(resource, invocation.input).then(
      (value) => {
        if (attempt.settled) return;
        if (!resource.waitForTaskToken) return attempt.settle({ ok: true, value });
        this.addEvent(record, 'TaskSubmitted', 'taskSubmittedEventDetails', {
          ...labels,
          output: JSON.stringify(value),
          outputDetails: { truncated: false },
        });
      },
      (error: unknown) => attempt.settle({ ok: false, error: error instanceof Error ? error : taskError('States.TaskFailed', String(error)) }),
    );
    return result;
  }

  private performTask(resource: TaskResource, input: JsonValue): Promise<JsonValue> {
    switch (resource.kind) {
      case 'lambda:invoke':
        return lambdaInvoke(this.options.lambda, input);
      case 'events:putEvents':
        return putEvents(this.options.events, input);
      case 'lambda-function':
        return invokeFunction(this.options.lambda, resource.functionArn, input);
    }
  }

  private openAttempt(input: Record<string, unknown>): Attempt {
    const token = input.taskToken;
    if (typeof token !== 'string' || token.length < 1 || token.length > 2048) {
      throw validation("1 validation error detected: Value at 'taskToken' failed to satisfy constraint: Member must have length between 1 and 2048");
    }
    if (!isWellFormedToken(token)) throw new AwsServiceError('InvalidToken', 'Invalid Token: the task token is malformed');
    const attempt = this.tokens.get(token);
    if (!attempt || attempt.settled) {
      throw new AwsServiceError('TaskTimedOut', 'Task Timed Out: the task token has either expired or the task associated with the token has already been closed');
    }
    return attempt;
  }

  private sendTaskSuccess(input: Record<string, unknown>): Record<string, never> {
    const output = input.output;
    if (typeof output !== 'string') throw validation("1 validation error detected: Value at 'output' failed to satisfy constraint: Member must not be null");
    if (Buffer.byteLength(output) > MAX_PAYLOAD_BYTES) throw new AwsServiceError('InvalidOutput', `Invalid Output: larger than ${MAX_PAYLOAD_BYTES} bytes`);
    let value: JsonValue;
    try {
      value = JSON.parse(output) as JsonValue;
    } catch {
      throw new AwsServiceError('InvalidOutput', 'Invalid Output: output is not valid JSON');
    }
    this.openAttempt(input).settle({ ok: true, value });
    return {};
  }

  private sendTaskFailure(input: Record<string, unknown>): Record<string, never> {
    const error = optionalString(input.error, 'error', 256);
    const cause = optionalString(input.cause, 'cause', 32_768);
    this.openAttempt(input).settle({ ok: false, error: taskError(error, cause) });
    return {};
  }

  private sendTaskHeartbeat(input: Record<string, unknown>): Record<string, never> {
    this.openAttempt(input).heartbeat();
    return {};
  }

  // ---- API ------------------------------------------------------------------------------------

  private listStateMachines(input: Record<string, unknown>): unknown {
    const all = [...this.machines.values()].sort((a, b) => a.name.localeCompare(b.name));
    const { page, nextToken } = paginate(all, input.maxResults, input.nextToken, 100);
    return {
      stateMachines: page.map((m) => ({ stateMachineArn: m.arn, name: m.name, type: 'STANDARD', creationDate: seconds(m.creationDate) })),
      ...(nextToken ? { nextToken } : {}),
    };
  }

  private describeStateMachine(input: Record<string, unknown>): unknown {
    return this.stateMachineDescription(this.requireMachine(input.stateMachineArn));
  }

  private describeStateMachineForExecution(input: Record<string, unknown>): unknown {
    const record = this.requireExecution(input.executionArn);
    const machine = this.requireMachine(record.stateMachineArn);
    const { creationDate, status, type, ...rest } = this.stateMachineDescription(machine);
    void status;
    void type;
    return { ...rest, updateDate: creationDate };
  }

  private stateMachineDescription(machine: MachineEntry) {
    return {
      stateMachineArn: machine.arn,
      name: machine.name,
      status: 'ACTIVE',
      definition: machine.definition,
      roleArn: roleArn(this.options.account, machine.name),
      type: 'STANDARD',
      creationDate: seconds(machine.creationDate),
      loggingConfiguration: { level: 'OFF', includeExecutionData: false },
      tracingConfiguration: { enabled: false },
    };
  }

  private apiStartExecution(input: Record<string, unknown>): unknown {
    const record = this.doStartExecution(input.stateMachineArn, input.name, input.input);
    return { executionArn: record.executionArn, startDate: seconds(record.startDate) };
  }

  private apiDescribeExecution(input: Record<string, unknown>): unknown {
    const record = this.requireExecution(input.executionArn);
    const redrivable = record.status !== 'RUNNING' && record.status !== 'SUCCEEDED' && this.withinRedriveWindow(record);
    return {
      executionArn: record.executionArn,
      stateMachineArn: record.stateMachineArn,
      name: record.name,
      status: record.status,
      startDate: seconds(record.startDate),
      ...(record.stopDate !== undefined ? { stopDate: seconds(record.stopDate) } : {}),
      input: record.input,
      inputDetails: { included: true },
      ...(record.output !== undefined ? { output: record.output, outputDetails: { included: true } } : {}),
      ...(record.error !== undefined ? { error: record.error } : {}),
      ...(record.cause !== undefined ? { cause: record.cause } : {}),
      redriveCount: record.redriveCount,
      ...(record.redriveDate !== undefined ? { redriveDate: seconds(record.redriveDate) } : {}),
      redriveStatus: redrivable ? 'REDRIVABLE' : 'NOT_REDRIVABLE',
      ...(redrivable ? {} : { redriveStatusReason: `Execution is ${record.status} and cannot be redriven` }),
    };
  }

  private listExecutions(input: Record<string, unknown>): unknown {
    const machine = this.requireMachine(input.stateMachineArn);
    const filter = input.statusFilter;
    if (filter !== undefined && !STATUSES.includes(filter as ExecutionStatus)) {
      throw validation(`statusFilter must be one of ${STATUSES.join(', ')}`);
    }
    const all = [...this.executions.values()]
      .filter((r) => r.stateMachineArn === machine.arn && (filter === undefined || r.status === filter))
      .sort((a, b) => b.startDate - a.startDate || b.name.localeCompare(a.name));
    const { page, nextToken } = paginate(all, input.maxResults, input.nextToken, 100);
    return {
      executions: page.map((r) => ({
        executionArn: r.executionArn,
        stateMachineArn: r.stateMachineArn,
        name: r.name,
        status: r.status,
        startDate: seconds(r.startDate),
        ...(r.stopDate !== undefined ? { stopDate: seconds(r.stopDate) } : {}),
        redriveCount: r.redriveCount,
        ...(r.redriveDate !== undefined ? { redriveDate: seconds(r.redriveDate) } : {}),
      })),
      ...(nextToken ? { nextToken } : {}),
    };
  }

  private getExecutionHistory(input: Record<string, unknown>): unknown {
    const record = this.requireExecution(input.executionArn);
    const includeData = input.includeExecutionData !== false;
    const ordered = input.reverseOrder === true ? [...record.history].reverse() : record.history;
    const { page, nextToken } = paginate(ordered, input.maxResults, input.nextToken, 100);
    return {
      events: page.map((event) => renderEvent(event, includeData)),
      ...(nextToken ? { nextToken } : {}),
    };
  }

  private apiStopExecution(input: Record<string, unknown>): unknown {
    const record = this.requireExecution(input.executionArn);
    const error = optionalString(input.error, 'error', 256);
    const cause = optionalString(input.cause, 'cause', 32_768);
    const run = this.live.get(record.executionArn);
    if (record.status === 'RUNNING' && run) this.finishStopped(run, 'ABORTED', error, cause);
    return { stopDate: seconds(record.stopDate ?? this.options.clock.now()) };
  }

  private redriveExecution(input: Record<string, unknown>): unknown {
    const record = this.requireExecution(input.executionArn);
    const clientToken = optionalString(input.clientToken, 'clientToken', 64);
    const now = this.options.clock.now();
    const last = this.lastRedrive.get(record.executionArn);
    if (clientToken && last?.clientToken === clientToken && now - last.at < 15 * 60_000) return { redriveDate: seconds(last.at) };
    if (record.status === 'RUNNING' || record.status === 'SUCCEEDED') {
      throw new AwsServiceError('ExecutionNotRedrivable', `Execution is ${record.status} and cannot be redriven: ${record.executionArn}`);
    }
    if (!this.withinRedriveWindow(record)) {
      throw new AwsServiceError('ExecutionNotRedrivable', `Execution closed more than 14 days ago and cannot be redriven: ${record.executionArn}`);
    }
    if (!this.machines.has(record.stateMachineArn)) throw new AwsServiceError('ExecutionNotRedrivable', 'the state machine no longer exists');
    record.redriveCount += 1;
    record.redriveDate = now;
    record.status = 'RUNNING';
    delete record.stopDate;
    delete record.error;
    delete record.cause;
    delete record.output;
    this.addEvent(record, 'ExecutionRedriven', 'executionRedrivenEventDetails', { redriveCount: record.redriveCount });
    if (clientToken) this.lastRedrive.set(record.executionArn, { clientToken, at: now });
    this.launch(record);
    return { redriveDate: seconds(now) };
  }

  private withinRedriveWindow(record: ExecutionRecord): boolean {
    return record.stopDate !== undefined && this.options.clock.now() - record.stopDate <= REDRIVE_WINDOW_MS;
  }

  private requireMachine(arn: unknown): MachineEntry {
    if (typeof arn !== 'string' || !/^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:stateMachine:[^:]+$/.test(arn)) {
      throw new AwsServiceError('InvalidArn', `Invalid Arn: '${String(arn)}' is not a state machine ARN`);
    }
    const machine = this.machines.get(arn);
    if (!machine) throw new AwsServiceError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${arn}'`);
    return machine;
  }

  private requireExecution(arn: unknown): ExecutionRecord {
    if (typeof arn !== 'string' || !/^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:execution:[^:]+:[^:]+$/.test(arn)) {
      throw new AwsServiceError('InvalidArn', `Invalid Arn: '${String(arn)}' is not an execution ARN`);
    }
    const record = this.executions.get(arn);
    if (!record) throw new AwsServiceError('ExecutionDoesNotExist', `Execution Does Not Exist: '${arn}'`);
    return record;
  }

  private addEvent(record: ExecutionRecord, type: string, detailsKey?: string, details?: Record<string, unknown>): void {
    const id = record.history.length + 1;
    record.history.push({
      id,
      previousEventId: id - 1,
      timestamp: this.options.clock.now(),
      type,
      ...(detailsKey && details ? { detailsKey, details } : {}),
    });
    this.store.save(record);
  }
}

function renderEvent(event: HistoryEvent, includeData: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = { timestamp: seconds(event.timestamp), type: event.type, id: event.id, previousEventId: event.previousEventId };
  if (event.detailsKey && event.details) {
    const details = { ...event.details };
    if (!includeData) for (const key of ['input', 'inputDetails', 'output', 'outputDetails', 'parameters']) delete details[key];
    out[event.detailsKey] = details;
  }
  return out;
}

function snapshot(record: ExecutionRecord): ExecutionSnapshot {
  return {
    executionArn: record.executionArn,
    name: record.name,
    status: record.status,
    input: record.input,
    startDate: record.startDate,
    redriveCount: record.redriveCount,
    ...(record.output !== undefined ? { output: record.output } : {}),
    ...(record.error !== undefined ? { error: record.error } : {}),
    ...(record.cause !== undefined ? { cause: record.cause } : {}),
    ...(record.stopDate !== undefined ? { stopDate: record.stopDate } : {}),
  };
}

/** JSON 1.0 timestamps are epoch seconds (fractional allowed). */
function seconds(ms: number): number {
  return ms / 1000;
}

function roleArn(account: string, machineName: string): string {
  return `arn:aws:iam::${account}:role/service-role/StepFunctions-${machineName}-role`;
}

function validation(message: string): AwsServiceError {
  return new AwsServiceError('ValidationException', message);
}

function optionalString(value: unknown, field: string, max: number): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw validation(`${field} must be a string`);
  if (value.length > max) throw validation(`1 validation error detected: Value at '${field}' failed to satisfy constraint: Member must have length less than or equal to ${max}`);
  return value;
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

/** Opaque to callers; carries the execution so a stale token can be told from a malformed one. */
function mintToken(executionArn: string): string {
  const body = Buffer.from(JSON.stringify({ v: 1, x: executionArn, n: randomBytes(16).toString('hex') })).toString('base64url');
  return `AQC${body}`;
}

function isWellFormedToken(token: string): boolean {
  if (!token.startsWith('AQC')) return false;
  try {
    const parsed = JSON.parse(Buffer.from(token.slice(3), 'base64url').toString('utf8')) as { v?: unknown; x?: unknown };
    return parsed.v === 1 && typeof parsed.x === 'string';
  } catch {
    return false;
  }
}

function paginate<T>(items: readonly T[], maxResults: unknown, nextToken: unknown, defaultPage: number): { page: T[]; nextToken?: string } {
  if (maxResults !== undefined && (typeof maxResults !== 'number' || !Number.isInteger(maxResults) || maxResults < 0 || maxResults > 1000)) {
    throw validation("1 validation error detected: Value at 'maxResults' failed to satisfy constraint: Member must have value between 0 and 1000");
  }
  const size = typeof maxResults === 'number' && maxResults > 0 ? maxResults : defaultPage;
  let offset = 0;
  if (nextToken !== undefined) {
    const raw = typeof nextToken === 'string' ? Buffer.from(nextToken, 'base64url').toString('utf8') : '';
    offset = raw.startsWith('o:') ? Number(raw.slice(2)) : NaN;
    if (!Number.isInteger(offset) || offset < 0 || offset > items.length) throw new AwsServiceError('InvalidToken', 'Invalid Token: nextToken is not valid');
  }
  const page = items.slice(offset, offset + size);
  const next = offset + size < items.length ? Buffer.from(`o:${offset + size}`).toString('base64url') : undefined;
  return next ? { page, nextToken: next } : { page };
}
