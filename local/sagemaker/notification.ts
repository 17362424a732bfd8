/**
 * The SNS message an async endpoint publishes when an inference completes or fails, field for field
 * and in the key order of AWS's documented examples (aws-facts §2).
 */

export interface InferenceResultInput {
  readonly region: string;
  readonly eventTime: number;
  readonly receivedTime: number;
  readonly endpointName: string;
  readonly inferenceId: string;
  readonly contentType?: string;
  readonly accept?: string;
  /** Absent for an inline-body request, which has no input object. */
  readonly inputLocation?: string;
}

export interface InferenceResult {
  readonly awsRegion: string;
  readonly eventTime: string;
  readonly receivedTime: string;
  readonly invocationStatus: 'Completed' | 'Failed';
  readonly failureReason?: string;
  readonly requestParameters: {
    readonly contentType?: string;
    readonly accept?: string;
    readonly endpointName: string;
    readonly inputLocation?: string;
  };
  readonly responseParameters?: { readonly contentType?: string; readonly outputLocation?: string; readonly failureLocation?: string };
  readonly inferenceId: string;
  readonly eventVersion: '1.0';
  readonly eventSource: 'aws:sagemaker';
  readonly eventName: 'InferenceResult';
}

function requestParameters(input: InferenceResultInput): InferenceResult['requestParameters'] {
  return {
    ...(input.contentType !== undefined ? { contentType: input.contentType } : {}),
    ...(input.accept !== undefined ? { accept: input.accept } : {}),
    endpointName: input.endpointName,
    ...(input.inputLocation !== undefined ? { inputLocation: input.inputLocation } : {}),
  };
}

const trailer = { eventVersion: '1.0', eventSource: 'aws:sagemaker', eventName: 'InferenceResult' } as const;

export function completedNotification(input: InferenceResultInput, response: { contentType: string; outputLocation: string }): InferenceResult {
  return {
    awsRegion: input.region,
    eventTime: new Date(input.eventTime).toISOString(),
    receivedTime: new Date(input.receivedTime).toISOString(),
    invocationStatus: 'Completed',
    requestParameters: requestParameters(input),
    responseParameters: { contentType: response.contentType, outputLocation: response.outputLocation },
    inferenceId: input.inferenceId,
    ...trailer,
  };
}

/**
 * UNVERIFIED: AWS's error example shows no `responseParameters`, yet the FAQ says the failure path is
 * reported when `S3FailurePath` is set. The key is not in any primary example; this emulator sends
 * `responseParameters.failureLocation`, and consumers should also accept the location returned by
 * InvokeEndpointAsync.
 */
export function failedNotification(input: InferenceResultInput, failureReason: string, failureLocation: string): InferenceResult {
  return {
    awsRegion: input.region,
    eventTime: new Date(input.eventTime).toISOString(),
    receivedTime: new Date(input.receivedTime).toISOString(),
    invocationStatus: 'Failed',
    failureReason,
    requestParameters: requestParameters(input),
    responseParameters: { failureLocation },
    inferenceId: input.inferenceId,
    ...trailer,
  };
}

/**
 * What SageMaker publishes to both async topics after CreateEndpoint, UpdateEndpoint and
 * UpdateEndpointWeightsAndCapacities, to check that it may publish there ("Create an asynchronous
 * inference endpoint": "The notification can simply be ignored"). These three fields, nothing else.
 */
export interface TestNotification {
  readonly eventVersion: '1.0';
  readonly eventSource: 'aws:sagemaker';
  readonly eventName: 'TestNotification';
}

export function testNotification(): TestNotification {
  return { eventVersion: '1.0', eventSource: 'aws:sagemaker', eventName: 'TestNotification' };
}

/** Failure reasons. The model-error wording is AWS's documented text; the others are UNVERIFIED. */
export const failureReasons = {
  modelServerError: (status: number): string =>
    `ClientError: Received server error (${status}) from model. See the SageMaker Endpoint logs in your account for more information.`,
  modelClientError: (status: number, message: string): string =>
    `ClientError: Received client error (${status}) from model with message "${message}". See the SageMaker Endpoint logs in your account for more information.`,
  modelUnreachable: (detail: string): string =>
    `ServerError: Failed to reach the model container (${detail}). See the SageMaker Endpoint logs in your account for more information.`,
  invocationTimeout: (seconds: number): string =>
    `ClientError: Model did not respond within the invocation timeout of ${seconds} seconds (InvocationTimeoutSeconds).`,
  expired: (seconds: number): string =>
    `ClientError: Request expired after waiting ${seconds} seconds in the queue (RequestTTLSeconds) before an instance could process it.`,
  inputDownload: (location: string): string =>
    `ClientError: Failed to download the input from ${location}. Check that the object exists and that the endpoint's execution role can read it.`,
  responseUpload: (location: string): string => `ServerError: Failed to upload the inference response to ${location}.`,
};
