/** How one request of a campaign run ended, as the summary, summary.json and the gallery show it. */
export interface RequestOutcome {
  readonly requestId: string;
  /** The request's prompt, when it had one (shown in the gallery). */
  readonly prompt?: string;
  readonly status: 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED' | 'NOT_STARTED';
  /** `succeeded`, or `failed (Code)`. */
  readonly expected: string;
  readonly asExpected: boolean;
  readonly cacheHit?: boolean;
  readonly latencyMs?: number;
  readonly errorCode?: string;
  readonly errorMessage?: string;
  readonly executionArn?: string;
  readonly files: readonly string[];
}
