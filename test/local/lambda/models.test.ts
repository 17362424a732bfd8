import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ManualClock } from '../../../local/clock';
import { LambdaService } from '../../../local/lambda/lambda-service';
import { defineFunction, parseFunctionReference, retryDelay } from '../../../local/lambda/models';
import { SqliteLambdaStore } from '../../../local/lambda/store';
import { scratchDatabase, type ScratchDatabase } from '../shared/scratch-database';

const ROOT = join(__dirname, '../../..');
const PARTITION = { region: 'us-east-1', account: '000000000000' };

describe('Lambda models', () => {
  it('names a function by name, qualified name, partial ARN or ARN of its own region and account only', () => {
    expect(parseFunctionReference('resolve', PARTITION)).toEqual({ name: 'resolve', qualifier: undefined });
    expect(parseFunctionReference('resolve:$LATEST', PARTITION)).toEqual({ name: 'resolve', qualifier: '$LATEST' });
    expect(parseFunctionReference('000000000000:function:resolve', PARTITION)).toEqual({ name: 'resolve', qualifier: undefined });
    expect(parseFunctionReference('arn:aws:lambda:us-east-1:000000000000:function:resolve:prod', PARTITION)).toEqual({ name: 'resolve', qualifier: 'prod' });
    expect(parseFunctionReference('arn:aws:lambda:eu-west-1:000000000000:function:resolve', PARTITION)).toBeUndefined();
    expect(parseFunctionReference('111111111111:function:resolve', PARTITION)).toBeUndefined();
  });

  it('derives the ARN, module path and _HANDLER of a function and defaults its async retries to 2', () => {
    const fn = defineFunction({ name: 'resolve', entry: 'tasks/resolve/handler.ts', handler: 'handler', memoryMb: 1024, timeoutSeconds: 30, environment: {} }, '/repo', PARTITION);
    expect(fn).toMatchObject({
      arn: 'arn:aws:lambda:us-east-1:000000000000:function:resolve',
      modulePath: '/repo/tasks/resolve/handler.ts',
      handlerSetting: 'tasks/resolve/handler.handler',
      maxAsyncRetries: 2,
    });
  });

  it('waits the configured delay before each retry, repeating the last one', () => {
    expect([0, 1, 2, 5].map((attempt) => retryDelay(attempt, [1000, 2000]))).toEqual([1000, 2000, 2000, 2000]);
  });
});

describe('LambdaService and its store', () => {
  let scratch: ScratchDatabase;
  let lambda: LambdaService | undefined;
  beforeEach(() => {
    scratch = scratchDatabase('lambda-store');
  });
  afterEach(async () => {
    await lambda?.close();
    lambda = undefined;
    scratch.remove();
  });

  const flaky = (failUntil: number) => ({
    name: 'flaky',
    entry: 'test/local/lambda/fixtures/handlers.ts',
    handler: 'record',
    memoryMb: 128,
    timeoutSeconds: 5,
    environment: { RECORD_FILE: join(scratch.dir, 'log'), FAIL_UNTIL: String(failUntil) },
  });

  it('keeps an asynchronous invocation in the store, with its retry state, until an attempt succeeds', async () => {
    const clock = new ManualClock();
    lambda = new LambdaService({ ...PARTITION, rootDir: ROOT, clock, database: scratch.db, asyncRetryDelaysMs: [60_000], functions: [flaky(2)] });
    const store = new SqliteLambdaStore(scratch.db);

    lambda.invokeAsync('flaky', { n: 1 });
    expect(store.pending()).toEqual([{ invocation: expect.objectContaining({ functionName: 'flaky', attempt: 0, event: '{"n":1}' }), retryAt: undefined }]);
    await lambda.idle();
    expect(store.pending()).toEqual([{ invocation: expect.objectContaining({ attempt: 1 }), retryAt: clock.now() + 60_000 }]);

    await clock.advance(60_000);
    await lambda.idle();
    expect(store.pending()).toEqual([]);
  });

  it('reads back accepted invocations and their retry state after a restart', () => {
    const store = new SqliteLambdaStore(scratch.db);
    const first = { requestId: 'r-1', functionName: 'flaky', invokedArn: 'arn:aws:lambda:us-east-1:000000000000:function:flaky', event: '{"n":1}', attempt: 0 };
    const second = { ...first, requestId: 'r-2', event: '{"n":2}' };
    store.accept(first);
    store.accept(second);
    store.scheduleRetry({ ...second, attempt: 1 }, 5000);
    store.accept({ ...first, requestId: 'r-3' });
    store.settle('r-3');

    const reread = new SqliteLambdaStore(scratch.reopen());
    expect(reread.pending()).toEqual([
      { invocation: first, retryAt: undefined },
      { invocation: { ...second, attempt: 1 }, retryAt: 5000 },
    ]);
    reread.startRetry('r-2');
    expect(new SqliteLambdaStore(scratch.reopen()).pending()[1]?.retryAt).toBeUndefined();
  });

  it('runs what the previous process accepted again on start, under the same request id: at once, or when its retry is due', async () => {
    const before = new SqliteLambdaStore(scratch.db);
    const arn = 'arn:aws:lambda:us-east-1:000000000000:function:recorder';
    before.accept({ requestId: 'was-running', functionName: 'recorder', invokedArn: arn, event: '{"n":1}', attempt: 0 });
    before.accept({ requestId: 'was-waiting', functionName: 'recorder', invokedArn: arn, event: '{"n":2}', attempt: 1 });
    before.scheduleRetry({ requestId: 'was-waiting', functionName: 'recorder', invokedArn: arn, event: '{"n":2}', attempt: 1 }, Date.parse('2026-01-01T00:01:00Z'));

    const clock = new ManualClock(Date.parse('2026-01-01T00:00:00Z'));
    const log = join(scratch.dir, 'requests');
    const database = scratch.reopen();
    lambda = new LambdaService({
      ...PARTITION,
      rootDir: ROOT,
      clock,
      database,
      functions: [{ name: 'recorder', entry: 'test/local/lambda/fixtures/handlers.ts', handler: 'recordRequest', memoryMb: 128, timeoutSeconds: 5, environment: { RECORD_FILE: log } }],
    });
    lambda.start();
    await lambda.idle();
    const lines = () => readFileSync(log, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as unknown);
    expect(lines()).toEqual([{ event: { n: 1 }, requestId: 'was-running' }]);

    await clock.advance(60_000);
    await lambda.idle();
    expect(lines()).toEqual([{ event: { n: 1 }, requestId: 'was-running' }, { event: { n: 2 }, requestId: 'was-waiting' }]);
    expect(new SqliteLambdaStore(database).pending()).toEqual([]);
  });
});
