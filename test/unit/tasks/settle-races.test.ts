/**
 * Settling an attempt when DynamoDB or the endpoint answers badly, or another writer got there first
 * (tasks/shared/settle.ts, tasks/shared/waiters.ts): an error that is not a lost race is thrown, so
 * the notification is delivered again with the attempt still in the reconciler's index.
 */
import { ProvisionedThroughputExceededException } from '@aws-sdk/client-dynamodb';
import { InvokeEndpointAsyncCommand, ServiceUnavailable } from '@aws-sdk/client-sagemaker-runtime';
import { SendTaskFailureCommand } from '@aws-sdk/client-sfn';
import { loadSample } from '../../../events/samples';
import { complete } from '../../../tasks/complete/complete';
import { resolve } from '../../../tasks/resolve/resolve';
import { getInference } from '../../../tasks/shared/coordination';
import { settle } from '../../../tasks/shared/settle';
import { TestCloud } from '../../workflows/test-cloud';
import { MetricsRecorder, TestClock, completeDeps, errorNotification, finishLastInference, resolveDeps, settleConfig, settleDeps, snsEvent, successNotification } from '../../workflows/harness';

const CLIENT_ERROR = 'ClientError: Received client error (400) from model with message "bad input". See the SageMaker Endpoint logs in your account for more information.';
const SERVER_ERROR = 'ClientError: Received server error (500) from model. See the SageMaker Endpoint logs in your account for more information.';
const EXPIRED = 'ClientError: Request expired after waiting 3600 seconds in the queue (RequestTTLSeconds) before an instance could process it.';

const throttled = () => new ProvisionedThroughputExceededException({ message: 'The level of configured provisioned throughput for the table was exceeded.', $metadata: { httpStatusCode: 400 } });

describe('settle', () => {
  let cloud: TestCloud;
  let clock: TestClock;
  let result: Promise<unknown>;
  let cacheKey: string;
  let inferenceId: string;

  const request = (n: number, metadata?: object) => ({
    event: { ...loadSample('image-generation-requested', 'minimal'), detail: { requestId: `r${n}`, prompt: 'a cat', ...(metadata ? { metadata } : {}) } },
    taskToken: `token-${n}`,
    executionArn: `arn:aws:states:us-east-1:000000000000:execution:imagegen-request:e${n}`,
  });
  const inferenceItems = async () => (await cloud.items()).filter((i) => i.sk === 'inference');
  const waiters = async () => (await cloud.partition(`image#${cacheKey}`)).filter((i) => String(i.sk).startsWith('waiter#'));

  beforeAll(async () => {
    cloud = await TestCloud.start();
  });
  afterAll(() => cloud.close());

  beforeEach(async () => {
    await cloud.reset();
    clock = new TestClock();
    result = cloud.openToken('token-1').catch((e: Error) => ({ failed: e.name, cause: e.message }));
    cacheKey = (await resolve(request(1), resolveDeps(cloud, clock))).cacheKey;
    inferenceId = cloud.invocations[0]!.InferenceId!;
  });

  it('counts each way an image fails under its own metric', async () => {
    const cases = [
      [CLIENT_ERROR, 'InferenceFailures'],
      [EXPIRED, 'InferenceTimeouts'],
    ] as const;
    for (const [reason, metric] of cases) {
      await cloud.reset();
      await resolve(request(1), resolveDeps(cloud, clock));
      const metrics = new MetricsRecorder();
      await complete(snsEvent(errorNotification(cloud.invocations[0]!.InferenceId!, reason)), completeDeps(cloud, clock, metrics));
      expect(metrics.metrics).toEqual([{ name: metric, value: 1 }]);
    }
    await cloud.reset();
    await resolve(request(1), resolveDeps(cloud, clock));
    const { inferenceId: id, outputLocation } = await finishLastInference(cloud);
    await cloud.putObject(outputLocation, JSON.stringify({ generated_images: [Buffer.from('not a png').toString('base64')] }));
    const metrics = new MetricsRecorder();
    await complete(snsEvent(successNotification(id, outputLocation)), completeDeps(cloud, clock, metrics));
    expect(metrics.metrics).toEqual([{ name: 'PostProcessingFailures', value: 1 }]);
  });

  it('does not retry an attempt whose image already failed, when a transient failure of it is seen late', async () => {
    await complete(snsEvent(errorNotification(inferenceId, CLIENT_ERROR)), completeDeps(cloud, clock));
    // As a reconciler run that read the attempt before Complete settled it, finding its failure object.
    const inference = (await getInference(cloud.ddb, settleConfig.tableName, inferenceId))!;
    const settled = await settle(inference, { kind: 'failure', reason: SERVER_ERROR, failureKind: 'transient' }, settleDeps(cloud, clock));
    expect(settled).toEqual({ outcome: 'failed', completed: 0 });
    expect(cloud.invocations).toHaveLength(1);
    expect((await inferenceItems()).map((i) => i.inferenceId)).toEqual([inferenceId]);
    expect(await cloud.item(`image#${cacheKey}`, 'lease')).toMatchObject({ inferenceId, status: 'failed', attempt: 1 });
  });

  it('throws when moving the lease to the retry fails for another reason than a lost race, keeping the attempt due', async () => {
    cloud.afterSend('UpdateCommand', async (input) => {
      if ((input.Key as { sk: string }).sk === 'lease') throw throttled();
    });
    await expect(complete(snsEvent(errorNotification(inferenceId, SERVER_ERROR)), completeDeps(cloud, clock))).rejects.toThrow(ProvisionedThroughputExceededException);
    expect((await cloud.partition('due')).map((d) => d.inferenceId)).toContain(inferenceId);
    expect(cloud.sfnMock.commandCalls(SendTaskFailureCommand)).toHaveLength(0);
  });

  it('counts a retry the endpoint refused and leaves it due for the reconciler', async () => {
    cloud.sagemakerMock.on(InvokeEndpointAsyncCommand).rejectsOnce(new ServiceUnavailable({ message: 'Service Unavailable', $metadata: { httpStatusCode: 503 } }));
    const metrics = new MetricsRecorder();
    const [summary] = await complete(snsEvent(errorNotification(inferenceId, SERVER_ERROR)), completeDeps(cloud, clock, metrics));
    expect(summary).toEqual({ inferenceId, outcome: 'retried', completed: 0, retryId: expect.any(String) });
    const retryId = (summary as { retryId: string }).retryId;
    expect(metrics.count('InferenceRetries')).toBe(1);
    expect(await cloud.item(`inference#${retryId}`, 'inference')).toMatchObject({ attempt: 2, modelInput: expect.any(String) });
    expect((await cloud.item(`inference#${retryId}`, 'inference'))!.outputLocation ?? undefined).toBeUndefined();
    expect((await cloud.partition('due')).map((d) => d.inferenceId)).toEqual([retryId]);
    expect(await waiters()).toHaveLength(1);
  });

  it('names a retry with a random UUID when no id generator is given, as the deployed function does', async () => {
    const { newId: _generator, ...deps } = settleDeps(cloud, clock);
    const [summary] = await complete(snsEvent(errorNotification(inferenceId, SERVER_ERROR)), deps);
    expect(summary).toMatchObject({ outcome: 'retried', retryId: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/) });
    expect(cloud.invocations[1]!.InferenceId).toBe((summary as { retryId: string }).retryId);
  });

  it('fails rather than retries an attempt recorded without its model input (written before retries existed)', async () => {
    await cloud.updateItem(`inference#${inferenceId}`, 'inference', {}, ['modelInput']);
    const deps = completeDeps(cloud, clock);
    expect(await complete(snsEvent(errorNotification(inferenceId, SERVER_ERROR)), deps)).toEqual([{ inferenceId, outcome: 'failed', completed: 1 }]);
    expect(cloud.invocations).toHaveLength(1);
  });

  it('keeps a waiter whose execution replaced its token while the attempt was being failed', async () => {
    const [waiter] = await waiters();
    cloud.afterSend('QueryCommand', async () => {
      cloud.afterSend('QueryCommand', async () => undefined);
      await cloud.updateItem(`image#${cacheKey}`, String(waiter!.sk), { taskToken: 'token-1-again' });
    });
    expect(await complete(snsEvent(errorNotification(inferenceId, CLIENT_ERROR)), completeDeps(cloud, clock))).toEqual([{ inferenceId, outcome: 'failed', completed: 1 }]);
    expect(await cloud.item(`image#${cacheKey}`, String(waiter!.sk))).toMatchObject({ taskToken: 'token-1-again' });
  });

  it('throws when a waiter cannot be deleted, keeping the attempt due', async () => {
    cloud.afterSend('DeleteCommand', async (input) => {
      if (String((input.Key as { sk: string }).sk).startsWith('waiter#')) throw throttled();
    });
    await expect(complete(snsEvent(errorNotification(inferenceId, CLIENT_ERROR)), completeDeps(cloud, clock))).rejects.toThrow(ProvisionedThroughputExceededException);
    expect((await cloud.partition('due')).map((d) => d.inferenceId)).toEqual([inferenceId]);
  });

  it('reads the waiters strongly consistent: one written just before must be answered', async () => {
    await complete(snsEvent(errorNotification(inferenceId, CLIENT_ERROR)), completeDeps(cloud, clock));
    const waiterQueries = cloud.calls('QueryCommand').filter((c) => String(c.input.KeyConditionExpression).includes('begins_with(sk, :w)'));
    expect(waiterQueries.map((q) => q.input.ConsistentRead)).toEqual([true]);
  });

  it('fails every waiter of an image whose waiters span several Query pages (over 1 MB)', async () => {
    // 300 requests for one image, each with 4 KB of metadata: about 1.3 MB of waiters.
    const [first] = await waiters();
    const metadata = { note: 'm'.repeat(4000) };
    for (let n = 2; n <= 300; n++) await cloud.putItem({ ...first, sk: `waiter#e${n}`, taskToken: `token-${n}`, requestId: `r${n}`, metadata });
    expect(await waiters()).toHaveLength(300);
    expect(await complete(snsEvent(errorNotification(inferenceId, CLIENT_ERROR)), completeDeps(cloud, clock))).toEqual([{ inferenceId, outcome: 'failed', completed: 1 }]);
    expect(new Set(cloud.sfnMock.commandCalls(SendTaskFailureCommand).map((c) => c.args[0].input.taskToken)).size).toBe(300);
    expect(cloud.calls('QueryCommand').filter((c) => c.input.ExclusiveStartKey !== undefined).length).toBeGreaterThan(0);
    expect(await waiters()).toEqual([]);
    expect(await result).toMatchObject({ failed: 'InferenceFailed' });
  }, 30_000);
});
