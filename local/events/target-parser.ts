/** PutTargets' target members: ids, input options and retry policy, checked as EventBridge checks them. */
import { validation } from './errors';
import type { Target } from './models';
import { parseJsonPath, validateInputTransformer } from './transform';

export function parseTarget(raw: Readonly<Record<string, unknown>>): Target {
  const id = raw.Id;
  const arn = raw.Arn;
  if (typeof id !== 'string' || !/^[.\-_A-Za-z0-9]{1,64}$/.test(id)) throw validation('Target Id is required: 1-64 characters of [.-_A-Za-z0-9]');
  if (typeof arn !== 'string' || arn.length === 0) throw validation(`Target ${id}: Arn is required`);
  const given = ['Input', 'InputPath', 'InputTransformer'].filter((k) => raw[k] !== undefined);
  if (given.length > 1) throw validation(`Target ${id}: only one of Input, InputPath and InputTransformer may be set (got ${given.join(', ')})`);
  const target: { -readonly [K in keyof Target]: Target[K] } = { Id: id, Arn: arn };
  if (typeof raw.Input === 'string') {
    if (raw.Input.length > 8192) throw validation(`Target ${id}: Input is longer than 8192 characters`);
    try {
      JSON.parse(raw.Input);
    } catch {
      throw validation(`Target ${id}: Input is not valid JSON text`);
    }
    target.Input = raw.Input;
  }
  if (typeof raw.InputPath === 'string') {
    if (raw.InputPath.length > 256) throw validation(`Target ${id}: InputPath is longer than 256 characters`);
    parseJsonPath(raw.InputPath, `Target ${id} InputPath`);
    target.InputPath = raw.InputPath;
  }
  if (raw.InputTransformer !== undefined) {
    const transformer = raw.InputTransformer as { InputPathsMap?: Record<string, string>; InputTemplate: string };
    validateInputTransformer(transformer, id);
    target.InputTransformer = transformer;
  }
  const retry = raw.RetryPolicy as { MaximumRetryAttempts?: unknown; MaximumEventAgeInSeconds?: unknown } | undefined;
  if (retry) {
    const attempts = retry.MaximumRetryAttempts;
    const age = retry.MaximumEventAgeInSeconds;
    if (attempts !== undefined && (typeof attempts !== 'number' || !Number.isInteger(attempts) || attempts < 0 || attempts > 185)) {
      throw validation(`Target ${id}: RetryPolicy.MaximumRetryAttempts must be an integer 0-185`);
    }
    if (age !== undefined && (typeof age !== 'number' || !Number.isInteger(age) || age < 60 || age > 86_400)) {
      throw validation(`Target ${id}: RetryPolicy.MaximumEventAgeInSeconds must be an integer 60-86400`);
    }
    target.RetryPolicy = {
      ...(typeof attempts === 'number' ? { MaximumRetryAttempts: attempts } : {}),
      ...(typeof age === 'number' ? { MaximumEventAgeInSeconds: age } : {}),
    };
  }
  return target;
}
