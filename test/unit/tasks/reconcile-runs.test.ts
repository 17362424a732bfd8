/**
 * A reconciler run as a whole (tasks/reconcile/reconcile.ts): the time it judges by, paging through
 * the due attempts within its budget, what it counts as reconciled, and what it tells the operator.
 */
import { loadSample } from '../../../events/samples';
import { LOOK_BUDGET_MS, PAGE_SIZE, reconcile } from '../../../tasks/reconcile/reconcile';
import { resolve } from '../../../tasks/resolve/resolve';
import { TestCloud } from '../../workflows/test-cloud';
import { LogRecorder, MetricsRecorder, TestClock, finishLastInference, resolveDeps, settleDeps } from '../../workflows/harness';

const AT = '2026-01-01T12:00:10.000Z';

describe('reconcile runs', () => {
  let cloud: TestCloud;
  let clock: TestClock;
  let metrics: MetricsRecorder;
  let logs: LogRecorder;

  const deps = (config = {}) => ({ ...settleDeps(cloud, clock, metrics, config), logger: logs.sink });
  const request = (n: number, prompt: string) => ({
    event: { ...loadSample('image-generation-requested', 'minimal'), detail: { requestId: `r${n}`, prompt } },
    taskToken: `token-${n}`,
    executionArn: `arn:aws:states:us-east-1:000000000000:execution:imagegen-request:e${n}`,
  });
  /** Index entries whose attempts have expired: each is looked at and dropped. */
  const orphanedDue = async (count: number) => {
    for (let n = 0; n < count; n++) await cloud.putItem({ pk: 'due', sk: `2026-01-01T11:00:00.000Z#orphan-${String(n).padStart(3, '0')}`, inferenceId: `orphan-${n}`, expiresAt: 1 });
  };

  beforeAll(async () => {
    cloud = await TestCloud.start();
  });
  afterAll(() => cloud.close());

  beforeEach(async () => {
    await cloud.reset();
    clock = new TestClock();
    metrics = new MetricsRecorder();
    logs = new LogRecorder();
  });

  it('judges by the clock when the run is late, by the schedule when the clock is behind, and by the clock without a usable time', async () => {
    expect((await reconcile({ time: '2026-01-01T11:55:00Z' }, deps())).at).toBe(AT);
    expect((await reconcile({ time: '2026-01-01T12:00:12Z' }, deps())).at).toBe('2026-01-01T12:00:12.000Z');
    expect((await reconcile({ time: 'not a time' }, deps())).at).toBe(AT);
    expect((await reconcile(undefined, deps())).at).toBe(AT);
    expect(cloud.calls('QueryCommand').map((q) => (q.input.ExpressionAttributeValues as Record<string, string>)[':now'])).toEqual([AT, '2026-01-01T12:00:12.000Z', AT, AT]);
  });

  it('at idle writes no log line and no metric', async () => {
    await reconcile(undefined, deps());
    expect(logs.lines).toEqual([]);
    expect(metrics.metrics).toEqual([]);
  });

  it('pages through more due attempts than one Query returns', async () => {
    await orphanedDue(PAGE_SIZE + 5);
    expect(await reconcile(undefined, deps())).toEqual({ at: AT, looked: PAGE_SIZE + 5, outcomes: { gone: PAGE_SIZE + 5 }, truncated: false });
    expect(cloud.calls('QueryCommand').map((q) => q.input.ExclusiveStartKey === undefined)).toEqual([true, false]);
    expect(await cloud.partition('due')).toEqual([]);
    expect(logs.levels()).toEqual(['info']);
  });

  it('starts no new page once its budget is spent, leaving the rest for the next run with a warning', async () => {
    await orphanedDue(PAGE_SIZE + 5);
    cloud.afterSend('QueryCommand', async () => clock.advance(LOOK_BUDGET_MS));
    expect(await reconcile(undefined, deps())).toMatchObject({ looked: PAGE_SIZE, truncated: true });
    expect(cloud.calls('QueryCommand')).toHaveLength(1);
    expect(await cloud.partition('due')).toHaveLength(5);
    expect(logs.levels()).toEqual(['info', 'warn']);
  });

  it('starts the next page while any of the budget is left', async () => {
    await orphanedDue(PAGE_SIZE + 5);
    cloud.afterSend('QueryCommand', async () => clock.advance(LOOK_BUDGET_MS - 1));
    expect(await reconcile(undefined, deps())).toMatchObject({ looked: PAGE_SIZE + 5, truncated: false });
    expect(logs.levels()).toEqual(['info']);
  });

  it('counts as reconciled only the attempts it settled: not those in flight, gone or settled by another', async () => {
    // Superseded: its image's lease moved to a newer attempt before its failure object was found.
    await resolve(request(1, 'a cat'), resolveDeps(cloud, clock));
    const superseded = cloud.invocations[0]!.InferenceId!;
    const supersededItem = (await cloud.item(`inference#${superseded}`, 'inference'))!;
    await cloud.putObject(String(supersededItem.failureLocation), '{"error":"NEURON_RT_EXEC_ERROR"}');
    await cloud.updateItem(`image#${String(supersededItem.cacheKey)}`, 'lease', { inferenceId: 'a-newer-attempt' });
    // Succeeded: its output is there.
    await resolve(request(2, 'a dog'), resolveDeps(cloud, clock));
    await finishLastInference(cloud);
    // In flight: nothing written yet, well before its deadline.
    await resolve(request(3, 'a cow'), resolveDeps(cloud, clock));
    await orphanedDue(1);
    clock.advance(60_000);
    expect((await reconcile(undefined, deps())).outcomes).toEqual({ stale: 1, succeeded: 1, 'in-flight': 1, gone: 1 });
    expect(metrics.count('InferencesReconciled')).toBe(1);
  });

  it('drops an index entry its attempt no longer points at, and settles nothing from it', async () => {
    await resolve(request(1, 'a cat'), resolveDeps(cloud, clock));
    const inferenceId = cloud.invocations[0]!.InferenceId!;
    await finishLastInference(cloud);
    const [own] = await cloud.partition('due');
    // A repeated write of the attempt left a second entry behind, due earlier.
    await cloud.putItem({ ...own, sk: `2026-01-01T11:59:00.000Z#${inferenceId}` });
    expect(await reconcile(undefined, deps())).toMatchObject({ looked: 1, outcomes: { gone: 1 } });
    expect(await cloud.partition('due')).toEqual([own]);
    expect(cloud.sfnMock.calls()).toHaveLength(0);
  });

  it('judges an attempt the endpoint gave no failure location for on its output alone', async () => {
    await resolve(request(1, 'a cat'), resolveDeps(cloud, clock));
    const inferenceId = cloud.invocations[0]!.InferenceId!;
    await cloud.updateItem(`inference#${inferenceId}`, 'inference', {}, ['failureLocation']);
    clock.advance(60_000);
    expect((await reconcile(undefined, deps())).outcomes).toEqual({ 'in-flight': 1 });
    clock.advance((3600 + 900 + 120) * 1000);
    expect((await reconcile(undefined, deps())).outcomes).toEqual({ retried: 1 });
  });

  it('fails an attempt the endpoint never acknowledged, saying so, once no retry is left', async () => {
    const failed = cloud.openToken('token-1').catch((e: Error) => ({ failed: e.name, cause: e.message }));
    await resolve(request(1, 'a cat'), resolveDeps(cloud, clock));
    const inferenceId = cloud.invocations[0]!.InferenceId!;
    await cloud.updateItem(`inference#${inferenceId}`, 'inference', {}, ['outputLocation', 'failureLocation']);
    clock.advance(180_000);
    expect((await reconcile(undefined, deps({ inferenceRetries: 0 }))).outcomes).toEqual({ failed: 1 });
    expect(await failed).toEqual({ failed: 'InferenceFailed', cause: `the endpoint never acknowledged inference ${inferenceId} (InvokeEndpointAsync returned no output location)` });
  });
});
