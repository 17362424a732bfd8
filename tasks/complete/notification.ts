/**
 * The SageMaker messages carried in `Records[].Sns.Message`: an async inference result (aws-facts §2;
 * loose, as SageMaker may add fields and the error shape's failure location is not pinned down), or
 * the TestNotification SageMaker sends to both topics after creating or updating the endpoint and
 * after every capacity change, which carries no inference and is to be ignored.
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

export const testNotificationSchema = z.looseObject({ eventSource: z.literal('aws:sagemaker'), eventName: z.literal('TestNotification') });

export type SageMakerMessage = { readonly kind: 'result'; readonly notification: InferenceNotification } | { readonly kind: 'test' };

export function parseMessage(message: string): SageMakerMessage {
  let json: unknown;
  try {
    json = JSON.parse(message);
  } catch {
    throw new Error(`SNS message is not JSON: ${message.slice(0, 200)}`);
  }
  if (testNotificationSchema.safeParse(json).success) return { kind: 'test' };
  const parsed = notificationSchema.safeParse(json);
  if (!parsed.success) throw new Error(`SNS message is not an async inference notification: ${parsed.error.message}`);
  return { kind: 'result', notification: parsed.data };
}

/** Milliseconds SageMaker reports between receiving and finishing the request, when both are present. */
export function reportedInferenceMs(n: InferenceNotification): number | undefined {
  if (!n.eventTime || !n.receivedTime) return undefined;
  const ms = Date.parse(n.eventTime) - Date.parse(n.receivedTime);
  return Number.isFinite(ms) && ms >= 0 ? Math.round(ms) : undefined;
}
