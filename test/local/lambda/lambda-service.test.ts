import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../../local/clock';
import { LambdaService, type LambdaFunctionConfig, type LambdaServiceOptions } from '../../../local/lambda/lambda-service';
import type { MetricDatum } from '../../../local/ports';

const ROOT = join(__dirname, '../../..');
const ENTRY = 'test/local/lambda/fixtures/handlers.ts';

function fn(name: string, handler: string, overrides: Partial<LambdaFunctionConfig> = {}): LambdaFunctionConfig {
  return { name, entry: ENTRY, handler, memoryMb: 256, timeoutSeconds: 5, environment: {}, ...overrides };
}

describe('LambdaService', () => {
  const services: LambdaService[] = [];
  let scratch: string;
  const logs: string[] = [];

  function service(functions: LambdaFunctionConfig[], options: Partial<LambdaServiceOptions> = {}): LambdaService {
    const created = new LambdaService({ region: 'us-east-1', account: '000000000000', rootDir: ROOT, functions, log: (line) => logs.push(line), ...options });
    services.push(created);
    return created;
  }

  beforeEach(() => {
    logs.length = 0;
    scratch = mkdtempSync(join(tmpdir(), 'lambda-test-'));
  });

  afterEach(async () => {
    await Promise.all(services.splice(0).map((s) => s.close()));
    rmSync(scratch, { recursive: true, force: true });
  });

  it('gives each function its own environment variables, plus the Lambda-defined ones', async () => {
    const lambda = service(
      [fn('alpha', 'environment', { environment: { GREETING: 'alpha' }, memoryMb: 512 }), fn('beta', 'environment', { environment: { GREETING: 'beta' } })],
      { extraEnvironment: { AWS_ENDPOINT_URL: 'http://127.0.0.1:4566', AWS_REGION: 'eu-west-1' } },
    );
    const names = ['GREETING', 'AWS_ENDPOINT_URL', 'AWS_REGION', 'AWS_DEFAULT_REGION', 'AWS_LAMBDA_FUNCTION_NAME', 'AWS_LAMBDA_FUNCTION_MEMORY_SIZE', 'AWS_LAMBDA_FUNCTION_VERSION', 'AWS_LAMBDA_LOG_GROUP_NAME', 'AWS_EXECUTION_ENV', 'LAMBDA_TASK_ROOT', '_HANDLER', 'TZ'];

    const [a, b] = await Promise.all([lambda.invoke('alpha', { names }), lambda.invoke('beta', { names })]);

    expect(a.payload).toMatchObject({
      values: {
        GREETING: 'alpha',
        AWS_ENDPOINT_URL: 'http://127.0.0.1:4566',
        AWS_REGION: 'us-east-1',
        AWS_DEFAULT_REGION: 'us-east-1',
        AWS_LAMBDA_FUNCTION_NAME: 'alpha',
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '512',
        AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
        AWS_LAMBDA_LOG_GROUP_NAME: '/aws/lambda/alpha',
        AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
        LAMBDA_TASK_ROOT: ROOT,
        _HANDLER: 'test/local/lambda/fixtures/handlers.environment',
        TZ: ':UTC',
      },
    });
    expect(b.payload).toMatchObject({ values: { GREETING: 'beta', AWS_LAMBDA_FUNCTION_NAME: 'beta' } });
    expect(process.env.GREETING).toBeUndefined();
  });

  it('reuses a warm environment for sequential invocations', async () => {
    const lambda = service([fn('warm', 'environment')]);
    const first = (await lambda.invoke('warm', { names: [] })).payload as { threadId: number; invocationsInThisEnvironment: number };
    const second = (await lambda.invoke('warm', { names: [] })).payload as { threadId: number; invocationsInThisEnvironment: number };
    expect(second.threadId).toBe(first.threadId);
    expect(second.invocationsInThisEnvironment).toBe(2);
    expect(logs.filter((line) => line.includes('Init Duration'))).toHaveLength(1);
  });

  it('passes a Lambda context whose remaining time decreases', async () => {
    const lambda = service([fn('ctx', 'context', { timeoutSeconds: 3, memoryMb: 1024 })]);
    const { payload } = await lambda.invoke('000000000000:function:ctx:$LATEST', { sleepMs: 60 });
    const ctx = payload as Record<string, unknown> & { before: number; after: number; awsRequestId: string };
    expect(ctx).toMatchObject({
      functionName: 'ctx',
      functionVersion: '$LATEST',
      invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:ctx:$LATEST',
      memoryLimitInMB: '1024',
      logGroupName: '/aws/lambda/ctx',
      callbackWaitsForEmptyEventLoop: true,
    });
    expect(ctx.awsRequestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(ctx.logStreamName).toMatch(/^\d{4}\/\d{2}\/\d{2}\/\[\$LATEST\][0-9a-f]{32}$/);
    expect(ctx.before).toBeLessThanOrEqual(3000);
    expect(ctx.before).toBeGreaterThan(2500);
    expect(ctx.before - ctx.after).toBeGreaterThanOrEqual(50);
  });

  it('hands the handler a copy of the event', async () => {
    const lambda = service([fn('mutate', 'mutate')]);
    const event = { list: [1, 2, 3] };
    const { payload } = await lambda.invoke('mutate', event);
    expect(payload).toEqual({ list: [1, 2, 3, 4] });
    expect(event.list).toEqual([1, 2, 3]);
  });

  it('supports callback-style handlers', async () => {
    const lambda = service([fn('cb', 'callbackStyle')]);
    expect(await lambda.invoke('cb', { value: 21 })).toEqual({ payload: { doubled: 42 } });
  });

  it('reports a thrown error as the Node.js runtime does, and keeps the environment', async () => {
    const lambda = service([fn('failing', 'fail')]);
    const result = await lambda.invoke('failing', { kind: 'error' });
    expect(result.functionError).toMatchObject({ errorType: 'InvalidRequest', errorMessage: 'prompt must be 1-2000 characters' });
    expect(result.functionError?.trace[0]).toBe('InvalidRequest: prompt must be 1-2000 characters');
    expect(result.functionError?.trace[1]).toMatch(/^ {4}at .*handlers\.ts/);
    expect(result.payload).toEqual(result.functionError);
    const requestId = /\[failing (\S+)\] about to fail/.exec(logs.join('\n'))?.[1];
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);

    expect((await lambda.invoke('failing', { kind: 'string' })).functionError).toEqual({ errorType: 'string', errorMessage: 'plain string', trace: [] });
    expect(logs.filter((line) => line.includes('Init Duration'))).toHaveLength(1);
  });

  it('reports an unhandled rejection and replaces the environment', async () => {
    const lambda = service([fn('rejecting', 'fail')]);
    const result = await lambda.invoke('rejecting', { kind: 'rejection' });
    expect(result.functionError).toMatchObject({ errorType: 'Runtime.UnhandledPromiseRejection', errorMessage: 'TypeError: nobody awaited this' });
    expect((await lambda.invoke('rejecting', { kind: 'error' })).functionError?.errorType).toBe('InvalidRequest');
  });

  it('replaces an idle environment whose runtime exited after its invocation', async () => {
    const lambda = service([fn('late', 'lateRejection')]);
    expect(await lambda.invoke('late', {})).toEqual({ payload: 'done' });
    // The rejection comes after the result: wait until the runtime has reported it, then give the
    // worker's exit (sent right after that report) a moment to reach this thread.
    const deadline = Date.now() + 10_000;
    while (!logs.some((line) => line.includes('ERROR\tUnhandled Promise Rejection')) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await lambda.invoke('late', {})).toEqual({ payload: 'done' });
    expect(logs.some((line) => line.includes('ERROR\tUnhandled Promise Rejection'))).toBe(true);
    expect(logs.filter((line) => line.includes('Init Duration'))).toHaveLength(2);
  });

  it('reports a missing handler export as Runtime.HandlerNotFound', async () => {
    const lambda = service([fn('missing', 'notAFunction')]);
    expect((await lambda.invoke('missing', {})).functionError).toEqual({
      errorType: 'Runtime.HandlerNotFound',
      errorMessage: 'test/local/lambda/fixtures/handlers.notAFunction is undefined or not exported',
      trace: [],
    });
  });

  it('reports a missing module as Runtime.ImportModuleError', async () => {
    const lambda = service([fn('nomodule', 'handler', { entry: 'test/local/lambda/fixtures/does-not-exist.ts' })]);
    const { functionError } = await lambda.invoke('nomodule', {});
    expect(functionError?.errorType).toBe('Runtime.ImportModuleError');
    expect(functionError?.errorMessage).toMatch(/^Error: Cannot find module/);
  });

  it('kills a handler that runs past its timeout, and the next invocation gets a fresh environment', async () => {
    const lambda = service([fn('spinner', 'spin', { timeoutSeconds: 1 }), fn('napper', 'nap', { timeoutSeconds: 1 })]);
    const started = Date.now();
    const result = await lambda.invoke('spinner', {});
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    const requestId = /START RequestId: (\S+)/.exec(logs.find((line) => line.startsWith('[spinner') && line.includes('START')) ?? '')?.[1];
    expect(result.functionError).toEqual({ errorType: 'Sandbox.Timedout', errorMessage: `RequestId: ${requestId} Error: Task timed out after 1.00 seconds`, trace: [] });
    expect(logs.some((line) => line.includes('Status: timeout'))).toBe(true);

    const nap = await lambda.invoke('napper', { ms: 5 });
    expect(nap.functionError).toBeUndefined();
    const again = await lambda.invoke('spinner', {});
    expect(again.functionError?.errorType).toBe('Sandbox.Timedout');
    expect(logs.filter((line) => line.includes('[spinner') && line.includes('Init Duration'))).toHaveLength(2);
  });

  it('runs at most maxConcurrency invocations of a function at once and queues the rest', async () => {
    const lambda = service([fn('napper', 'nap')], { maxConcurrency: 2 });
    await Promise.all([lambda.invoke('napper', { ms: 1 }), lambda.invoke('napper', { ms: 1 })]);
    const sleepMs = 150;
    const started = Date.now();
    const results = await Promise.all(Array.from({ length: 6 }, () => lambda.invoke('napper', { ms: sleepMs })));
    const elapsed = Date.now() - started;
    const spans = results.map((r) => r.payload as { start: number; end: number; threadId: number });
    // Sweep over start/end points (ends first at equal times) for the most handlers running at once.
    const points = spans.flatMap((s) => [[s.start, 1], [s.end, -1]] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    let running = 0;
    let mostAtOnce = 0;
    for (const [, delta] of points) mostAtOnce = Math.max(mostAtOnce, (running += delta));
    expect(mostAtOnce).toBe(2);
    expect(new Set(spans.map((s) => s.threadId)).size).toBe(2);
    expect(elapsed).toBeGreaterThanOrEqual(3 * sleepMs - 5);
    expect(elapsed).toBeLessThan(6 * sleepMs);
  });

  it('turns Embedded Metric Format lines into metrics, from Powertools Metrics and raw documents', async () => {
    const published: { namespace: string; data: readonly MetricDatum[] }[] = [];
    const lambda = service([fn('emf', 'emf', { entry: 'test/local/lambda/fixtures/emf-handler.ts' })], { metrics: { putMetricData: (namespace, data) => published.push({ namespace, data }) } });
    const before = Date.now();
    expect((await lambda.invoke('emf', { utilization: 75 })).payload).toBe('published');

    const imagegen = published.filter((p) => p.namespace === 'ImageGen');
    expect(imagegen).toHaveLength(1);
    expect(imagegen[0]?.data).toEqual([
      { metricName: 'UtilizationRate', dimensions: { service: 'publish-utilization', EndpointName: 'imagegen-sdxl' }, value: 75, unit: 'Percent', timestamp: expect.any(Number) },
    ]);
    expect(imagegen[0]?.data[0]?.timestamp).toBeGreaterThanOrEqual(before - 1000);

    const raw = published.filter((p) => p.namespace === 'Raw').flatMap((p) => p.data);
    expect(raw.map((d) => [d.dimensions, d.value])).toEqual([
      [{ Stage: 'local' }, 12],
      [{ Stage: 'local' }, 15],
      [{ Stage: 'local', Model: 'sdxl' }, 12],
      [{ Stage: 'local', Model: 'sdxl' }, 15],
    ]);
    expect(raw.every((d) => d.timestamp === 1767225600000 && d.unit === 'Milliseconds')).toBe(true);

    const lambdaMetrics = published.filter((p) => p.namespace === 'AWS/Lambda').flatMap((p) => p.data);
    expect(lambdaMetrics.map((d) => [d.metricName, d.dimensions.FunctionName])).toEqual([
      ['Invocations', 'emf'],
      ['Errors', 'emf'],
      ['Duration', 'emf'],
    ]);
    expect(logs.some((line) => line.includes('an ordinary structured log line'))).toBe(true);
  });

  it('runs sharp in several execution environments at once', async () => {
    const lambda = service([fn('images', 'thumbnail', { entry: 'test/local/lambda/fixtures/sharp-handler.ts' })], { maxConcurrency: 2 });
    const results = await Promise.all([lambda.invoke('images', { size: 16 }), lambda.invoke('images', { size: 32 })]);
    expect(results.map((r) => r.payload)).toEqual([
      { format: 'webp', width: 16, height: 16, bytes: expect.any(Number) },
      { format: 'webp', width: 32, height: 32, bytes: expect.any(Number) },
    ]);
  });

  it('retries a failed asynchronous invocation on the clock, keeping its request id', async () => {
    const clock = new ManualClock();
    const file = join(scratch, 'attempts.log');
    const lambda = service([fn('flaky', 'record', { environment: { RECORD_FILE: file, FAIL_UNTIL: '3' } })], { clock, asyncRetryDelaysMs: [60_000, 120_000] });

    lambda.invokeAsync('flaky', { n: 1 });
    await lambda.idle();
    expect(lambda.scheduledRetries).toBe(1);
    await clock.advance(59_999);
    await lambda.idle();
    expect(readFileSync(file, 'utf8').trim().split('\n')).toHaveLength(1);
    await clock.advance(1);
    await lambda.idle();
    await clock.advance(120_000);
    await lambda.idle();

    expect(readFileSync(file, 'utf8').trim().split('\n')).toEqual(['{"n":1}', '{"n":1}', '{"n":1}']);
    expect(lambda.scheduledRetries).toBe(0);
    const requestIds = new Set(logs.filter((line) => line.includes('START RequestId')).map((line) => /RequestId: (\S+)/.exec(line)?.[1]));
    expect(requestIds.size).toBe(1);
    expect(logs.some((line) => line.includes('dropped'))).toBe(false);
  });

  it('drops an asynchronous invocation after maxAsyncRetries and logs it', async () => {
    const clock = new ManualClock();
    const file = join(scratch, 'attempts.log');
    const lambda = service([fn('broken', 'record', { maxAsyncRetries: 1, environment: { RECORD_FILE: file, FAIL_UNTIL: '99' } })], { clock });

    lambda.invokeAsync('broken', {});
    await lambda.idle();
    await clock.advance(1000);
    await lambda.idle();

    expect(readFileSync(file, 'utf8').trim().split('\n')).toHaveLength(2);
    expect(lambda.scheduledRetries).toBe(0);
    expect(logs.some((line) => line.includes('asynchronous invocation dropped after 2 attempts: Error: attempt 2 fails'))).toBe(true);
  });

  it('rejects unknown functions, foreign ARNs, unpublished qualifiers and oversized payloads', async () => {
    const lambda = service([fn('known', 'environment')]);
    await expect(lambda.invoke('unknown', {})).rejects.toMatchObject({
      code: 'ResourceNotFoundException',
      status: 404,
      message: 'Function not found: arn:aws:lambda:us-east-1:000000000000:function:unknown',
    });
    await expect(lambda.invoke('arn:aws:lambda:eu-west-1:000000000000:function:known', {})).rejects.toMatchObject({ code: 'ResourceNotFoundException' });
    await expect(lambda.invoke('known:prod', {})).rejects.toMatchObject({ code: 'ResourceNotFoundException' });
    await expect(lambda.invoke('known', { blob: 'x'.repeat(6 * 1024 * 1024) })).rejects.toMatchObject({
      code: 'RequestTooLargeException',
      status: 413,
      message: 'Request must be smaller than 6291456 bytes for the InvokeFunction operation',
    });
    expect(() => lambda.invokeAsync('known', { blob: 'x'.repeat(1024 * 1024) })).toThrow('Request must be smaller than 1048576 bytes');
  });

  it('reports a response over 6 MB as Function.ResponseSizeTooLarge', async () => {
    const lambda = service([fn('big', 'big')]);
    const result = await lambda.invoke('big', { bytes: 6 * 1024 * 1024 + 1 });
    expect(result.functionError?.errorType).toBe('Function.ResponseSizeTooLarge');
  });

  it('does not keep the process alive with only warm idle environments', async () => {
    const output = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, ['--import', 'tsx', join(__dirname, 'fixtures/invoke-and-return.ts')], { cwd: ROOT, timeout: 15_000 }, (error, stdout) =>
        error ? reject(error) : resolve(stdout),
      );
    });
    expect(JSON.parse(output)).toMatchObject({ threadId: expect.any(Number) });
  });

  it('validates function configuration like CreateFunction', () => {
    expect(() => service([fn('bad name', 'x')])).toThrow('FunctionName must be 1-64 characters');
    expect(() => service([fn('f', 'x', { timeoutSeconds: 901 })])).toThrow('Timeout must be an integer 1-900, got 901');
    expect(() => service([fn('f', 'x', { memoryMb: 64 })])).toThrow('MemorySize must be an integer 128-10240, got 64');
    expect(() => service([fn('f', 'x', { maxAsyncRetries: 3 })])).toThrow('MaximumRetryAttempts must be 0-2, got 3');
    expect(() => service([fn('f', 'x', { environment: { AWS_REGION: 'eu-west-1' } })])).toThrow('Reserved keys used in this request: AWS_REGION');
    expect(() => service([fn('f', 'x'), fn('f', 'y')])).toThrow('Function already exist: f');
  });
});
