/**
 * A lease settled between Resolve's failed attempt to take it and its look at who owns it: the
 * request waits on the settlement (its waiter predates the failure mark, so it is told) and never
 * starts a second inference under a failed lease.
 */
import { resolve, type ResolveInput } from '../../../tasks/resolve/resolve';
import { loadSample } from '../../../events/samples';
import { TestCloud } from '../../workflows/test-cloud';
import { TestClock, resolveDeps } from '../../workflows/harness';

const EXEC = 'arn:aws:states:us-east-1:000000000000:execution:imagegen-request:e1';
const input = (token: string): ResolveInput => {
  const event = loadSample('image-generation-requested', 'minimal');
  return { event: { ...event, detail: { requestId: 'r1', prompt: 'a cat' } }, taskToken: token, executionArn: EXEC } as ResolveInput;
};

let cloud: TestCloud;
beforeAll(async () => {
  cloud = await TestCloud.start();
});
afterAll(() => cloud.close());
beforeEach(() => cloud.reset());

it('an unconfirmed first attempt of its own, marked failed meanwhile, is joined, not restarted', async () => {
  const clock = new TestClock();
  const first = await resolve(input('token-1'), resolveDeps(cloud, clock));
  const id = first.outcome === 'started' ? first.inferenceId : '';
  await cloud.updateItem(`inference#${id}`, 'inference', {}, ['outputLocation']);
  cloud.invocations.length = 0;
  // The reconciler settles the lost attempt right after this try found the lease taken.
  cloud.afterSend('UpdateCommand', async (i) => {
    if ((i.Key as { sk?: string }).sk === 'lease') await cloud.updateItem(`image#${first.cacheKey}`, 'lease', { status: 'failed', failedAt: clock.now() + 1 });
  });
  expect(await resolve(input('token-1b'), resolveDeps(cloud, clock))).toEqual({ outcome: 'joined', cacheKey: first.cacheKey });
  expect(cloud.invocations).toHaveLength(0);
});
