/**
 * ReportFailure: turns the Catch's `{Error, Cause}` into a contract error code and message,
 * publishes `Image Generation Failed`, and returns `{code, message}` for the Fail state.
 */
import { PutEventsCommand, type EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { DETAIL_TYPE, SOURCE, type FailedDetail } from '../../events/image-generation-failed/schema';
import { METADATA_MAX_BYTES } from '../../events/image-generation-requested/schema';
import type { ReportFailurePayload } from '../../workflows/payload';
import type { ReportFailureConfig } from '../shared/config';
import {
  INFERENCE_FAILED,
  INFERENCE_TIMED_OUT,
  INTERNAL,
  INVALID_REQUEST,
  POST_PROCESSING_FAILED,
  TransientError,
  type ErrorCode,
} from '../shared/errors';
import { MetricUnit, type LogSink, type MetricsSink } from '../shared/observability';

/**
 * The state input at a Catch, plus `failure` (ResultPath `$.failure`): the request event when Resolve
 * failed, the success detail when Notify could not publish it.
 */
export type FailureInput = ReportFailurePayload;

export interface FailureReport {
  readonly code: ErrorCode;
  readonly message: string;
}

export interface ReportFailureDeps {
  readonly events: EventBridgeClient;
  readonly config: ReportFailureConfig;
  readonly clock: { now(): number };
  readonly logger: LogSink;
  readonly metrics: MetricsSink;
}

const BY_ERROR: Record<string, ErrorCode> = {
  [INVALID_REQUEST]: INVALID_REQUEST,
  [INFERENCE_FAILED]: INFERENCE_FAILED,
  [POST_PROCESSING_FAILED]: POST_PROCESSING_FAILED,
  // Sent by Complete or the reconciler (a request expired in the queue, or every attempt was lost): its cause says which.
  [INFERENCE_TIMED_OUT]: INFERENCE_TIMED_OUT,
  'States.Timeout': INFERENCE_TIMED_OUT,
  'States.HeartbeatTimeout': INFERENCE_TIMED_OUT,
};

/** Messages stay well inside the Fail state's cause limit and the event size limit. */
const MESSAGE_MAX = 4000;

export function mapFailure(failure: FailureInput['failure']): FailureReport {
  const error = failure?.Error ?? '';
  const code = BY_ERROR[error] ?? INTERNAL;
  const cause = causeMessage(failure?.Cause);
  let message: string;
  switch (code) {
    case INFERENCE_TIMED_OUT:
      message = error === INFERENCE_TIMED_OUT ? cause || 'no image was produced in time' : `no image was produced before the workflow stopped waiting (${error}${cause ? `: ${cause}` : ''}); the endpoint may be overloaded or scaling from zero, send the request again`;
      break;
    case INTERNAL:
      message = `internal error (${error || 'unknown'})${cause ? `: ${cause}` : ''}`;
      break;
    default:
      message = cause || `${code} (no details were given)`;
  }
  return { code, message: message.length > MESSAGE_MAX ? `${message.slice(0, MESSAGE_MAX - 3)}...` : message };
}

/** A Lambda error's Cause is `{"errorMessage","errorType","trace"}` as a string; SendTaskFailure's is free text. */
function causeMessage(cause: string | null | undefined): string {
  if (!cause) return '';
  try {
    // Any other JSON value (a number, a string, null, an object without errorMessage) is free text too.
    const parsed = JSON.parse(cause) as { errorMessage?: unknown } | null;
    if (typeof parsed?.errorMessage === 'string') return parsed.errorMessage;
  } catch {
    // Not JSON: the cause is the message.
  }
  return cause;
}

function readable(detail: unknown): Pick<FailedDetail, 'requestId' | 'metadata'> {
  // Destructuring a string or a number yields neither field, so only null and undefined need a stand-in.
  const { requestId, metadata } = (detail ?? {}) as { requestId?: unknown; metadata?: unknown };
  const out: { requestId?: string; metadata?: FailedDetail['metadata'] & object } = {};
  if (typeof requestId === 'string' && requestId.length > 0 && requestId.length <= 256) out.requestId = requestId;
  if (
    metadata &&
    typeof metadata === 'object' &&
    !Array.isArray(metadata) &&
    Buffer.byteLength(JSON.stringify(metadata), 'utf8') <= METADATA_MAX_BYTES
  ) {
    out.metadata = metadata as FailedDetail['metadata'] & object;
  }
  return out;
}

/** Notify's input is Resolve's result: a success detail carries its cache key and image. */
function isUnpublishedResult(input: FailureInput): boolean {
  return typeof input.cacheKey === 'string' && typeof input.image === 'object' && input.image !== null;
}

/** The image exists and is cached, but its success event could not be put on the bus. */
export function unpublishedResult(input: FailureInput): FailureReport {
  const error = input.failure?.Error ?? 'unknown';
  const cause = causeMessage(input.failure?.Cause);
  const message = `the image was generated (cacheKey ${String(input.cacheKey)}) but its success event could not be published (${error}${cause ? `: ${cause}` : ''}); it is cached, send the request again to receive it`;
  return { code: INTERNAL, message: message.length > MESSAGE_MAX ? `${message.slice(0, MESSAGE_MAX - 3)}...` : message };
}

export async function reportFailure(input: FailureInput, deps: ReportFailureDeps): Promise<FailureReport> {
  const unpublished = isUnpublishedResult(input);
  const report = unpublished ? unpublishedResult(input) : mapFailure(input.failure);
  const detail: FailedDetail = { ...readable(unpublished ? input : input.detail), error: report };
  const out = await deps.events.send(
    new PutEventsCommand({
      Entries: [
        {
          EventBusName: deps.config.eventBusName,
          Source: SOURCE,
          DetailType: DETAIL_TYPE,
          Detail: JSON.stringify(detail),
          Time: new Date(deps.clock.now()),
        },
      ],
    }),
  );
  if ((out.FailedEntryCount ?? 0) > 0) {
    const entry = out.Entries?.[0];
    throw new TransientError(`PutEvents rejected the failure event: ${entry?.ErrorCode ?? 'unknown'} ${entry?.ErrorMessage ?? ''}`.trim());
  }
  deps.metrics.addMetric('Failures', MetricUnit.Count, 1);
  deps.logger.info('reported failure', { requestId: detail.requestId, code: report.code });
  return report;
}
