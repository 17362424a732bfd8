/**
 * What passes between a caller and an invocation: the event serialized within Lambda's payload
 * limits, the outcome as the in-process port reports it, and the native module every environment
 * shares.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { AwsServiceError } from '../edge/errors';
import type { LambdaInvocationResult } from '../ports';
import type { InvocationOutcome } from './function-pool';
import { tooLarge } from './provider';

/** On Linux, libvips must be loaded by the main thread before any worker loads sharp (sharp's docs). */
export function preloadSharp(rootDir: string): void {
  try {
    createRequire(join(rootDir, 'package.json'))('sharp');
  } catch {
    // sharp is not installed: no function can use it, nothing to preload.
  }
}

export function serializeEvent(payload: unknown, limit: number): string {
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

export function toResult(outcome: InvocationOutcome): LambdaInvocationResult {
  const payload: unknown = JSON.parse(outcome.payload);
  return outcome.error ? { payload, functionError: outcome.error } : { payload };
}
