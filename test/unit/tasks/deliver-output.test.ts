/**
 * Delivering a finished inference through Complete: where the output is read from, the inference
 * time each waiter and the InferenceTime metric get, the image lease a late attempt leaves alone, and
 * the PostProcessingFailed cause for each way the model's output can fail to be an image.
 */
import { ProvisionedThroughputExceededException } from '@aws-sdk/client-dynamodb';
import type { SucceededDetail } from '../../../events/image-generation-succeeded/schema';
import { complete } from '../../../tasks/complete/complete';
import { resolve } from '../../../tasks/resolve/resolve';
import { loadSample } from '../../../events/samples';
import { TestCloud } from '../../workflows/test-cloud';
import { MetricsRecorder, TestClock, completeDeps, modelOutput, resolveDeps, snsEvent, successNotification } from '../../workflows/harness';

const EXPECTED = '(expected {"generated_images":[<base64 image>]})';

describe('delivering an inference output', () => {
  let cloud: TestCloud;
  let clock: TestClock;
  let result: Promise<unknown>;
  let cacheKey: string;
  let inferenceId: string;
  let outputLocation: string;

  beforeAll(async () => {
    cloud = await TestCloud.start();
  });
  afterAll(() => cloud.close());

  beforeEach(async () => {
    await cloud.reset();
    clock = new TestClock();
    result = cloud.openToken('token-1').catch((e: Error) => ({ failed: e.name, cause: e.message }));
    const event = { ...loadSample('image-generation-requested', 'minimal'), detail: { requestId: 'r1', prompt: 'a cat' } };
    const executionArn = 'arn:aws:states:us-east-1:000000000000:execution:imagegen-request:e1';
    cacheKey = (await resolve({ event, taskToken: 'token-1', executionArn }, resolveDeps(cloud, clock))).cacheKey;
    inferenceId = cloud.invocations[0]!.InferenceId!;
    outputLocation = String((await cloud.item(`inference#${inferenceId}`, 'inference'))!.outputLocation);
    clock.advance(9000);
  });

  const notification = (fields: object = {}) => snsEvent({ ...successNotification(inferenceId, outputLocation), ...fields });

  it('reads the output from the location recorded at invocation when the notification names none, and times the inference from its start', async () => {
    await cloud.putObject(outputLocation, await modelOutput());
    const metrics = new MetricsRecorder();
    const summary = await complete(notification({ responseParameters: {}, eventTime: undefined, receivedTime: undefined }), completeDeps(cloud, clock, metrics));
    expect(summary).toEqual([{ inferenceId, outcome: 'succeeded', completed: 1 }]);
    expect(((await result) as SucceededDetail).timings.inferenceMs).toBe(9000);
    expect(metrics.metrics.filter((m) => m.name === 'InferenceTime')).toEqual([{ name: 'InferenceTime', value: 9000 }]);
  });

  it("reports the endpoint's own inference time in the result and the InferenceTime metric", async () => {
    await cloud.putObject(outputLocation, await modelOutput());
    const metrics = new MetricsRecorder();
    await complete(notification(), completeDeps(cloud, clock, metrics));
    expect(((await result) as SucceededDetail).timings.inferenceMs).toBe(9712);
    expect(metrics.metrics).toEqual(expect.arrayContaining([{ name: 'InferenceTime', value: 9712 }, { name: 'ImagesCompleted', value: 1 }]));
  });

  it('leaves the image lease alone when a newer attempt has taken it', async () => {
    await cloud.putObject(outputLocation, await modelOutput());
    await cloud.updateItem(`image#${cacheKey}`, 'lease', { inferenceId: 'a-newer-attempt' });
    expect((await complete(notification(), completeDeps(cloud, clock)))[0]!.outcome).toBe('succeeded');
    expect(await cloud.item(`image#${cacheKey}`, 'lease')).toMatchObject({ inferenceId: 'a-newer-attempt' });
  });

  it('fails the notification, for it to be delivered again, when releasing the lease fails for another reason than its owner', async () => {
    await cloud.putObject(outputLocation, await modelOutput());
    const throttled = new ProvisionedThroughputExceededException({ message: 'Rate of requests exceeds the allowed throughput.', $metadata: { httpStatusCode: 400 } });
    cloud.afterSend('DeleteCommand', async (input) => {
      if ((input.Key as { sk?: string }).sk === 'lease') throw throttled;
    });
    await expect(complete(notification(), completeDeps(cloud, clock))).rejects.toBe(throttled);
  });

  it.each([
    ['is not JSON', 'Traceback (most recent call last)', (at: string) => `model output ${at} is not JSON ${EXPECTED}`],
    ['has no generated_images', '{"images":[]}', (at: string) => `model output ${at} has no generated_images[0] ${EXPECTED}`],
    ['has an empty generated_images', '{"generated_images":[]}', (at: string) => `model output ${at} has no generated_images[0] ${EXPECTED}`],
    ['has an empty first image', '{"generated_images":[""]}', (at: string) => `model output ${at} has no generated_images[0] ${EXPECTED}`],
    ['has a first image that is not text', '{"generated_images":[42]}', (at: string) => `model output ${at} has no generated_images[0] ${EXPECTED}`],
  ])('fails the waiter with PostProcessingFailed, naming the output, when it %s', async (_what, body, cause) => {
    await cloud.putObject(outputLocation, body);
    const summary = await complete(notification(), completeDeps(cloud, clock));
    expect(summary).toEqual([{ inferenceId, outcome: 'post-processing-failed', completed: 1 }]);
    expect(await result).toEqual({ failed: 'PostProcessingFailed', cause: cause(outputLocation) });
    expect(await cloud.object(`images/${cacheKey}/original.png`)).toBeUndefined();
  });

  it('fails the waiter with PostProcessingFailed when neither the notification nor the attempt names an output location', async () => {
    await cloud.updateItem(`inference#${inferenceId}`, 'inference', {}, ['outputLocation']);
    await complete(notification({ responseParameters: {} }), completeDeps(cloud, clock));
    expect(await result).toEqual({ failed: 'PostProcessingFailed', cause: `the endpoint reported success for inference ${inferenceId} but gave no output location` });
  });
});
