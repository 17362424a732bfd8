/**
 * Lambda's domain: functions as configured, how a name, partial ARN
 * or ARN refers to one, and the asynchronous invocations waiting for an attempt.
 */
import { isAbsolute, resolve } from 'node:path';
import type { Partition } from '../arns';

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

/** A function as deployed from its configuration (validated by the provider, as CreateFunction is). */
export function defineFunction(config: LambdaFunctionConfig, rootDir: string, { region, account }: Partition): LambdaFunction {
  return {
    config,
    arn: `arn:aws:lambda:${region}:${account}:function:${config.name}`,
    modulePath: isAbsolute(config.entry) ? config.entry : resolve(rootDir, config.entry),
    handlerSetting: `${config.entry.replace(/\.[cm]?[jt]s$/, '')}.${config.handler}`,
    maxAsyncRetries: config.maxAsyncRetries ?? 2,
  };
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
