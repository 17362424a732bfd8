/**
 * Lambda's domain: functions as configured (validated like CreateFunction), how a name, partial ARN
 * or ARN refers to one, and the asynchronous invocations waiting for an attempt.
 */
import { isAbsolute, resolve } from 'node:path';
import type { Partition } from '../arns';
import { AwsServiceError } from '../edge/errors';

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

export interface LambdaFunction {
  readonly config: LambdaFunctionConfig;
  readonly arn: string;
  /** Absolute path of the handler module. */
  readonly modulePath: string;
  /** `_HANDLER`, e.g. `tasks/resolve/handler.handler`. */
  readonly handlerSetting: string;
  readonly maxAsyncRetries: number;
}

/** One `Event` invocation: accepted once, attempted up to 1 + maxAsyncRetries times under one request id. */
export interface AsyncInvocation {
  readonly requestId: string;
  readonly functionName: string;
  /** The ARN the caller used (with its qualifier, if any): the handler's `invokedFunctionArn`. */
  readonly invokedArn: string;
  /** The event as JSON text. */
  readonly event: string;
  /** 0 for the first attempt. */
  readonly attempt: number;
}

/** AWS's limit on a synchronous request and response payload. */
export const SYNC_PAYLOAD_LIMIT = 6 * 1024 * 1024;
/** AWS's limit on an asynchronous (`Event`) payload, 1 MB since October 2025. */
export const ASYNC_PAYLOAD_LIMIT = 1024 * 1024;
export const RUNTIME = 'nodejs22.x';

/** Set by Lambda; a function's configuration may not set them (CreateFunction rejects them). */
const RESERVED_VARIABLES = [
  '_HANDLER', '_X_AMZN_TRACE_ID', 'AWS_DEFAULT_REGION', 'AWS_REGION', 'AWS_EXECUTION_ENV', 'AWS_LAMBDA_FUNCTION_NAME',
  'AWS_LAMBDA_FUNCTION_MEMORY_SIZE', 'AWS_LAMBDA_FUNCTION_VERSION', 'AWS_LAMBDA_INITIALIZATION_TYPE', 'AWS_LAMBDA_LOG_GROUP_NAME',
  'AWS_LAMBDA_LOG_STREAM_NAME', 'AWS_ACCESS_KEY', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN',
  'AWS_LAMBDA_RUNTIME_API', 'LAMBDA_TASK_ROOT', 'LAMBDA_RUNTIME_DIR',
];
const ENVIRONMENT_LIMIT_BYTES = 4096;

/** A validated function; throws `InvalidParameterValueException` as CreateFunction would. */
export function defineFunction(config: LambdaFunctionConfig, rootDir: string, { region, account }: Partition): LambdaFunction {
  validateFunction(config);
  return {
    config,
    arn: `arn:aws:lambda:${region}:${account}:function:${config.name}`,
    modulePath: isAbsolute(config.entry) ? config.entry : resolve(rootDir, config.entry),
    handlerSetting: `${config.entry.replace(/\.[cm]?[jt]s$/, '')}.${config.handler}`,
    maxAsyncRetries: config.maxAsyncRetries ?? 2,
  };
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

/**
 * The function name and qualifier a reference names: a name, `name:qualifier`, a partial ARN
 * (`account:function:name`) or a full ARN. Undefined when it points at another region or account.
 */
export function parseFunctionReference(reference: string, { region, account }: Partition): { name: string; qualifier: string | undefined } | undefined {
  const full = /^arn:aws[a-z-]*:lambda:([a-z0-9-]+):(\d{12}):function:([^:]+)(?::([^:]+))?$/.exec(reference);
  if (full) return full[1] === region && full[2] === account ? { name: full[3] as string, qualifier: full[4] } : undefined;
  const partial = /^(\d{12}):function:([^:]+)(?::([^:]+))?$/.exec(reference);
  if (partial) return partial[1] === account ? { name: partial[2] as string, qualifier: partial[3] } : undefined;
  const plain = /^([^:]+)(?::([^:]+))?$/.exec(reference);
  return plain ? { name: plain[1] as string, qualifier: plain[2] } : undefined;
}

/** Delay before the retry that follows attempt `attempt` (0-based); the last delay repeats. */
export function retryDelay(attempt: number, delaysMs: readonly number[]): number {
  return delaysMs[Math.min(attempt, delaysMs.length - 1)] ?? 0;
}
