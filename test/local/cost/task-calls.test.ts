/**
 * The cost model's per-path calls (local/cost/task-calls.ts) against the commands the task cores
 * really send: each path runs through the real Resolve, Complete and ReportFailure cores against the
 * local cloud's DynamoDB and S3, and every SDK command they send is recorded by the clients they
 * were given (the test's own reads and writes go through other clients).
 */
import { loadSample } from '../../../events/samples';
import { pathCalls, type Calls, type PathCalls } from '../../../local/cost/task-calls';
import { complete } from '../../../tasks/complete/complete';
import { reportFailure } from '../../../tasks/report-failure/report-failure';
import { resolve } from '../../../tasks/resolve/resolve';
import { TestCloud } from '../../workflows/test-cloud';
import { TestClock, completeDeps, finishLastInference, reportDeps, resolveDeps, snsEvent, successNotification } from '../../workflows/harness';

const ONE_RENDITION = { renditions: 1 };

const countNames = (names: readonly string[]): Record<string, number> => {
  const counts: Record<string, number> = {};
  for (const name of names) counts[name] = (counts[name] ?? 0) + 1;
  return counts;
};

/** The commands every client of the cloud has sent, by name, since the last `take`. */
function recorder(cloud: TestCloud): { take(): Record<string, number> } {
  let seen: Record<string, number> = {};
  return {
    take() {
      const now = countNames(cloud.commandNames());
      const since = Object.fromEntries(Object.entries(now).flatMap(([name, n]) => (n > (seen[name] ?? 0) ? [[name, n - (seen[name] ?? 0)]] : [])));
      seen = now;
      return since;
    },
  };
}

const add = (...all: Calls[]): Record<string, number> => {
  const sum: Record<string, number> = {};
  for (const calls of all) for (const [name, n] of Object.entries(calls)) sum[name] = (sum[name] ?? 0) + n;
  return sum;
};
const whole = (p: PathCalls) => add(p.perRequest, p.perInference);

function request(requestId: string, prompt = 'a lighthouse at dawn, watercolour') {
  return { ...loadSample('image-generation-requested', 'minimal'), detail: { requestId, prompt, seed: 7, renditions: [{ width: 256, format: 'jpeg' }] } };
}

describe('the cost model counts the calls the tasks make', () => {
  let cloud: TestCloud;
  let clock: TestClock;
  let calls: ReturnType<typeof recorder>;

  let tokens = 0;
  beforeAll(async () => {
    cloud = await TestCloud.start();
  });
  afterAll(() => cloud.close());
  beforeEach(async () => {
    await cloud.reset();
    clock = new TestClock();
    calls = recorder(cloud);
  });

  /** An open task token, as the workflow's Resolve state hands it over. */
  const token = () => {
    const t = `token-${++tokens}`;
    cloud.openToken(t).catch(() => undefined);
    return t;
  };

  async function startAndFinish(requestIds: readonly string[]): Promise<void> {
    const deps = resolveDeps(cloud, clock);
    for (const id of requestIds) await resolve({ event: request(id), taskToken: token(), executionArn: `arn:exec:${id}` }, deps);
    const { inferenceId, outputLocation } = await finishLastInference(cloud);
    const summaries = await complete(snsEvent(successNotification(inferenceId, outputLocation)), completeDeps(cloud, clock));
    expect(summaries).toEqual([{ inferenceId, outcome: 'succeeded', completed: requestIds.length }]);
  }

  it('miss: one request that starts an inference, and its completion', async () => {
    await startAndFinish(['miss-1']);
    expect(calls.take()).toEqual(whole(pathCalls('miss', ONE_RENDITION)));
  });

  it('joined: a second request for the same image waits on the running inference', async () => {
    await startAndFinish(['first', 'joiner']);
    expect(calls.take()).toEqual(add(whole(pathCalls('miss', ONE_RENDITION)), pathCalls('joined', ONE_RENDITION).perRequest));
  });

  it('hit: a request for an image already cached', async () => {
    await startAndFinish(['warm-up']);
    calls.take();
    const outcome = await resolve({ event: request('hit-1'), taskToken: token(), executionArn: 'arn:exec:hit-1' }, resolveDeps(cloud, clock));
    expect(outcome.outcome).toBe('hit');
    expect(calls.take()).toEqual(whole(pathCalls('hit', ONE_RENDITION)));
  });

  it('failure: an invalid request, then the failure report', async () => {
    const invalid = { ...request('bad-1'), detail: { requestId: 'bad-1', prompt: 'x', steps: 500 } };
    await expect(resolve({ event: invalid, taskToken: token(), executionArn: 'arn:exec:bad-1' }, resolveDeps(cloud, clock))).rejects.toMatchObject({ name: 'InvalidRequest' });
    await reportFailure({ ...invalid, failure: { Error: 'InvalidRequest', Cause: 'detail.steps must be an integer from 1 to 100 (got 500)' } }, reportDeps(cloud, clock));
    expect(calls.take()).toEqual(whole(pathCalls('failure', ONE_RENDITION)));
  });
});
