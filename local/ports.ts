/**
 * In-process ports between emulated services. A service that triggers another (EventBridge → Step
 * Functions, SNS → Lambda, the endpoint → S3/SNS/CloudWatch) calls it through these, not over HTTP,
 * so the wiring is explicit and each service can be tested with fakes.
 */

export interface LambdaInvocationResult {
  /** JSON-parsed return value of the handler (undefined for `Event` invocations). */
  readonly payload: unknown;
  /** Set when the handler threw: `{errorType, errorMessage, trace}` as Lambda reports it. */
  readonly functionError?: { readonly errorType: string; readonly errorMessage: string; readonly trace: readonly string[] };
}

export interface LambdaPort {
  /** Synchronous (`RequestResponse`) invocation. Resolves with the function error rather than throwing. */
  invoke(functionNameOrArn: string, payload: unknown): Promise<LambdaInvocationResult>;
  /**
   * Asynchronous (`Event`) invocation: queued, retried like Lambda (up to the function's maxAsyncRetries).
   * `delayMs` holds the first attempt that long (a delayed delivery), durably like a retry's wait.
   */
  invokeAsync(functionNameOrArn: string, payload: unknown, options?: { readonly delayMs?: number }): void;
}

export interface StepFunctionsPort {
  startExecution(input: { stateMachineArn: string; input: string; name?: string }): Promise<{ executionArn: string }>;
}

export interface EventBusPort {
  putEvents(
    entries: readonly {
      Source?: string;
      DetailType?: string;
      Detail?: string;
      EventBusName?: string;
      Resources?: readonly string[];
      Time?: Date;
    }[],
  ): Promise<{ FailedEntryCount: number; Entries: readonly { EventId?: string; ErrorCode?: string; ErrorMessage?: string }[] }>;
}

export interface TopicPort {
  publish(topicArn: string, message: string, subject?: string): Promise<{ messageId: string }>;
}

export interface ObjectStorePort {
  getObject(bucket: string, key: string): Promise<{ body: Buffer; contentType: string } | undefined>;
  putObject(bucket: string, key: string, body: Buffer, contentType: string): Promise<void>;
}

export interface MetricDatum {
  readonly metricName: string;
  readonly dimensions: Readonly<Record<string, string>>;
  readonly value: number;
  readonly unit?: string;
  /** Epoch milliseconds. */
  readonly timestamp: number;
}

export interface MetricsPort {
  putMetricData(namespace: string, data: readonly MetricDatum[]): void;
}

/** The emulated endpoint's capacity, as Application Auto Scaling sees and sets it. */
export interface EndpointCapacityPort {
  /** In-service and desired instance counts of a variant. */
  getCapacity(endpointName: string, variantName: string): { current: number; desired: number };
  /** Sets the desired count; instances come into service after the modelled start-up delay. */
  setDesiredInstanceCount(endpointName: string, variantName: string, desired: number): void;
}
