import type { SucceededDetail } from '../../../events/image-generation-succeeded/schema';
import { InvokeEndpointAsyncCommand } from '@aws-sdk/client-sagemaker-runtime';
import { SendTaskFailureCommand, SendTaskSuccessCommand } from '@aws-sdk/client-sfn';
import { loadSample } from '../../../events/samples';
import { complete } from '../../../tasks/complete/complete';
import { reconcile } from '../../../tasks/reconcile/reconcile';
import { resolve } from '../../../tasks/resolve/resolve';
import { TestCloud } from '../../workflows/test-cloud';
import { MetricsRecorder, TestClock, finishLastInference, resolveDeps, settleDeps, snsEvent, successNotification } from '../../workflows/harness';

const request = (detail: object, n: number) => ({
  event: { ...loadSample('image-generation-requested', 'minimal'), detail },
  taskToken: `token-${n}`,
  executionArn: `arn:aws:states:us-east-1:000000000000:execution:imagegen-request:e${n}`,
});

// Per attempt: RequestTTLSeconds 3600 + InvocationTimeoutSeconds 900 + 120 s for the objects to land.
const DEADLINE_MS = (3600 + 900 + 120) * 1000;

describe('reconcile', () => {
  let cloud: TestCloud;
  let clock: TestClock;
  let results: Promise<unknown>[];
  let cacheKey: string;
  let metrics: MetricsRecorder;

  const run = () => reconcile({ time: new Date(clock.now()).toISOString() }, settleDeps(cloud, clock, metrics));
  const dueItems = () => cloud.partition('due');
  const waiters = async () => (await cloud.items()).filter((i) => String(i.sk).startsWith('waiter#'));
  /** Every command sent through any client, by name. */
  const allCalls = (): string[] => cloud.commandNames();
  const failureObjectOf = async (inferenceId: string) => String((await cloud.item(`inference#${inferenceId}`, 'inference'))!.failureLocation);

  beforeAll(async () => {
    cloud = await TestCloud.start();
  });
  afterAll(() => cloud.close());

  beforeEach(async () => {
    await cloud.reset();
    clock = new TestClock();
    metrics = new MetricsRecorder();
    results = [1, 2].map((n) => cloud.openToken(`token-${n}`).catch((e: Error) => ({ failed: e.name, cause: e.message })));
    cacheKey = (await resolve(request({ requestId: 'r1', prompt: 'a cat', renditions: [{ width: 512, format: 'webp' }] }, 1), resolveDeps(cloud, clock))).cacheKey;
    await resolve(request({ requestId: 'r2', prompt: 'a cat' }, 2), resolveDeps(cloud, clock));
  });

  it('at idle sends one Query and nothing else', async () => {
    await cloud.reset();
    const summary = await run();
    expect(summary).toEqual({ at: '2026-01-01T12:00:10.000Z', looked: 0, outcomes: {}, truncated: false });
    expect(allCalls()).toEqual(['QueryCommand']);
    expect(cloud.calls('QueryCommand')[0]!.input).toMatchObject({
      KeyConditionExpression: 'pk = :pk AND sk < :now',
      ExpressionAttributeValues: { ':pk': 'due', ':now': '2026-01-01T12:00:10.000Z' },
    });
    expect(metrics.metrics).toEqual([]);
  });

  it('does not look at an attempt before it is due', async () => {
    await finishLastInference(cloud);
    clock.advance(44_000);
    const before = allCalls().length;
    expect(await run()).toMatchObject({ looked: 0 });
    expect(allCalls().length - before).toBe(1);
    expect(cloud.sfnMock.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
  });

  it('completes every waiter from the output when the notification never came', async () => {
    await finishLastInference(cloud);
    clock.advance(60_000);
    expect(await run()).toEqual({ at: '2026-01-01T12:01:10.000Z', looked: 1, outcomes: { succeeded: 1 }, truncated: false });
    const [one, two] = (await Promise.all(results)) as SucceededDetail[];
    expect(one).toMatchObject({ requestId: 'r1', cacheKey, cacheHit: false, image: { key: `images/${cacheKey}/original.png` } });
    expect(one!.renditions.map((r) => r.key)).toEqual([`images/${cacheKey}/512w.webp`]);
    expect(two).toMatchObject({ requestId: 'r2', cacheKey });
    expect(await cloud.item(`image#${cacheKey}`, 'lease')).toBeUndefined();
    expect(await dueItems()).toEqual([]);
    expect(metrics.count('InferencesReconciled')).toBe(1);
  });

  it('changes nothing when the late notification then arrives, and nothing when a second run looks', async () => {
    const { inferenceId, outputLocation } = await finishLastInference(cloud);
    clock.advance(60_000);
    await run();
    const puts = cloud.calls('PutObjectCommand').length;
    expect(await complete(snsEvent(successNotification(inferenceId, outputLocation)), settleDeps(cloud, clock))).toEqual([{ inferenceId, outcome: 'succeeded', completed: 0 }]);
    clock.advance(60_000);
    expect(await run()).toMatchObject({ looked: 0 });
    expect(cloud.calls('PutObjectCommand')).toHaveLength(puts);
    expect(cloud.sfnMock.commandCalls(SendTaskSuccessCommand).map((c) => c.args[0].input.taskToken).sort()).toEqual(['token-1', 'token-2']);
    expect(cloud.callbacks.filter((c) => !c.closed)).toHaveLength(2);
  });

  it('completes each waiter once when it races the notification', async () => {
    const { inferenceId, outputLocation } = await finishLastInference(cloud);
    clock.advance(60_000);
    const [looked, notified] = await Promise.all([run(), complete(snsEvent(successNotification(inferenceId, outputLocation)), settleDeps(cloud, clock))]);
    expect(looked.looked).toBe(1);
    expect(notified[0]).toMatchObject({ outcome: 'succeeded' });
    expect(cloud.callbacks.filter((c) => !c.closed).map((c) => c.token).sort()).toEqual(['token-1', 'token-2']);
    expect(await Promise.all(results)).toEqual([expect.objectContaining({ requestId: 'r1' }), expect.objectContaining({ requestId: 'r2' })]);
  });

  it('leaves an attempt that is still queued or running: no output, no failure, before its deadline', async () => {
    clock.advance(DEADLINE_MS - 1000);
    expect(await run()).toMatchObject({ looked: 1, outcomes: { 'in-flight': 1 } });
    expect(cloud.sfnMock.commandCalls(SendTaskFailureCommand)).toHaveLength(0);
    expect(cloud.sagemakerMock.commandCalls(InvokeEndpointAsyncCommand)).toHaveLength(1);
    expect(await dueItems()).toHaveLength(1);
    expect(metrics.count('InferencesReconciled')).toBe(0);
  });

  it("retries a failure whose notification never came, from the endpoint's failure object", async () => {
    const first = cloud.invocations[0]!.InferenceId!;
    await cloud.putObject(await failureObjectOf(first), JSON.stringify({ message: 'ServerError: Failed to reach the model container (connect ECONNREFUSED). See the SageMaker Endpoint logs in your account for more information.' }));
    clock.advance(60_000);
    expect(await run()).toMatchObject({ looked: 1, outcomes: { retried: 1 } });
    expect(cloud.invocations).toHaveLength(2);
    const retryId = cloud.invocations[1]!.InferenceId!;
    expect(await cloud.item(`image#${cacheKey}`, 'lease')).toMatchObject({ inferenceId: retryId, attempt: 2, status: 'inflight' });
    expect((await dueItems()).map((i) => i.inferenceId)).toEqual([retryId]);
    expect(await waiters()).toHaveLength(2);
    expect(cloud.sfnMock.commandCalls(SendTaskFailureCommand)).toHaveLength(0);
  });

  it("fails every waiter as InferenceTimedOut, without a retry, from a failure object that says the request expired in the queue", async () => {
    const reason = 'ClientError: Request expired after waiting 3600 seconds in the queue (RequestTTLSeconds) before an instance could process it.';
    await cloud.putObject(await failureObjectOf(cloud.invocations[0]!.InferenceId!), JSON.stringify({ message: reason }));
    clock.advance(60_000);
    expect(await run()).toMatchObject({ outcomes: { 'timed-out': 1 } });
    expect(await Promise.all(results)).toEqual([1, 2].map(() => ({ failed: 'InferenceTimedOut', cause: reason })));
    expect(cloud.invocations).toHaveLength(1);
  });

  it("retries a model's own error response (its status is unknown without the notification), and fails once the retries are spent", async () => {
    for (let attempt = 1; attempt <= 3; attempt++) {
      await cloud.putObject(await failureObjectOf(cloud.invocations.at(-1)!.InferenceId!), '{"error":"NEURON_RT_EXEC_ERROR"}');
      clock.advance(60_000);
      expect((await run()).outcomes).toEqual(attempt < 3 ? { retried: 1 } : { failed: 1 });
    }
    expect(cloud.invocations).toHaveLength(3);
    const failures = (await Promise.all(results)) as { failed: string; cause: string }[];
    expect(failures.map((f) => f.failed)).toEqual(['InferenceFailed', 'InferenceFailed']);
    expect(failures[0]!.cause).toMatch(/failure object s3:\/\/imagegen-images\/async-failures\/.*-error\.out but its error notification was not received \(model response: \{"error":"NEURON_RT_EXEC_ERROR"\}\) \(gave up after 3 attempts\)$/);
    expect(cloud.sfnMock.commandCalls(SendTaskFailureCommand)).toHaveLength(2);
    expect(await dueItems()).toEqual([]);
  });

  it('starts a new attempt for an inference the endpoint lost (neither object past its deadline), which then completes', async () => {
    clock.advance(DEADLINE_MS);
    expect(await run()).toMatchObject({ outcomes: { retried: 1 } });
    expect(cloud.invocations).toHaveLength(2);
    await finishLastInference(cloud);
    clock.advance(60_000);
    expect(await run()).toMatchObject({ outcomes: { succeeded: 1 } });
    expect(await Promise.all(results)).toEqual([expect.objectContaining({ requestId: 'r1' }), expect.objectContaining({ requestId: 'r2' })]);
  });

  it('fails every waiter as InferenceTimedOut when every attempt was lost', async () => {
    for (let attempt = 1; attempt <= 3; attempt++) {
      clock.advance(DEADLINE_MS);
      expect((await run()).outcomes).toEqual(attempt < 3 ? { retried: 1 } : { 'timed-out': 1 });
    }
    const failures = (await Promise.all(results)) as { failed: string; cause: string }[];
    expect(failures.map((f) => f.failed)).toEqual(['InferenceTimedOut', 'InferenceTimedOut']);
    expect(failures[0]!.cause).toMatch(/reported neither a result nor an error for inference .* within 4620 s .* \(gave up after 3 attempts\)$/);
    expect(cloud.invocations).toHaveLength(3);
  });

  it('starts a new attempt for one the endpoint never acknowledged (its starter died before recording the locations)', async () => {
    const first = cloud.invocations[0]!.InferenceId!;
    await cloud.updateItem(`inference#${first}`, 'inference', {}, ['outputLocation', 'failureLocation']);
    clock.advance(179_000);
    expect(await run()).toMatchObject({ outcomes: { 'in-flight': 1 } });
    clock.advance(1_000);
    expect(await run()).toMatchObject({ outcomes: { retried: 1 } });
    expect(cloud.invocations).toHaveLength(2);
  });

  it('drops an index entry whose attempt is gone, and settles nothing from it', async () => {
    await cloud.deleteItem(`inference#${cloud.invocations[0]!.InferenceId!}`, 'inference');
    clock.advance(DEADLINE_MS);
    expect(await run()).toMatchObject({ outcomes: { gone: 1 } });
    expect(await dueItems()).toEqual([]);
    expect(cloud.sfnMock.commandCalls(SendTaskFailureCommand)).toHaveLength(0);
  });
});
