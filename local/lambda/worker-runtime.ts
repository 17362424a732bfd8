/**
 * The runtime inside one execution environment (a worker thread): loads the handler module once
 * (the init phase), then runs one invocation at a time as the Node.js managed runtime does —
 * a fresh event parsed from JSON, a Lambda `Context`, and errors reported as
 * `{errorType, errorMessage, trace}`.
 */
import { createRequire } from 'node:module';
import { parentPort, workerData } from 'node:worker_threads';
import { types } from 'node:util';
import type { Context } from 'aws-lambda';
import type { EnvironmentInit, FunctionErrorDocument, InvokeMessage, WorkerMessage } from './protocol';

type Handler = (event: unknown, context: Context, callback: (error?: unknown, result?: unknown) => void) => unknown;

const port = parentPort;
if (!port) throw new Error('worker-runtime must run in a worker thread');
const init = workerData as EnvironmentInit;

/** The local cloud's time minus the machine's, while the cloud runs on a clock of its own. */
let clockOffsetMs = 0;

/**
 * Makes `Date` (now, and `new Date()` without arguments) read the local cloud's clock, so a handler
 * stamps its metrics and TTLs with the same time as the services it calls, as on AWS. Installed
 * before the handler module loads; time moves on in real time between the invocations' syncs.
 */
function followCloudClock(clockMs: number): void {
  const MachineDate = Date;
  clockOffsetMs = clockMs - MachineDate.now();
  const now = () => MachineDate.now() + clockOffsetMs;
  globalThis.Date = new Proxy(MachineDate, {
    construct: (target, args, newTarget) => Reflect.construct(target, args.length === 0 ? [now()] : args, newTarget) as object,
    apply: () => new MachineDate(now()).toString(),
    get: (target, property, receiver) => (property === 'now' ? now : Reflect.get(target, property, receiver)),
  });
}
if (init.clockMs !== undefined) followCloudClock(init.clockMs);

function post(message: WorkerMessage): void {
  port!.postMessage(message);
}

/** As the runtime's `toRapidResponse`: native errors by name/message/stack, anything else by type. */
export function toErrorDocument(error: unknown): FunctionErrorDocument {
  if (types.isNativeError(error) || (error instanceof Object && 'stack' in error && 'message' in error)) {
    const e = error as Error;
    return { errorType: e.name, errorMessage: e.message, trace: (e.stack ?? '').split('\n') };
  }
  return { errorType: typeof error, errorMessage: String(error), trace: [] };
}

// Output goes through the message port rather than the worker's stdout pipe, keeping it in order
// with the invocation results (the pipe is a separate channel).
for (const stream of ['stdout', 'stderr'] as const) {
  const target = process[stream];
  const write = (chunk: string | Uint8Array, encodingOrCallback?: unknown, callback?: unknown): boolean => {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    post({ type: 'log', stream, text });
    const done = typeof encodingOrCallback === 'function' ? encodingOrCallback : callback;
    if (typeof done === 'function') queueMicrotask(() => (done as () => void)());
    return true;
  };
  Object.defineProperty(target, 'write', { value: write, writable: true, configurable: true });
}

/** The runtime logs every error it reports, as `ERROR <label> {errorType, errorMessage, stack}`. */
function logError(label: string, error: FunctionErrorDocument): void {
  const { errorType, errorMessage, trace } = error;
  process.stderr.write(`ERROR\t${label} \t${JSON.stringify({ errorType, errorMessage, stack: trace })}\n`);
}

function fatal(label: string, error: FunctionErrorDocument, exitCode: number): void {
  logError(label, error);
  post({ type: 'fatal', error });
  process.exit(exitCode);
}

process.on('unhandledRejection', (reason) => {
  const document = toErrorDocument(reason);
  const errorMessage = types.isNativeError(reason) ? `${document.errorType}: ${document.errorMessage}` : String(reason);
  fatal('Unhandled Promise Rejection', { errorType: 'Runtime.UnhandledPromiseRejection', errorMessage, trace: document.trace }, 128);
});
process.on('uncaughtException', (error) => fatal('Uncaught Exception', toErrorDocument(error), 129));

function loadHandler(): Handler | FunctionErrorDocument {
  let mod: Record<string, unknown>;
  try {
    mod = createRequire(__filename)(init.modulePath) as Record<string, unknown>;
  } catch (error) {
    const document = toErrorDocument(error);
    const code = (error as { code?: unknown }).code;
    if (code === 'MODULE_NOT_FOUND' && document.errorMessage.includes(init.modulePath)) {
      return { ...document, errorType: 'Runtime.ImportModuleError', errorMessage: `Error: ${document.errorMessage}` };
    }
    if (error instanceof SyntaxError) {
      return { ...document, errorType: 'Runtime.UserCodeSyntaxError', errorMessage: `SyntaxError: ${document.errorMessage}` };
    }
    return document;
  }
  const handler = mod[init.handlerName];
  if (typeof handler !== 'function') {
    return { errorType: 'Runtime.HandlerNotFound', errorMessage: `${init.handlerSetting} is undefined or not exported`, trace: [] };
  }
  return handler as Handler;
}

function context(message: InvokeMessage): Context {
  const deadline = Date.now() + message.remainingMs;
  const unsupported = (name: string) => () => {
    throw new Error(`context.${name}() is not available in the nodejs22.x runtime; return a value or throw instead`);
  };
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: init.functionName,
    functionVersion: init.functionVersion,
    invokedFunctionArn: message.invokedFunctionArn,
    memoryLimitInMB: String(init.memoryMb),
    awsRequestId: message.requestId,
    logGroupName: init.logGroupName,
    logStreamName: init.logStreamName,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: unsupported('done'),
    fail: unsupported('fail'),
    succeed: unsupported('succeed'),
  };
}

async function invoke(handler: Handler, message: InvokeMessage): Promise<void> {
  if (message.clockMs !== undefined) clockOffsetMs += message.clockMs - Date.now();
  try {
    const event: unknown = JSON.parse(message.event);
    const ctx = context(message);
    // A handler declaring three parameters is callback-style; otherwise its return value (or promise) is the result.
    const result = await new Promise<unknown>((resolve, reject) => {
      const callback = (error?: unknown, value?: unknown) => (error === undefined || error === null ? resolve(value) : reject(error));
      const returned = handler(event, ctx, callback);
      if (handler.length < 3 || types.isPromise(returned)) Promise.resolve(returned).then(resolve, reject);
    });
    post({ type: 'result', requestId: message.requestId, payload: JSON.stringify(result) ?? 'null' });
  } catch (error) {
    const document = toErrorDocument(error);
    logError('Invoke Error', document);
    post({ type: 'error', requestId: message.requestId, error: document });
  }
}

const loaded = loadHandler();
if (typeof loaded === 'function') {
  port.on('message', (message: InvokeMessage) => void invoke(loaded, message));
  post({ type: 'ready' });
} else {
  logError('Uncaught Exception', loaded);
  post({ type: 'init-error', error: loaded });
}
