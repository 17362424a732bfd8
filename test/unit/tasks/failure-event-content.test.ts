/**
 * What a producer reads in `Image Generation Failed` and in the execution's Fail state: the message
 * for each kind of failure, its bound, the requestId and metadata echoed back, the unpublished-result
 * case, and the Failures metric and retry when EventBridge rejects the entry.
 */
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { mapFailure, reportFailure, type FailureInput } from '../../../tasks/report-failure/report-failure';
import { METADATA_MAX_BYTES } from '../../../events/image-generation-requested/schema';
import { failedDetailSchema } from '../../../events/image-generation-failed/schema';
import { RecordedClients } from '../../workflows/recorded-clients';
import { MetricsRecorder, TestClock, reportDeps } from '../../workflows/harness';

const MESSAGE_MAX = 4000;

describe('the failure message', () => {
  it('says no image was produced in time when the timeout came without a cause', () => {
    expect(mapFailure({ Error: 'InferenceTimedOut', Cause: null })).toEqual({ code: 'InferenceTimedOut', message: 'no image was produced in time' });
  });

  it("keeps the workflow timeout's cause after the error name", () => {
    expect(mapFailure({ Error: 'States.Timeout', Cause: 'the task did not report back' }).message).toBe(
      'no image was produced before the workflow stopped waiting (States.Timeout: the task did not report back); the endpoint may be overloaded or scaling from zero, send the request again',
    );
  });

  it('names the code when a contract error came without details', () => {
    expect(mapFailure({ Error: 'InferenceFailed', Cause: '' })).toEqual({ code: 'InferenceFailed', message: 'InferenceFailed (no details were given)' });
  });

  it('ends an internal error without a cause at its name', () => {
    expect(mapFailure({ Error: 'Lambda.Unknown' }).message).toBe('internal error (Lambda.Unknown)');
  });

  it.each([
    ['an object without errorMessage', '{"message":"disk full"}'],
    ['an errorMessage that is not text', '{"errorMessage":42,"errorType":"Error"}'],
    ['a JSON string', '"disk full"'],
    ['JSON null', 'null'],
  ])('shows a cause that is %s as it came', (_what, cause) => {
    expect(mapFailure({ Error: 'PostProcessingFailed', Cause: cause }).message).toBe(cause);
  });

  it('keeps a message of exactly the bound whole and cuts a longer one to the bound, marked with an ellipsis', () => {
    const exact = 'a'.repeat(MESSAGE_MAX);
    expect(mapFailure({ Error: 'InferenceFailed', Cause: exact }).message).toBe(exact);
    const long = `${'b'.repeat(MESSAGE_MAX - 3)}cut here`;
    expect(mapFailure({ Error: 'InferenceFailed', Cause: long }).message).toBe(`${'b'.repeat(MESSAGE_MAX - 3)}...`);
  });
});

describe('the failure event', () => {
  let cloud: RecordedClients;
  let metrics: MetricsRecorder;
  beforeEach(() => {
    cloud = new RecordedClients();
    metrics = new MetricsRecorder();
  });

  const publish = async (input: FailureInput) => {
    const report = await reportFailure(input, reportDeps(cloud, new TestClock(), metrics));
    const detail = failedDetailSchema.parse(JSON.parse(cloud.published[0]!.Detail!));
    return { report, detail };
  };
  const failure = { Error: 'InvalidRequest', Cause: 'detail.prompt is required' };

  it.each([
    ['of 256 characters', 'r'.repeat(256), true],
    ['longer than 256 characters', 'r'.repeat(257), false],
    ['empty', '', false],
  ])('echoes a requestId %s only when it is a usable id', async (_what, requestId, echoed) => {
    const { detail } = await publish({ detail: { requestId }, failure });
    expect(detail.requestId).toBe(echoed ? requestId : undefined);
  });

  const metadataOf = (bytes: number) => {
    const metadata = { note: '' };
    metadata.note = 'm'.repeat(bytes - Buffer.byteLength(JSON.stringify(metadata)));
    return metadata;
  };

  it('echoes metadata of exactly the request limit and leaves out larger metadata', async () => {
    expect((await publish({ detail: { requestId: 'r1', metadata: metadataOf(METADATA_MAX_BYTES) }, failure })).detail.metadata).toEqual(metadataOf(METADATA_MAX_BYTES));
    cloud.install();
    expect((await publish({ detail: { requestId: 'r1', metadata: metadataOf(METADATA_MAX_BYTES + 1) }, failure })).detail).toEqual({
      requestId: 'r1',
      error: { code: 'InvalidRequest', message: 'detail.prompt is required' },
    });
  });

  it.each([
    ['null', null],
    ['text', 'not an object'],
    ['absent', undefined],
  ])('reports an event whose detail is %s with the error alone', async (_what, detail) => {
    expect((await publish({ detail, failure })).detail).toEqual({ error: { code: 'InvalidRequest', message: 'detail.prompt is required' } });
  });

  it('counts one Failures metric per published event', async () => {
    await publish({ detail: { requestId: 'r1' }, failure });
    expect(metrics.metrics).toEqual([{ name: 'Failures', value: 1 }]);
  });

  it('names the rejection in a Transient error and counts nothing when EventBridge rejects the entry', async () => {
    cloud.eventsMock.on(PutEventsCommand).resolves({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'InternalFailure', ErrorMessage: 'Internal service error' }] });
    await expect(reportFailure({ detail: { requestId: 'r1' }, failure }, reportDeps(cloud, new TestClock(), metrics))).rejects.toMatchObject({
      name: 'Transient',
      message: 'PutEvents rejected the failure event: InternalFailure Internal service error',
    });
    expect(metrics.metrics).toEqual([]);
  });
});

describe('a result that could not be published', () => {
  let cloud: RecordedClients;
  beforeEach(() => {
    cloud = new RecordedClients();
  });
  const image = { bucket: 'imagegen-images', key: 'images/k/original.png', format: 'png', width: 1024, height: 1024, bytes: 1, contentType: 'image/png' };
  const report = (input: FailureInput) => reportFailure(input, reportDeps(cloud, new TestClock()));

  it('says the image is cached and echoes the result’s requestId and metadata', async () => {
    const result = await report({ requestId: 'r1', cacheKey: 'k', image, metadata: { a: 1 }, failure: { Error: 'EventBridge.InternalException', Cause: 'try later' } });
    expect(result).toEqual({
      code: 'Internal',
      message: 'the image was generated (cacheKey k) but its success event could not be published (EventBridge.InternalException: try later); it is cached, send the request again to receive it',
    });
    expect(JSON.parse(cloud.published[0]!.Detail!)).toEqual({ requestId: 'r1', metadata: { a: 1 }, error: result });
  });

  it('says unknown when the failure has no error name and stops at the name when it has no cause', async () => {
    expect((await report({ cacheKey: 'k', image, failure: {} })).message).toBe(
      'the image was generated (cacheKey k) but its success event could not be published (unknown); it is cached, send the request again to receive it',
    );
  });

  it('keeps a message of exactly the bound whole and cuts a longer one with an ellipsis', async () => {
    const messageFor = async (cause: string) => (await report({ cacheKey: 'k', image, failure: { Error: 'E', Cause: cause } })).message;
    const overhead = (await messageFor('x')).length - 1;
    const exact = await messageFor('x'.repeat(MESSAGE_MAX - overhead));
    expect(exact).toHaveLength(MESSAGE_MAX);
    expect(exact.endsWith('send the request again to receive it')).toBe(true);
    const cut = await messageFor('x'.repeat(MESSAGE_MAX - overhead + 1));
    expect(cut).toHaveLength(MESSAGE_MAX);
    expect(cut.endsWith('to receiv...')).toBe(true);
  });

  it.each([
    ['null', null],
    ['not an object', 'images/k/original.png'],
  ])('is not claimed for a state with a cacheKey whose image is %s', async (_what, notAnImage) => {
    const result = await report({ cacheKey: 'k', image: notAnImage, detail: { requestId: 'r1' }, failure: { Error: 'InferenceFailed', Cause: 'model error' } });
    expect(result).toEqual({ code: 'InferenceFailed', message: 'model error' });
    expect(JSON.parse(cloud.published[0]!.Detail!)).toEqual({ requestId: 'r1', error: result });
  });

  it('is not claimed for a state with an image but no cacheKey', async () => {
    const result = await report({ image, detail: { requestId: 'r1' }, failure: { Error: 'InferenceFailed', Cause: 'model error' } });
    expect(result).toEqual({ code: 'InferenceFailed', message: 'model error' });
  });
});
