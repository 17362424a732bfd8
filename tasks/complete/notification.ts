/**
 * The SageMaker async inference notification carried in `Records[].Sns.Message` (aws-facts §2).
 * Loose: SageMaker may add fields, and the error shape's failure location is not pinned down.
 */
import { z } from 'zod';

export const notificationSchema = z.looseObject({
  invocationStatus: z.string(),
  inferenceId: z.string().min(1),
  eventTime: z.string().optional(),
  receivedTime: z.string().optional(),
  failureReason: z.string().optional(),
  failureLocation: z.string().optional(),
  requestParameters: z.looseObject({ inputLocation: z.string().optional(), endpointName: z.string().optional() }).optional(),
  responseParameters: z
    .looseObject({ outputLocation: z.string().optional(), failureLocation: z.string().optional(), contentType: z.string().optional() })
    .optional(),
});
export type InferenceNotification = z.infer<typeof notificationSchema>;

export function parseNotification(message: string): InferenceNotification {
  let json: unknown;
  try {
    json = JSON.parse(message);
  } catch {
    throw new Error(`SNS message is not JSON: ${message.slice(0, 200)}`);
  }
  const parsed = notificationSchema.safeParse(json);
  if (!parsed.success) throw new Error(`SNS message is not an async inference notification: ${parsed.error.message}`);
  return parsed.data;
}

/** Milliseconds SageMaker reports between receiving and finishing the request, when both are present. */
export function reportedInferenceMs(n: InferenceNotification): number | undefined {
  if (!n.eventTime || !n.receivedTime) return undefined;
  const ms = Date.parse(n.eventTime) - Date.parse(n.receivedTime);
  return Number.isFinite(ms) && ms >= 0 ? Math.round(ms) : undefined;
}
