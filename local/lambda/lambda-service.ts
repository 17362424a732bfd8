/**
 * The local Lambda service: runs the project's handler modules in worker-thread execution
 * environments that look like the Node.js 22 managed runtime from inside (environment variables,
 * `Context`, error documents, timeouts), behind the in-process `LambdaPort` and the Lambda REST API
 * (`Invoke`, `GetFunction`, `GetFunctionConfiguration`, `ListFunctions`) on the edge.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { systemClock, type Clock } from '../clock';
import { AwsServiceError } from '../edge/errors';
import type { EdgeRequest, EdgeResponse, ServiceHandler } from '../edge/types';
import type { LambdaInvocationResult, LambdaPort, MetricsPort } from '../ports';
import { extractEmf } from './emf';
import { bundleBootstrap, ExecutionEnvironment } from './execution-environment';
import { FunctionPool, type InvocationOutcome } from './function-pool';
import type { BundledCode } from './bundle';

export interface LambdaFunctionConfig {
  /** 1-64 of `[A-Za-z0-9_-]`. */
  readonly name: string;
  /** Handler module, relative to `rootDir`, e.g. `tasks/resolve/handler.ts`. */
  readonly entry: string;
  /** Export name of the handler in `entry`. */
  readonly handler: string;
  /** 128-10240. */
  readonly memoryMb: number;
  /** 1-900. */
  readonly timeoutSeconds: number;
  readonly environment: Readonly<Record<string, string>>;
  /** Retries of a failed asynchronous invocation, 0-2. @default 2 */
  readonly maxAsyncRetries?: number;
}

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
}

/** AWS's limit on a synchronous request and response payload. */
export const SYNC_PAYLOAD_LIMIT = 6 * 1024 * 1024;
/** AWS's limit on an asynchronous (`Event`) payload, 1 MB since October 2025. */
export const ASYNC_PAYLOAD_LIMIT = 1024 * 1024;
/** The response limit as the service reports it (the 6 MB plus a small envelope allowance). */
const RESPONSE_LIMIT_REPORTED = 6_291_556;
const RUNTIME = 'nodejs22.x';

/** Set by Lambda; a function's configuration may not set them (CreateFunction rejects them). */
const RESERVED_VARIABLES = [
  '_HANDLER', '_X_AMZN_TRACE_ID', 'AWS_DEFAULT_REGION', 'AWS_REGION', 'AWS_EXECUTION_ENV', 'AWS_LAMBDA_FUNCTION_NAME',
  'AWS_LAMBDA_FUNCTION_MEMORY_SIZE', 'AWS_LAMBDA_FUNCTION_VERSION', 'AWS_LAMBDA_INITIALIZATION_TYPE', 'AWS_LAMBDA_LOG_GROUP_NAME',
  'AWS_LAMBDA_LOG_STREAM_NAME', 'AWS_ACCESS_KEY', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN',
  'AWS_LAMBDA_RUNTIME_API', 'LAMBDA_TASK_ROOT', 'LAMBDA_RUNTIME_DIR',
];
const ENVIRONMENT_LIMIT_BYTES = 4096;

interface LambdaFunction {
  readonly config: LambdaFunctionConfig;
  readonly arn: string;
  readonly modulePath: string;
  readonly handlerSetting: string;
  readonly maxAsyncRetries: number;
  readonly pool: FunctionPool;
}

export class LambdaService implements LambdaPort {
  readonly handler: ServiceHandler;
  private readonly functions = new Map<string, LambdaFunction>();
  private readonly clock: Clock;
  private readonly retryDelays: readonly number[];
  private readonly retryTimers = new Set<() => void>();
  private readonly idleWaiters: (() => void)[] = [];
  /** Log lines collected for `X-Amz-Log-Type: Tail`, by request id. */
  private readonly tails = new Map<string, string[]>();
  private readonly lastModified: string;
  private inFlight = 0;
  private closed = false;
  private code: BundledCode | undefined;

  constructor(private readonly options: LambdaServiceOptions) {
    this.clock = options.clock ?? systemClock;
    this.retryDelays = options.asyncRetryDelaysMs ?? [1000, 2000];
    this.lastModified = new Date(this.clock.now()).toISOString().replace('Z', '+0000');
    const maxConcurrency = options.maxConcurrency ?? 4;
    if (!Number.isInteger(maxConcurrency) || maxConcurrency < 1) {
      throw new AwsServiceError('InvalidParameterValueException', `maxConcurrency must be an integer >= 1, got ${maxConcurrency}`);
    }
    for (const config of options.functions) {
      validateFunction(config);
      if (this.functions.has(config.name)) {
        throw new AwsServiceError('ResourceConflictException', `Function already exist: ${config.name}`, 409);
      }
      const arn = `arn:aws:lambda:${options.region}:${options.account}:function:${config.name}`;
      const fn: LambdaFunction = {
        config,
        arn,
        modulePath: isAbsolute(config.entry) ? config.entry : resolve(options.rootDir, config.entry),
        handlerSetting: `${config.entry.replace(/\.[cm]?[jt]s$/, '')}.${config.handler}`,
        maxAsyncRetries: config.maxAsyncRetries ?? 2,
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
      this.functions.set(config.name, fn);
    }
    preloadSharp(options.rootDir);
    this.handler = {
      name: 'lambda',
      signingNames: ['lambda'],
      handle: (request) => this.handle(request),
    };
  }

  functionArn(name: string): string {
    return this.lookup(name).fn.arn;
  }

  async invoke(functionNameOrArn: string, payload: unknown): Promise<LambdaInvocationResult> {
    const { fn, invokedArn } = this.lookup(functionNameOrArn);
    const outcome = await this.run(fn, invokedArn, serializeEvent(payload, SYNC_PAYLOAD_LIMIT), randomUUID());
    return toResult(outcome);
  }

  invokeAsync(functionNameOrArn: string, payload: unknown): void {
    const { fn, invokedArn } = this.lookup(functionNameOrArn);
    this.startAsync(fn, invokedArn, serializeEvent(payload, ASYNC_PAYLOAD_LIMIT), randomUUID(), 0);
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
    await Promise.all([...this.functions.values()].map((fn) => fn.pool.close(error)));
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

  private async run(fn: LambdaFunction, invokedArn: string, event: string, requestId: string): Promise<InvocationOutcome> {
    if (this.closed) throw new AwsServiceError('ServiceException', 'the local Lambda service was shut down', 500);
    this.begin();
    try {
      let outcome = await fn.pool.run({ requestId, event, invokedFunctionArn: invokedArn });
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

  private startAsync(fn: LambdaFunction, invokedArn: string, event: string, requestId: string, attempt: number): void {
    // Lambda keeps the request id across the retries of one asynchronous event. The attempt counts
    // as in flight until its retry (if any) is on the clock, so `idle()` never sees a gap.
    this.begin();
    this.run(fn, invokedArn, event, requestId).then(
      (outcome) => {
        if (!outcome.error || this.closed) return;
        const prefix = `[${fn.config.name} ${requestId}]`;
        if (attempt >= fn.maxAsyncRetries) {
          this.options.log?.(`${prefix} asynchronous invocation dropped after ${attempt + 1} attempts: ${outcome.error.errorType}: ${outcome.error.errorMessage}`);
          return;
        }
        const delay = this.retryDelays[Math.min(attempt, this.retryDelays.length - 1)] ?? 0;
        this.options.log?.(`${prefix} asynchronous invocation failed (${outcome.error.errorType}); retry ${attempt + 1} in ${delay} ms`);
        const cancel = this.clock.schedule(delay, () => {
          this.retryTimers.delete(cancel);
          if (!this.closed) this.startAsync(fn, invokedArn, event, requestId, attempt + 1);
        });
        this.retryTimers.add(cancel);
      },
      (error: unknown) => {
        if (!this.closed) this.options.log?.(`[${fn.config.name} ${requestId}] asynchronous invocation lost: ${String(error)}`);
      },
    ).finally(() => this.end());
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

  /** Accepts a name, `name:$LATEST`, a partial ARN (`account:function:name`) or a full ARN. */
  private lookup(functionNameOrArn: string): { fn: LambdaFunction; invokedArn: string } {
    const notFound = () =>
      new AwsServiceError(
        'ResourceNotFoundException',
        `Function not found: ${functionNameOrArn.startsWith('arn:') ? functionNameOrArn : `arn:aws:lambda:${this.options.region}:${this.options.account}:function:${functionNameOrArn}`}`,
        404,
      );
    const full = /^arn:aws[a-z-]*:lambda:([a-z0-9-]+):(\d{12}):function:([^:]+)(?::([^:]+))?$/.exec(functionNameOrArn);
    const partial = /^(\d{12}):function:([^:]+)(?::([^:]+))?$/.exec(functionNameOrArn);
    const plain = /^([^:]+)(?::([^:]+))?$/.exec(functionNameOrArn);
    let name: string | undefined;
    let qualifier: string | undefined;
    if (full) {
      if (full[1] !== this.options.region || full[2] !== this.options.account) throw notFound();
      [name, qualifier] = [full[3], full[4]];
    } else if (partial) {
      if (partial[1] !== this.options.account) throw notFound();
      [name, qualifier] = [partial[2], partial[3]];
    } else if (plain) {
      [name, qualifier] = [plain[1], plain[2]];
    }
    const fn = name === undefined ? undefined : this.functions.get(name);
    // Only the unpublished version exists here: no published versions or aliases.
    if (!fn || (qualifier !== undefined && qualifier !== '$LATEST')) throw notFound();
    return { fn, invokedArn: qualifier === undefined ? fn.arn : `${fn.arn}:${qualifier}` };
  }

  private async handle(request: EdgeRequest): Promise<EdgeResponse> {
    try {
      return await this.route(request);
    } catch (error) {
      if (error instanceof AwsServiceError) return errorResponse(error);
      throw error;
    }
  }

  private async route(request: EdgeRequest): Promise<EdgeResponse> {
    const path = request.rawPath;
    const invoke = /^\/2015-03-31\/functions\/([^/]+)\/invocations\/?$/.exec(path);
    if (invoke?.[1] && request.method === 'POST') return this.invokeOperation(decodeURIComponent(invoke[1]), request);
    if (/^\/2015-03-31\/functions\/?$/.test(path) && request.method === 'GET') return this.listFunctions(request);
    const get = /^\/2015-03-31\/functions\/([^/]+)(\/configuration)?\/?$/.exec(path);
    if (get?.[1] && request.method === 'GET') {
      const name = withQualifier(decodeURIComponent(get[1]), request.query.get('Qualifier'));
      const { fn } = this.lookup(name);
      const configuration = this.configuration(fn);
      if (get[2]) return json(200, configuration);
      return json(200, { Configuration: configuration, Code: { RepositoryType: 'S3', Location: pathToFileURL(fn.modulePath).href } });
    }
    throw new AwsServiceError('UnknownOperationException', `the local Lambda service does not emulate ${request.method} ${path}`, 404);
  }

  private async invokeOperation(functionName: string, request: EdgeRequest): Promise<EdgeResponse> {
    const { fn, invokedArn } = this.lookup(withQualifier(functionName, request.query.get('Qualifier')));
    const invocationType = header(request, 'x-amz-invocation-type') ?? 'RequestResponse';
    if (!['RequestResponse', 'Event', 'DryRun'].includes(invocationType)) {
      throw new AwsServiceError(
        'InvalidParameterValueException',
        `1 validation error detected: Value '${invocationType}' at 'invocationType' failed to satisfy constraint: Member must satisfy enum value set: [Event, RequestResponse, DryRun]`,
      );
    }
    const limit = invocationType === 'Event' ? ASYNC_PAYLOAD_LIMIT : SYNC_PAYLOAD_LIMIT;
    if (request.body.length > limit) throw tooLarge(limit);
    let event = '{}';
    if (request.body.length > 0) {
      const text = request.body.toString('utf8');
      try {
        JSON.parse(text);
      } catch (error) {
        throw new AwsServiceError('InvalidRequestContentException', `Could not parse request body into json: ${(error as Error).message}`);
      }
      event = text;
    }
    if (invocationType === 'DryRun') return { status: 204 };
    const requestId = randomUUID();
    if (invocationType === 'Event') {
      this.startAsync(fn, invokedArn, event, requestId, 0);
      return { status: 202, headers: { 'x-amzn-requestid': requestId } };
    }
    const logs: string[] = [];
    const tail = header(request, 'x-amz-log-type') === 'Tail';
    if (tail) this.tails.set(requestId, logs);
    let outcome: InvocationOutcome;
    try {
      outcome = await this.run(fn, invokedArn, event, requestId);
    } finally {
      this.tails.delete(requestId);
    }
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'x-amzn-requestid': requestId,
      'x-amz-executed-version': '$LATEST',
    };
    if (outcome.error) headers['x-amz-function-error'] = 'Unhandled';
    // Like Lambda's tail: the last 4 KB of the invocation's log, base64.
    if (tail) headers['x-amz-log-result'] = Buffer.from(logs.join('\n') + '\n').subarray(-4096).toString('base64');
    const body = outcome.error?.errorType.startsWith('Sandbox.') ? JSON.stringify({ errorType: outcome.error.errorType, errorMessage: outcome.error.errorMessage }) : outcome.payload;
    return { status: 200, headers, body };
  }

  private listFunctions(request: EdgeRequest): EdgeResponse {
    const all = [...this.functions.values()].sort((a, b) => a.config.name.localeCompare(b.config.name));
    const maxItems = Number(request.query.get('MaxItems') ?? 50);
    if (!Number.isInteger(maxItems) || maxItems < 1 || maxItems > 10_000) {
      throw new AwsServiceError('InvalidParameterValueException', `MaxItems must be an integer between 1 and 10000, got ${request.query.get('MaxItems')}`);
    }
    const marker = request.query.get('Marker');
    const start = marker ? all.findIndex((fn) => fn.config.name > marker) : 0;
    const page = start < 0 ? [] : all.slice(start, start + maxItems);
    const last = page.at(-1);
    const more = start >= 0 && start + maxItems < all.length;
    return json(200, { Functions: page.map((fn) => this.configuration(fn)), ...(more && last ? { NextMarker: last.config.name } : {}) });
  }

  private configuration(fn: LambdaFunction) {
    const { config } = fn;
    let code: Buffer;
    try {
      code = readFileSync(fn.modulePath);
    } catch {
      code = Buffer.alloc(0);
    }
    return {
      FunctionName: config.name,
      FunctionArn: fn.arn,
      Runtime: RUNTIME,
      Role: `arn:aws:iam::${this.options.account}:role/${config.name}`,
      Handler: fn.handlerSetting,
      CodeSize: code.length,
      CodeSha256: createHash('sha256').update(code).digest('base64'),
      Timeout: config.timeoutSeconds,
      MemorySize: config.memoryMb,
      LastModified: this.lastModified,
      Version: '$LATEST',
      Environment: { Variables: { ...config.environment } },
      TracingConfig: { Mode: 'PassThrough' },
      State: 'Active',
      LastUpdateStatus: 'Successful',
      PackageType: 'Zip',
      Architectures: [process.arch === 'arm64' ? 'arm64' : 'x86_64'],
      EphemeralStorage: { Size: 512 },
      LoggingConfig: { LogFormat: 'Text', LogGroup: `/aws/lambda/${config.name}` },
    };
  }
}

function validateFunction(config: LambdaFunctionConfig): void {
  const invalid = (message: string) => new AwsServiceError('InvalidParameterValueException', `function ${config.name}: ${message}`);
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(config.name)) throw invalid('FunctionName must be 1-64 characters of [A-Za-z0-9_-]');
  if (!Number.isInteger(config.memoryMb) || config.memoryMb < 128 || config.memoryMb > 10_240) throw invalid(`MemorySize must be an integer 128-10240, got ${config.memoryMb}`);
  if (!Number.isInteger(config.timeoutSeconds) || config.timeoutSeconds < 1 || config.timeoutSeconds > 900) throw invalid(`Timeout must be an integer 1-900, got ${config.timeoutSeconds}`);
  const retries = config.maxAsyncRetries ?? 2;
  if (!Number.isInteger(retries) || retries < 0 || retries > 2) throw invalid(`MaximumRetryAttempts must be 0-2, got ${retries}`);
  if (!/^[A-Za-z_$][\w$]*$/.test(config.handler)) throw invalid(`handler must be an export name, got "${config.handler}"`);
  const reserved = Object.keys(config.environment).filter((key) => RESERVED_VARIABLES.includes(key));
  if (reserved.length) {
    throw invalid(
      `Lambda was unable to configure your environment variables because the environment variables you have provided contains reserved keys that are currently not supported for modification. Reserved keys used in this request: ${reserved.join(', ')}`,
    );
  }
  const bad = Object.keys(config.environment).find((key) => !/^[a-zA-Z]\w*$/.test(key));
  if (bad !== undefined) throw invalid(`environment variable name "${bad}" must match [a-zA-Z]([a-zA-Z0-9_])+`);
  const size = Buffer.byteLength(JSON.stringify(config.environment));
  if (size > ENVIRONMENT_LIMIT_BYTES) throw invalid(`environment variables take ${size} bytes, more than the 4 KB limit`);
}

/** On Linux, libvips must be loaded by the main thread before any worker loads sharp (sharp's docs). */
function preloadSharp(rootDir: string): void {
  try {
    createRequire(join(rootDir, 'package.json'))('sharp');
  } catch {
    // sharp is not installed: no function can use it, nothing to preload.
  }
}

function serializeEvent(payload: unknown, limit: number): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(payload);
  } catch (error) {
    throw new AwsServiceError('InvalidRequestContentException', `Could not serialize the payload as JSON: ${(error as Error).message}`);
  }
  text ??= '{}';
  if (Buffer.byteLength(text) > limit) throw tooLarge(limit);
  return text;
}

function tooLarge(limit: number): AwsServiceError {
  return new AwsServiceError('RequestTooLargeException', `Request must be smaller than ${limit} bytes for the InvokeFunction operation`, 413);
}

function toResult(outcome: InvocationOutcome): LambdaInvocationResult {
  const payload: unknown = JSON.parse(outcome.payload);
  return outcome.error ? { payload, functionError: outcome.error } : { payload };
}

function withQualifier(name: string, qualifier: string | null): string {
  return qualifier ? `${name}:${qualifier}` : name;
}

function header(request: EdgeRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function json(status: number, body: unknown): EdgeResponse {
  return { status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

/** Lambda's REST-JSON errors: the type in `x-amzn-errortype`, `{Type, Message}` in the body. */
function errorResponse(error: AwsServiceError): EdgeResponse {
  return {
    status: error.status,
    headers: { 'content-type': 'application/json', 'x-amzn-errortype': error.code },
    body: JSON.stringify({ Type: error.fault === 'Sender' ? 'User' : 'Service', Message: error.message, message: error.message }),
  };
}
