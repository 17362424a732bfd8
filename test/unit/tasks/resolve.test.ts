import type { SucceededDetail } from '../../../events/image-generation-succeeded/schema';
import sharp from 'sharp';
import { InvokeEndpointAsyncCommand } from '@aws-sdk/client-sagemaker-runtime';
import { SendTaskSuccessCommand } from '@aws-sdk/client-sfn';
import { resolve } from '../../../tasks/resolve/resolve';
import { cacheKeyOf, normalize } from '../../../tasks/shared/request';
import { loadSample } from '../../../events/samples';
import type { RequestDetail } from '../../../events/image-generation-requested/schema';
import { TestCloud } from '../../workflows/test-cloud';
import { MetricsRecorder, TestClock, modelPng, resolveConfig, resolveDeps } from '../../workflows/harness';

const { modelId, supportedSizes } = resolveConfig;
const norm = (d: Partial<RequestDetail>) => normalize({ requestId: 'r', prompt: 'a cat', ...d } as RequestDetail, modelId, supportedSizes);
const input = (detail: object, exec = 'arn:aws:states:us-east-1:000000000000:execution:imagegen-request:e1', token = 'token-1') => {
  const event = loadSample('image-generation-requested', 'minimal');
  return { event: { ...event, detail }, taskToken: token, executionArn: exec };
};

describe('normalize, seed and cache key', () => {
  it('applies the contract defaults and trims the prompt', () => {
    const n = norm({ prompt: '  a cat  ' });
    expect(n).toMatchObject({ prompt: 'a cat', width: 1024, height: 1024, steps: 30, guidanceScale: 7 });
    expect(n.renditions).toEqual([
      { width: 512, format: 'webp' },
      { width: 256, format: 'jpeg' },
    ]);
  });

  it('derives the same seed and key for identical content, whatever requestId, renditions or metadata', () => {
    const a = norm({ requestId: 'a' });
    const b = norm({ requestId: 'b', prompt: ' a cat', renditions: [{ width: 64, format: 'png' }], metadata: { x: 1 } });
    expect(a.seed).toBe(b.seed);
    expect(Number.isInteger(a.seed) && a.seed >= 0 && a.seed <= 4294967295).toBe(true);
    expect(cacheKeyOf(modelId, a)).toBe(cacheKeyOf(modelId, b));
    expect(cacheKeyOf(modelId, a)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('gives a different picture for a different prompt, seed, steps or model', () => {
    const key = cacheKeyOf(modelId, norm({}));
    expect(cacheKeyOf(modelId, norm({ prompt: 'a dog' }))).not.toBe(key);
    expect(cacheKeyOf(modelId, norm({ seed: 1 }))).not.toBe(key);
    expect(cacheKeyOf(modelId, norm({ steps: 31 }))).not.toBe(key);
    expect(cacheKeyOf('other-model', norm({}))).not.toBe(key);
    expect(norm({ prompt: 'a dog' }).seed).not.toBe(norm({}).seed);
  });

  it('is stable across releases (pinned value)', () => {
    // Changing this value invalidates every cached image: do it only deliberately.
    const full = loadSample('image-generation-requested', 'full');
    expect(cacheKeyOf(modelId, normalize(full.detail, modelId, supportedSizes))).toBe(loadSample('image-generation-succeeded', 'miss').detail.cacheKey);
  });
});

describe('resolve', () => {
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
  const dueItems = () => cloud.partition('due');
  /** The original as Complete writes it: a 1024×1024 PNG with its size in the object metadata. */
  const putOriginal = async (key: string) => cloud.putObject(`s3://imagegen-images/images/${key}/original.png`, await modelPng(), { width: '1024', height: '1024' });

  it('on a miss claims, waits and starts exactly one inference with the diffusers input', async () => {
    const metrics = new MetricsRecorder();
    const out = await resolve(input({ requestId: 'r1', prompt: 'a cat', steps: 20, negativePrompt: 'dog' }), resolveDeps(cloud, clock, metrics));
    expect(out.outcome).toBe('started');
    const call = cloud.sagemakerMock.commandCalls(InvokeEndpointAsyncCommand)[0]!.args[0].input;
    expect(call).toMatchObject({
      EndpointName: 'imagegen-sdxl',
      ContentType: 'application/json',
      Accept: 'application/json',
      RequestTTLSeconds: 3600,
      InvocationTimeoutSeconds: 900,
    });
    expect(call.InferenceId).toBe(out.outcome === 'started' ? out.inferenceId : '');
    // The model input travels inline: nothing is staged in S3.
    expect(call.InputLocation).toBeUndefined();
    expect(cloud.calls('PutObjectCommand')).toHaveLength(0);
    const body = JSON.parse(Buffer.from(call.Body as Uint8Array).toString());
    expect(body).toEqual({
      inputs: 'a cat',
      parameters: { negative_prompt: 'dog', width: 1024, height: 1024, num_inference_steps: 20, guidance_scale: 7, seed: expect.any(Number) },
    });
    expect(await cloud.item(`image#${out.cacheKey}`, 'waiter#arn:aws:states:us-east-1:000000000000:execution:imagegen-request:e1')).toMatchObject({
      taskToken: 'token-1',
      requestId: 'r1',
      receivedAt: '2026-01-01T12:00:00.000Z',
    });
    expect(await cloud.item(`inference#${call.InferenceId}`, 'inference')).toMatchObject({ cacheKey: out.cacheKey, outputLocation: expect.stringMatching(/^s3:\/\/imagegen-images\/async-output\//) });
    expect(await cloud.item(`image#${out.cacheKey}`, 'lease')).toMatchObject({ inferenceId: call.InferenceId, status: 'inflight', attempt: 1 });
    expect(cloud.sfnMock.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
    expect(metrics.count('CacheMisses')).toBe(1);
    expect(metrics.dimensions).toEqual({ EndpointName: 'imagegen-sdxl' });
  });

  it('joins the in-flight inference for the same picture instead of starting another', async () => {
    await resolve(input({ requestId: 'r1', prompt: 'a cat' }), resolveDeps(cloud, clock));
    const out = await resolve(input({ requestId: 'r2', prompt: 'a cat', renditions: [] }, 'arn:exec:e2', 'token-2'), resolveDeps(cloud, clock));
    expect(out.outcome).toBe('joined');
    expect(cloud.invocations).toHaveLength(1);
    expect(await cloud.item(`image#${out.cacheKey}`, 'waiter#arn:exec:e2')).toMatchObject({ taskToken: 'token-2', renditions: [] });
  });

  it('takes over a failed or expired lease with a new attempt', async () => {
    const first = await resolve(input({ requestId: 'r1', prompt: 'a cat' }), resolveDeps(cloud, clock));
    await cloud.updateItem(`image#${first.cacheKey}`, 'lease', { status: 'failed' });
    const second = await resolve(input({ requestId: 'r2', prompt: 'a cat' }, 'arn:exec:e2', 'token-2'), resolveDeps(cloud, clock));
    expect(second.outcome).toBe('started');
    // A new series of attempts: its retries are counted afresh.
    expect(await cloud.item(`image#${first.cacheKey}`, 'lease')).toMatchObject({ attempt: 1, status: 'inflight', inferenceId: second.outcome === 'started' ? second.inferenceId : '' });
    clock.advance((3600 + 900 + 600 + 1) * 1000);
    expect((await resolve(input({ requestId: 'r3', prompt: 'a cat' }, 'arn:exec:e3', 'token-3'), resolveDeps(cloud, clock))).outcome).toBe('started');
    expect(cloud.invocations).toHaveLength(3);
  });

  it('starts again, under the same InferenceId, the inference its own earlier attempt took the lease for and the endpoint never confirmed', async () => {
    const first = await resolve(input({ requestId: 'r1', prompt: 'a cat' }), resolveDeps(cloud, clock));
    const inferenceId = first.outcome === 'started' ? first.inferenceId : '';
    // The process running that attempt died after taking the lease, before the endpoint accepted the inference.
    await cloud.updateItem(`inference#${inferenceId}`, 'inference', {}, ['outputLocation']);
    cloud.invocations.length = 0;

    const other = await resolve(input({ requestId: 'r2', prompt: 'a cat' }, 'arn:exec:e2', 'token-2'), resolveDeps(cloud, clock));
    expect(other.outcome).toBe('joined');
    expect(cloud.invocations).toHaveLength(0);

    const again = await resolve(input({ requestId: 'r1', prompt: 'a cat' }, undefined, 'token-1b'), resolveDeps(cloud, clock));
    expect(again).toMatchObject({ outcome: 'started', inferenceId });
    expect(cloud.invocations.map((i) => i.InferenceId)).toEqual([inferenceId]);
    expect(await cloud.item(`inference#${inferenceId}`, 'inference')).toMatchObject({ outputLocation: expect.stringMatching(/^s3:\/\//) });
    expect(await cloud.item(`image#${first.cacheKey}`, 'lease')).toMatchObject({ inferenceId, attempt: 1, status: 'inflight' });
    // The recorded attempt is reused: one entry in the reconciler's index, due from the first start.
    expect((await dueItems()).map((i) => i.inferenceId)).toEqual([inferenceId]);
  });

  it('leaves a retry the endpoint never confirmed to the reconciler: a later try of the execution that took the lease joins it', async () => {
    const first = await resolve(input({ requestId: 'r1', prompt: 'a cat' }), resolveDeps(cloud, clock));
    const lease = (await cloud.item(`image#${first.cacheKey}`, 'lease'))!;
    // A retry (attempt 2) whose starter died before the endpoint answered.
    await cloud.updateItem(`image#${first.cacheKey}`, 'lease', { attempt: 2 });
    await cloud.updateItem(`inference#${String(lease.inferenceId)}`, 'inference', {}, ['outputLocation']);
    const again = await resolve(input({ requestId: 'r1', prompt: 'a cat' }, undefined, 'token-1b'), resolveDeps(cloud, clock));
    expect(again.outcome).toBe('joined');
    expect(cloud.invocations).toHaveLength(1);
  });

  it('joins the inference its own earlier attempt started once the endpoint accepted it', async () => {
    await resolve(input({ requestId: 'r1', prompt: 'a cat' }), resolveDeps(cloud, clock));
    const again = await resolve(input({ requestId: 'r1', prompt: 'a cat' }, undefined, 'token-1b'), resolveDeps(cloud, clock));
    expect(again.outcome).toBe('joined');
    expect(cloud.invocations).toHaveLength(1);
  });

  it('on a hit completes its own token with cacheHit true and renders missing renditions', async () => {
    const key = cacheKeyOf(modelId, norm({ requestId: 'r1', prompt: 'a cat' }));
    await putOriginal(key);
    const metrics = new MetricsRecorder();
    const result = cloud.openToken('token-1');
    const out = await resolve(
      input({ requestId: 'r1', prompt: 'a cat', renditions: [{ width: 300, format: 'avif', quality: 40 }, { width: 2048, format: 'jpeg' }], metadata: { k: 'v' } }),
      resolveDeps(cloud, clock, metrics),
    );
    expect(out).toEqual({ outcome: 'hit', cacheKey: key });
    const detail = (await result) as SucceededDetail;
    expect(detail).toMatchObject({ requestId: 'r1', cacheKey: key, cacheHit: true, metadata: { k: 'v' } });
    expect(detail.timings.inferenceMs).toBeUndefined();
    expect(detail.timings).toMatchObject({ receivedAt: '2026-01-01T12:00:00.000Z', completedAt: '2026-01-01T12:00:10.000Z', totalMs: 10000 });
    expect(detail.renditions.map((r: { key: string }) => r.key)).toEqual([`images/${key}/300w-q40.avif`, `images/${key}/2048w.jpeg`]);
    const avif = await sharp((await cloud.object(`images/${key}/300w-q40.avif`))!.body).metadata();
    expect([avif.width, avif.height, avif.format]).toEqual([300, 300, 'heif']);
    const jpeg = await sharp((await cloud.object(`images/${key}/2048w.jpeg`))!.body).metadata();
    expect([jpeg.width, jpeg.height, jpeg.format]).toEqual([2048, 2048, 'jpeg']);
    expect(detail.renditions[1]).toMatchObject({ width: 2048, height: 2048, contentType: 'image/jpeg', bytes: (await cloud.object(`images/${key}/2048w.jpeg`))!.body.length });
    expect(cloud.invocations).toHaveLength(0);
    expect(metrics.count('CacheHits')).toBe(1);
  });

  it('rejects a requestId reused with other content and overwrites nothing', async () => {
    await resolve(input({ requestId: 'r1', prompt: 'a cat' }), resolveDeps(cloud, clock));
    const claim = await cloud.item('request#r1', 'claim');
    expect(claim).toBeDefined();
    await expect(resolve(input({ requestId: 'r1', prompt: 'a dog' }, 'arn:exec:e2', 't2'), resolveDeps(cloud, clock))).rejects.toMatchObject({
      name: 'InvalidRequest',
      message: expect.stringContaining('detail.requestId "r1" was already used for a request with different content'),
    });
    expect(await cloud.item('request#r1', 'claim')).toEqual(claim);
    expect(cloud.invocations).toHaveLength(1);
  });

  it('accepts a requestId with other content once its claim has expired, whether or not TTL has deleted it yet', async () => {
    await resolve(input({ requestId: 'r1', prompt: 'a cat' }), resolveDeps(cloud, clock));
    const claim = (await cloud.item('request#r1', 'claim'))!;
    clock.advance((Number(claim.expiresAt) + 1) * 1000 - clock.ms);
    // DynamoDB deletes expired items "within a few days": the claim is still there.
    expect(await cloud.item('request#r1', 'claim')).toBeDefined();
    await expect(resolve(input({ requestId: 'r1', prompt: 'a dog' }, 'arn:exec:e2', 't2'), resolveDeps(cloud, clock))).resolves.toMatchObject({ outcome: 'started' });
    expect(await cloud.item('request#r1', 'claim')).toMatchObject({ contentHash: expect.not.stringMatching(String(claim.contentHash)) });
  });

  it('accepts the same requestId with the same content (a redelivery or replay)', async () => {
    await resolve(input({ requestId: 'r1', prompt: 'a cat' }), resolveDeps(cloud, clock));
    await expect(resolve(input({ requestId: 'r1', prompt: 'a cat' }, 'arn:exec:e2', 't2'), resolveDeps(cloud, clock))).resolves.toMatchObject({ outcome: 'joined' });
  });

  it('throws InvalidRequest with every problem before touching any store', async () => {
    await expect(resolve(input({ requestId: 'r1', prompt: 'x', steps: 250, seed: -3 }), resolveDeps(cloud, clock))).rejects.toMatchObject({
      name: 'InvalidRequest',
      message: 'detail.steps must be an integer from 1 to 100 (got 250); detail.seed must be an integer from 0 to 4294967295 (got -3)',
    });
    expect(cloud.sent.filter((c) => c.service === 'dynamodb')).toHaveLength(0);
    expect(cloud.sent.filter((c) => c.service === 's3')).toHaveLength(0);
  });

  describe('metrics, by path', () => {
    const counts = (m: MetricsRecorder) => Object.fromEntries(['Requests', 'CacheHits', 'CacheMisses', 'InferencesJoined', 'InferencesStarted'].map((n) => [n, m.count(n)]));
    const none = { Requests: 0, CacheHits: 0, CacheMisses: 0, InferencesJoined: 0, InferencesStarted: 0 };
    const run = async (detail: object, exec: string) => {
      const metrics = new MetricsRecorder();
      const scaling = new MetricsRecorder();
      const out = await resolve(input(detail, exec, `token-${exec}`), resolveDeps(cloud, clock, metrics, scaling));
      return { out, metrics, scaling };
    };

    it('started: one miss, and one InferencesStarted by {EndpointName} alone, the utilization input', async () => {
      const { out, metrics, scaling } = await run({ requestId: 'm1', prompt: 'a cat' }, 'e1');
      expect(out.outcome).toBe('started');
      expect(counts(metrics)).toEqual({ ...none, Requests: 1, CacheMisses: 1 });
      expect(counts(scaling)).toEqual({ ...none, InferencesStarted: 1 });
      expect(scaling.dimensions).toEqual({ EndpointName: 'imagegen-sdxl' });
    });

    it('joined: a miss that starts nothing, so demand is not counted twice for one image', async () => {
      await run({ requestId: 'm1', prompt: 'a cat' }, 'e1');
      const { out, metrics, scaling } = await run({ requestId: 'm2', prompt: 'a cat' }, 'e2');
      expect(out.outcome).toBe('joined');
      expect(counts(metrics)).toEqual({ ...none, Requests: 1, CacheMisses: 1, InferencesJoined: 1 });
      expect(counts(scaling)).toEqual(none);
    });

    it('hit: a cache hit and nothing else', async () => {
      await putOriginal(cacheKeyOf(modelId, norm({ requestId: 'h1', prompt: 'a cat' })));
      void cloud.openToken('token-e1');
      const { out, metrics, scaling } = await run({ requestId: 'h1', prompt: 'a cat' }, 'e1');
      expect(out.outcome).toBe('hit');
      expect(counts(metrics)).toEqual({ ...none, Requests: 1, CacheHits: 1 });
      expect(counts(scaling)).toEqual(none);
    });

    it('late hit: the image landed while the request registered itself; a hit, not a miss', async () => {
      const key = cacheKeyOf(modelId, norm({ requestId: 'l1', prompt: 'a cat' }));
      // The first look misses; Complete writes the image before the re-check after the waiter write.
      cloud.afterSend('HeadObjectCommand', async () => {
        if (cloud.calls('HeadObjectCommand').length === 1) await putOriginal(key);
      });
      void cloud.openToken('token-e1');
      const { out, metrics, scaling } = await run({ requestId: 'l1', prompt: 'a cat', renditions: [] }, 'e1');
      expect(out.outcome).toBe('hit');
      expect(cloud.calls('HeadObjectCommand').map((c) => c.input.Key)).toEqual([`images/${key}/original.png`, `images/${key}/original.png`]);
      expect(counts(metrics)).toEqual({ ...none, Requests: 1, CacheHits: 1 });
      expect(counts(scaling)).toEqual(none);
      expect(cloud.invocations).toHaveLength(0);
    });

    it('invalid: a request and nothing else', async () => {
      const metrics = new MetricsRecorder();
      const scaling = new MetricsRecorder();
      await expect(resolve(input({ requestId: 'bad', prompt: 'x', steps: 0 }), resolveDeps(cloud, clock, metrics, scaling))).rejects.toMatchObject({ name: 'InvalidRequest' });
      expect(counts(metrics)).toEqual({ ...none, Requests: 1 });
      expect(counts(scaling)).toEqual(none);
    });
  });

  it('releases its lease and reports a retryable error when the endpoint throttles', async () => {
    cloud.sagemakerMock.on(InvokeEndpointAsyncCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } }));
    const err = await resolve(input({ requestId: 'r1', prompt: 'a cat' }), resolveDeps(cloud, clock)).catch((e: Error) => e);
    expect(err).toMatchObject({ name: 'Transient' });
    const key = cacheKeyOf(modelId, norm({ requestId: 'r1' }));
    expect(await cloud.item(`image#${key}`, 'lease')).toMatchObject({ status: 'failed' });
    expect(cloud.sagemakerMock.commandCalls(InvokeEndpointAsyncCommand)).toHaveLength(1);
    // The workflow retries or reports it: nothing is left for the reconciler.
    expect(await dueItems()).toEqual([]);
  });

  it("records the attempt, its model input and its place in the reconciler's index before invoking", async () => {
    let seenBeforeInvoke: unknown[] = [];
    cloud.sagemakerMock.on(InvokeEndpointAsyncCommand).callsFake(async (call: { InferenceId: string }) => {
      seenBeforeInvoke = [await cloud.item(`inference#${call.InferenceId}`, 'inference'), await dueItems()];
      return { InferenceId: call.InferenceId, OutputLocation: 's3://imagegen-images/async-output/o.out', FailureLocation: 's3://imagegen-images/async-failures/o-error.out' };
    });
    const out = await resolve(input({ requestId: 'r1', prompt: 'a cat' }), resolveDeps(cloud, clock));
    const id = out.outcome === 'started' ? out.inferenceId : '';
    const body = Buffer.from(cloud.sagemakerMock.commandCalls(InvokeEndpointAsyncCommand)[0]!.args[0].input.Body as Uint8Array).toString();
    // Due 45 s (reconcileAfterSeconds) after the start, in the sort key the reconciler's Query ranges over.
    const dueSk = `2026-01-01T12:00:55.000Z#${id}`;
    expect(seenBeforeInvoke).toEqual([
      expect.objectContaining({ inferenceId: id, cacheKey: out.cacheKey, attempt: 1, modelInput: body, startedAt: clock.now(), dueSk }),
      [expect.objectContaining({ pk: 'due', sk: dueSk, inferenceId: id })],
    ]);
    expect(await cloud.item(`inference#${id}`, 'inference')).toMatchObject({ outputLocation: 's3://imagegen-images/async-output/o.out', failureLocation: 's3://imagegen-images/async-failures/o-error.out' });
  });

  it('counts no started inference when the endpoint did not accept it', async () => {
    cloud.sagemakerMock.on(InvokeEndpointAsyncCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } }));
    const scaling = new MetricsRecorder();
    await resolve(input({ requestId: 'r1', prompt: 'a cat' }), resolveDeps(cloud, clock, new MetricsRecorder(), scaling)).catch(() => undefined);
    expect(scaling.count('InferencesStarted')).toBe(0);
  });
});
