/**
 * What Resolve leaves in the coordination table for the others to read: how long the lease holds off
 * other inferences, how long an attempt's items are kept, reads that see the writes just made, and an
 * unconfirmed first attempt restarted from its own record.
 */
import { resolve, type ResolveInput } from '../../../tasks/resolve/resolve';
import { deleteDue } from '../../../tasks/shared/attempts';
import { failLease } from '../../../tasks/shared/coordination';
import { callbackTimeoutSeconds } from '../../../topology/imagegen-topology';
import { loadSample } from '../../../events/samples';
import { TestCloud } from '../../workflows/test-cloud';
import { TestClock, resolveConfig, resolveDeps } from '../../workflows/harness';
import { ddbThrottled, failing } from './faults';

const EXEC = 'arn:aws:states:us-east-1:000000000000:execution:imagegen-request:e1';
const input = (detail: object, exec = EXEC, token = 'token-1'): ResolveInput => {
  const event = loadSample('image-generation-requested', 'minimal');
  return { event: { ...event, detail }, taskToken: token, executionArn: exec } as ResolveInput;
};
const TABLE = resolveConfig.tableName;

let cloud: TestCloud;
beforeAll(async () => {
  cloud = await TestCloud.start();
});
afterAll(() => cloud.close());
beforeEach(() => cloud.reset());

describe('lease and attempt records', () => {
  let clock: TestClock;
  beforeEach(() => {
    // Half a second past a whole second: whole-second expiries round the way they say.
    clock = new TestClock(Date.parse('2026-01-01T12:00:10.500Z'));
  });

  it('the lease holds off other inferences of the image for one attempt’s limits plus 600 s of slack, and no longer', async () => {
    const first = await resolve(input({ requestId: 'r1', prompt: 'a cat' }), resolveDeps(cloud, clock));
    const limit = 3600 + 900 + 600;
    expect(await cloud.item(`image#${first.cacheKey}`, 'lease')).toMatchObject({ expiresAt: Math.floor(clock.ms / 1000) + limit });

    clock.advance(limit * 1000 - 500);
    expect(await resolve(input({ requestId: 'r2', prompt: 'a cat' }, 'arn:exec:e2', 't2'), resolveDeps(cloud, clock))).toMatchObject({ outcome: 'joined' });
    clock.advance(1000);
    expect(await resolve(input({ requestId: 'r3', prompt: 'a cat' }, 'arn:exec:e3', 't3'), resolveDeps(cloud, clock))).toMatchObject({ outcome: 'started' });
  });

  it('keeps the waiter, the attempt and its index entry as long as the workflow may wait for the image, plus 600 s', async () => {
    const out = await resolve(input({ requestId: 'r1', prompt: 'a cat' }), resolveDeps(cloud, clock));
    const id = out.outcome === 'started' ? out.inferenceId : '';
    const expiresAt = Math.ceil(clock.ms / 1000) + callbackTimeoutSeconds(resolveConfig) + 600;
    expect(await cloud.item(`image#${out.cacheKey}`, `waiter#${EXEC}`)).toMatchObject({ expiresAt, createdAt: clock.ms });
    expect(await cloud.item(`inference#${id}`, 'inference')).toMatchObject({ expiresAt });
    expect(await cloud.partition('due')).toEqual([expect.objectContaining({ inferenceId: id, expiresAt })]);
  });

  it('restarts an unconfirmed first attempt from its record: same start, same index entry, same model input', async () => {
    const first = await resolve(input({ requestId: 'r1', prompt: 'a cat' }), resolveDeps(cloud, clock));
    const id = first.outcome === 'started' ? first.inferenceId : '';
    await cloud.updateItem(`inference#${id}`, 'inference', {}, ['outputLocation']);
    const recorded = (await cloud.item(`inference#${id}`, 'inference'))!;
    const due = await cloud.partition('due');
    cloud.invocations.length = 0;
    cloud.sent.length = 0;

    clock.advance(30_000);
    expect(await resolve(input({ requestId: 'r1', prompt: 'a cat' }, EXEC, 'token-1b'), resolveDeps(cloud, clock))).toEqual({ outcome: 'started', cacheKey: first.cacheKey, inferenceId: id });
    expect(await cloud.item(`inference#${id}`, 'inference')).toMatchObject({ startedAt: recorded.startedAt, dueSk: recorded.dueSk, modelInput: recorded.modelInput });
    expect(await cloud.partition('due')).toEqual(due);
    expect(Buffer.from(cloud.invocations[0]!.Body as Uint8Array).toString()).toBe(recorded.modelInput);
    // The lease and the attempt are read right after conditional writes: only a strongly consistent read sees them.
    const reads = cloud.calls('GetCommand');
    expect(reads.map((r) => (r.input.Key as { sk: string }).sk)).toEqual(['lease', 'inference']);
    expect(reads.every((r) => r.input.ConsistentRead === true)).toBe(true);
  });
});

describe('failLease', () => {
  it('marks the lease its attempt owns failed; a second settlement gets the first mark; another attempt’s lease is left alone', async () => {
    await cloud.putItem({ pk: 'image#k', sk: 'lease', inferenceId: 'i1', attempt: 1, status: 'inflight', expiresAt: 2e9 });
    expect(await failLease(cloud.ddb, TABLE, 'k', 'i1', 1000)).toBe(1000);
    expect(await failLease(cloud.ddb, TABLE, 'k', 'i1', 2000)).toBe(1000);
    expect(await cloud.item('image#k', 'lease')).toMatchObject({ status: 'failed', failedAt: 1000 });
    expect(await failLease(cloud.ddb, TABLE, 'k', 'other', 3000)).toBeUndefined();
    expect(await cloud.item('image#k', 'lease')).toMatchObject({ inferenceId: 'i1', failedAt: 1000 });
  });

  it('passes a throttled write on to the caller instead of reading it as another attempt’s lease', async () => {
    await cloud.putItem({ pk: 'image#k', sk: 'lease', inferenceId: 'i1', attempt: 1, status: 'inflight', expiresAt: 2e9 });
    await expect(failLease(failing(cloud.ddb, 'UpdateCommand', ddbThrottled), TABLE, 'k', 'i1', 1000)).rejects.toMatchObject({ name: 'ProvisionedThroughputExceededException' });
    expect(await cloud.item('image#k', 'lease')).toMatchObject({ status: 'inflight' });
  });
});

describe('deleteDue', () => {
  it('takes the attempt out of the reconciler’s index', async () => {
    await cloud.putItem({ pk: 'due', sk: '2026-01-01T12:00:55.000Z#i1', inferenceId: 'i1', expiresAt: 2e9 });
    await deleteDue({ dueSk: '2026-01-01T12:00:55.000Z#i1' }, { ddb: cloud.ddb, config: resolveConfig });
    expect(await cloud.partition('due')).toEqual([]);
  });

  it('does nothing for an attempt written before the index existed (it has no entry to delete)', async () => {
    await expect(deleteDue({ dueSk: '' }, { ddb: cloud.ddb, config: resolveConfig })).resolves.toBeUndefined();
    expect(cloud.calls()).toEqual([]);
  });
});
