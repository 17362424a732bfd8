/**
 * What Complete takes from the endpoint's notification beyond its status: the failure reason and the
 * failure object's body (the cause the producer reads), and the output location when the attempt
 * never recorded its own.
 */
import type { SucceededDetail } from '../../../events/image-generation-succeeded/schema';
import { loadSample } from '../../../events/samples';
import { complete } from '../../../tasks/complete/complete';
import { resolve } from '../../../tasks/resolve/resolve';
import { TestCloud } from '../../workflows/test-cloud';
import { TestClock, completeDeps, errorNotification, finishLastInference, resolveDeps, snsEvent, successNotification } from '../../workflows/harness';

const CLIENT_ERROR = 'ClientError: Received client error (400) from model with message "bad input". See the SageMaker Endpoint logs in your account for more information.';

describe('complete: notification details', () => {
  let cloud: TestCloud;
  let clock: TestClock;
  let result: Promise<unknown>;
  let inferenceId: string;

  const failWith = async (notification: object) => {
    await complete(snsEvent(notification, 'imagegen-inference-failed'), completeDeps(cloud, clock, undefined, { inferenceRetries: 0 }));
    return (await result) as { failed: string; cause: string };
  };
  const failureObject = async () => String((await cloud.item(`inference#${inferenceId}`, 'inference'))!.failureLocation);

  beforeAll(async () => {
    cloud = await TestCloud.start();
  });
  afterAll(() => cloud.close());

  beforeEach(async () => {
    await cloud.reset();
    clock = new TestClock();
    result = cloud.openToken('token-1').catch((e: Error) => ({ failed: e.name, cause: e.message }));
    const request = { event: { ...loadSample('image-generation-requested', 'minimal'), detail: { requestId: 'r1', prompt: 'a cat' } }, taskToken: 'token-1', executionArn: 'arn:aws:states:us-east-1:000000000000:execution:imagegen-request:e1' };
    await resolve(request, resolveDeps(cloud, clock));
    inferenceId = cloud.invocations[0]!.InferenceId!;
  });

  it('says so when the endpoint gives no reason and the failure object is missing', async () => {
    const { failureReason: _omitted, ...withoutReason } = errorNotification(inferenceId, 'x') as Record<string, unknown>;
    expect(await failWith(withoutReason)).toEqual({ failed: 'InferenceFailed', cause: 'the endpoint reported a failed inference without a reason' });
  });

  it("appends the failure object's body without its surrounding whitespace", async () => {
    await cloud.putObject(await failureObject(), '\n  {"message":"bad input"}\n\n');
    expect((await failWith(errorNotification(inferenceId, CLIENT_ERROR))).cause).toBe(`${CLIENT_ERROR} (model response: {"message":"bad input"})`);
  });

  it('quotes at most 2000 characters of a long failure body', async () => {
    await cloud.putObject(await failureObject(), `${'a'.repeat(2000)}${'b'.repeat(3000)}`);
    expect((await failWith(errorNotification(inferenceId, CLIENT_ERROR))).cause).toBe(`${CLIENT_ERROR} (model response: ${'a'.repeat(2000)})`);
  });

  it('gives the reason alone when the failure object is blank', async () => {
    await cloud.putObject(await failureObject(), ' \n ');
    expect((await failWith(errorNotification(inferenceId, CLIENT_ERROR))).cause).toBe(CLIENT_ERROR);
  });

  it('reads a failure location given at the top level of the notification', async () => {
    await cloud.putObject('s3://imagegen-images/async-failures/top-level-error.out', 'top level');
    const notification = errorNotification(inferenceId, CLIENT_ERROR, { failureLocation: 's3://imagegen-images/async-failures/top-level-error.out' });
    expect((await failWith(notification)).cause).toBe(`${CLIENT_ERROR} (model response: top level)`);
  });

  it('gives the reason alone when neither the notification nor the attempt names a failure location', async () => {
    await cloud.putObject(await failureObject(), 'not to be read');
    await cloud.updateItem(`inference#${inferenceId}`, 'inference', {}, ['failureLocation']);
    expect((await failWith(errorNotification(inferenceId, CLIENT_ERROR))).cause).toBe(CLIENT_ERROR);
    expect(cloud.calls('GetObjectCommand')).toHaveLength(0);
  });

  it('delivers from the output location the notification carries when the attempt never recorded one', async () => {
    const { outputLocation } = await finishLastInference(cloud);
    await cloud.updateItem(`inference#${inferenceId}`, 'inference', {}, ['outputLocation', 'failureLocation']);
    expect(await complete(snsEvent(successNotification(inferenceId, outputLocation)), completeDeps(cloud, clock))).toEqual([{ inferenceId, outcome: 'succeeded', completed: 1 }]);
    expect(((await result) as SucceededDetail).requestId).toBe('r1');
  });
});
