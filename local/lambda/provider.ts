/**
 * Lambda's REST API on the edge (`Invoke`, `GetFunction`, `GetFunctionConfiguration`,
 * `ListFunctions`): routes, request validation, response headers and Lambda's REST-JSON error shape.
 */
import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { AwsServiceError } from '../edge/errors';
import type { EdgeRequest, EdgeResponse, ServiceHandler } from '../edge/types';
import type { InvocationOutcome } from './function-pool';
import { ASYNC_PAYLOAD_LIMIT, RUNTIME, SYNC_PAYLOAD_LIMIT, type LambdaFunction, type LambdaFunctionConfig } from './models';

/** Set by Lambda; a function's configuration may not set them (CreateFunction rejects them). */
const RESERVED_VARIABLES = [
  '_HANDLER', '_X_AMZN_TRACE_ID', 'AWS_DEFAULT_REGION', 'AWS_REGION', 'AWS_EXECUTION_ENV', 'AWS_LAMBDA_FUNCTION_NAME',
  'AWS_LAMBDA_FUNCTION_MEMORY_SIZE', 'AWS_LAMBDA_FUNCTION_VERSION', 'AWS_LAMBDA_INITIALIZATION_TYPE', 'AWS_LAMBDA_LOG_GROUP_NAME',
  'AWS_LAMBDA_LOG_STREAM_NAME', 'AWS_ACCESS_KEY', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN',
  'AWS_LAMBDA_RUNTIME_API', 'LAMBDA_TASK_ROOT', 'LAMBDA_RUNTIME_DIR',
];
const ENVIRONMENT_LIMIT_BYTES = 4096;

/** What the provider needs of the running service. */
export interface LambdaRuntime {
  readonly account: string;
  /** When the functions were "deployed" (service start), in Lambda's `LastModified` format. */
  readonly lastModified: string;
  /** Throws `ResourceNotFoundException` as Lambda words it. */
  resolve(reference: string): { fn: LambdaFunction; invokedArn: string };
  functions(): readonly LambdaFunction[];
  /** Runs a `RequestResponse` invocation; the function's log lines are appended to `logs` when given. */
  invokeSync(fn: LambdaFunction, invokedArn: string, event: string, requestId: string, logs?: string[]): Promise<InvocationOutcome>;
  /** Accepts an `Event` invocation. */
  invokeEvent(fn: LambdaFunction, invokedArn: string, event: string, requestId: string): void;
}

export class LambdaProvider {
  readonly handler: ServiceHandler;

  constructor(private readonly runtime: LambdaRuntime) {
    this.handler = {
      name: 'lambda',
      signingNames: ['lambda'],
      handle: async (request) => {
        try {
          return await this.route(request);
        } catch (error) {
          if (error instanceof AwsServiceError) return errorResponse(error);
          throw error;
        }
      },
      api: { operations: ['Invoke', 'GetFunction', 'GetFunctionConfiguration', 'ListFunctions'], operationOf: lambdaOperation, errorResponse },
    };
  }

  private async route(request: EdgeRequest): Promise<EdgeResponse> {
    const path = request.rawPath;
    const invoke = /^\/2015-03-31\/functions\/([^/]+)\/invocations\/?$/.exec(path);
    if (invoke?.[1] && request.method === 'POST') return this.invoke(decodeURIComponent(invoke[1]), request);
    if (/^\/2015-03-31\/functions\/?$/.test(path) && request.method === 'GET') return this.listFunctions(request);
    const get = /^\/2015-03-31\/functions\/([^/]+)(\/configuration)?\/?$/.exec(path);
    if (get?.[1] && request.method === 'GET') {
      const { fn } = this.runtime.resolve(withQualifier(decodeURIComponent(get[1]), request.query.get('Qualifier')));
      const configuration = this.configuration(fn);
      if (get[2]) return json(200, configuration);
      return json(200, { Configuration: configuration, Code: { RepositoryType: 'S3', Location: pathToFileURL(fn.modulePath).href } });
    }
    throw new AwsServiceError('UnknownOperationException', `the local Lambda service does not emulate ${request.method} ${path}`, 404);
  }

  private async invoke(functionName: string, request: EdgeRequest): Promise<EdgeResponse> {
    const { fn, invokedArn } = this.runtime.resolve(withQualifier(functionName, request.query.get('Qualifier')));
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
      this.runtime.invokeEvent(fn, invokedArn, event, requestId);
      return { status: 202, headers: { 'x-amzn-requestid': requestId } };
    }
    const tail = header(request, 'x-amz-log-type') === 'Tail';
    const logs: string[] = [];
    const outcome = await this.runtime.invokeSync(fn, invokedArn, event, requestId, tail ? logs : undefined);
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
    const all = [...this.runtime.functions()].sort((a, b) => a.config.name.localeCompare(b.config.name));
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
      Role: `arn:aws:iam::${this.runtime.account}:role/${config.name}`,
      Handler: fn.handlerSetting,
      CodeSize: code.length,
      CodeSha256: createHash('sha256').update(code).digest('base64'),
      Timeout: config.timeoutSeconds,
      MemorySize: config.memoryMb,
      LastModified: this.runtime.lastModified,
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

/** Checks a function's configuration as CreateFunction does (`InvalidParameterValueException`). */
export function validateFunction(config: LambdaFunctionConfig): void {
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

export function tooLarge(limit: number): AwsServiceError {
  return new AwsServiceError('RequestTooLargeException', `Request must be smaller than ${limit} bytes for the InvokeFunction operation`, 413);
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
/** The operation a Lambda REST request calls, as `route` tells them apart. */
function lambdaOperation(request: EdgeRequest): string | undefined {
  const path = request.rawPath;
  if (request.method === 'POST' && /^\/2015-03-31\/functions\/[^/]+\/invocations\/?$/.test(path)) return 'Invoke';
  if (request.method !== 'GET') return undefined;
  if (/^\/2015-03-31\/functions\/?$/.test(path)) return 'ListFunctions';
  const get = /^\/2015-03-31\/functions\/[^/]+(\/configuration)?\/?$/.exec(path);
  if (!get) return undefined;
  return get[1] ? 'GetFunctionConfiguration' : 'GetFunction';
}

function errorResponse(error: AwsServiceError): EdgeResponse {
  return {
    status: error.status,
    headers: { 'content-type': 'application/json', 'x-amzn-errortype': error.code },
    body: JSON.stringify({ Type: error.fault === 'Sender' ? 'User' : 'Service', Message: error.message, message: error.message }),
  };
}
