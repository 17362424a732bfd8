/** The SageMaker messages Complete reads from SNS (aws-facts §2): results, the TestNotification, junk. */
import { parseMessage, reportedInferenceMs, type InferenceNotification } from '../../../tasks/complete/notification';

const result = {
  awsRegion: 'us-east-1',
  eventTime: '2026-01-01T12:00:19.712Z',
  receivedTime: '2026-01-01T12:00:10.000Z',
  invocationStatus: 'Completed',
  requestParameters: { contentType: 'application/json', endpointName: 'imagegen-sdxl', inputLocation: 's3://imagegen-images/inputs/x.json' },
  responseParameters: { contentType: 'application/json', outputLocation: 's3://imagegen-images/outputs/x.out' },
  inferenceId: 'b1c2',
  eventVersion: '1.0',
  eventSource: 'aws:sagemaker',
  eventName: 'InferenceResult',
};

describe('parseMessage', () => {
  it('reads an inference result, keeping fields SageMaker may add', () => {
    const parsed = parseMessage(JSON.stringify({ ...result, newField: 1 }));
    expect(parsed).toEqual({ kind: 'result', notification: { ...result, newField: 1 } });
  });

  it('recognises the TestNotification SageMaker sends to both topics', () => {
    const test = { eventVersion: '1.0', eventSource: 'aws:sagemaker', eventName: 'TestNotification', eventTime: '2026-01-01T12:00:00.000Z' };
    expect(parseMessage(JSON.stringify(test))).toEqual({ kind: 'test' });
  });

  it('refuses a message that is not JSON, quoting its first 200 characters', () => {
    const junk = `<html>${'x'.repeat(300)}`;
    expect(() => parseMessage(junk)).toThrow(`SNS message is not JSON: ${junk.slice(0, 200)}`);
    expect(() => parseMessage(junk)).not.toThrow(junk.slice(0, 201));
  });

  it('refuses a result without an inferenceId', () => {
    expect(() => parseMessage(JSON.stringify({ ...result, inferenceId: '' }))).toThrow(/not an async inference notification.*inferenceId/s);
  });

  it.each([
    ['requestParameters.inputLocation', { ...result, requestParameters: { inputLocation: 42 } }],
    ['requestParameters.endpointName', { ...result, requestParameters: { endpointName: ['imagegen-sdxl'] } }],
    ['responseParameters.outputLocation', { ...result, responseParameters: { outputLocation: { s3: 'x' } } }],
  ])('refuses a result whose %s is not a string', (field, message) => {
    expect(() => parseMessage(JSON.stringify(message))).toThrow(field.split('.')[1]);
  });
});

describe('reportedInferenceMs', () => {
  const at = (receivedTime: string | undefined, eventTime: string | undefined): InferenceNotification =>
    ({ invocationStatus: 'Completed', inferenceId: 'i', ...(receivedTime ? { receivedTime } : {}), ...(eventTime ? { eventTime } : {}) }) as InferenceNotification;

  it('is eventTime − receivedTime in whole milliseconds', () => {
    expect(reportedInferenceMs(at('2026-01-01T12:00:10.000Z', '2026-01-01T12:00:19.712Z'))).toBe(9712);
  });

  it('is 0 when both times are equal', () => {
    expect(reportedInferenceMs(at('2026-01-01T12:00:10.000Z', '2026-01-01T12:00:10.000Z'))).toBe(0);
  });

  it('is unknown when a time is missing, unreadable, or the clock went backwards', () => {
    expect(reportedInferenceMs(at(undefined, '2026-01-01T12:00:19.712Z'))).toBeUndefined();
    expect(reportedInferenceMs(at('2026-01-01T12:00:10.000Z', undefined))).toBeUndefined();
    expect(reportedInferenceMs(at('yesterday', '2026-01-01T12:00:19.712Z'))).toBeUndefined();
    expect(reportedInferenceMs(at('2026-01-01T12:00:10.000Z', '2026-01-01T12:00:09.999Z'))).toBeUndefined();
  });
});
