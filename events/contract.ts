/**
 * The names of the public contract (../shared/design/contract.md) that every event schema, the
 * topology and the tasks agree on. The contract owns them: this module imports nothing of the
 * pipeline, so producers can depend on `events/` alone.
 */
export const REQUEST_DETAIL_TYPE = 'Image Generation Requested';
export const RESULT_SOURCE = 'imagegen';

/** Image sizes accepted when the deployment configures none (Neuron-compiled models have static shapes). */
export const DEFAULT_SUPPORTED_SIZES: readonly string[] = ['1024x1024'];

export const INVALID_REQUEST = 'InvalidRequest';
export const INFERENCE_FAILED = 'InferenceFailed';
export const INFERENCE_TIMED_OUT = 'InferenceTimedOut';
export const POST_PROCESSING_FAILED = 'PostProcessingFailed';
export const INTERNAL = 'Internal';

/** The `error.code` values of an `Image Generation Failed` event. */
export const ERROR_CODES = [INVALID_REQUEST, INFERENCE_FAILED, INFERENCE_TIMED_OUT, POST_PROCESSING_FAILED, INTERNAL] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];
