/**
 * What an execution's event history says, in the console's terms: the request it carried, whether
 * it was a cache hit, started an inference or joined one, the states it went through, and the
 * result event it put on the bus. Pure: GetExecutionHistory's events in, facts out.
 */
import type { HistoryEvent } from '@aws-sdk/client-sfn';

export type CacheOutcome = 'hit' | 'miss' | 'joined';

export const SUCCEEDED_DETAIL_TYPE = 'Image Generation Succeeded';
export const FAILED_DETAIL_TYPE = 'Image Generation Failed';

export interface ResultEvent {
  readonly detailType: string;
  /** The id EventBridge returned to PutEvents, where the history holds it. */
  readonly eventId?: string;
  readonly time: Date;
  readonly executionArn: string;
  readonly detail: unknown;
}

export interface ExecutionFacts {
  readonly input?: unknown;
  readonly requestId?: string;
  readonly cache?: CacheOutcome;
  readonly inferenceId?: string;
  readonly cacheKey?: string;
  /** State names in the order they were entered (a retry or redrive can repeat one). */
  readonly statesEntered: readonly string[];
  /** The state the execution failed in, when it failed inside one. */
  readonly failedState?: string;
  readonly result?: ResultEvent;
}

export function executionFacts(executionArn: string, events: readonly HistoryEvent[]): ExecutionFacts {
  const statesEntered: string[] = [];
  let input: unknown;
  let cache: CacheOutcome | undefined;
  let inferenceId: string | undefined;
  let cacheKey: string | undefined;
  let failedState: string | undefined;
  let current: string | undefined;
  let enteredType: string | undefined;
  let published: { entry: Record<string, unknown>; eventId?: string; time: Date } | undefined;
  let pendingEntry: Record<string, unknown> | undefined;
  let result: ResultEvent | undefined;

  for (const event of events) {
    if (event.executionStartedEventDetails) input = parse(event.executionStartedEventDetails.input);
    const entered = event.stateEnteredEventDetails?.name;
    if (entered !== undefined) {
      statesEntered.push(entered);
      current = entered;
      enteredType = event.type;
    }
    if (event.type === 'TaskFailed' || event.type === 'LambdaFunctionFailed') failedState = current;
    if (event.type?.endsWith('StateExited')) failedState = undefined;
    // Resolve reports what it did in the Lambda response that opens the token wait.
    const submitted = event.taskSubmittedEventDetails;
    if (submitted?.resourceType === 'lambda') {
      const payload = record(record(parse(submitted.output))?.Payload);
      const outcome = payload?.outcome;
      if (outcome === 'hit' || outcome === 'joined') cache = outcome;
      if (outcome === 'started') cache = 'miss';
      if (typeof payload?.inferenceId === 'string') inferenceId = payload.inferenceId;
      if (typeof payload?.cacheKey === 'string') cacheKey = payload.cacheKey;
    }
    const scheduled = event.taskScheduledEventDetails;
    if (scheduled?.resourceType === 'events' && scheduled.resource === 'putEvents') {
      const entries = record(parse(scheduled.parameters))?.Entries;
      pendingEntry = Array.isArray(entries) ? record(entries[0]) : undefined;
    }
    const succeeded = event.taskSucceededEventDetails;
    if (succeeded?.resourceType === 'events' && pendingEntry) {
      const ids = record(parse(succeeded.output))?.Entries;
      const eventId = Array.isArray(ids) ? record(ids[0])?.EventId : undefined;
      published = { entry: pendingEntry, ...(typeof eventId === 'string' ? { eventId } : {}), time: event.timestamp ?? new Date(0) };
    }
    // A Fail state reached after ReportFailure: its error and cause are the published code and message (the contract).
    const failed = event.executionFailedEventDetails;
    if (failed && enteredType === 'FailStateEntered' && failed.error !== undefined) {
      const requestId = requestIdOf(input);
      result = {
        detailType: FAILED_DETAIL_TYPE,
        time: event.timestamp ?? new Date(0),
        executionArn,
        detail: { ...(requestId === undefined ? {} : { requestId }), error: { code: failed.error, message: failed.cause ?? '' } },
      };
    }
  }
  if (published) {
    const detail = published.entry.Detail;
    result = {
      detailType: typeof published.entry.DetailType === 'string' ? published.entry.DetailType : SUCCEEDED_DETAIL_TYPE,
      ...(published.eventId === undefined ? {} : { eventId: published.eventId }),
      time: published.time,
      executionArn,
      detail: typeof detail === 'string' ? parse(detail) : detail,
    };
  }
  if (record(result?.detail)?.cacheHit === true) cache = 'hit';
  const requestId = requestIdOf(input);
  return {
    ...(input === undefined ? {} : { input }),
    ...(requestId === undefined ? {} : { requestId }),
    ...(cache === undefined ? {} : { cache }),
    ...(inferenceId === undefined ? {} : { inferenceId }),
    ...(cacheKey === undefined ? {} : { cacheKey }),
    statesEntered,
    ...(failedState === undefined ? {} : { failedState }),
    ...(result === undefined ? {} : { result }),
  };
}

/** The request id an execution's input (an EventBridge event) carries. */
export function requestIdOf(input: unknown): string | undefined {
  const id = record(record(input)?.detail)?.requestId;
  return typeof id === 'string' ? id : undefined;
}

export function parse(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

export function record(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}
