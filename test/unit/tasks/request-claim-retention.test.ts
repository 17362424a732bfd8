/**
 * A requestId is claimed for the request archive's retention (30 days), so a replay from the archive
 * still matches its first delivery and a reuse with other content is still refused; after that the
 * claim counts as absent whether or not DynamoDB's TTL has removed it yet.
 */
import { resolve, type ResolveInput } from '../../../tasks/resolve/resolve';
import { loadSample } from '../../../events/samples';
import { TestCloud } from '../../workflows/test-cloud';
import { TestClock, resolveDeps } from '../../workflows/harness';

const THIRTY_DAYS_S = 30 * 24 * 3600;
const input = (prompt: string, exec: string): ResolveInput => {
  const event = loadSample('image-generation-requested', 'minimal');
  return { event: { ...event, detail: { requestId: 'r1', prompt } }, taskToken: `token-${exec}`, executionArn: exec } as ResolveInput;
};

let cloud: TestCloud;
beforeAll(async () => {
  cloud = await TestCloud.start();
});
afterAll(() => cloud.close());
beforeEach(() => cloud.reset());

it('stores the claim with a 30-day expiry and refuses other content under the requestId until it passes', async () => {
  const clock = new TestClock(Date.parse('2026-01-01T12:00:10.500Z'));
  const startS = Math.ceil(clock.ms / 1000);
  await resolve(input('a cat', 'arn:exec:e1'), resolveDeps(cloud, clock));
  expect(await cloud.item('request#r1', 'claim')).toMatchObject({ expiresAt: startS + THIRTY_DAYS_S });

  clock.ms = (startS + THIRTY_DAYS_S) * 1000;
  await expect(resolve(input('a dog', 'arn:exec:e2'), resolveDeps(cloud, clock))).rejects.toMatchObject({ name: 'InvalidRequest' });
  clock.advance(1000);
  await expect(resolve(input('a dog', 'arn:exec:e3'), resolveDeps(cloud, clock))).resolves.toMatchObject({ outcome: 'started' });
});
