import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../../local/clock';
import { LambdaService } from '../../../local/lambda/lambda-service';
import { defineFunction, parseFunctionReference, retryDelay } from '../../../local/lambda/models';
import { MemoryLambdaStore } from '../../../local/lambda/store';

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
  let scratch: string;
  let lambda: LambdaService;
  afterEach(async () => {
    await lambda.close();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('keeps an asynchronous invocation in the store, with its retry state, until an attempt succeeds', async () => {
    scratch = mkdtempSync(join(tmpdir(), 'lambda-store-'));
    const clock = new ManualClock();
    const store = new MemoryLambdaStore();
    lambda = new LambdaService({
      ...PARTITION,
      rootDir: ROOT,
      clock,
      store,
      asyncRetryDelaysMs: [60_000],
      functions: [
        { name: 'flaky', entry: 'test/local/lambda/fixtures/handlers.ts', handler: 'record', memoryMb: 128, timeoutSeconds: 5, environment: { RECORD_FILE: join(scratch, 'log'), FAIL_UNTIL: '2' } },
      ],
    });

    lambda.invokeAsync('flaky', { n: 1 });
    expect(store.pending()).toEqual([{ invocation: expect.objectContaining({ functionName: 'flaky', attempt: 0, event: '{"n":1}' }), retryAt: undefined }]);
    await lambda.idle();
    expect(store.pending()).toEqual([{ invocation: expect.objectContaining({ attempt: 1 }), retryAt: clock.now() + 60_000 }]);

    await clock.advance(60_000);
    await lambda.idle();
    expect(store.pending()).toEqual([]);
  });
});
