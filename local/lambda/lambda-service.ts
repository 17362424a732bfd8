/**
 * The local Lambda service: runs the project's handler modules in worker-thread execution
 * environments that look like the Node.js 22 managed runtime from inside (environment variables,
 * `Context`, error documents, timeouts), behind the in-process `LambdaPort` and the Lambda REST API
 * on the edge.
 *
 * Laid out as LocalStack lays out a service: `provider.ts` (the REST operations), `models.ts`
 * (functions, references, asynchronous invocations) and `store.ts` (the asynchronous queue); this
 * module runs invocations: execution environments, asynchronous retries, invocation metrics.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Partition } from '../arns';
import type { FaultInjector } from '../chaos/injector';
import { systemClock, type Clock } from '../clock';
import { AwsServiceError } from '../edge/errors';
import type { ServiceHandler } from '../edge/types';
import type { LambdaInvocationResult, LambdaPort, MetricsPort } from '../ports';
import { LocalDatabase } from '../shared/database';
import type { BundledCode } from './bundle';
import { extractEmf } from './emf';
import { bundleBootstrap, ExecutionEnvironment } from './execution-environment';
import { FunctionPool, type InvocationOutcome } from './function-pool';
import {
  ASYNC_PAYLOAD_LIMIT,
  defineFunction,
  parseFunctionReference,
  retryDelay,
  RUNTIME,
  SYNC_PAYLOAD_LIMIT,
  type AsyncInvocation,
  type LambdaFunction,
  type LambdaFunctionConfig,
} from './models';
import { injectedOutcome } from './injected';
import { preloadSharp, serializeEvent, toResult } from './payloads';
import { LambdaProvider, validateFunction, type LambdaRuntime } from './provider';
import { SqliteLambdaStore, type LambdaStore, type PendingInvocation } from './store';

export { ASYNC_PAYLOAD_LIMIT, SYNC_PAYLOAD_LIMIT, type LambdaFunctionConfig } from './models';

export interface LambdaServiceOptions {
  readonly region: string;
  readonly account: string;
  /** Repository root; function entries are relative to it. */
  readonly rootDir: string;
  readonly functions: readonly LambdaFunctionConfig[];
  /** Drives asynchronous retry delays. @default systemClock */
  readonly clock?: Clock;
  /** Receives metrics from Embedded Metric Format log lines and the `AWS/Lambda` invocation metrics. */
  readonly metrics?: MetricsPort;
  /** Function log lines, prefixed `[<function> <requestId>]`. */
  readonly log?: (line: string) => void;
  /** Execution environments per function. @default 4 */
  readonly maxConcurrency?: number;
  /** Delays before the asynchronous retries. @default [1000, 2000] (AWS waits about 1 and 2 minutes) */
  readonly asyncRetryDelaysMs?: readonly number[];
  /** Added to every function's environment, e.g. `AWS_ENDPOINT_URL` and credentials. */
  readonly extraEnvironment?: Readonly<Record<string, string>>;
  /** Bundled function code (bundle.ts); functions without a bundle load their TypeScript sources. */
  readonly code?: Promise<BundledCode>;
  /** Where accepted asynchronous invocations are kept until they end. @default a private in-memory database */
  readonly database?: LocalDatabase;
  /** `crash` and `timeout` faults, decided per invocation (local/chaos). */
  readonly faults?: FaultInjector;
}

/** The response limit as the service reports it (the 6 MB plus a small envelope allowance). */
const RESPONSE_LIMIT_REPORTED = 6_291_556;

interface DeployedFunction extends LambdaFunction {
  readonly pool: FunctionPool;
}

export class LambdaService implements LambdaPort, LambdaRuntime {
  readonly handler: ServiceHandler;
  readonly account: string;
  readonly lastModified: string;
  private readonly partition: Partition;
  private readonly deployed = new Map<string, DeployedFunction>();
  private readonly clock: Clock;
  private readonly retryDelays: readonly number[];
  private readonly retryTimers = new Set<() => void>();
  private readonly store: LambdaStore;
  private readonly resumable: readonly PendingInvocation[];
  private readonly idleWaiters: (() => void)[] = [];
  /** Log lines collected for `X-Amz-Log-Type: Tail`, by request id. */
  private readonly tails = new Map<string, string[]>();
  private inFlight = 0;
  private closed = false;
  private started = false;
  private code: BundledCode | undefined;

  constructor(private readonly options: LambdaServiceOptions) {
    this.partition = { region: options.region, account: options.account };
    this.account = options.account;
    this.clock = options.clock ?? systemClock;
    this.store = new SqliteLambdaStore(options.database ?? LocalDatabase.open(undefined));
    // What the previous process left, read before anything new is accepted.
    this.resumable = this.store.pending();
    this.retryDelays = options.asyncRetryDelaysMs ?? [1000, 2000];
    this.lastModified = new Date(this.clock.now()).toISOString().replace('Z', '+0000');
    const maxConcurrency = options.maxConcurrency ?? 4;
    if (!Number.isInteger(maxConcurrency) || maxConcurrency < 1) {
      throw new AwsServiceError('InvalidParameterValueException', `maxConcurrency must be an integer >= 1, got ${maxConcurrency}`);
    }
    for (const config of options.functions) {
      validateFunction(config);
      const fn = defineFunction(config, options.rootDir, this.partition);
      if (this.deployed.has(config.name)) {
        throw new AwsServiceError('ResourceConflictException', `Function already exist: ${config.name}`, 409);
      }
      const deployed: DeployedFunction = {
        ...fn,
        pool: new FunctionPool({
          functionName: config.name,
          timeoutSeconds: config.timeoutSeconds,
          memoryMb: config.memoryMb,
          maxConcurrency,
          spawn: (initRequestId) => this.spawn(fn, initRequestId),
          prepare: () => this.prepareCode(),
          systemLine: (requestId, line) => this.functionLine(config.name, requestId, line, false),
        }),
      };
      this.deployed.set(config.name, deployed);
    }
    preloadSharp(options.rootDir);
    this.handler = new LambdaProvider(this).handler;
  }

  functionArn(name: string): string {
    return this.resolve(name).fn.arn;
  }

  functions(): readonly LambdaFunction[] {
    return [...this.deployed.values()];
  }

  async invoke(functionNameOrArn: string, payload: unknown): Promise<LambdaInvocationResult> {
    const { fn, invokedArn } = this.resolve(functionNameOrArn);
    const outcome = await this.invokeSync(fn, invokedArn, serializeEvent(payload, SYNC_PAYLOAD_LIMIT), randomUUID());
    return toResult(outcome);
  }

  invokeAsync(functionNameOrArn: string, payload: unknown, options: { readonly delayMs?: number } = {}): void {
    const { fn, invokedArn } = this.resolve(functionNameOrArn);
    this.invokeEvent(fn, invokedArn, serializeEvent(payload, ASYNC_PAYLOAD_LIMIT), randomUUID(), options.delayMs);
  }

  /**
   * After a restart: every asynchronous invocation accepted and not finished runs again under its
   * request id, at once if an attempt was running, or when its retry is due.
   */
  start(): void {
    if (this.started || this.closed) return;
    this.started = true;
    const pending = this.resumable;
    if (pending.length > 0) this.options.log?.(`lambda: resuming ${pending.length} asynchronous invocation(s)`);
    for (const { invocation, retryAt } of pending) {
      const wait = retryAt === undefined ? 0 : retryAt - this.clock.now();
      if (wait <= 0) this.attemptAsync(invocation);
      else this.retryLater(invocation, wait);
    }
  }

  /** Resolves once no invocation is running or queued (asynchronous retries waiting on the clock do not count). */
  idle(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((done) => this.idleWaiters.push(done));
  }

  /** Asynchronous invocations waiting on the clock for their next attempt. */
  get scheduledRetries(): number {
    return this.retryTimers.size;
  }

  /** Stops every execution environment; queued invocations fail with `ServiceException`. */
  async close(): Promise<void> {
    this.closed = true;
    for (const cancel of this.retryTimers) cancel();
    this.retryTimers.clear();
    const error = new AwsServiceError('ServiceException', 'the local Lambda service was shut down', 500);
    await Promise.all([...this.deployed.values()].map((fn) => fn.pool.close(error)));
  }

  /** Accepts a name, `name:$LATEST`, a partial ARN (`account:function:name`) or a full ARN. */
  resolve(reference: string): { fn: DeployedFunction; invokedArn: string } {
    const parsed = parseFunctionReference(reference, this.partition);
    const fn = parsed ? this.deployed.get(parsed.name) : undefined;
    // Only the unpublished version exists here: no published versions or aliases.
    if (!parsed || !fn || (parsed.qualifier !== undefined && parsed.qualifier !== '$LATEST')) {
      const arn = reference.startsWith('arn:') ? reference : `arn:aws:lambda:${this.partition.region}:${this.partition.account}:function:${reference}`;
      throw new AwsServiceError('ResourceNotFoundException', `Function not found: ${arn}`, 404);
    }
    return { fn, invokedArn: parsed.qualifier === undefined ? fn.arn : `${fn.arn}:${parsed.qualifier}` };
  }

  async invokeSync(fn: LambdaFunction, invokedArn: string, event: string, requestId: string, logs?: string[]): Promise<InvocationOutcome> {
    if (logs) this.tails.set(requestId, logs);
    try {
      return await this.run(this.deployedFunction(fn), invokedArn, event, requestId);
    } finally {
      this.tails.delete(requestId);
    }
  }

  /** Accepts an `Event` invocation; `delayMs` holds its first attempt, waiting as a retry waits (durably). */
  invokeEvent(fn: LambdaFunction, invokedArn: string, event: string, requestId: string, delayMs?: number): void {
    const invocation: AsyncInvocation = { requestId, functionName: fn.config.name, invokedArn, event, attempt: 0 };
    this.store.accept(invocation);
    if (delayMs !== undefined && delayMs > 0) this.store.scheduleRetry(invocation, this.clock.now() + delayMs);
    // Inside an SNS fan-out the first attempt waits for the fan-out's commit.
    this.store.afterCommit(() => (delayMs !== undefined && delayMs > 0 ? this.retryLater(invocation, delayMs) : this.attemptAsync(invocation)));
  }

  private deployedFunction(fn: LambdaFunction): DeployedFunction {
    const deployed = this.deployed.get(fn.config.name);
    if (!deployed) throw new Error(`function ${fn.config.name} is not deployed here`);
    return deployed;
  }

  private spawn(fn: LambdaFunction, initRequestId: string): ExecutionEnvironment {
    const { config } = fn;
    const now = new Date(this.clock.now());
    const day = now.toISOString().slice(0, 10).replaceAll('-', '/');
    const logGroupName = `/aws/lambda/${config.name}`;
    const logStreamName = `${day}/[$LATEST]${randomBytes(16).toString('hex')}`;
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
      LANG: 'en_US.UTF-8',
      TZ: ':UTC',
      ...config.environment,
      ...this.options.extraEnvironment,
      AWS_REGION: this.options.region,
      AWS_DEFAULT_REGION: this.options.region,
      AWS_EXECUTION_ENV: `AWS_Lambda_${RUNTIME}`,
      AWS_LAMBDA_FUNCTION_NAME: config.name,
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(config.memoryMb),
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
      AWS_LAMBDA_LOG_GROUP_NAME: logGroupName,
      AWS_LAMBDA_LOG_STREAM_NAME: logStreamName,
      LAMBDA_TASK_ROOT: this.options.rootDir,
      _HANDLER: fn.handlerSetting,
    };
    const bundle = this.code?.modules.get(config.entry);
    return new ExecutionEnvironment({
      ...(this.code && bundle ? { bootstrap: bundleBootstrap(this.code.runtime) } : {}),
      init: {
        modulePath: bundle ?? fn.modulePath,
        handlerName: config.handler,
        handlerSetting: fn.handlerSetting,
        functionName: config.name,
        functionVersion: '$LATEST',
        invokedFunctionArn: fn.arn,
        memoryMb: config.memoryMb,
        logGroupName,
        logStreamName,
      },
      env,
      memoryMb: config.memoryMb,
      initRequestId,
      onLine: (line, _stream, requestId) => this.functionLine(config.name, requestId, line, true),
      // On a test's manual clock, the functions' time (EMF timestamps, TTLs, timings) is that clock's too.
      ...(this.clock === systemClock ? {} : { now: () => this.clock.now() }),
    });
  }

  /** Waits for the bundled code once; without it (or if bundling failed) sources are loaded. */
  private async prepareCode(): Promise<void> {
    if (!this.options.code || this.code) return;
    try {
      this.code = await this.options.code;
    } catch (error) {
      this.options.log?.(`lambda: running function sources, bundling failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  private functionLine(functionName: string, requestId: string | undefined, line: string, fromHandler: boolean): void {
    this.options.log?.(`[${functionName} ${requestId ?? '-'}] ${line}`);
    if (requestId !== undefined) this.tails.get(requestId)?.push(line);
    if (!fromHandler) return;
    const emf = extractEmf(line);
    if (!emf) return;
    for (const problem of emf.problems) this.options.log?.(`[${functionName} ${requestId ?? '-'}] EMF not published: ${problem}`);
    for (const { namespace, data } of emf.metrics) this.options.metrics?.putMetricData(namespace, data);
  }

  private async run(fn: DeployedFunction, invokedArn: string, event: string, requestId: string): Promise<InvocationOutcome> {
    if (this.closed) throw new AwsServiceError('ServiceException', 'the local Lambda service was shut down', 500);
    this.begin();
    try {
      const fault = this.options.faults?.active ? this.options.faults.invocation(fn.config.name, requestId) : undefined;
      let outcome = fault ? await injectedOutcome(fault, fn.config, requestId, this.clock) : await fn.pool.run({ requestId, event, invokedFunctionArn: invokedArn });
      if (!outcome.error && Buffer.byteLength(outcome.payload) > SYNC_PAYLOAD_LIMIT) {
        const error = {
          errorType: 'Function.ResponseSizeTooLarge',
          errorMessage: `Response payload size exceeded maximum allowed payload size (${RESPONSE_LIMIT_REPORTED} bytes).`,
          trace: [],
        };
        outcome = { ...outcome, payload: JSON.stringify(error), error };
      }
      this.publishInvocationMetrics(fn, outcome);
      return outcome;
    } finally {
      this.end();
    }
  }

  private begin(): void {
    this.inFlight++;
  }

  private end(): void {
    this.inFlight--;
    if (this.inFlight === 0) for (const done of this.idleWaiters.splice(0)) done();
  }

  private attemptAsync(invocation: AsyncInvocation): void {
    // Lambda keeps the request id across the retries of one asynchronous event. The attempt counts
    // as in flight until its retry (if any) is on the clock, so `idle()` never sees a gap.
    const { requestId, attempt } = invocation;
    const prefix = `[${invocation.functionName} ${requestId}]`;
    const fn = this.deployed.get(invocation.functionName);
    if (!fn) {
      this.store.settle(requestId);
      this.options.log?.(`${prefix} asynchronous invocation dropped: the function no longer exists`);
      return;
    }
    this.begin();
    this.run(fn, invocation.invokedArn, invocation.event, requestId).then(
      (outcome) => {
        if (this.closed) return;
        if (!outcome.error) return this.store.settle(requestId);
        if (attempt >= fn.maxAsyncRetries) {
          this.store.settle(requestId);
          this.options.log?.(`${prefix} asynchronous invocation dropped after ${attempt + 1} attempts: ${outcome.error.errorType}: ${outcome.error.errorMessage}`);
          return;
        }
        const delay = retryDelay(attempt, this.retryDelays);
        this.options.log?.(`${prefix} asynchronous invocation failed (${outcome.error.errorType}); retry ${attempt + 1} in ${delay} ms`);
        const next: AsyncInvocation = { ...invocation, attempt: attempt + 1 };
        this.store.scheduleRetry(next, this.clock.now() + delay);
        this.retryLater(next, delay);
      },
      (error: unknown) => {
        if (!this.closed) this.options.log?.(`${prefix} asynchronous invocation lost: ${String(error)}`);
      },
    ).finally(() => this.end());
  }

  private retryLater(invocation: AsyncInvocation, delay: number): void {
    const cancel = this.clock.schedule(delay, () => {
      this.retryTimers.delete(cancel);
      if (this.closed) return;
      this.store.startRetry(invocation.requestId);
      this.attemptAsync(invocation);
    });
    this.retryTimers.add(cancel);
  }

  private publishInvocationMetrics(fn: LambdaFunction, outcome: InvocationOutcome): void {
    const metrics = this.options.metrics;
    if (!metrics) return;
    const timestamp = this.clock.now();
    const dimensions = { FunctionName: fn.config.name };
    metrics.putMetricData('AWS/Lambda', [
      { metricName: 'Invocations', dimensions, value: 1, unit: 'Count', timestamp },
      { metricName: 'Errors', dimensions, value: outcome.error ? 1 : 0, unit: 'Count', timestamp },
      { metricName: 'Duration', dimensions, value: outcome.durationMs, unit: 'Milliseconds', timestamp },
    ]);
  }
}
