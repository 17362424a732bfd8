/**
 * Faults on the work itself, one kind at a time, through the local cloud's fault rules: Complete
 * crashing or timing out, the model failing, the endpoint losing a request, S3 answering 5xx and
 * DynamoDB throttling the functions. Each request ends — completed after a retry, or failed with
 * the contract's code once its retries are spent — and never stays running.
 */
import { names } from '../../../topology/imagegen-topology';
import { attemptDeadlineSeconds } from '../../../topology/recovery';
import { CHAOS_CONFIG, ChaosPipeline } from './pipeline-harness';

jest.setTimeout(180_000);

const COMPLETE = names.completeFunction;

describe('invocation and service faults', () => {
  let pipeline: ChaosPipeline;

  beforeAll(async () => {
    pipeline = await ChaosPipeline.start();
  });
  afterAll(async () => {
    await pipeline?.close();
  });
  afterEach(() => pipeline.cloud.faults.replace({ rules: [] }));

  const faults = () => pipeline.cloud.faults;
  /** Puts one rule in force until it has fired once, then turns fault injection off. */
  async function once(rule: Record<string, unknown>, what: string): Promise<void> {
    faults().replace({ seed: 1, rules: [{ ...rule, probability: 1 }] });
    await pipeline.advanceUntil(async () => (faults().fired()[0] ?? 0) >= 1, what, 120_000);
    faults().replace({ rules: [] });
  }

  it('lambda crash: Complete crashing once is retried by Lambda and the request succeeds', async () => {
    const errors = pipeline.completeErrors();
    await pipeline.send('crash-1', 'a lantern whose completion crashes once');
    await once({ service: 'lambda', function: COMPLETE, action: 'crash' }, 'Complete crashed');

    const outcomes = await pipeline.finish('crash-1', 120_000);
    expect(outcomes.map((o) => o.status)).toEqual(['SUCCEEDED']);
    expect(pipeline.completeErrors()).toBe(errors + 1);
    expect(pipeline.log.some((line) => line.includes(COMPLETE) && line.includes('asynchronous invocation failed (Runtime.ExitError)'))).toBe(true);
  });

  it('lambda crash on every attempt: the notification is dropped after three attempts, and the request is settled without it', async () => {
    const errors = pipeline.completeErrors();
    faults().replace({ seed: 1, rules: [{ service: 'lambda', function: COMPLETE, action: 'crash', probability: 1 }] });
    await pipeline.send('crash-all-1', 'a lantern whose completion always crashes');

    const outcomes = await pipeline.finish('crash-all-1', 300_000);
    expect(outcomes.map((o) => o.status)).toEqual(['SUCCEEDED']);
    expect(pipeline.completeErrors()).toBe(errors + 3);
  });

  it('lambda timeout: Complete timing out fails only after its whole timeout; the request completes regardless', async () => {
    const outputs = await pipeline.outputs();
    await pipeline.send('timeout-1', 'a clock tower whose completion times out once');
    await once({ service: 'lambda', function: COMPLETE, action: 'timeout' }, 'Complete timed out');
    const landed = await pipeline.advanceUntil(async () => (await pipeline.outputs()) > outputs, 'the output landed', 30_000);

    const [outcome] = await pipeline.finish('timeout-1', 300_000);
    expect(outcome?.status).toBe('SUCCEEDED');
    // The reconciler settles the request while the timed-out invocation still holds its notification.
    expect((outcome?.stopMs ?? Infinity) - landed).toBeLessThanOrEqual(120_000);
    const timedOut = await pipeline.advanceUntil(
      async () => pipeline.log.some((line) => line.includes(COMPLETE) && line.includes('asynchronous invocation failed (Sandbox.Timedout)')),
      'the invocation timed out',
      180_000,
    );
    // Held for Complete's whole timeout (120 s) on the clock, as Lambda holds a hung invocation.
    expect(timedOut - landed).toBeGreaterThanOrEqual(115_000);
  });

  it('sagemaker model-error once: the inference is attempted again and the request succeeds', async () => {
    const [outputs, failures] = [await pipeline.outputs(), await pipeline.failures()];
    await pipeline.send('model-error-1', 'a volcano whose first inference fails');
    await once({ service: 'sagemaker', action: 'model-error' }, 'the model failed');

    const outcomes = await pipeline.finish('model-error-1', 300_000);
    expect(outcomes.map((o) => o.status)).toEqual(['SUCCEEDED']);
    expect(await pipeline.failures()).toBe(failures + 1);
    expect(await pipeline.outputs()).toBe(outputs + 1);
  });

  it('sagemaker model-error on every attempt: the request fails as InferenceFailed once its retries are spent', async () => {
    const failures = await pipeline.failures();
    faults().replace({ seed: 1, rules: [{ service: 'sagemaker', action: 'model-error', probability: 1 }] });
    await pipeline.send('model-error-all-1', 'a volcano whose inferences always fail');

    const outcomes = await pipeline.finish('model-error-all-1', 300_000);
    expect(outcomes.map((o) => [o.status, o.error])).toEqual([['FAILED', 'InferenceFailed']]);
    // The first attempt and the two retries the configuration allows.
    expect(faults().fired()).toEqual([3]);
    expect(await pipeline.failures()).toBe(failures + 3);
  });

  it('sagemaker lose: a request the endpoint lost (no output, no notification) is attempted again and succeeds', async () => {
    const [outputs, failures] = [await pipeline.outputs(), await pipeline.failures()];
    await pipeline.send('lose-1', 'a canyon whose inference is lost');
    await once({ service: 'sagemaker', action: 'lose' }, 'the endpoint lost the request');

    const outcomes = await pipeline.finish('lose-1', 600_000);
    expect(outcomes.map((o) => o.status)).toEqual(['SUCCEEDED']);
    expect(await pipeline.outputs()).toBe(outputs + 1);
    expect(await pipeline.failures()).toBe(failures);
    // Nothing told the pipeline: the new attempt started only once the lost one was past its deadline.
    const [outcome] = outcomes;
    expect((outcome?.stopMs ?? 0) - (outcome?.startMs ?? 0)).toBeGreaterThanOrEqual(attemptDeadlineSeconds(CHAOS_CONFIG) * 1000);
  });

  /** Four requests under `rule`; each must succeed, and the rule must have fired. */
  async function absorbed(kind: string, rule: Record<string, unknown>): Promise<void> {
    faults().replace({ seed: 5, rules: [rule] });
    const ids = [0, 1, 2, 3].map((i) => `${kind}-${i}`);
    for (const [i, id] of ids.entries()) await pipeline.send(id, `a ${kind} picture number ${i}`);
    for (const id of ids) expect((await pipeline.finish(id, 600_000)).map((o) => o.status)).toEqual(['SUCCEEDED']);
    expect(faults().fired()[0]).toBeGreaterThan(0);
  }

  it('s3 5xx on a quarter of the calls the functions make: retries absorb them and every request succeeds', async () => {
    await absorbed('s3-5xx', { service: 's3', probability: 0.25, error: { statusCode: 500, code: 'InternalError' } });
  });

  it('dynamodb throttling on a quarter of the calls the functions make: retries absorb them and every request succeeds', async () => {
    await absorbed('dynamodb-throttling', { service: 'dynamodb', probability: 0.25, error: { statusCode: 400, code: 'ProvisionedThroughputExceededException' } });
  });
});
