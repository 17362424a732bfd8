/**
 * Resolve when a dependency throttles or the state's input is malformed: a retryable failure reaches
 * the workflow as `Transient` naming the step that failed (its Retry covers it), never as a rejected
 * request or a joined inference that nobody started.
 */
import { InvokeEndpointAsyncCommand } from '@aws-sdk/client-sagemaker-runtime';
import { resolve, type ResolveInput } from '../../../tasks/resolve/resolve';
import { cacheKeyOf, normalize } from '../../../tasks/shared/request';
import { loadSample } from '../../../events/samples';
import type { RequestDetail } from '../../../events/image-generation-requested/schema';
import { TestCloud } from '../../workflows/test-cloud';
import { MetricsRecorder, TestClock, modelPng, resolveConfig, resolveDeps } from '../../workflows/harness';
import { ddbThrottled, failing, s3SlowDown } from './faults';

const EXEC = 'arn:aws:states:us-east-1:000000000000:execution:imagegen-request:e1';
const input = (detail: object, exec = EXEC, token = 'token-1'): ResolveInput => {
  const event = loadSample('image-generation-requested', 'minimal');
  return { event: { ...event, detail }, taskToken: token, executionArn: exec } as ResolveInput;
};
const keyOf = (d: Partial<RequestDetail>) =>
  cacheKeyOf(resolveConfig.modelId, normalize({ requestId: 'r1', prompt: 'a cat', ...d } as RequestDetail, resolveConfig.modelId, resolveConfig.supportedSizes));

describe('resolve with a failing dependency', () => {
  let cloud: TestCloud;
  let clock: TestClock;
  beforeAll(async () => {
    cloud = await TestCloud.start();
  });
  afterAll(() => cloud.close());
  beforeEach(async () => {
    await cloud.reset();
    clock = new TestClock();
  });
  const isLease = (i: Record<string, unknown>) => (i.Key as { sk?: string } | undefined)?.sk === 'lease';

  it('a throttled claim is Transient (retried), not a conflicting requestId', async () => {
    const deps = { ...resolveDeps(cloud, clock), ddb: failing(cloud.ddb, 'PutCommand', ddbThrottled, (i) => (i.Item as { sk?: string }).sk === 'claim') };
    await expect(resolve(input({ requestId: 'r1', prompt: 'a cat' }), deps)).rejects.toMatchObject({
      name: 'Transient',
      message: expect.stringMatching(/^claiming the requestId failed: The level of configured provisioned throughput/),
    });
    expect(cloud.invocations).toHaveLength(0);
  });

  it('a throttled cache look-up is Transient and starts nothing', async () => {
    const deps = { ...resolveDeps(cloud, clock), s3: failing(cloud.s3, 'HeadObjectCommand', s3SlowDown) };
    await expect(resolve(input({ requestId: 'r1', prompt: 'a cat' }), deps)).rejects.toMatchObject({ name: 'Transient', message: 'checking the cache failed: Please reduce your request rate.' });
    expect(cloud.invocations).toHaveLength(0);
  });

  it('a cache look-up failing while the claim conflicts reports the conflict and leaves no unhandled rejection', async () => {
    await resolve(input({ requestId: 'r1', prompt: 'a cat' }), resolveDeps(cloud, clock));
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const deps = { ...resolveDeps(cloud, clock), s3: failing(cloud.s3, 'HeadObjectCommand', s3SlowDown) };
      await expect(resolve(input({ requestId: 'r1', prompt: 'a dog' }, 'arn:exec:e2', 't2'), deps)).rejects.toMatchObject({ name: 'InvalidRequest' });
      // A rejection nobody handles surfaces after the current macrotask; in Lambda it crashes the runtime.
      await new Promise((done) => setImmediate(done));
      await new Promise((done) => setTimeout(done, 10));
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
    expect(unhandled).toEqual([]);
  });

  it('a throttled waiter write is Transient naming the step', async () => {
    const deps = { ...resolveDeps(cloud, clock), ddb: failing(cloud.ddb, 'PutCommand', ddbThrottled, (i) => String((i.Item as { sk?: string }).sk).startsWith('waiter#')) };
    await expect(resolve(input({ requestId: 'r1', prompt: 'a cat' }), deps)).rejects.toMatchObject({ name: 'Transient', message: expect.stringMatching(/^put waiter: /) });
    expect(cloud.invocations).toHaveLength(0);
  });

  it('a throttled lease write is Transient: the request neither joins nor starts an inference', async () => {
    const metrics = new MetricsRecorder();
    const deps = { ...resolveDeps(cloud, clock, metrics), ddb: failing(cloud.ddb, 'UpdateCommand', ddbThrottled, isLease) };
    await expect(resolve(input({ requestId: 'r1', prompt: 'a cat' }), deps)).rejects.toMatchObject({ name: 'Transient', message: expect.stringMatching(/^taking the image lease failed: /) });
    expect(cloud.invocations).toHaveLength(0);
    expect(metrics.count('InferencesJoined')).toBe(0);
  });

  it('an endpoint that throttles is Transient naming the step', async () => {
    cloud.sagemakerMock.on(InvokeEndpointAsyncCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } }));
    await expect(resolve(input({ requestId: 'r1', prompt: 'a cat' }), resolveDeps(cloud, clock))).rejects.toMatchObject({ name: 'Transient', message: 'starting the inference failed: Rate exceeded' });
  });

  it('the image landing while the waiter is written: the hit deletes only its own waiter, not one a newer try wrote', async () => {
    const key = keyOf({});
    const waiterSk = `waiter#${EXEC}`;
    cloud.afterSend('HeadObjectCommand', async () => {
      if (cloud.calls('HeadObjectCommand').length !== 1) return;
      await cloud.putObject(`s3://imagegen-images/images/${key}/original.png`, await modelPng(), { width: '1024', height: '1024' });
    });
    // A later try of the same execution overwrote the waiter with its own token in between.
    cloud.afterSend('PutCommand', async (i) => {
      if ((i.Item as { sk?: string }).sk === waiterSk) await cloud.updateItem(`image#${key}`, waiterSk, { taskToken: 'token-newer' });
    });
    void cloud.openToken('token-1');
    await expect(resolve(input({ requestId: 'r1', prompt: 'a cat', renditions: [] }), resolveDeps(cloud, clock))).resolves.toEqual({ outcome: 'hit', cacheKey: key });
    expect(await cloud.item(`image#${key}`, waiterSk)).toMatchObject({ taskToken: 'token-newer' });
  });

  it('the image landing while the waiter is written: its own waiter is deleted, and a failed delete is not hidden', async () => {
    const key = keyOf({});
    cloud.afterSend('HeadObjectCommand', async () => {
      if (cloud.calls('HeadObjectCommand').length !== 1) return;
      await cloud.putObject(`s3://imagegen-images/images/${key}/original.png`, await modelPng(), { width: '1024', height: '1024' });
    });
    void cloud.openToken('token-1');
    await expect(resolve(input({ requestId: 'r1', prompt: 'a cat', renditions: [] }), resolveDeps(cloud, clock))).resolves.toMatchObject({ outcome: 'hit' });
    expect(await cloud.item(`image#${key}`, `waiter#${EXEC}`)).toBeUndefined();

    await cloud.reset();
    cloud.afterSend('HeadObjectCommand', async () => {
      if (cloud.calls('HeadObjectCommand').length !== 1) return;
      await cloud.putObject(`s3://imagegen-images/images/${key}/original.png`, await modelPng(), { width: '1024', height: '1024' });
    });
    void cloud.openToken('token-1');
    const deps = { ...resolveDeps(cloud, clock), ddb: failing(cloud.ddb, 'DeleteCommand', ddbThrottled) };
    await expect(resolve(input({ requestId: 'r1', prompt: 'a cat', renditions: [] }), deps)).rejects.toMatchObject({ name: 'ProvisionedThroughputExceededException' });
  });
});

describe('resolve with malformed state input', () => {
  const deps = () => ({ ...resolveDeps({} as TestCloud, new TestClock()) });
  const message = 'Resolve input must carry taskToken and executionArn (check the state Parameters)';
  const event = loadSample('image-generation-requested', 'minimal');

  it.each([
    ['no input at all', undefined],
    ['no taskToken', { event, executionArn: EXEC }],
    ['an empty taskToken', { event, taskToken: '', executionArn: EXEC }],
    ['no executionArn', { event, taskToken: 't' }],
  ])('%s: names the missing fields', async (_, bad) => {
    await expect(resolve(bad as unknown as ResolveInput, deps())).rejects.toThrow(new Error(message));
  });
});
