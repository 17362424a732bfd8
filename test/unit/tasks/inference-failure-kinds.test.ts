/**
 * Which failed inferences get a new attempt, fail at once, or fail as a timeout, read from the
 * endpoint's failureReason wording (as the local SageMaker's catalogue words it) and from a failure
 * object whose notification never came.
 */
import { classifyFailure, failureFromObject } from '../../../tasks/shared/failure-kinds';

const INPUT = 's3://imagegen-images/async-input/abc.json';
const LOGS = 'See the SageMaker Endpoint logs in your account for more information.';

describe('classifyFailure', () => {
  it.each([
    [`ClientError: Received server error (500) from model. ${LOGS}`, 'transient'],
    [`ClientError: Received server error (503) from model. ${LOGS}`, 'transient'],
    [`ClientError: Received client error (408) from model with message "request timeout". ${LOGS}`, 'transient'],
    [`ClientError: Received client error (429) from model with message "too many requests". ${LOGS}`, 'transient'],
    [`ClientError: Received client error (400) from model with message "width must be a multiple of 64". ${LOGS}`, 'permanent'],
    [`ClientError: Received client error (413) from model with message "prompt too long". ${LOGS}`, 'permanent'],
    // The status decides even when the model's own message speaks of a timeout or an expiry.
    [`ClientError: Received client error (400) from model with message "the prompt timed out the tokenizer". ${LOGS}`, 'permanent'],
    [`ClientError: Received server error (500) from model with message "cache entry expired". ${LOGS}`, 'transient'],
  ])('reads the model status in %s', (reason, kind) => {
    expect(classifyFailure(reason)).toBe(kind);
  });

  it.each([
    ['ClientError: Request expired after waiting 3600 seconds in the queue (RequestTTLSeconds) before an instance could process it.', 'expired'],
    ['ClientError: Model did not respond within the invocation timeout of 900 seconds (InvocationTimeoutSeconds).', 'transient'],
    [`ClientError: Failed to download the input from ${INPUT}. Check that the object exists and that the endpoint's execution role can read it.`, 'permanent'],
    // A download that ran out of time may succeed on a new attempt; a missing input will not.
    [`ClientError: Failed to download the input from ${INPUT} (connection timeout).`, 'transient'],
    [`ClientError: Failed to download the input from ${INPUT}: the read timed out.`, 'transient'],
    [`ClientError: Failed to download the input from ${INPUT}: the store did not respond.`, 'transient'],
    [`ServerError: Failed to reach the model container (connection refused). ${LOGS}`, 'transient'],
    ['ServerError: Failed to upload the inference response to s3://imagegen-images/async-output/abc.out.', 'transient'],
    ['something the endpoint has never said before', 'transient'],
  ])('reads the endpoint wording of %s', (reason, kind) => {
    expect(classifyFailure(reason)).toBe(kind);
  });
});

describe('failureFromObject', () => {
  const LOCATION = 's3://imagegen-images/async-failures/abc-error.out';
  const unnotified = `the endpoint wrote the failure object ${LOCATION} but its error notification was not received`;

  it("takes the endpoint's own reason from its {message} object and classifies it", () => {
    const reason = 'ClientError: Request expired after waiting 3600 seconds in the queue (RequestTTLSeconds) before an instance could process it.';
    expect(failureFromObject(LOCATION, JSON.stringify({ message: reason }))).toEqual({ reason, kind: 'expired' });
    expect(failureFromObject(LOCATION, JSON.stringify({ message: `ClientError: Failed to download the input from ${INPUT}.` })).kind).toBe('permanent');
  });

  it("treats a model's {message} that only mentions an endpoint error as the model's response, worth a new attempt", () => {
    const body = JSON.stringify({ message: 'upstream said ClientError: Failed to download the input' });
    expect(failureFromObject(LOCATION, body)).toEqual({ reason: `${unnotified} (model response: ${body})`, kind: 'transient' });
  });

  it("quotes the model's text trimmed and cut to 2,000 characters", () => {
    const text = `Traceback: ${'x'.repeat(3000)}`;
    expect(failureFromObject(LOCATION, `\n  ${text}\n`)).toEqual({ reason: `${unnotified} (model response: ${text.slice(0, 2000)})`, kind: 'transient' });
    expect(failureFromObject(LOCATION, '  CUDA out of memory \n').reason).toBe(`${unnotified} (model response: CUDA out of memory)`);
  });

  it('says only that the notification was lost when the object is empty', () => {
    expect(failureFromObject(LOCATION, ' \n')).toEqual({ reason: unnotified, kind: 'transient' });
  });
});
