import type { SucceededDetail } from '../../../events/image-generation-succeeded/schema';
import sharp from 'sharp';
import { SendTaskFailureCommand, SendTaskSuccessCommand } from '@aws-sdk/client-sfn';
import { complete } from '../../../tasks/complete/complete';
import { CLOCK_SKEW_MS } from '../../../tasks/shared/settle';
import { resolve } from '../../../tasks/resolve/resolve';
import { loadSample } from '../../../events/samples';
import { succeededDetailSchema } from '../../../events/image-generation-succeeded/schema';
import { TestCloud } from '../../workflows/test-cloud';
import {
  MetricsRecorder,
  TestClock,
  completeDeps,
  errorNotification,
  finishLastInference,
  resolveDeps,
  settleDeps,
  snsEvent,
  successNotification,
} from '../../workflows/harness';

const request = (detail: object, n: number) => ({
  event: { ...loadSample('image-generation-requested', 'minimal'), detail },
  taskToken: `token-${n}`,
  executionArn: `arn:aws:states:us-east-1:000000000000:execution:imagegen-request:e${n}`,
});

describe('complete', () => {
  let cloud: TestCloud;
  let clock: TestClock;
  let results: Promise<unknown>[];
  let cacheKey: string;

  const dueItems = () => cloud.partition('due');

  beforeAll(async () => {
    cloud = await TestCloud.start();
  });
  afterAll(() => cloud.close());

  beforeEach(async () => {
    await cloud.reset();
    clock = new TestClock();
    results = [1, 2].map((n) => cloud.openToken(`token-${n}`).catch((e: Error) => ({ failed: e.name, cause: e.message })));
    cacheKey = (await resolve(request({ requestId: 'r1', prompt: 'a cat', renditions: [{ width: 512, format: 'webp' }], metadata: { a: 1 } }, 1), resolveDeps(cloud, clock))).cacheKey;
    await resolve(request({ requestId: 'r2', prompt: 'a cat', renditions: [{ width: 128, format: 'png' }, { width: 512, format: 'webp' }] }, 2), resolveDeps(cloud, clock));
    clock.advance(9000);
  });

  it('writes the original once, renders the union and completes each waiter with its own result', async () => {
    const { inferenceId, outputLocation } = await finishLastInference(cloud);
    const metrics = new MetricsRecorder();
    const summary = await complete(snsEvent(successNotification(inferenceId, outputLocation)), completeDeps(cloud, clock, metrics));
    expect(summary).toEqual([{ inferenceId, outcome: 'succeeded', completed: 2 }]);

    const [one, two] = (await Promise.all(results)) as SucceededDetail[];
    expect(succeededDetailSchema.parse(one)).toMatchObject({ requestId: 'r1', cacheKey, cacheHit: false, metadata: { a: 1 } });
    expect(one!.renditions.map((r: { key: string }) => r.key)).toEqual([`images/${cacheKey}/512w.webp`]);
    expect(two!.renditions.map((r: { key: string }) => r.key)).toEqual([`images/${cacheKey}/128w.png`, `images/${cacheKey}/512w.webp`]);
    expect(two!.metadata).toBeUndefined();
    expect(one!.timings).toEqual({ receivedAt: '2026-01-01T12:00:00.000Z', completedAt: '2026-01-01T12:00:19.000Z', totalMs: 19000, inferenceMs: 9712 });
    expect(one!.image).toMatchObject({ key: `images/${cacheKey}/original.png`, width: 1024, height: 1024, format: 'png', contentType: 'image/png' });

    const webp = await sharp((await cloud.object(`images/${cacheKey}/512w.webp`))!.body).metadata();
    expect([webp.format, webp.width, webp.height]).toEqual(['webp', 512, 512]);
    const png = await sharp((await cloud.object(`images/${cacheKey}/128w.png`))!.body).metadata();
    expect([png.format, png.width, png.height]).toEqual(['png', 128, 128]);
    expect(cloud.calls('PutObjectCommand').filter((c) => c.input.Key === `images/${cacheKey}/512w.webp`)).toHaveLength(1);

    expect(await cloud.partition(`image#${cacheKey}`)).toEqual([]);
    expect(await dueItems()).toEqual([]);
    expect(metrics.count('ImagesCompleted')).toBe(1);
  });

  it('is a no-op for a duplicate notification', async () => {
    const { inferenceId, outputLocation } = await finishLastInference(cloud);
    await complete(snsEvent(successNotification(inferenceId, outputLocation)), completeDeps(cloud, clock));
    const callbacks = cloud.sfnMock.commandCalls(SendTaskSuccessCommand).length;
    const again = await complete(snsEvent(successNotification(inferenceId, outputLocation)), completeDeps(cloud, clock));
    expect(again).toEqual([{ inferenceId, outcome: 'succeeded', completed: 0 }]);
    expect(cloud.sfnMock.commandCalls(SendTaskSuccessCommand)).toHaveLength(callbacks);
  });

  it('treats a token that is already closed as done', async () => {
    const { inferenceId, outputLocation } = await finishLastInference(cloud);
    cloud.tokens.delete('token-1');
    const summary = await complete(snsEvent(successNotification(inferenceId, outputLocation)), completeDeps(cloud, clock));
    expect(summary[0]!.completed).toBe(1);
    expect(cloud.callbacks.filter((c) => c.closed).map((c) => c.token)).toEqual(['token-1']);
  });

  const CLIENT_ERROR = 'ClientError: Received client error (400) from model with message "width must be a multiple of 64". See the SageMaker Endpoint logs in your account for more information.';
  const SERVER_ERROR = 'ClientError: Received server error (500) from model. See the SageMaker Endpoint logs in your account for more information.';

  it('fails every waiter at once with InferenceFailed on a model 4xx (bad input), reading the failure body', async () => {
    const inferenceId = cloud.invocations[0]!.InferenceId!;
    const failureLocation = String((await cloud.item(`inference#${inferenceId}`, 'inference'))!.failureLocation);
    await cloud.putObject(failureLocation, '{"message":"width must be a multiple of 64"}');
    const summary = await complete(snsEvent(errorNotification(inferenceId, CLIENT_ERROR), 'imagegen-inference-failed'), completeDeps(cloud, clock));
    expect(summary).toEqual([{ inferenceId, outcome: 'failed', completed: 2 }]);
    expect(await Promise.all(results)).toEqual([1, 2].map(() => ({ failed: 'InferenceFailed', cause: `${CLIENT_ERROR} (model response: {"message":"width must be a multiple of 64"})` })));
    expect(cloud.sfnMock.commandCalls(SendTaskFailureCommand)[0]!.args[0].input).toMatchObject({ taskToken: 'token-1', error: 'InferenceFailed' });
    expect(await cloud.item(`image#${cacheKey}`, 'lease')).toMatchObject({ status: 'failed', inferenceId });
    expect(cloud.invocations).toHaveLength(1);
    expect(await dueItems()).toEqual([]);
  });

  it('retries a model 5xx as a new attempt under the same lease, sending the same input, and keeps the waiters', async () => {
    const first = cloud.invocations[0]!;
    const metrics = new MetricsRecorder();
    const scaling = new MetricsRecorder();
    const summary = await complete(snsEvent(errorNotification(first.InferenceId!, SERVER_ERROR), 'imagegen-inference-failed'), settleDeps(cloud, clock, metrics, {}, scaling));
    const retryId = cloud.invocations[1]?.InferenceId;
    expect(summary).toEqual([{ inferenceId: first.InferenceId, outcome: 'retried', completed: 0, retryId }]);
    expect(retryId).toBeDefined();
    expect(retryId).not.toBe(first.InferenceId);
    expect(Buffer.from(cloud.invocations[1]!.Body as Uint8Array).toString()).toBe(Buffer.from(first.Body as Uint8Array).toString());
    expect(await cloud.item(`image#${cacheKey}`, 'lease')).toMatchObject({ inferenceId: retryId, attempt: 2, status: 'inflight' });
    expect(await cloud.item(`inference#${retryId}`, 'inference')).toMatchObject({ cacheKey, attempt: 2, outputLocation: expect.stringMatching(/^s3:\/\//) });
    // The failed attempt leaves the reconciler's index; the new one enters it.
    expect((await dueItems()).map((i) => i.inferenceId)).toEqual([retryId]);
    expect(cloud.sfnMock.commandCalls(SendTaskFailureCommand)).toHaveLength(0);
    expect((await cloud.items()).filter((i) => String(i.sk).startsWith('waiter#'))).toHaveLength(2);
    expect(metrics.count('InferenceRetries')).toBe(1);
    expect(scaling.count('InferencesStarted')).toBe(1);

    // The retry succeeds: both waiters get the image.
    const { inferenceId, outputLocation } = await finishLastInference(cloud);
    expect(await complete(snsEvent(successNotification(inferenceId, outputLocation)), completeDeps(cloud, clock))).toEqual([{ inferenceId: retryId, outcome: 'succeeded', completed: 2 }]);
    expect(await Promise.all(results)).toEqual([expect.objectContaining({ requestId: 'r1' }), expect.objectContaining({ requestId: 'r2' })]);
    expect(await dueItems()).toEqual([]);
  });

  it('fails every waiter once with InferenceFailed when the retries are spent: 1 + 2 attempts', async () => {
    for (let attempt = 1; attempt <= 3; attempt++) {
      const id = cloud.invocations.at(-1)!.InferenceId!;
      const [summary] = await complete(snsEvent(errorNotification(id, SERVER_ERROR), 'imagegen-inference-failed'), completeDeps(cloud, clock));
      expect(summary).toMatchObject({ outcome: attempt < 3 ? 'retried' : 'failed', completed: attempt < 3 ? 0 : 2 });
    }
    expect(cloud.invocations).toHaveLength(3);
    expect(await Promise.all(results)).toEqual([1, 2].map(() => ({ failed: 'InferenceFailed', cause: `${SERVER_ERROR} (gave up after 3 attempts)` })));
    expect(cloud.sfnMock.commandCalls(SendTaskFailureCommand)).toHaveLength(2);
    expect(await dueItems()).toEqual([]);
  });

  it('does not retry when inferenceRetries is 0', async () => {
    const id = cloud.invocations[0]!.InferenceId!;
    expect(await complete(snsEvent(errorNotification(id, SERVER_ERROR)), completeDeps(cloud, clock, new MetricsRecorder(), { inferenceRetries: 0 }))).toEqual([
      { inferenceId: id, outcome: 'failed', completed: 2 },
    ]);
    expect(await results[0]).toEqual({ failed: 'InferenceFailed', cause: SERVER_ERROR });
  });

  it('fails a request that expired in the queue as InferenceTimedOut, without a retry', async () => {
    const id = cloud.invocations[0]!.InferenceId!;
    const reason = 'ClientError: Request expired after waiting 3600 seconds in the queue (RequestTTLSeconds) before an instance could process it.';
    expect(await complete(snsEvent(errorNotification(id, reason)), completeDeps(cloud, clock))).toEqual([{ inferenceId: id, outcome: 'timed-out', completed: 2 }]);
    expect(await results[1]).toEqual({ failed: 'InferenceTimedOut', cause: reason });
    expect(cloud.invocations).toHaveLength(1);
  });

  it('starts one retry for a duplicated error notification, and fails no waiter', async () => {
    const id = cloud.invocations[0]!.InferenceId!;
    const note = snsEvent(errorNotification(id, SERVER_ERROR));
    const [a, b] = await Promise.all([complete(note, completeDeps(cloud, clock)), complete(note, completeDeps(cloud, clock))]);
    expect([a![0]!.outcome, b![0]!.outcome].sort()).toEqual(['retried', 'stale']);
    expect(await complete(note, completeDeps(cloud, clock))).toEqual([{ inferenceId: id, outcome: 'stale', completed: 0 }]);
    expect(cloud.invocations).toHaveLength(2);
    expect(cloud.sfnMock.commandCalls(SendTaskFailureCommand)).toHaveLength(0);
    expect(await dueItems()).toHaveLength(1);
  });

  it('fails the same waiters again, and no newer one, when a final failure is settled twice', async () => {
    const id = cloud.invocations[0]!.InferenceId!;
    await complete(snsEvent(errorNotification(id, CLIENT_ERROR)), completeDeps(cloud, clock));
    // A new request for the image registers after the failure (beyond the clock-skew margin), before it takes the lease.
    clock.advance(CLOCK_SKEW_MS + 1);
    await cloud.putItem({ pk: `image#${cacheKey}`, sk: 'waiter#late', taskToken: 'token-late', createdAt: clock.now(), renditions: [] });
    expect(await complete(snsEvent(errorNotification(id, CLIENT_ERROR)), completeDeps(cloud, clock))).toEqual([{ inferenceId: id, outcome: 'failed', completed: 0 }]);
    expect(await cloud.item(`image#${cacheKey}`, 'waiter#late')).toBeDefined();
  });

  it("fails a waiter stamped up to the clock-skew margin after the failure: another function's clock may run ahead", async () => {
    const id = cloud.invocations[0]!.InferenceId!;
    const skewed = cloud.openToken('token-skewed').catch((e: Error) => e.name);
    await cloud.putItem({ pk: `image#${cacheKey}`, sk: 'waiter#skewed', taskToken: 'token-skewed', createdAt: clock.now() + CLOCK_SKEW_MS, renditions: [] });
    expect(await complete(snsEvent(errorNotification(id, CLIENT_ERROR)), completeDeps(cloud, clock))).toEqual([{ inferenceId: id, outcome: 'failed', completed: 3 }]);
    expect(await skewed).toBe('InferenceFailed');
  });

  it('prefers the failure location the notification carries', async () => {
    const inferenceId = cloud.invocations[0]!.InferenceId!;
    await cloud.putObject('s3://imagegen-images/async-failures/elsewhere-error.out', 'boom');
    await complete(
      snsEvent(errorNotification(inferenceId, CLIENT_ERROR, { responseParameters: { failureLocation: 's3://imagegen-images/async-failures/elsewhere-error.out' } })),
      completeDeps(cloud, clock),
    );
    expect(await results[0]).toEqual({ failed: 'InferenceFailed', cause: `${CLIENT_ERROR} (model response: boom)` });
  });

  it('ignores a late error from an attempt that no longer owns the image', async () => {
    const inferenceId = cloud.invocations[0]!.InferenceId!;
    await cloud.updateItem(`image#${cacheKey}`, 'lease', { inferenceId: 'a-newer-attempt' });
    const summary = await complete(snsEvent(errorNotification(inferenceId, 'ClientError: late')), completeDeps(cloud, clock));
    expect(summary).toEqual([{ inferenceId, outcome: 'stale', completed: 0 }]);
    expect(cloud.sfnMock.commandCalls(SendTaskFailureCommand)).toHaveLength(0);
    expect(cloud.invocations).toHaveLength(1);
  });

  it('fails waiters with PostProcessingFailed when the output is not an image', async () => {
    const inferenceId = cloud.invocations[0]!.InferenceId!;
    const outputLocation = String((await cloud.item(`inference#${inferenceId}`, 'inference'))!.outputLocation);
    await cloud.putObject(outputLocation, JSON.stringify({ generated_images: [Buffer.from('not a png').toString('base64')] }));
    const summary = await complete(snsEvent(successNotification(inferenceId, outputLocation)), completeDeps(cloud, clock));
    expect(summary[0]!.outcome).toBe('post-processing-failed');
    const failure = (await results[0]) as { failed: string; cause: string };
    expect(failure.failed).toBe('PostProcessingFailed');
    expect(failure.cause).toContain('generated_images[0] is not a readable image');
    expect(await cloud.object(`images/${cacheKey}/original.png`)).toBeUndefined();
  });

  it("acknowledges SageMaker's TestNotification without touching anything (sent after every deployment and capacity change)", async () => {
    const calls = () => cloud.sent.length + cloud.sfnMock.calls().length;
    const before = calls();
    const documented = { eventVersion: '1.0', eventSource: 'aws:sagemaker', eventName: 'TestNotification' };
    expect(await complete(snsEvent(documented), completeDeps(cloud, clock))).toEqual([{ outcome: 'test-notification', completed: 0 }]);
    expect(await complete(snsEvent(documented, 'imagegen-inference-failed'), completeDeps(cloud, clock))).toEqual([{ outcome: 'test-notification', completed: 0 }]);
    expect(calls()).toBe(before);
  });

  it('still rejects a message that is neither a result nor a test notification, so it reaches the DLQ', async () => {
    await expect(complete(snsEvent({ eventSource: 'aws:sagemaker', eventName: 'SomethingElse' }), completeDeps(cloud, clock))).rejects.toThrow(
      /not an async inference notification/,
    );
  });

  it('ignores a notification for an inference it does not know', async () => {
    expect(await complete(snsEvent(errorNotification('unknown', 'x')), completeDeps(cloud, clock))).toEqual([{ inferenceId: 'unknown', outcome: 'unknown-inference', completed: 0 }]);
  });
});
