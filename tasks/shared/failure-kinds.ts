/**
 * Which inference failures are worth a new attempt. SageMaker reports a failure only as free text
 * (`failureReason`, aws-facts §2), documented for model errors alone, so the text is read defensively:
 * the model's own status code first, then the endpoint's wording, and a retry when nothing matches,
 * since a retry costs at most `inferenceRetries` inferences while failing at once loses the request.
 */

/**
 * - `transient`: the same request may succeed (model 5xx, 408 or 429; invocation timeout; model
 *   unreachable; response upload failed; unknown wording) — a new attempt.
 * - `permanent`: it will fail again (model 4xx: the input is bad; the input could not be read) — fail now.
 * - `expired`: it waited its whole RequestTTLSeconds in the queue without an instance — fail now as a
 *   timeout: a retry would queue behind newer work for another TTL, and the TTL is the wait the
 *   deployment accepts.
 */
export type FailureKind = 'transient' | 'permanent' | 'expired';

const STATUS = /\b(?:server|client) error \((\d{3})\)/i;
const EXPIRED = /RequestTTLSeconds|\bexpired\b/i;
const TIMED_OUT = /InvocationTimeoutSeconds|\btimed? ?out\b|did not respond/i;
const INPUT_UNREADABLE = /failed to download the input/i;

export function classifyFailure(reason: string): FailureKind {
  // The model's status first: a 4xx whose message mentions a timeout is still bad input.
  const status = STATUS.exec(reason)?.[1];
  if (status !== undefined) {
    const code = Number(status);
    return code >= 500 || code === 408 || code === 429 ? 'transient' : 'permanent';
  }
  if (EXPIRED.test(reason)) return 'expired';
  if (TIMED_OUT.test(reason)) return 'transient';
  if (INPUT_UNREADABLE.test(reason)) return 'permanent';
  return 'transient';
}

const ENDPOINT_REASON = /^(ClientError|ServerError):/;

/**
 * A failure seen only as its failure object (its notification never came): the endpoint's own
 * failures carry their reason as `{"message": reason}`; a model error object is the model's response,
 * which says nothing of its status, so it counts as unknown (transient) whatever its text says.
 */
export function failureFromObject(location: string, body: string): { readonly reason: string; readonly kind: FailureKind } {
  try {
    const message = (JSON.parse(body) as { message?: unknown }).message;
    if (typeof message === 'string' && ENDPOINT_REASON.test(message)) return { reason: message, kind: classifyFailure(message) };
  } catch {
    // Not JSON: the model's own text.
  }
  const excerpt = body.trim().slice(0, 2000);
  return {
    reason: `the endpoint wrote the failure object ${location} but its error notification was not received${excerpt ? ` (model response: ${excerpt})` : ''}`,
    kind: 'transient',
  };
}
