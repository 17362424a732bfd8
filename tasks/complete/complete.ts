/**
 * Complete: runs once per endpoint notification and settles the attempt it names (tasks/shared/settle.ts):
 * a result completes the waiting executions; an error retries the image or fails them. SageMaker's
 * TestNotification is acknowledged. Safe to run twice for one message, and beside the reconciler.
 */
import type { SNSEvent } from 'aws-lambda';
import { getInference, type InferenceItem } from '../shared/coordination';
import { classifyFailure } from '../shared/failure-kinds';
import { settle, type Observation, type SettleDeps, type SettleOutcome } from '../shared/settle';
import { getBytes, parseS3Uri } from '../shared/store';
import { parseMessage, reportedInferenceMs, type InferenceNotification } from './notification';

export type CompleteDeps = SettleDeps;

export type CompleteSummary =
  | {
      readonly inferenceId: string;
      readonly outcome: SettleOutcome | 'unknown-inference';
      /** Tokens completed by this run (closed tokens not counted). */
      readonly completed: number;
      /** The new attempt's InferenceId, when the failure was retried. */
      readonly retryId?: string;
    }
  | { readonly outcome: 'test-notification'; readonly completed: 0 };

export async function complete(event: SNSEvent, deps: CompleteDeps): Promise<CompleteSummary[]> {
  const summaries: CompleteSummary[] = [];
  for (const record of event.Records) {
    const message = parseMessage(record.Sns.Message);
    if (message.kind === 'test') {
      // Sent after every deployment and capacity change; throwing would retry it into the DLQ.
      deps.logger.info('ignoring SageMaker test notification', { topicArn: record.Sns.TopicArn, messageId: record.Sns.MessageId });
      summaries.push({ outcome: 'test-notification', completed: 0 });
    } else {
      summaries.push(await completeOne(message.notification, deps));
    }
  }
  return summaries;
}

export async function completeOne(n: InferenceNotification, deps: CompleteDeps): Promise<CompleteSummary> {
  const inference = await getInference(deps.ddb, deps.config.tableName, n.inferenceId);
  if (!inference) {
    // Every attempt is written before it is invoked, so an unknown id is not one of ours (or long expired).
    deps.logger.warn('notification for an unknown inference', { inferenceId: n.inferenceId });
    return { inferenceId: n.inferenceId, outcome: 'unknown-inference', completed: 0 };
  }
  const observation: Observation =
    n.invocationStatus === 'Completed'
      ? { kind: 'output', ...optional('outputLocation', n.responseParameters?.outputLocation), ...optional('inferenceMs', reportedInferenceMs(n)) }
      : // Classified on SageMaker's reason alone: the model's response appended to it is free text.
        { kind: 'failure', reason: await failureReason(n, inference, deps), failureKind: classifyFailure(n.failureReason ?? '') };
  return { inferenceId: n.inferenceId, ...(await settle(inference, observation, deps)) };
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

async function failureReason(n: InferenceNotification, inference: InferenceItem, deps: CompleteDeps): Promise<string> {
  const reason = n.failureReason ?? 'the endpoint reported a failed inference without a reason';
  const location = n.responseParameters?.failureLocation ?? n.failureLocation ?? inference.failureLocation;
  if (!location) return reason;
  try {
    const { bucket, key } = parseS3Uri(location);
    const body = (await getBytes(deps.s3, bucket, key)).toString('utf8').trim();
    return body ? `${reason} (model response: ${body.slice(0, 2000)})` : reason;
  } catch (error) {
    // The failure body is a detail; the reason alone still tells the producer what happened.
    deps.logger.warn('could not read failure location', { location, error: String(error) });
    return reason;
  }
}
