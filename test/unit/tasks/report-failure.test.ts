import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { mapFailure, reportFailure } from '../../../tasks/report-failure/report-failure';
import { failedDetailSchema } from '../../../events/image-generation-failed/schema';
import { loadSample } from '../../../events/samples';
import { RecordedClients } from '../../workflows/recorded-clients';
import { TestClock, reportDeps } from '../../workflows/harness';

const lambdaCause = (message: string, type: string) => JSON.stringify({ errorMessage: message, errorType: type, trace: ['at x'] });

describe('mapFailure', () => {
  it.each([
    ['InvalidRequest', lambdaCause('detail.steps must be an integer from 1 to 100 (got 250)', 'InvalidRequest'), 'InvalidRequest', 'detail.steps must be an integer from 1 to 100 (got 250)'],
    ['InferenceFailed', 'ClientError: Received server error (500) from model.', 'InferenceFailed', 'ClientError: Received server error (500) from model.'],
    ['PostProcessingFailed', 'model output is not an image', 'PostProcessingFailed', 'model output is not an image'],
    ['States.Timeout', null, 'InferenceTimedOut', 'no image was produced before the workflow stopped waiting (States.Timeout)'],
    ['States.HeartbeatTimeout', '', 'InferenceTimedOut', 'States.HeartbeatTimeout'],
    ['TypeError', lambdaCause("Cannot read properties of undefined (reading 'x')", 'TypeError'), 'Internal', "internal error (TypeError): Cannot read properties of undefined (reading 'x')"],
    ['Lambda.ServiceException', 'Service unavailable', 'Internal', 'internal error (Lambda.ServiceException): Service unavailable'],
    [null, null, 'Internal', 'internal error (unknown)'],
  ])('maps %s to a contract code with an actionable message', (error, cause, code, message) => {
    const report = mapFailure({ Error: error, Cause: cause });
    expect(report.code).toBe(code);
    expect(report.message).toContain(message);
  });

  it('keeps messages bounded', () => {
    expect(mapFailure({ Error: 'InferenceFailed', Cause: 'x'.repeat(40000) }).message.length).toBeLessThanOrEqual(4000);
  });
});

describe('reportFailure', () => {
  let cloud: RecordedClients;
  beforeEach(() => {
    cloud = new RecordedClients();
  });

  it('publishes Image Generation Failed with requestId and metadata from the original event', async () => {
    const event = loadSample('image-generation-requested', 'full');
    const report = await reportFailure(
      { ...event, failure: { Error: 'InferenceFailed', Cause: 'ClientError: 500' } },
      reportDeps(cloud, new TestClock()),
    );
    expect(report).toEqual({ code: 'InferenceFailed', message: 'ClientError: 500' });
    const entry = cloud.eventsMock.commandCalls(PutEventsCommand)[0]!.args[0].input.Entries![0]!;
    expect(entry).toMatchObject({ EventBusName: 'arn:aws:events:us-east-1:000000000000:event-bus/imagegen', Source: 'imagegen', DetailType: 'Image Generation Failed' });
    expect(failedDetailSchema.parse(JSON.parse(entry.Detail!))).toEqual({
      requestId: 'spring-2026:hero-banner.v3',
      error: { code: 'InferenceFailed', message: 'ClientError: 500' },
      metadata: event.detail.metadata,
    });
  });

  it('omits requestId and metadata when they cannot be read', async () => {
    await reportFailure({ detail: { metadata: 'nope' }, failure: { Error: 'InvalidRequest', Cause: lambdaCause('detail.requestId is required', 'InvalidRequest') } }, reportDeps(cloud, new TestClock()));
    const detail = JSON.parse(cloud.published[0]!.Detail!);
    expect(detail).toEqual({ error: { code: 'InvalidRequest', message: 'detail.requestId is required' } });
  });

  it('throws a retryable error when EventBridge rejects the entry', async () => {
    cloud.eventsMock.on(PutEventsCommand).resolves({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'ThrottlingException', ErrorMessage: 'slow down' }] });
    await expect(reportFailure({ failure: { Error: 'States.Timeout' } }, reportDeps(cloud, new TestClock()))).rejects.toMatchObject({ name: 'Transient' });
  });
});
