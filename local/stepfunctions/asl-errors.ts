/**
 * Errors as the interpreter's Retry and Catch match them: task failures with any `Error`/`Cause`,
 * `States.Timeout` (which `States.TaskFailed` must not match), and the stop of a run.
 */
import { StateMachine } from 'aws-local-stepfunctions';

/**
 * `States.TaskFailed` in Retry/Catch must not match `States.Timeout`; the library decides that with
 * `instanceof` on a class it does not export, so borrow its prototype once from a probe run whose
 * task timer is fired by hand (no real waiting).
 */
let timeoutPrototype: object | undefined;
export function statesTimeoutPrototype(): object {
  if (timeoutPrototype) return timeoutPrototype;
  const probe = new StateMachine(
    { StartAt: 'T', States: { T: { Type: 'Task', Resource: 'arn:aws:lambda:us-east-1:000000000000:function:probe', End: true } } },
    { validationOptions: { noValidate: true } },
  );
  const P = Promise as unknown as { withResolvers: () => { promise: Promise<unknown>; resolve: (v: unknown) => void; reject: (e: unknown) => void } };
  const realWithResolvers = P.withResolvers;
  const realSetTimeout = globalThis.setTimeout;
  let fire: (() => void) | undefined;
  let captured: unknown;
  P.withResolvers = () => {
    const inner = realWithResolvers.call(Promise);
    return { ...inner, reject: (e: unknown) => ((captured = e), inner.reject(e)) };
  };
  globalThis.setTimeout = ((fn: () => void) => {
    fire = fn;
    return realSetTimeout(() => undefined, 0);
  }) as unknown as typeof setTimeout;
  try {
    const run = probe.run(null, { overrides: { taskResourceLocalHandlers: { T: () => new Promise<never>(() => undefined) } } });
    run.result.catch(() => undefined);
  } finally {
    P.withResolvers = realWithResolvers;
    globalThis.setTimeout = realSetTimeout;
  }
  fire?.();
  timeoutPrototype =
    captured instanceof Error && captured.name === 'States.Timeout' ? Object.getPrototypeOf(captured) as object : Error.prototype;
  return timeoutPrototype;
}

/** A task failure as Retry/Catch see it: `Error` = `error`, `Cause` = `cause` (either may be null). */
export function taskError(error: string | undefined, cause: string | undefined): Error {
  const e = new Error();
  Object.defineProperty(e, 'name', { value: error ?? null, writable: true, configurable: true });
  Object.defineProperty(e, 'message', { value: cause ?? null, writable: true, configurable: true });
  return e;
}

/** `States.Timeout`: matched by `States.Timeout`/`States.ALL`, never by `States.TaskFailed`. */
export function timeoutError(cause?: string): Error {
  const e = Object.create(statesTimeoutPrototype()) as Error;
  Object.defineProperty(e, 'name', { value: 'States.Timeout', writable: true, configurable: true });
  Object.defineProperty(e, 'message', { value: cause ?? null, writable: true, configurable: true });
  return e;
}

/** Ends an attempt when the run stops; neither retried nor caught. */
export class RunStoppedError extends Error {
  override readonly name = 'RunStopped';
  readonly isRetryable = false;
  readonly isCatchable = false;
  constructor() {
    super('the execution was stopped');
  }
}
