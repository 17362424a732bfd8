/**
 * The two failure codes that only real faults produce, through the real workflow on the local cloud:
 * `PostProcessingFailed` when the model's output is not a readable image (a truncated PNG), and
 * `Internal` when a dependency fails in a way no retry mends (the coordination table is gone).
 * Each reaches the producer as `Image Generation Failed` with its code and a message saying what
 * happened, and leaves nothing behind that a later request would trip over.
 */
import { DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetExecutionHistoryCommand } from '@aws-sdk/client-sfn';
import sharp from 'sharp';
import { Pipeline, TABLE, imageReply, until, type ModelReply } from './harness';

jest.setTimeout(180_000);

// The model's time for a broken image: Complete runs after the waiters registered, on the cloud's clock as on AWS.
const INFERENCE_MS = 5_000;

describe('failure codes from real faults', () => {
  let pipeline: Pipeline;
  // Until the model is "fixed", prompts starting "glitch" get a PNG cut off halfway.
  let fixed = false;

  beforeAll(async () => {
    const image = await imageReply();
    const png = await sharp({ create: { width: 64, height: 64, channels: 3, background: { r: 200, g: 40, b: 40 } } }).png().toBuffer();
    const truncated: ModelReply = { status: 200, body: JSON.stringify({ generated_images: [png.subarray(0, png.length >> 1).toString('base64')] }) };
    pipeline = await Pipeline.start({
      model: (call, clock) => (call.inputs.startsWith('glitch') && !fixed ? new Promise((resolve) => clock.schedule(INFERENCE_MS, () => resolve(truncated))) : image),
    });
  });

  afterAll(async () => {
    await pipeline?.close();
  });

  it('reports PostProcessingFailed to every request waiting for an unreadable image, caches nothing, and lets the image be generated again', async () => {
    const since = pipeline.clock.now();
    const storedBefore = await pipeline.objectKeys('images/');
    const ids = await pipeline.send([
      { requestId: 'pp-1', prompt: 'glitch: a cracked mirror', metadata: { order: 1 } },
      { requestId: 'pp-2', prompt: 'glitch: a cracked mirror', renditions: [{ width: 128, format: 'png' }], metadata: { order: 2 } },
    ]);
    // Both wait for the one inference; the model answers after 5 s of the cloud's time.
    const waiting = async () => (await pipeline.tableItems()).filter((item) => String(item.sk).startsWith('waiter#')).length;
    await until(async () => pipeline.modelCalls.length === 1 && (await waiting()) === 2, 'both requests waiting for one inference');
    await pipeline.advance(INFERENCE_MS);
    const runs = await pipeline.finish(ids, since, 30_000);
    for (const id of ids) {
      const run = runs.get(id);
      expect({ status: run?.status, error: run?.error }).toEqual({ status: 'FAILED', error: 'PostProcessingFailed' });
      expect(run?.cause).toMatch(/^model output s3:\/\/imagegen-images\/async-output\/\S+\.out: generated_images\[0\] is not a readable image \(/);
    }

    const events = await pipeline.resultsFor(['pp-1', 'pp-2']);
    expect(events.map((e) => [e['detail-type'], e.detail.requestId, e.detail.error?.code, e.detail.metadata]).sort()).toEqual([
      ['Image Generation Failed', 'pp-1', 'PostProcessingFailed', { order: 1 }],
      ['Image Generation Failed', 'pp-2', 'PostProcessingFailed', { order: 2 }],
    ]);
    for (const e of events) expect(e.detail.error?.message).toBe(runs.get(ids[e.detail.requestId === 'pp-1' ? 0 : 1] ?? '')?.cause);

    // Nothing of the broken image is cached (no original, no rendition), and no waiter is left.
    expect(await pipeline.objectKeys('images/')).toEqual(storedBefore);
    expect((await pipeline.tableItems()).filter((item) => String(item.sk).startsWith('waiter#'))).toEqual([]);

    // Once the model answers properly, the same picture is generated afresh rather than served broken.
    fixed = true;
    const calls = pipeline.modelCalls.length;
    const [again = ''] = await pipeline.send([{ requestId: 'pp-3', prompt: 'glitch: a cracked mirror' }]);
    const run = (await pipeline.finish([again], since, 30_000)).get(again);
    expect(run?.status).toBe('SUCCEEDED');
    expect(JSON.parse(run?.output ?? '{}')).toMatchObject({ requestId: 'pp-3', cacheHit: false, image: { width: 64, height: 64 } });
    expect(pipeline.modelCalls.length).toBe(calls + 1);
  });

  it('reports Internal, naming the dependency error, when the coordination table is gone', async () => {
    // Last in this file: the table stays deleted.
    await new DynamoDBClient(pipeline.clientConfig).send(new DeleteTableCommand({ TableName: TABLE }));
    const since = pipeline.clock.now();
    const calls = pipeline.modelCalls.length;
    const [id = ''] = await pipeline.send([{ requestId: 'int-1', prompt: 'a paper crane', metadata: { order: 4 } }]);
    const run = (await pipeline.finish([id], since, 30_000)).get(id);
    expect({ status: run?.status, error: run?.error }).toEqual({ status: 'FAILED', error: 'Internal' });
    expect(run?.cause).toMatch(/^internal error \(ResourceNotFoundException\): \S/);

    const [event] = await pipeline.resultsFor(['int-1']);
    expect(event?.['detail-type']).toBe('Image Generation Failed');
    expect(event?.detail).toEqual({ requestId: 'int-1', error: { code: 'Internal', message: run?.cause }, metadata: { order: 4 } });
    // Not retried as if transient: one attempt of Resolve, and nothing reached the endpoint.
    const history = (await pipeline.sfn.send(new GetExecutionHistoryCommand({ executionArn: run?.arn }))).events ?? [];
    const path = history.flatMap((e) => (e.type === 'TaskScheduled' ? [`attempt ${e.taskScheduledEventDetails?.resource ?? ''}`] : e.stateEnteredEventDetails?.name ? [e.stateEnteredEventDetails.name] : []));
    expect(path).toEqual(['Resolve', 'attempt invoke.waitForTaskToken', 'ReportFailure', 'attempt invoke', 'Failed']);
    expect(pipeline.modelCalls.length).toBe(calls);
  });
});
