/**
 * Which AWS SDK errors the workflow retries (as `Transient`) and which it reports at once, with the
 * errors built as the SDK raises them from a response (its class, name and HTTP status).
 */
import {
  ConditionalCheckFailedException,
  InternalServerError,
  ProvisionedThroughputExceededException,
  ReplicatedWriteConflictException,
  RequestLimitExceeded,
  ThrottlingException,
} from '@aws-sdk/client-dynamodb';
import { InternalFailure, ServiceUnavailable, ValidationError } from '@aws-sdk/client-sagemaker-runtime';
import { NoSuchKey, S3ServiceException } from '@aws-sdk/client-s3';
import { classify, isRetryableSdkError, TransientError } from '../../../tasks/shared/errors';

const response = (httpStatusCode: number) => ({ message: 'from the service', $metadata: { httpStatusCode, requestId: 'req-1' } });

describe('isRetryableSdkError', () => {
  it.each([
    ['DynamoDB throttling (400)', new ProvisionedThroughputExceededException(response(400))],
    ['DynamoDB account request limit (400)', new RequestLimitExceeded(response(400))],
    ['DynamoDB ThrottlingException (400)', new ThrottlingException(response(400))],
    ['a write conflict the SDK marks retryable (400)', new ReplicatedWriteConflictException(response(400))],
    ['DynamoDB InternalServerError (500)', new InternalServerError(response(500))],
    ['SageMaker InternalFailure (500)', new InternalFailure(response(500))],
    ['SageMaker ServiceUnavailable (503)', new ServiceUnavailable(response(503))],
    ['S3 SlowDown (503)', new S3ServiceException({ name: 'SlowDown', $fault: 'server', ...response(503) })],
  ])('retries %s', (_what, error) => {
    expect(isRetryableSdkError(error)).toBe(true);
  });

  it.each([
    ['a failed condition (400)', new ConditionalCheckFailedException(response(400))],
    ['SageMaker ValidationError (400)', new ValidationError(response(400))],
    ['S3 NoSuchKey (404)', new NoSuchKey(response(404))],
    ['an error with no response', new TypeError("Cannot read properties of undefined (reading 'x')")],
    ['a thrown string', 'ProvisionedThroughputExceededException'],
    ['a thrown null', null],
    ['a thrown undefined', undefined],
  ])('reports %s at once', (_what, error) => {
    expect(isRetryableSdkError(error)).toBe(false);
  });
});

describe('classify', () => {
  it('wraps a retryable error in a Transient error that says what failed and keeps the original as its cause', () => {
    const throttled = new ProvisionedThroughputExceededException({ message: 'Rate of requests exceeds the allowed throughput.', $metadata: { httpStatusCode: 400 } });
    const classified = classify(throttled, 'taking the image lease failed');
    expect(classified).toBeInstanceOf(TransientError);
    expect(classified).toMatchObject({ name: 'Transient', message: 'taking the image lease failed: Rate of requests exceeds the allowed throughput.' });
    expect((classified as Error).cause).toBe(throttled);
  });

  it('returns any other error unchanged, so its own name reaches the workflow', () => {
    const conflict = new ConditionalCheckFailedException(response(400));
    expect(classify(conflict, 'claiming the requestId failed')).toBe(conflict);
    expect(classify(undefined, 'claiming the requestId failed')).toBeUndefined();
  });
});
