/**
 * The ASL interpreter behind one narrow interface, so the Step Functions API around it never sees
 * aws-local-stepfunctions and the interpreter can be swapped.
 *
 * What this adapter adds to the library:
 * - time: task timeouts, Wait states and Retry back-off run on the service's `Clock` (through
 *   `RunHooks.sleep` and the service's own task timers), not on the library's `setTimeout`;
 * - the Context object: `$$.Execution`, `$$.State` and `$$.Task.Token` are live per state and per
 *   attempt (the library passes one static object per execution);
 * - a synchronous, ordered event stream (the library's own event log is an async generator).
 */
import { StateMachine, type RunOptions, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { statesTimeoutPrototype, taskError } from './asl-errors';
import { NESTED_MACHINE_KEYS, referencePath, rewriteContextPaths } from './asl-paths';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export type StateType = 'Task' | 'Parallel' | 'Map' | 'Pass' | 'Wait' | 'Choice' | 'Succeed' | 'Fail';

/** One step of an execution, in the order it happened. `nested` is true inside Map/Parallel. */
export type RuntimeEvent =
  | { readonly kind: 'StateEntered'; readonly name: string; readonly type: StateType; readonly input: JsonValue; readonly nested: boolean }
  | { readonly kind: 'StateExited'; readonly name: string; readonly type: StateType; readonly output: JsonValue; readonly nested: boolean }
  | { readonly kind: 'StateFailed'; readonly name: string; readonly type: StateType; readonly error: string | undefined; readonly cause: string | undefined; readonly nested: boolean }
  | { readonly kind: 'StateRetried'; readonly name: string; readonly type: StateType; readonly attempt: number; readonly nested: boolean }
  | { readonly kind: 'StateCaught'; readonly name: string; readonly type: StateType; readonly nested: boolean }
  | { readonly kind: 'MapIterationStarted' | 'MapIterationSucceeded' | 'MapIterationFailed'; readonly name: string; readonly index: number; readonly nested: boolean };

export interface TaskInvocation {
  readonly stateName: string;
  /** The state exactly as written in the definition. */
  readonly state: Readonly<Record<string, unknown>>;
  /** The effective input (after InputPath and Parameters). */
  readonly input: JsonValue;
  /** The `$$.Task.Token` minted while this attempt's Parameters were evaluated, if they used it. */
  readonly taskToken: string | undefined;
  /** 0 for the first attempt of this state entry. */
  readonly retryCount: number;
}

export interface RunHooks {
  /** `$$.Execution` and `$$.StateMachine` for this run. */
  readonly execution: Readonly<Record<string, JsonValue>>;
  readonly stateMachine: Readonly<Record<string, JsonValue>>;
  now(): number;
  onEvent(event: RuntimeEvent): void;
  mintTaskToken(): string;
  /** Resolves after `ms` of the service's clock; rejects if the run is stopped meanwhile. */
  sleep(ms: number): Promise<void>;
  /** Runs a Task state's work; a rejection with `taskError(…)`/`timeoutError()` fails the attempt. */
  runTask(invocation: TaskInvocation): Promise<JsonValue>;
}

export type RunOutcome =
  | { readonly status: 'SUCCEEDED'; readonly output: JsonValue }
  | { readonly status: 'FAILED'; readonly error: string | undefined; readonly cause: string | undefined; readonly stateName: string | undefined }
  | { readonly status: 'ABORTED' };

export interface RunHandle {
  readonly outcome: Promise<RunOutcome>;
  /** Stops the interpreter; the outcome settles as ABORTED. */
  abort(): void;
}

/** The library's `setTimeout` can hold at most 2^31-1 ms; real task timeouts are on the Clock. */
const LIBRARY_TASK_TIMEOUT_SECONDS = 2_000_000;
const WAIT_RESOURCE = 'arn:aws:lambda:us-east-1:000000000000:function:local-wait-state';
const HOOK = Symbol.for('imagegen.asl-runtime.hook');

interface StateInfo {
  readonly name: string;
  readonly type: StateType;
  readonly definition: Readonly<Record<string, unknown>>;
  readonly topLevel: boolean;
  readonly contextKey: string;
}

/** Per-run state the Context getters read. */
interface RunState {
  pendingToken: string | undefined;
  readonly entered: Map<string, number>;
  readonly retries: Map<string, number>;
  readonly retryDelays: Map<string, number>;
}

type ExecuteFn = (input: unknown, options: { runOptions?: Record<PropertyKey, unknown>; eventLogger: { dispatch(e: unknown): void; isLoggerClosed: boolean } }, cleanup: () => void) => Promise<unknown>;

/** A StateMachine whose root event logger also feeds `RunHooks.onEvent` synchronously. */
class HookedStateMachine extends StateMachine {}
const baseExecute = (StateMachine.prototype as unknown as { execute: ExecuteFn }).execute;
Object.defineProperty(HookedStateMachine.prototype, 'execute', {
  value: function execute(this: StateMachine, ...args: Parameters<ExecuteFn>) {
    const [, options] = args;
    const hook = options.runOptions?.[HOOK] as ((event: LibraryEvent) => void) | undefined;
    const logger = options.eventLogger;
    if (hook) {
      const dispatch = logger.dispatch.bind(logger);
      logger.dispatch = (event: unknown) => {
        if (!logger.isLoggerClosed) hook(event as LibraryEvent);
        dispatch(event);
      };
    }
    return baseExecute.apply(this, args);
  },
});

interface LibraryEvent {
  readonly type: string;
  readonly state?: { name: string; input: JsonValue; output?: JsonValue };
  readonly parentState?: { name: string };
  readonly index?: number;
  readonly Error?: unknown;
  readonly Cause?: unknown;
  readonly retry?: { retrier: Record<string, unknown>; attempt: number };
}

/** A validated, reusable state machine. Build once per definition (validation costs 0.2–0.6 s). */
export class CompiledStateMachine {
  readonly startAt: string;
  readonly timeoutSeconds: number | undefined;
  private readonly states = new Map<string, StateInfo>();
  private readonly libraryDefinition: StateMachineDefinition;
  private readonly machines = new Map<string, HookedStateMachine>();

  constructor(definitionJson: string) {
    const original = JSON.parse(definitionJson) as Record<string, unknown>;
    if (typeof original.StartAt !== 'string' || !isObject(original.States)) {
      throw new Error('State machine definition needs StartAt and States');
    }
    this.startAt = original.StartAt;
    this.timeoutSeconds = typeof original.TimeoutSeconds === 'number' ? original.TimeoutSeconds : undefined;
    const rewritten = this.rewriteMachine(original, true);
    delete rewritten.TimeoutSeconds;
    this.libraryDefinition = rewritten as unknown as StateMachineDefinition;
    this.machines.set(this.startAt, new HookedStateMachine(this.libraryDefinition));
    statesTimeoutPrototype();
  }

  state(name: string): StateInfo | undefined {
    return this.states.get(name);
  }

  /** Task states and their resources, to check up front that each is supported. */
  taskStates(): readonly StateInfo[] {
    return [...this.states.values()].filter((s) => s.type === 'Task');
  }

  isTopLevel(name: string): boolean {
    return this.states.get(name)?.topLevel ?? false;
  }

  /** Runs the machine from `startAt` (a top-level state; the definition's StartAt by default). */
  run(input: JsonValue, hooks: RunHooks, startAt = this.startAt): RunHandle {
    const machine = this.machineStartingAt(startAt);
    const run: RunState = { pendingToken: undefined, entered: new Map(), retries: new Map(), retryDelays: new Map() };
    const handlers: Record<string, (input: JsonValue) => Promise<JsonValue>> = {};
    const retryOverrides: Record<string, number> = {};
    for (const info of this.states.values()) {
      if (info.type === 'Task') handlers[info.name] = (taskInput) => this.runTask(info, taskInput, run, hooks);
      else if (info.type === 'Wait') handlers[info.name] = (waitInput) => this.runWait(info, waitInput, hooks);
      if (Array.isArray(info.definition.Retry)) retryOverrides[info.name] = 0;
    }
    const options = {
      overrides: { taskResourceLocalHandlers: handlers, retryIntervalOverrides: retryOverrides },
      noThrowOnAbort: true,
      context: this.contextFor(run, hooks),
    } as unknown as RunOptions;
    let aborted = false;
    let lastFailed: { name: string; error: string | undefined; cause: string | undefined } | undefined;
    const wrapped: RunHooks = {
      ...hooks,
      onEvent: (event) => {
        if (event.kind === 'StateFailed' && !event.nested) lastFailed = { name: event.name, error: event.error, cause: event.cause };
        hooks.onEvent(event);
      },
    };
    (options as unknown as Record<PropertyKey, unknown>)[HOOK] = (event: LibraryEvent) => this.onLibraryEvent(event, run, wrapped);
    const execution = machine.run(input, options);
    const outcome = execution.result.then(
      (output): RunOutcome => (output === null && aborted ? { status: 'ABORTED' } : { status: 'SUCCEEDED', output: output as JsonValue }),
      (error: unknown): RunOutcome => {
        if (aborted) return { status: 'ABORTED' };
        const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
        const failed = cause instanceof Error ? { error: nullable(cause.name), cause: nullable(cause.message) } : { error: 'States.Runtime', cause: String(cause) };
        const stateName = lastFailed?.name;
        const info = stateName ? this.states.get(stateName) : undefined;
        // A Fail state without Error/Cause ends the execution with neither (the library fills in defaults).
        if (info?.type === 'Fail') {
          const def = info.definition;
          return {
            status: 'FAILED',
            stateName,
            error: def.Error !== undefined || def.ErrorPath !== undefined ? failed.error : undefined,
            cause: def.Cause !== undefined || def.CausePath !== undefined ? failed.cause : undefined,
          };
        }
        return { status: 'FAILED', stateName, ...failed };
      },
    );
    return {
      outcome,
      abort: () => {
        aborted = true;
        execution.abort();
      },
    };
  }

  private machineStartingAt(startAt: string): HookedStateMachine {
    let machine = this.machines.get(startAt);
    if (!machine) {
      if (!this.isTopLevel(startAt)) throw new Error(`no top-level state named ${startAt}`);
      machine = new HookedStateMachine({ ...this.libraryDefinition, StartAt: startAt }, { validationOptions: { noValidate: true } });
      this.machines.set(startAt, machine);
    }
    return machine;
  }

  private async runTask(info: StateInfo, input: JsonValue, run: RunState, hooks: RunHooks): Promise<JsonValue> {
    // The Parameters that minted this token were evaluated synchronously just before this call.
    const taskToken = run.pendingToken;
    run.pendingToken = undefined;
    const delay = run.retryDelays.get(info.name) ?? 0;
    run.retryDelays.delete(info.name);
    if (delay > 0) await hooks.sleep(delay);
    return hooks.runTask({ stateName: info.name, state: info.definition, input, taskToken, retryCount: run.retries.get(info.name) ?? 0 });
  }

  private async runWait(info: StateInfo, input: JsonValue, hooks: RunHooks): Promise<JsonValue> {
    const def = info.definition;
    let ms = 0;
    if (typeof def.Seconds === 'number') ms = def.Seconds * 1000;
    else if (typeof def.Timestamp === 'string') ms = Date.parse(def.Timestamp) - hooks.now();
    else if (typeof def.SecondsPath === 'string') {
      const seconds = referencePath(input, def.SecondsPath);
      if (typeof seconds !== 'number' || !Number.isInteger(seconds) || seconds < 0) {
        throw taskError('States.Runtime', `SecondsPath ${def.SecondsPath} of state ${info.name} must select a non-negative integer`);
      }
      ms = seconds * 1000;
    } else if (typeof def.TimestampPath === 'string') {
      const at = referencePath(input, def.TimestampPath);
      if (typeof at !== 'string' || Number.isNaN(Date.parse(at))) {
        throw taskError('States.Runtime', `TimestampPath ${def.TimestampPath} of state ${info.name} must select an RFC 3339 timestamp`);
      }
      ms = Date.parse(at) - hooks.now();
    }
    if (ms > 0) await hooks.sleep(ms);
    return input;
  }

  private onLibraryEvent(event: LibraryEvent, run: RunState, hooks: RunHooks): void {
    const name = event.state?.name ?? event.parentState?.name;
    if (!name) return;
    const info = this.states.get(name);
    const type = info?.type ?? 'Task';
    const nested = !(info?.topLevel ?? false);
    switch (event.type) {
      case 'StateEntered':
        run.entered.set(name, hooks.now());
        run.retries.set(name, 0);
        return hooks.onEvent({ kind: 'StateEntered', name, type, input: event.state?.input ?? null, nested });
      case 'StateExited':
        return hooks.onEvent({ kind: 'StateExited', name, type, output: event.state?.output ?? null, nested });
      case 'StateFailed':
        return hooks.onEvent({ kind: 'StateFailed', name, type, error: errorText(event.Error), cause: errorText(event.Cause), nested });
      case 'StateRetried': {
        const attempt = event.retry?.attempt ?? 1;
        run.retries.set(name, (run.retries.get(name) ?? 0) + 1);
        if (!nested && event.retry) run.retryDelays.set(name, retryDelayMs(event.retry.retrier, attempt));
        return hooks.onEvent({ kind: 'StateRetried', name, type, attempt, nested });
      }
      case 'StateCaught':
        return hooks.onEvent({ kind: 'StateCaught', name, type, nested });
      case 'MapIterationStarted':
      case 'MapIterationSucceeded':
      case 'MapIterationFailed':
        return hooks.onEvent({ kind: event.type, name, index: event.index ?? 0, nested });
      default:
        return;
    }
  }

  private contextFor(run: RunState, hooks: RunHooks): Record<string, unknown> {
    const context: Record<string, unknown> = {
      Execution: hooks.execution,
      __execution: hooks.execution,
      StateMachine: hooks.stateMachine,
      Task: {
        get Token(): string {
          run.pendingToken ??= hooks.mintTaskToken();
          return run.pendingToken;
        },
      },
    };
    for (const info of this.states.values()) {
      context[info.contextKey] = {
        Name: info.name,
        get EnteredTime(): string {
          return new Date(run.entered.get(info.name) ?? hooks.now()).toISOString();
        },
        get RetryCount(): number {
          return run.retries.get(info.name) ?? 0;
        },
      };
    }
    return context;
  }

  /** Copies a (sub-)machine for the library: Context paths made live, timeouts and waits moved to the Clock. */
  private rewriteMachine(machine: Record<string, unknown>, topLevel: boolean): Record<string, unknown> {
    const states: Record<string, unknown> = {};
    for (const [name, raw] of Object.entries(machine.States as Record<string, unknown>)) {
      if (!isObject(raw) || typeof raw.Type !== 'string') throw new Error(`state ${name} has no Type`);
      if (this.states.has(name)) throw new Error(`state name ${name} is used twice`);
      const contextKey = `__state${this.states.size}`;
      this.states.set(name, { name, type: raw.Type as StateType, definition: raw, topLevel, contextKey });
      const copy = rewriteContextPaths(raw, contextKey) as Record<string, unknown>;
      for (const key of NESTED_MACHINE_KEYS) {
        const nestedValue = raw[key];
        if (Array.isArray(nestedValue)) copy[key] = nestedValue.map((m) => this.rewriteMachine(m as Record<string, unknown>, false));
        else if (isObject(nestedValue)) copy[key] = this.rewriteMachine(nestedValue, false);
      }
      if (raw.Type === 'Task') {
        copy.TimeoutSeconds = LIBRARY_TASK_TIMEOUT_SECONDS;
        for (const key of ['TimeoutSecondsPath', 'HeartbeatSeconds', 'HeartbeatSecondsPath', 'Credentials']) delete copy[key];
      } else if (raw.Type === 'Wait') {
        // Run as a Task whose local handler sleeps on the Clock; InputPath/OutputPath keep their meaning.
        for (const key of ['Seconds', 'Timestamp', 'SecondsPath', 'TimestampPath']) delete copy[key];
        Object.assign(copy, { Type: 'Task', Resource: WAIT_RESOURCE, TimeoutSeconds: LIBRARY_TASK_TIMEOUT_SECONDS });
      }
      states[name] = copy;
    }
    return { ...machine, States: states };
  }
}

const cache = new Map<string, CompiledStateMachine>();

/** Compiles (and caches by definition text) a state machine. Throws on an invalid definition. */
export function compileStateMachine(definitionJson: string): CompiledStateMachine {
  let compiled = cache.get(definitionJson);
  if (!compiled) {
    compiled = new CompiledStateMachine(definitionJson);
    cache.set(definitionJson, compiled);
  }
  return compiled;
}

/** Runs a definition with the library alone (no hooks): for throughput comparisons. */
export function runDirect(definitionJson: string, input: JsonValue): Promise<JsonValue> {
  let machine = directCache.get(definitionJson);
  if (!machine) {
    machine = new StateMachine(JSON.parse(definitionJson) as StateMachineDefinition);
    directCache.set(definitionJson, machine);
  }
  return machine.run(input).result as Promise<JsonValue>;
}
const directCache = new Map<string, StateMachine>();

/** Delay before retry `attempt` (1-based): IntervalSeconds × BackoffRate^(attempt-1), capped, jittered. */
export function retryDelayMs(retrier: Record<string, unknown>, attempt: number): number {
  const interval = typeof retrier.IntervalSeconds === 'number' ? retrier.IntervalSeconds : 1;
  const backoff = typeof retrier.BackoffRate === 'number' ? retrier.BackoffRate : 2;
  let seconds = interval * Math.pow(backoff, attempt - 1);
  if (typeof retrier.MaxDelaySeconds === 'number') seconds = Math.min(seconds, retrier.MaxDelaySeconds);
  if (retrier.JitterStrategy === 'FULL') seconds = Math.random() * seconds;
  return Math.round(seconds * 1000);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function nullable(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function errorText(value: unknown): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'string') return value;
  return JSON.stringify(value);
}
