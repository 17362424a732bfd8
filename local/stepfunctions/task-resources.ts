/**
 * The Task resources the emulator runs, and what each returns or fails with, as Step Functions
 * reports them (result shapes, error names, history resource labels).
 */
import { randomUUID } from 'node:crypto';
import { AwsServiceError } from '../edge/errors';
import type { EventBusPort, LambdaInvocationResult, LambdaPort } from '../ports';
import { taskError } from './asl-errors';
import type { JsonValue } from './asl-runtime';

export type TaskResource =
  | { readonly kind: 'lambda:invoke'; readonly waitForTaskToken: boolean; readonly resourceType: 'lambda'; readonly resource: string }
  | { readonly kind: 'events:putEvents'; readonly waitForTaskToken: boolean; readonly resourceType: 'events'; readonly resource: string }
  /** A function ARN as the Resource: history uses LambdaFunction* events, the result is the bare payload. */
  | { readonly kind: 'lambda-function'; readonly waitForTaskToken: false; readonly functionArn: string };

const INTEGRATION = /^arn:aws[a-z-]*:states:[a-z0-9-]*:[0-9]*:(lambda|events):(invoke|putEvents)(\.waitForTaskToken)?$/;
const FUNCTION_ARN = /^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]+(:[A-Za-z0-9$_-]+)?$/;

/** Parses a Task `Resource`; undefined when the emulator does not support it. */
export function parseTaskResource(resource: unknown): TaskResource | undefined {
  if (typeof resource !== 'string') return undefined;
  const match = INTEGRATION.exec(resource);
  if (match) {
    const [, service, action, wait] = match;
    const resourceLabel = `${action}${wait ?? ''}`;
    if (service === 'lambda' && action === 'invoke') {
      return { kind: 'lambda:invoke', waitForTaskToken: !!wait, resourceType: 'lambda', resource: resourceLabel };
    }
    if (service === 'events' && action === 'putEvents') {
      return { kind: 'events:putEvents', waitForTaskToken: !!wait, resourceType: 'events', resource: resourceLabel };
    }
    return undefined;
  }
  if (FUNCTION_ARN.test(resource)) return { kind: 'lambda-function', waitForTaskToken: false, functionArn: resource };
  return undefined;
}

/** `Error` = the function's errorType, `Cause` = `{"errorMessage","errorType","trace"}` as a JSON string. */
export function functionErrorToTaskError(functionError: NonNullable<LambdaInvocationResult['functionError']>): Error {
  const cause = JSON.stringify({
    errorMessage: functionError.errorMessage,
    errorType: functionError.errorType,
    trace: functionError.trace,
  });
  return taskError(functionError.errorType, cause);
}

/** A port that throws (no such function, bus…) fails the task as `<Service>.<Exception>`. */
function serviceFailure(service: string, error: unknown): Error {
  const code = error instanceof AwsServiceError ? error.code : error instanceof Error ? error.name : 'ServiceException';
  const message = error instanceof Error ? error.message : String(error);
  return taskError(`${service}.${code.endsWith('Exception') || error instanceof AwsServiceError ? code : 'ServiceException'}`, message);
}

/** Calls the function and returns its payload; a function error rejects with the Catch-visible error. */
export async function invokeFunction(lambda: LambdaPort, functionName: string, payload: unknown): Promise<JsonValue> {
  let result: LambdaInvocationResult;
  try {
    result = await lambda.invoke(functionName, payload);
  } catch (error) {
    throw serviceFailure('Lambda', error);
  }
  if (result.functionError) throw functionErrorToTaskError(result.functionError);
  return (result.payload ?? null) as JsonValue;
}

/** `arn:aws:states:::lambda:invoke`: Parameters `{FunctionName, Payload?}` → Lambda's Invoke response. */
export async function lambdaInvoke(lambda: LambdaPort, parameters: JsonValue): Promise<JsonValue> {
  const params = isObject(parameters) ? parameters : {};
  const functionName = params.FunctionName;
  if (typeof functionName !== 'string' || functionName.length === 0) {
    throw taskError('States.Runtime', 'lambda:invoke needs Parameters.FunctionName (a function name or ARN)');
  }
  const payload = await invokeFunction(lambda, functionName, params.Payload ?? {});
  const requestId = randomUUID();
  const date = new Date().toUTCString();
  const body = JSON.stringify(payload);
  const headers = {
    Connection: 'keep-alive',
    'Content-Length': String(Buffer.byteLength(body)),
    'Content-Type': 'application/json',
    Date: date,
    'X-Amz-Executed-Version': '$LATEST',
    'x-amzn-Remapped-Content-Length': '0',
    'x-amzn-RequestId': requestId,
  };
  return {
    ExecutedVersion: '$LATEST',
    Payload: payload,
    SdkHttpMetadata: {
      AllHttpHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
      HttpHeaders: headers,
      HttpStatusCode: 200,
    },
    SdkResponseMetadata: { RequestId: requestId },
    StatusCode: 200,
  };
}

/** `arn:aws:states:::events:putEvents`: Parameters `{Entries:[…]}`; any failed entry fails the task. */
export async function putEvents(events: EventBusPort, parameters: JsonValue): Promise<JsonValue> {
  const params = isObject(parameters) ? parameters : {};
  if (!Array.isArray(params.Entries) || params.Entries.length === 0) {
    throw taskError('States.Runtime', 'events:putEvents needs Parameters.Entries (a non-empty array)');
  }
  const entries = params.Entries.map((raw) => {
    const entry = isObject(raw) ? raw : {};
    const out: Parameters<EventBusPort['putEvents']>[0][number] = {
      ...(typeof entry.Source === 'string' ? { Source: entry.Source } : {}),
      ...(typeof entry.DetailType === 'string' ? { DetailType: entry.DetailType } : {}),
      ...(entry.Detail !== undefined ? { Detail: typeof entry.Detail === 'string' ? entry.Detail : JSON.stringify(entry.Detail) } : {}),
      ...(typeof entry.EventBusName === 'string' ? { EventBusName: entry.EventBusName } : {}),
      ...(Array.isArray(entry.Resources) ? { Resources: entry.Resources.map(String) } : {}),
      ...(typeof entry.Time === 'string' ? { Time: new Date(entry.Time) } : {}),
    };
    return out;
  });
  let result: Awaited<ReturnType<EventBusPort['putEvents']>>;
  try {
    result = await events.putEvents(entries);
  } catch (error) {
    throw serviceFailure('EventBridge', error);
  }
  const response = {
    Entries: result.Entries.map((e) => ({ ...e })) as JsonValue,
    FailedEntryCount: result.FailedEntryCount,
  };
  if (result.FailedEntryCount > 0) throw taskError('EventBridge.FailedEntry', JSON.stringify(response));
  return response;
}

function isObject(value: unknown): value is Record<string, JsonValue> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
