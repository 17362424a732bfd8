/**
 * One warm execution environment: a worker thread that loaded the handler module once and runs
 * one invocation at a time. The worker's `process.env` is its own copy (the Worker `env` option),
 * so functions never see each other's configuration.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { EnvironmentInit, FunctionErrorDocument, InvokeMessage, WorkerMessage } from './protocol';

const localRequire = createRequire(__filename);
/** Without bundles, handler modules are TypeScript: the worker registers tsx's CommonJS hooks first. */
const SOURCE_BOOTSTRAP = `require(${JSON.stringify(localRequire.resolve('tsx/cjs/api'))}).register();
require(${JSON.stringify(join(__dirname, 'worker-runtime.ts'))});`;

/** Worker code that loads a bundled runtime (see bundle.ts), with source maps for stack traces. */
export function bundleBootstrap(runtimeBundle: string): string {
  return `process.setSourceMapsEnabled(true);\nrequire(${JSON.stringify(runtimeBundle)});`;
}

export type EnvironmentOutcome =
  | { readonly kind: 'result'; readonly payload: string }
  /** `discard`: the environment is unusable afterwards (its runtime exited). */
  | { readonly kind: 'error'; readonly error: FunctionErrorDocument; readonly discard: boolean };

export interface EnvironmentOptions {
  readonly init: EnvironmentInit;
  /** Worker code to evaluate. @default loads the TypeScript runtime through tsx */
  readonly bootstrap?: string;
  readonly env: Readonly<Record<string, string>>;
  /** Caps the worker's JS heap, the part of the function's memory a worker thread can bound. */
  readonly memoryMb: number;
  /** The invocation whose arrival started this environment: init-phase output belongs to it. */
  readonly initRequestId: string;
  /** One complete output line, with the request that was running when it was written. */
  readonly onLine: (line: string, stream: 'stdout' | 'stderr', requestId: string | undefined) => void;
  /** The local cloud's clock, when it is not the machine's: the handler's `Date` follows it. */
  readonly now?: () => number;
}

interface Running {
  readonly requestId: string;
  readonly settle: (outcome: EnvironmentOutcome) => void;
}

export class ExecutionEnvironment {
  /** Resolves when the init phase ends: undefined when the handler is ready, else the init error. */
  readonly ready: Promise<FunctionErrorDocument | undefined>;
  private readonly worker: Worker;
  private readonly partial = { stdout: '', stderr: '' };
  private running: Running | undefined;
  private lastRequestId: string | undefined;
  private fatal: FunctionErrorDocument | undefined;
  private terminated = false;
  private resolveReady!: (error: FunctionErrorDocument | undefined) => void;
  private exited = false;

  constructor(private readonly options: EnvironmentOptions) {
    this.ready = new Promise((resolve) => (this.resolveReady = resolve));
    this.lastRequestId = options.initRequestId;
    this.worker = new Worker(options.bootstrap ?? SOURCE_BOOTSTRAP, {
      eval: true,
      env: { ...options.env },
      workerData: { ...options.init, ...(options.now ? { clockMs: options.now() } : {}) } satisfies EnvironmentInit,
      // The runtime sends output over the message port; a piped `stdout: true` stream would hold a
      // reference on the worker until it exits, keeping the process alive with only idle environments.
      name: `lambda:${options.init.functionName}`,
      resourceLimits: { maxOldGenerationSizeMb: Math.max(64, options.memoryMb) },
    });
    this.worker.on('message', (message: WorkerMessage) => this.onMessage(message));
    this.worker.on('error', (error: Error & { code?: string }) => {
      this.fatal ??=
        error.code === 'ERR_WORKER_OUT_OF_MEMORY'
          ? { errorType: 'Runtime.OutOfMemory', errorMessage: 'Runtime exited with error: signal: killed', trace: [] }
          : { errorType: error.name, errorMessage: error.message, trace: (error.stack ?? '').split('\n') };
    });
    this.worker.on('exit', (code) => this.onExit(code));
  }

  get alive(): boolean {
    return !this.exited && !this.terminated;
  }

  invoke(message: Omit<InvokeMessage, 'type'>): Promise<EnvironmentOutcome> {
    if (this.running) throw new Error(`execution environment is busy with ${this.running.requestId}`);
    if (!this.alive) {
      return Promise.resolve({ kind: 'error', error: this.exitError(message.requestId, 1), discard: true });
    }
    this.lastRequestId = message.requestId;
    return new Promise((resolve) => {
      this.worker.ref();
      this.running = { requestId: message.requestId, settle: resolve };
      this.worker.postMessage({ type: 'invoke', ...message, ...(this.options.now ? { clockMs: this.options.now() } : {}) } satisfies InvokeMessage);
    });
  }

  /** Ends the running invocation with `error` (a timeout) and discards the environment. */
  async abort(error: FunctionErrorDocument): Promise<void> {
    this.flush();
    this.finish({ kind: 'error', error, discard: true });
    await this.terminate();
  }

  async terminate(): Promise<void> {
    if (this.terminated) return;
    this.terminated = true;
    await this.worker.terminate();
  }

  private onMessage(message: WorkerMessage): void {
    switch (message.type) {
      case 'ready':
        this.worker.unref();
        this.resolveReady(undefined);
        return;
      case 'init-error':
        this.resolveReady(message.error);
        return;
      case 'log':
        this.onText(message.stream, message.text);
        return;
      case 'fatal':
        this.fatal = message.error;
        return;
      case 'result':
      case 'error':
        this.flush();
        this.finish(message.type === 'result' ? { kind: 'result', payload: message.payload } : { kind: 'error', error: message.error, discard: false });
        return;
    }
  }

  private finish(outcome: EnvironmentOutcome): void {
    const running = this.running;
    this.running = undefined;
    // Only a busy environment keeps the process alive; warm idle ones do not.
    this.worker.unref();
    running?.settle(outcome);
  }

  private onExit(code: number): void {
    this.exited = true;
    this.flush();
    const error = this.fatal ?? this.exitError(this.running?.requestId, code);
    this.resolveReady(error);
    if (this.running) this.finish({ kind: 'error', error, discard: true });
  }

  private exitError(requestId: string | undefined, code: number): FunctionErrorDocument {
    const prefix = requestId ? `RequestId: ${requestId} ` : '';
    return { errorType: 'Runtime.ExitError', errorMessage: `${prefix}Error: Runtime exited with error: exit status ${code}`, trace: [] };
  }

  private onText(stream: 'stdout' | 'stderr', text: string): void {
    const lines = (this.partial[stream] + text).split('\n');
    this.partial[stream] = lines.pop() ?? '';
    for (const line of lines) this.options.onLine(line, stream, this.running?.requestId ?? this.lastRequestId);
  }

  /** An unterminated last line still belongs to the invocation that wrote it. */
  private flush(): void {
    for (const stream of ['stdout', 'stderr'] as const) {
      if (this.partial[stream]) this.onText(stream, '\n');
    }
  }
}
