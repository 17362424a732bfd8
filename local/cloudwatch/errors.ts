/**
 * CloudWatch's modelled errors. CloudWatch is query-compatible: JSON clients see the exception
 * name (`InvalidParameterValueException`), Query clients and `x-amzn-query-error` carry the Query
 * code (`InvalidParameterValue`).
 */
import { AwsServiceError } from '../edge/errors';

export function invalidParameterValue(message: string): AwsServiceError {
  return new AwsServiceError('InvalidParameterValueException', message, 400, 'InvalidParameterValue');
}

export function missingParameter(field: string): AwsServiceError {
  return new AwsServiceError('MissingRequiredParameterException', `The parameter ${field} is required.`, 400, 'MissingParameter');
}

export function invalidParameterCombination(message: string): AwsServiceError {
  return new AwsServiceError('InvalidParameterCombinationException', message, 400, 'InvalidParameterCombination');
}

export function invalidNextToken(message: string): AwsServiceError {
  return new AwsServiceError('InvalidNextToken', message, 400, 'InvalidNextToken');
}

/** A metric math expression that does not parse or evaluate (Query code `ValidationError`). */
export function expressionError(id: string, message: string): AwsServiceError {
  return new AwsServiceError('ValidationException', `Error in expression '${id}': ${message}`, 400, 'ValidationError');
}
