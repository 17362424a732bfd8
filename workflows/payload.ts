/**
 * The data contract of the `imagegen-request` workflow: what each state receives and returns.
 * Task input types are `Pick`s of `WorkflowPayload`, so the ASL's Parameters and the code agree.
 */
import type { FailedDetail } from '../events/image-generation-failed/schema';
import type { SucceededDetail } from '../events/image-generation-succeeded/schema';

/** What a Catch adds at `$.failure`: a Lambda error, a SendTaskFailure, or a States.* error. */
export interface CaughtError {
  readonly Error?: string | null;
  readonly Cause?: string | null;
}

export interface WorkflowPayload {
  /** The execution input: the EventBridge event exactly as the rule delivered it (not yet validated). */
  readonly event: unknown;
  /** `$$.Task.Token` of the Resolve state. */
  readonly taskToken: string;
  /** `$$.Execution.Id`; identifies this execution's waiter. */
  readonly executionArn: string;
  /** `$.failure` after the Catch. */
  readonly failure: CaughtError;
  /** Resolve's result (through its task token) = Notify's Detail = the execution output. */
  readonly result: SucceededDetail;
  /** ReportFailure's result, read by the Fail state through ErrorPath/CausePath. */
  readonly report: Pick<FailedDetail['error'], 'code' | 'message'>;
}

/** Resolve's Parameters. */
export type ResolvePayload = Pick<WorkflowPayload, 'event' | 'taskToken' | 'executionArn'>;
/**
 * ReportFailure's Payload, with `failure` added by the Catch: after Resolve, the execution input (an
 * event's fields); after Notify, Resolve's result (the success detail that could not be published).
 */
export type ReportFailurePayload = Partial<Pick<WorkflowPayload, 'failure'>> & { readonly detail?: unknown; readonly [field: string]: unknown };
