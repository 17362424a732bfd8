/**
 * Runs the real workflows/imagegen-request.asl.json (placeholders substituted) in
 * aws-local-stepfunctions, with each Task state calling the real task cores over a TestCloud (the
 * local cloud's DynamoDB and S3, in this process).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { StateMachine } from 'aws-local-stepfunctions';
import { resolve } from '../../tasks/resolve/resolve';
import { complete } from '../../tasks/complete/complete';
import { reportFailure } from '../../tasks/report-failure/report-failure';
import { loadSample } from '../../events/samples';
import { succeededDetailSchema } from '../../events/image-generation-succeeded/schema';
import { failedDetailSchema } from '../../events/image-generation-failed/schema';
import { callbackTimeoutSeconds, defaultConfig, imagegenTopology } from '../../topology/imagegen-topology';
import { renderDefinitionValues } from '../../topology/topology';
import { TestCloud } from './test-cloud';
import { TestClock, completeDeps, errorNotification, finishLastInference, reportDeps, resolveDeps, snsEvent, successNotification } from './harness';

const ASL_FILE = join(__dirname, '../../workflows/imagegen-request.asl.json');
const ARNS = {
  ResolveFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:imagegen-resolve',
  ReportFailureFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:imagegen-report-failure',
  EventBusArn: 'arn:aws:events:us-east-1:000000000000:event-bus/imagegen',
};

function definition(timeoutSeconds?: number): { States: { Resolve: { TimeoutSeconds: number } } } {
  let text = renderDefinitionValues(readFileSync(ASL_FILE, 'utf8'), imagegenTopology().stateMachines[0]!.values);
  for (const [k, v] of Object.entries(ARNS)) text = text.split(`\${${k}}`).join(v);
  expect(text).not.toContain('${');
  const def = JSON.parse(text);
  if (timeoutSeconds !== undefined) def.States.Resolve.TimeoutSeconds = timeoutSeconds;
  return def;
}

/** A Lambda function error as Step Functions sees it: Error = errorType, Cause = the JSON error. */
function lambdaError(e: Error): Error {
  return Object.assign(new Error(JSON.stringify({ errorMessage: e.message, errorType: e.name, trace: [] })), { name: e.name });
}

type EventLog = { type: string; state?: { name: string } };
/* eslint-disable @typescript-eslint/no-explicit-any -- task handlers receive the state's untyped effective input */

interface Run {
  result: Promise<unknown>;
  states: Promise<string[]>;
  events: Promise<EventLog[]>;
}

describe('imagegen-request workflow', () => {
  const machine = new StateMachine(definition() as never);
  const quickMachine = new StateMachine(definition(1) as never);
  let cloud: TestCloud;
  let clock: TestClock;
  let n = 0;
  const notified: unknown[] = [];
  /** What each Resolve returned, in the order they returned. */
  const resolved: string[] = [];
  /** When set, every Notify attempt fails with it, as putEvents does when EventBridge rejects the entry. */
  let notifyError: Error | undefined;
  let notifyAttempts = 0;

  beforeAll(async () => {
    cloud = await TestCloud.start();
  });
  afterAll(() => cloud.close());

  beforeEach(async () => {
    await cloud.reset();
    clock = new TestClock();
    notified.length = 0;
    resolved.length = 0;
    notifyError = undefined;
    notifyAttempts = 0;
  });

  function start(detail: object, sm = machine): Run {
    n += 1;
    const token = `token-${n}`;
    const executionArn = `arn:aws:states:us-east-1:000000000000:execution:imagegen-request:exec-${n}`;
    const event = { ...loadSample('image-generation-requested', 'minimal'), detail };
    const execution = sm.run(event as never, {
      context: { Execution: { Id: executionArn }, Task: { Token: token } } as never,
      overrides: {
        // The Retry policies run as written, without their waits.
        retryIntervalOverrides: { Notify: 0 },
        taskResourceLocalHandlers: {
          Resolve: async (input: any) => {
            expect(input.FunctionName).toBe(ARNS.ResolveFunctionArn);
            const callback = cloud.openToken(input.Payload.taskToken);
            try {
              resolved.push((await resolve(input.Payload, resolveDeps(cloud, clock))).outcome);
            } catch (e) {
              cloud.tokens.delete(input.Payload.taskToken);
              throw lambdaError(e as Error);
            }
            return (await callback) as never;
          },
          Notify: async (input: any) => {
            notifyAttempts += 1;
            if (notifyError) throw notifyError;
            notified.push(...input.Entries);
            return { Entries: [{ EventId: 'e' }], FailedEntryCount: 0 };
          },
          ReportFailure: async (input: any) => {
            expect(input.FunctionName).toBe(ARNS.ReportFailureFunctionArn);
            const report = await reportFailure(input.Payload, reportDeps(cloud, clock));
            return { StatusCode: 200, ExecutedVersion: '$LATEST', Payload: report } as never;
          },
        },
      },
    });
    const events = (async () => {
      const all: EventLog[] = [];
      for await (const e of execution.eventLogs) all.push(e as EventLog);
      return all;
    })();
    const states = events.then((all) => all.filter((e) => e.type === 'StateEntered').map((e) => (e as { state: { name: string } }).state.name));
    // A closed execution closes its token, as Step Functions does (later callbacks get TaskTimedOut).
    const result = execution.result.finally(() => cloud.tokens.delete(token));
    // A failure is read after the callback that causes it returns, which may be after it happened.
    result.catch(() => undefined);
    return { result, states, events };
  }

  /** Resolve has returned `k` times: an inference it started is recorded with its output locations by then. */
  const resolvedTimes = (k: number) => waitFor(() => resolved.length === k);

  const failureOf = (run: Run) => run.result.then(
    () => {
      throw new Error('expected the execution to fail');
    },
    (e: { cause?: { name: string; message: string } }) => ({ error: e.cause?.name, cause: e.cause?.message }),
  );

  it('waits for the callback as long as SageMaker may hold every attempt: (1 + retries) × (queue TTL + invocation timeout + reconciler) + slack', () => {
    expect(definition().States.Resolve.TimeoutSeconds).toBe(callbackTimeoutSeconds(defaultConfig));
    // Per attempt 4,800 s: TTL 3,600 + invocation 900 + 120 for the objects to land + the next reconciler run (60)
    // and that run (120); three attempts by default, then 600 s of slack (docs/design.md § recovery).
    expect(callbackTimeoutSeconds(defaultConfig)).toBe(15_000);
    expect(callbackTimeoutSeconds({ ...defaultConfig, inferenceRetries: 0 })).toBe(5_400);
    expect(callbackTimeoutSeconds({ ...defaultConfig, requestTtlSeconds: 600, invocationTimeoutSeconds: 300 })).toBe(4_200);
  });

  it('miss: one inference, then Notify with the result as detail and execution output (2 states)', async () => {
    const run = start({ requestId: 'w-miss', prompt: 'a lighthouse', metadata: { m: 1 } });
    await resolvedTimes(1);
    const { inferenceId, outputLocation } = await finishLastInference(cloud);
    await complete(snsEvent(successNotification(inferenceId, outputLocation)), completeDeps(cloud, clock));
    const output = succeededDetailSchema.parse(await run.result);
    expect(output).toMatchObject({ requestId: 'w-miss', cacheHit: false, metadata: { m: 1 } });
    expect(notified).toEqual([{ EventBusName: ARNS.EventBusArn, Source: 'imagegen', DetailType: 'Image Generation Succeeded', Detail: output }]);
    expect(await run.states).toEqual(['Resolve', 'Notify']);
  });

  it('hit: served from cache without an inference (2 states)', async () => {
    const first = start({ requestId: 'w-hit-1', prompt: 'a fox' });
    await resolvedTimes(1);
    const { inferenceId, outputLocation } = await finishLastInference(cloud);
    await complete(snsEvent(successNotification(inferenceId, outputLocation)), completeDeps(cloud, clock));
    await first.result;
    const second = start({ requestId: 'w-hit-2', prompt: 'a fox', renditions: [{ width: 100, format: 'png' }] });
    const output = succeededDetailSchema.parse(await second.result);
    expect(output.cacheHit).toBe(true);
    expect(output.renditions[0]).toMatchObject({ width: 100, height: 100, format: 'png' });
    expect(output.timings.inferenceMs).toBeUndefined();
    expect(cloud.invocations).toHaveLength(1);
    expect(await second.states).toEqual(['Resolve', 'Notify']);
  });

  it('duplicate request: joins the in-flight inference; a duplicate and a late notification change nothing', async () => {
    const a = start({ requestId: 'w-dup', prompt: 'a harbor' });
    await resolvedTimes(1);
    const b = start({ requestId: 'w-dup', prompt: 'a harbor' });
    // The image must not land before the duplicate has registered, or it would be a hit.
    await resolvedTimes(2);
    expect(resolved).toEqual(['started', 'joined']);
    const { inferenceId, outputLocation } = await finishLastInference(cloud);
    const note = snsEvent(successNotification(inferenceId, outputLocation));
    await complete(note, completeDeps(cloud, clock));
    const [ra, rb] = await Promise.all([a.result, b.result]);
    expect(ra).toMatchObject({ requestId: 'w-dup', cacheHit: false });
    expect(rb).toMatchObject({ requestId: 'w-dup', cacheHit: false });
    expect(cloud.invocations).toHaveLength(1);
    expect(await complete(note, completeDeps(cloud, clock))).toEqual([{ inferenceId, outcome: 'succeeded', completed: 0 }]);
    expect(await complete(snsEvent(errorNotification(inferenceId, 'late error')), completeDeps(cloud, clock))).toEqual([{ inferenceId, outcome: 'stale', completed: 0 }]);
    expect(notified).toHaveLength(2);
  });

  it('invalid request: ReportFailure publishes InvalidRequest and the execution fails with it (3 states)', async () => {
    const run = start({ requestId: 'w-bad', prompt: 'a crane', steps: 250, metadata: { m: 2 } });
    expect(await failureOf(run)).toEqual({ error: 'InvalidRequest', cause: 'detail.steps must be an integer from 1 to 100 (got 250)' });
    expect(failedDetailSchema.parse(JSON.parse(cloud.published[0]!.Detail!))).toEqual({
      requestId: 'w-bad',
      error: { code: 'InvalidRequest', message: 'detail.steps must be an integer from 1 to 100 (got 250)' },
      metadata: { m: 2 },
    });
    expect(cloud.published[0]).toMatchObject({ Source: 'imagegen', DetailType: 'Image Generation Failed' });
    expect(await run.states).toEqual(['Resolve', 'ReportFailure', 'Failed']);
    expect(notified).toHaveLength(0);
  });

  it('inference error (model 4xx): every waiter fails with InferenceFailed at once (3 states)', async () => {
    const run = start({ requestId: 'w-err', prompt: 'a robot' });
    await resolvedTimes(1);
    const inferenceId = cloud.invocations[0]!.InferenceId!;
    const reason = 'ClientError: Received client error (400) from model with message "bad input".';
    await complete(snsEvent(errorNotification(inferenceId, reason)), completeDeps(cloud, clock));
    expect(await failureOf(run)).toEqual({ error: 'InferenceFailed', cause: reason });
    expect(JSON.parse(cloud.published[0]!.Detail!)).toMatchObject({ requestId: 'w-err', error: { code: 'InferenceFailed' } });
    expect(await run.states).toEqual(['Resolve', 'ReportFailure', 'Failed']);
    expect(cloud.invocations).toHaveLength(1);
  });

  it('transient inference error (model 5xx): a new attempt under the same wait, then success (2 states)', async () => {
    const run = start({ requestId: 'w-retry', prompt: 'a glacier' });
    await resolvedTimes(1);
    const failed = cloud.invocations[0]!.InferenceId!;
    const [retried] = await complete(snsEvent(errorNotification(failed, 'ClientError: Received server error (503) from model.')), completeDeps(cloud, clock));
    expect(retried).toMatchObject({ outcome: 'retried' });
    expect(cloud.invocations).toHaveLength(2);
    const { inferenceId, outputLocation } = await finishLastInference(cloud);
    await complete(snsEvent(successNotification(inferenceId, outputLocation)), completeDeps(cloud, clock));
    expect(succeededDetailSchema.parse(await run.result)).toMatchObject({ requestId: 'w-retry', cacheHit: false });
    expect(await run.states).toEqual(['Resolve', 'Notify']);
    expect(cloud.published).toHaveLength(0);
  });

  it('retries spent: the request fails once with InferenceFailed, naming the attempts (3 states)', async () => {
    const run = start({ requestId: 'w-spent', prompt: 'a volcano' });
    await resolvedTimes(1);
    for (let i = 0; i < 3; i++) {
      await complete(snsEvent(errorNotification(cloud.invocations.at(-1)!.InferenceId!, 'ClientError: Received server error (500) from model.')), completeDeps(cloud, clock));
    }
    expect(await failureOf(run)).toEqual({ error: 'InferenceFailed', cause: 'ClientError: Received server error (500) from model. (gave up after 3 attempts)' });
    expect(cloud.invocations).toHaveLength(3);
    expect(cloud.published).toHaveLength(1);
    expect(await run.states).toEqual(['Resolve', 'ReportFailure', 'Failed']);
  });

  it('expired in the queue: InferenceTimedOut with SageMaker\'s reason (3 states)', async () => {
    const run = start({ requestId: 'w-expired', prompt: 'a tundra' });
    await resolvedTimes(1);
    const reason = 'ClientError: Request expired after waiting 3600 seconds in the queue (RequestTTLSeconds) before an instance could process it.';
    await complete(snsEvent(errorNotification(cloud.invocations[0]!.InferenceId!, reason)), completeDeps(cloud, clock));
    expect(await failureOf(run)).toEqual({ error: 'InferenceTimedOut', cause: reason });
    expect(JSON.parse(cloud.published[0]!.Detail!)).toMatchObject({ requestId: 'w-expired', error: { code: 'InferenceTimedOut', message: reason } });
  });

  it('Notify failure: after its retries the producer still hears Image Generation Failed, naming the cached image (4 states)', async () => {
    notifyError = Object.assign(new Error('EventBridge rejected the entry: InternalFailure'), { name: 'EventBridge.FailedEntry' });
    const run = start({ requestId: 'w-unpublished', prompt: 'a quay', metadata: { m: 3 } });
    await resolvedTimes(1);
    const { inferenceId, outputLocation } = await finishLastInference(cloud);
    await complete(snsEvent(successNotification(inferenceId, outputLocation)), completeDeps(cloud, clock));
    const failure = await failureOf(run);
    expect(failure.error).toBe('Internal');
    expect(failure.cause).toMatch(/^the image was generated \(cacheKey [0-9a-f]{64}\) but its success event could not be published \(EventBridge\.FailedEntry: EventBridge rejected the entry: InternalFailure\); it is cached, send the request again/);
    // One attempt and the five retries of the definition, then the Catch.
    expect(notifyAttempts).toBe(6);
    expect(cloud.published).toHaveLength(1);
    expect(cloud.published[0]).toMatchObject({ Source: 'imagegen', DetailType: 'Image Generation Failed' });
    expect(failedDetailSchema.parse(JSON.parse(cloud.published[0]!.Detail!))).toEqual({
      requestId: 'w-unpublished',
      error: { code: 'Internal', message: failure.cause },
      metadata: { m: 3 },
    });
    expect(await run.states).toEqual(['Resolve', 'Notify', 'ReportFailure', 'Failed']);
  });

  it('callback timeout: States.Timeout becomes InferenceTimedOut (3 states)', async () => {
    const run = start({ requestId: 'w-slow', prompt: 'a desert' }, quickMachine);
    const failure = await failureOf(run);
    expect(failure.error).toBe('InferenceTimedOut');
    expect(failure.cause).toContain('no image was produced before the workflow stopped waiting (States.Timeout');
    expect(JSON.parse(cloud.published[0]!.Detail!)).toMatchObject({ requestId: 'w-slow', error: { code: 'InferenceTimedOut' } });
    expect(await run.states).toEqual(['Resolve', 'ReportFailure', 'Failed']);
    // The notification that arrives after the timeout completes a closed token: ignored.
    const { inferenceId, outputLocation } = await finishLastInference(cloud);
    expect(await complete(snsEvent(successNotification(inferenceId, outputLocation)), completeDeps(cloud, clock))).toEqual([
      { inferenceId, outcome: 'succeeded', completed: 0 },
    ]);
  });
});

async function waitFor(condition: () => boolean, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}
