/**
 * Messages between the Lambda service (main thread) and an execution environment (worker thread).
 * Everything the worker reports, logs included, travels on the one `parentPort` channel, so a log
 * line always arrives before the result of the invocation that wrote it.
 */

/** The error document the Node.js runtime reports for a failed invocation. */
export interface FunctionErrorDocument {
  readonly errorType: string;
  readonly errorMessage: string;
  readonly trace: readonly string[];
}

/** `workerData` of an execution environment: what its runtime needs to load and call the handler. */
export interface EnvironmentInit {
  /** Absolute path of the handler module. */
  readonly modulePath: string;
  readonly handlerName: string;
  /** `_HANDLER`, e.g. `tasks/resolve/handler.handler`, for error messages. */
  readonly handlerSetting: string;
  readonly functionName: string;
  readonly functionVersion: string;
  readonly invokedFunctionArn: string;
  readonly memoryMb: number;
  readonly logGroupName: string;
  readonly logStreamName: string;
  /** The local cloud's time at spawn, when it runs on a clock of its own (a test's manual clock): the handler's `Date` follows it. */
  readonly clockMs?: number;
}

export interface InvokeMessage {
  readonly type: 'invoke';
  readonly requestId: string;
  /** The event as JSON text: the handler gets a fresh parse, never a shared object. */
  readonly event: string;
  /** Time left before the function's timeout, measured from when the worker receives this. */
  readonly remainingMs: number;
  readonly invokedFunctionArn: string;
  /** The local cloud's time when the invocation was sent (see `EnvironmentInit.clockMs`). */
  readonly clockMs?: number;
}

export type WorkerMessage =
  | { readonly type: 'ready' }
  | { readonly type: 'init-error'; readonly error: FunctionErrorDocument }
  | { readonly type: 'log'; readonly stream: 'stdout' | 'stderr'; readonly text: string }
  | { readonly type: 'result'; readonly requestId: string; readonly payload: string }
  | { readonly type: 'error'; readonly requestId: string; readonly error: FunctionErrorDocument }
  /** The runtime itself failed (uncaught exception, unhandled rejection); the environment is discarded. */
  | { readonly type: 'fatal'; readonly error: FunctionErrorDocument };
