/** EventBridge's modelled errors, worded as the service words them. */
import { AwsServiceError } from '../edge/errors';
import { inputReaders } from '../shared/input';

export function validation(message: string): AwsServiceError {
  return new AwsServiceError('ValidationException', message);
}

export function notFound(message: string): AwsServiceError {
  return new AwsServiceError('ResourceNotFoundException', message);
}

/** Readers of the JSON body's members, with EventBridge's validation wording. */
export const read = inputReaders({
  missing: (field) => validation(`1 validation error detected: Value at '${field}' failed to satisfy constraint: Member must not be null`),
  invalid: (field, detail) => validation(`1 validation error detected: Value at '${field}' failed to satisfy constraint: Member ${detail}`),
});
