import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  ListStateMachinesCommand,
  RedriveExecutionCommand,
  SendTaskFailureCommand,
  SendTaskHeartbeatCommand,
  SendTaskSuccessCommand,
  SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { ManualClock } from '../../../local/clock';
import { EdgeServer } from '../../../local/edge/server';
import type { EventBusPort, LambdaInvocationResult, LambdaPort } from '../../../local/ports';
import { LocalDatabase } from '../../../local/shared/database';
import { StepFunctionsService, type StateMachineConfig } from '../../../local/stepfunctions/sfn-service';

type FunctionHandler = (payload: Record<string, unknown>) => LambdaInvocationResult | Promise<LambdaInvocationResult>;

class FakeLambda implements LambdaPort {
  readonly calls: { name: string; payload: Record<string, unknown> }[] = [];
  constructor(readonly functions: Record<string, FunctionHandler>) {}
  async invoke(name: string, payload: unknown): Promise<LambdaInvocationResult> {
    this.calls.push({ name, payload: payload as Record<string, unknown> });
    const fn = this.functions[name.replace(/^arn:aws:lambda:[^:]+:\d+:function:/, '')];
    if (!fn) throw new Error(`no function ${name}`);
    return fn(payload as Record<string, unknown>);
  }
  invokeAsync(): void {
    throw new Error('not used');
  }
}

class FakeBus implements EventBusPort {
  readonly entries: unknown[] = [];
  failNext = false;
  async putEvents(entries: Parameters<EventBusPort['putEvents']>[0]): ReturnType<EventBusPort['putEvents']> {
    this.entries.push(...entries);
    if (this.failNext) return { FailedEntryCount: 1, Entries: [{ ErrorCode: 'InternalFailure', ErrorMessage: 'boom' }] };
    return { FailedEntryCount: 0, Entries: entries.map((_, i) => ({ EventId: `evt-${i}` })) };
  }
}

const ACCOUNT = '000000000000';
const smArn = (name: string): string => `arn:aws:states:us-east-1:${ACCOUNT}:stateMachine:${name}`;
const fnError = (errorType: string, errorMessage: string): LambdaInvocationResult => ({
  payload: { errorType, errorMessage },
  functionError: { errorType, errorMessage, trace: [`${errorType}: ${errorMessage}`, '    at handler (index.js:1:1)'] },
});

const machines: Record<string, object> = {
  invoke: {
    StartAt: 'Call',
    States: {
      Call: {
        Type: 'Task',
        Resource: 'arn:aws:states:::lambda:invoke',
        Parameters: { FunctionName: 'echo', 'Payload.$': '$' },
        Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Caught' }],
        End: true,
      },
      Caught: { Type: 'Pass', End: true },
    },
  },
  callback: {
    StartAt: 'Wait',
    States: {
      Wait: {
        Type: 'Task',
        Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
        Parameters: { FunctionName: 'register', Payload: { 'token.$': '$$.Task.Token', 'executionArn.$': '$$.Execution.Id', 'state.$': '$$.State.Name', 'retry.$': '$$.State.RetryCount' } },
        TimeoutSeconds: 300,
        Retry: [{ ErrorEquals: ['Transient'], IntervalSeconds: 2, MaxAttempts: 1 }],
        Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Failed' }],
        Next: 'Choose',
      },
      Choose: { Type: 'Choice', Choices: [{ Variable: '$.ok', BooleanEquals: true, Next: 'Done' }], Default: 'Done' },
      Done: { Type: 'Succeed' },
      Failed: { Type: 'Fail', ErrorPath: '$.error.Error', CausePath: '$.error.Cause' },
    },
  },
  timeout: {
    StartAt: 'Wait',
    States: {
      Wait: {
        Type: 'Task',
        Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
        Parameters: { FunctionName: 'register', Payload: { 'token.$': '$$.Task.Token' } },
        TimeoutSeconds: 300,
        Catch: [
          { ErrorEquals: ['States.TaskFailed'], Next: 'WrongCatch' },
          { ErrorEquals: ['States.Timeout'], ResultPath: '$.error', Next: 'TimedOut' },
        ],
        End: true,
      },
      WrongCatch: { Type: 'Fail', Error: 'TaskFailedMatchedTimeout' },
      TimedOut: { Type: 'Pass', End: true },
    },
  },
  heartbeat: {
    StartAt: 'Wait',
    States: {
      Wait: {
        Type: 'Task',
        Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
        Parameters: { FunctionName: 'register', Payload: { 'token.$': '$$.Task.Token' } },
        TimeoutSeconds: 600,
        HeartbeatSeconds: 60,
        Catch: [{ ErrorEquals: ['States.HeartbeatTimeout'], ResultPath: '$.error', Next: 'Lapsed' }],
        End: true,
      },
      Lapsed: { Type: 'Pass', End: true },
    },
  },
  twoStep: {
    StartAt: 'First',
    States: {
      First: { Type: 'Task', Resource: 'arn:aws:lambda:us-east-1:000000000000:function:first', Next: 'Second' },
      Second: { Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke', Parameters: { FunctionName: 'second', 'Payload.$': '$' }, OutputPath: '$.Payload', Next: 'Notify' },
      Notify: {
        Type: 'Task',
        Resource: 'arn:aws:states:::events:putEvents',
        Parameters: { Entries: [{ Source: 'imagegen', DetailType: 'Done', 'Detail.$': '$', EventBusName: 'imagegen' }] },
        ResultPath: null,
        End: true,
      },
    },
  },
  wait: { StartAt: 'Nap', States: { Nap: { Type: 'Wait', SecondsPath: '$.seconds', Next: 'After' }, After: { Type: 'Pass', End: true } } },
  pass: { StartAt: 'P', States: { P: { Type: 'Pass', Result: { done: true }, End: true } } },
};

interface Harness {
  clock: ManualClock;
  lambda: FakeLambda;
  bus: FakeBus;
  service: StepFunctionsService;
  edge: EdgeServer;
  sfn: SFNClient;
  tokens: string[];
}

const open: Harness[] = [];

async function harness(options: { database?: LocalDatabase; clock?: ManualClock; lambda?: FakeLambda } = {}): Promise<Harness> {
  const clock = options.clock ?? new ManualClock();
  const tokens: string[] = [];
  const lambda =
    options.lambda ??
    new FakeLambda({
      echo: (payload) => (payload.fail ? fnError('ImageTooLarge', 'width 4096 exceeds 2048') : { payload: { echoed: payload } }),
      register: (payload) => {
        tokens.push(String(payload.token));
        return { payload: { registered: true } };
      },
      first: (payload) => ({ payload: { ...payload, first: true } }),
      second: (payload) => ({ payload: { ...payload, second: true } }),
    });
  const bus = new FakeBus();
  const stateMachines: StateMachineConfig[] = Object.entries(machines).map(([name, def]) => ({ name, definition: JSON.stringify(def), type: 'STANDARD' }));
  const service = new StepFunctionsService({
    region: 'us-east-1',
    account: ACCOUNT,
    clock,
    stateMachines,
    lambda,
    events: bus,
    ...(options.database ? { database: options.database } : {}),
  });
  service.start();
  const edge = new EdgeServer({ services: [service.handler], port: 0, region: 'us-east-1' });
  const url = await edge.listen();
  const sfn = new SFNClient({ endpoint: url, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  const h = { clock, lambda, bus, service, edge, sfn, tokens };
  open.push(h);
  return h;
}

async function shutdown(h: Harness): Promise<void> {
  h.sfn.destroy();
  await h.edge.close();
  h.service.close();
}

afterEach(async () => {
  for (const h of open.splice(0)) await shutdown(h);
});

async function until<T>(probe: () => T | undefined | false, what: string): Promise<T> {
  for (let i = 0; i < 500; i++) {
    const value = probe();
    if (value) return value;
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function start(h: Harness, machine: string, input: unknown, name?: string): Promise<string> {
  const out = await h.sfn.send(new StartExecutionCommand({ stateMachineArn: smArn(machine), input: JSON.stringify(input), ...(name ? { name } : {}) }));
  return out.executionArn!;
}

async function historyTypes(h: Harness, executionArn: string): Promise<string[]> {
  const out = await h.sfn.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 1000 }));
  return (out.events ?? []).map((e) => e.type!);
}

describe('StepFunctionsService', () => {
  it('runs lambda:invoke and returns Lambda’s Invoke response as the task result', async () => {
    const h = await harness();
    const arn = await start(h, 'invoke', { prompt: 'a cat' });
    const done = await h.service.waitForExecution(arn, 5000);
    expect(done.status).toBe('SUCCEEDED');
    const output = JSON.parse(done.output!);
    expect(output).toMatchObject({ ExecutedVersion: '$LATEST', StatusCode: 200, Payload: { echoed: { prompt: 'a cat' } } });
    expect(output.SdkHttpMetadata.HttpStatusCode).toBe(200);
    expect(h.lambda.calls).toEqual([{ name: 'echo', payload: { prompt: 'a cat' } }]);

    const described = await h.sfn.send(new DescribeExecutionCommand({ executionArn: arn }));
    expect(described.status).toBe('SUCCEEDED');
    expect(described.startDate).toBeInstanceOf(Date);
    expect(described.startDate!.getTime()).toBe(h.clock.now());
    expect(described.redriveStatus).toBe('NOT_REDRIVABLE');
    expect(await historyTypes(h, arn)).toEqual([
      'ExecutionStarted',
      'TaskStateEntered',
      'TaskScheduled',
      'TaskStarted',
      'TaskSucceeded',
      'TaskStateExited',
      'ExecutionSucceeded',
    ]);
  });

  it('fails the task with the function’s errorType and a JSON Cause, which Catch sees', async () => {
    const h = await harness();
    const arn = await start(h, 'invoke', { fail: true });
    const done = await h.service.waitForExecution(arn, 5000);
    expect(done.status).toBe('SUCCEEDED');
    const { error } = JSON.parse(done.output!) as { error: { Error: string; Cause: string } };
    expect(error.Error).toBe('ImageTooLarge');
    expect(JSON.parse(error.Cause)).toEqual({
      errorMessage: 'width 4096 exceeds 2048',
      errorType: 'ImageTooLarge',
      trace: ['ImageTooLarge: width 4096 exceeds 2048', '    at handler (index.js:1:1)'],
    });
    expect(Object.keys(JSON.parse(error.Cause))).toEqual(['errorMessage', 'errorType', 'trace']);
    const history = await h.sfn.send(new GetExecutionHistoryCommand({ executionArn: arn }));
    const failed = history.events!.find((e) => e.type === 'TaskFailed');
    expect(failed?.taskFailedEventDetails).toMatchObject({ resourceType: 'lambda', resource: 'invoke', error: 'ImageTooLarge' });
    expect(history.events!.map((e) => e.type)).toContain('PassStateEntered');
  });

  it('waits for SendTaskSuccess on a .waitForTaskToken task and exposes the Context object', async () => {
    const h = await harness();
    const arn = await start(h, 'callback', { requestId: 'r1' });
    const token = await until(() => h.tokens[0], 'task token');
    expect(h.lambda.calls[0]?.payload).toEqual({ token, executionArn: arn, state: 'Wait', retry: 0 });
    expect((await h.sfn.send(new DescribeExecutionCommand({ executionArn: arn }))).status).toBe('RUNNING');
    await h.sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: JSON.stringify({ ok: true }) }));
    const done = await h.service.waitForExecution(arn, 5000);
    expect(done.status).toBe('SUCCEEDED');
    expect(JSON.parse(done.output!)).toEqual({ ok: true });
    const types = await historyTypes(h, arn);
    expect(types.slice(0, 7)).toEqual(['ExecutionStarted', 'TaskStateEntered', 'TaskScheduled', 'TaskStarted', 'TaskSubmitted', 'TaskSucceeded', 'TaskStateExited']);
    expect(types.slice(7)).toEqual(['ChoiceStateEntered', 'ChoiceStateExited', 'SucceedStateEntered', 'SucceedStateExited', 'ExecutionSucceeded']);
    // A completed token is closed: a duplicate callback gets TaskTimedOut.
    await expect(h.sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: '{}' }))).rejects.toMatchObject({ name: 'TaskTimedOut' });
  });

  it('routes SendTaskFailure to Catch and a Fail state with ErrorPath/CausePath', async () => {
    const h = await harness();
    const arn = await start(h, 'callback', {});
    const token = await until(() => h.tokens[0], 'task token');
    await h.sfn.send(new SendTaskFailureCommand({ taskToken: token, error: 'InferenceFailed', cause: 'model returned 500' }));
    const done = await h.service.waitForExecution(arn, 5000);
    expect(done).toMatchObject({ status: 'FAILED', error: 'InferenceFailed', cause: 'model returned 500' });
    const history = await h.sfn.send(new GetExecutionHistoryCommand({ executionArn: arn, reverseOrder: true, maxResults: 2 }));
    expect(history.events!.map((e) => e.type)).toEqual(['ExecutionFailed', 'FailStateEntered']);
    expect(history.events![0]!.executionFailedEventDetails).toEqual({ error: 'InferenceFailed', cause: 'model returned 500' });
    expect(history.nextToken).toBeDefined();
  });

  it('gives a retried task a new token; the old token then gets TaskTimedOut, a malformed one InvalidToken', async () => {
    const h = await harness();
    const arn = await start(h, 'callback', {});
    const first = await until(() => h.tokens[0], 'first token');
    await h.sfn.send(new SendTaskFailureCommand({ taskToken: first, error: 'Transient' }));
    await h.clock.advance(1999);
    expect(h.tokens).toHaveLength(1);
    await h.clock.advance(1);
    const second = await until(() => h.tokens[1], 'second token');
    expect(second).not.toBe(first);
    expect(h.lambda.calls[1]?.payload.retry).toBe(1);
    await expect(h.sfn.send(new SendTaskSuccessCommand({ taskToken: first, output: '{}' }))).rejects.toMatchObject({ name: 'TaskTimedOut' });
    await expect(h.sfn.send(new SendTaskSuccessCommand({ taskToken: 'not-a-token', output: '{}' }))).rejects.toMatchObject({ name: 'InvalidToken' });
    await expect(h.sfn.send(new SendTaskSuccessCommand({ taskToken: second, output: '{not json' }))).rejects.toMatchObject({ name: 'InvalidOutput' });
    await h.sfn.send(new SendTaskSuccessCommand({ taskToken: second, output: '{"ok":true}' }));
    expect((await h.service.waitForExecution(arn, 5000)).status).toBe('SUCCEEDED');
  });

  it('times a task out after TimeoutSeconds on the Clock as States.Timeout, which Catch sees', async () => {
    const h = await harness();
    const arn = await start(h, 'timeout', { r: 1 });
    const token = await until(() => h.tokens[0], 'token');
    await h.clock.advance(299_000);
    expect(h.service.describeExecution(arn).status).toBe('RUNNING');
    await h.clock.advance(1_000);
    const done = await h.service.waitForExecution(arn, 5000);
    expect(done.status).toBe('SUCCEEDED');
    expect(JSON.parse(done.output!)).toEqual({ r: 1, error: { Error: 'States.Timeout', Cause: null } });
    const history = await h.sfn.send(new GetExecutionHistoryCommand({ executionArn: arn }));
    const timedOut = history.events!.find((e) => e.type === 'TaskTimedOut');
    expect(timedOut?.taskTimedOutEventDetails).toMatchObject({ error: 'States.Timeout', resource: 'invoke.waitForTaskToken' });
    await expect(h.sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: '{}' }))).rejects.toMatchObject({ name: 'TaskTimedOut' });
  });

  it('keeps a task alive with SendTaskHeartbeat and fails it with States.HeartbeatTimeout when they stop', async () => {
    const h = await harness();
    const arn = await start(h, 'heartbeat', {});
    const token = await until(() => h.tokens[0], 'token');
    for (let i = 0; i < 3; i++) {
      await h.clock.advance(50_000);
      await h.sfn.send(new SendTaskHeartbeatCommand({ taskToken: token }));
    }
    expect(h.service.describeExecution(arn).status).toBe('RUNNING');
    await h.clock.advance(60_000);
    const done = await h.service.waitForExecution(arn, 5000);
    expect(done.status).toBe('SUCCEEDED');
    expect(JSON.parse(done.output!).error.Error).toBe('States.HeartbeatTimeout');
    await expect(h.sfn.send(new SendTaskHeartbeatCommand({ taskToken: token }))).rejects.toMatchObject({ name: 'TaskTimedOut' });
  });

  it('makes StartExecution idempotent for the same name and input while running, and validates names and input', async () => {
    const h = await harness();
    const arn = await start(h, 'callback', { a: 1 }, 'req-1');
    expect(await start(h, 'callback', { a: 1 }, 'req-1')).toBe(arn);
    await expect(start(h, 'callback', { a: 2 }, 'req-1')).rejects.toMatchObject({ name: 'ExecutionAlreadyExists' });
    await h.sfn.send(new SendTaskSuccessCommand({ taskToken: await until(() => h.tokens[0], 'token'), output: '{}' }));
    await h.service.waitForExecution(arn, 5000);
    // Closed executions keep their name: same input now conflicts too (AWS's documented rule).
    await expect(start(h, 'callback', { a: 1 }, 'req-1')).rejects.toMatchObject({ name: 'ExecutionAlreadyExists' });
    for (const bad of ['has space', 'a/b', 'x'.repeat(81), 'semi;colon', 'star*', 'brace{']) {
      await expect(start(h, 'pass', {}, bad)).rejects.toMatchObject({ name: 'InvalidName' });
    }
    await expect(h.sfn.send(new StartExecutionCommand({ stateMachineArn: smArn('pass'), input: '{oops' }))).rejects.toMatchObject({ name: 'InvalidExecutionInput' });
    await expect(h.sfn.send(new StartExecutionCommand({ stateMachineArn: smArn('pass'), input: JSON.stringify({ s: 'x'.repeat(262_144) }) }))).rejects.toMatchObject({
      name: 'InvalidExecutionInput',
    });
    await expect(h.sfn.send(new StartExecutionCommand({ stateMachineArn: smArn('nope') }))).rejects.toMatchObject({ name: 'StateMachineDoesNotExist' });
    await expect(h.sfn.send(new StartExecutionCommand({ stateMachineArn: 'arn:bad' }))).rejects.toMatchObject({ name: 'InvalidArn' });
  });

  it('stops an execution as ABORTED with the given error and cause, closing its token', async () => {
    const h = await harness();
    const arn = await start(h, 'callback', {});
    const token = await until(() => h.tokens[0], 'token');
    await h.sfn.send(new StopExecutionCommand({ executionArn: arn, error: 'Operator', cause: 'campaign cancelled' }));
    const described = await h.sfn.send(new DescribeExecutionCommand({ executionArn: arn }));
    expect(described).toMatchObject({ status: 'ABORTED', error: 'Operator', cause: 'campaign cancelled', redriveStatus: 'REDRIVABLE' });
    expect((await historyTypes(h, arn)).at(-1)).toBe('ExecutionAborted');
    await expect(h.sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: '{}' }))).rejects.toMatchObject({ name: 'TaskTimedOut' });
  });

  it('redrives a failed execution from the failed state, keeping the steps that succeeded', async () => {
    let secondFails = true;
    const lambda = new FakeLambda({
      first: (p) => ({ payload: { ...p, first: true } }),
      second: (p) => (secondFails ? fnError('Flaky', 'try later') : { payload: { ...p, second: true } }),
    });
    const h = await harness({ lambda });
    const arn = await start(h, 'twoStep', { n: 1 });
    expect(await h.service.waitForExecution(arn, 5000)).toMatchObject({ status: 'FAILED', error: 'Flaky' });
    expect(await historyTypes(h, arn)).toContain('LambdaFunctionSucceeded');
    secondFails = false;
    const redriven = await h.sfn.send(new RedriveExecutionCommand({ executionArn: arn }));
    expect(redriven.redriveDate).toBeInstanceOf(Date);
    const done = await h.service.waitForExecution(arn, 5000);
    expect(done).toMatchObject({ status: 'SUCCEEDED', redriveCount: 1 });
    expect(JSON.parse(done.output!)).toEqual({ n: 1, first: true, second: true });
    expect(lambda.calls.map((c) => c.name)).toEqual(['arn:aws:lambda:us-east-1:000000000000:function:first', 'second', 'second']);
    expect(h.bus.entries).toEqual([{ Source: 'imagegen', DetailType: 'Done', Detail: JSON.stringify({ n: 1, first: true, second: true }), EventBusName: 'imagegen' }]);
    expect(await historyTypes(h, arn)).toContain('ExecutionRedriven');
    await expect(h.sfn.send(new RedriveExecutionCommand({ executionArn: arn }))).rejects.toMatchObject({ name: 'ExecutionNotRedrivable' });
  });

  it('fails an events:putEvents task with EventBridge.FailedEntry when an entry fails', async () => {
    const h = await harness();
    h.bus.failNext = true;
    const arn = await start(h, 'twoStep', {});
    const done = await h.service.waitForExecution(arn, 5000);
    expect(done).toMatchObject({ status: 'FAILED', error: 'EventBridge.FailedEntry' });
    expect(JSON.parse(done.cause!)).toMatchObject({ FailedEntryCount: 1 });
  });

  it('lists state machines and executions with status filters and pagination', async () => {
    const h = await harness();
    const machinesOut = await h.sfn.send(new ListStateMachinesCommand({}));
    expect(machinesOut.stateMachines!.map((m) => m.name)).toEqual(expect.arrayContaining(['pass', 'callback']));
    const arns: string[] = [];
    for (let i = 0; i < 3; i++) {
      arns.push(await start(h, 'pass', { i }, `p${i}`));
      await h.clock.advance(1000);
    }
    await Promise.all(arns.map((a) => h.service.waitForExecution(a, 5000)));
    const page1 = await h.sfn.send(new ListExecutionsCommand({ stateMachineArn: smArn('pass'), maxResults: 2, statusFilter: 'SUCCEEDED' }));
    expect(page1.executions!.map((e) => e.name)).toEqual(['p2', 'p1']);
    const page2 = await h.sfn.send(new ListExecutionsCommand({ stateMachineArn: smArn('pass'), maxResults: 2, nextToken: page1.nextToken! }));
    expect(page2.executions!.map((e) => e.name)).toEqual(['p0']);
    expect((await h.sfn.send(new ListExecutionsCommand({ stateMachineArn: smArn('pass'), statusFilter: 'RUNNING' }))).executions).toEqual([]);
    await expect(h.sfn.send(new ListExecutionsCommand({ stateMachineArn: smArn('pass'), nextToken: 'garbage' }))).rejects.toMatchObject({ name: 'InvalidToken' });
  });

  it('runs Wait states on the Clock and omits execution data from history when asked', async () => {
    const h = await harness();
    const arn = await start(h, 'wait', { seconds: 30 });
    await h.clock.advance(29_000);
    expect(h.service.describeExecution(arn).status).toBe('RUNNING');
    await h.clock.advance(1_000);
    expect((await h.service.waitForExecution(arn, 5000)).status).toBe('SUCCEEDED');
    const full = await h.sfn.send(new GetExecutionHistoryCommand({ executionArn: arn }));
    expect(full.events!.map((e) => e.type)).toEqual([
      'ExecutionStarted', 'WaitStateEntered', 'WaitStateExited', 'PassStateEntered', 'PassStateExited', 'ExecutionSucceeded',
    ]);
    expect(full.events![1]!.stateEnteredEventDetails).toEqual({ name: 'Nap', input: '{"seconds":30}', inputDetails: { truncated: false } });
    expect(full.events![2]!.timestamp!.getTime() - full.events![1]!.timestamp!.getTime()).toBe(30_000);
    expect(full.events!.map((e) => [e.id, e.previousEventId])).toEqual([[1, 0], [2, 1], [3, 2], [4, 3], [5, 4], [6, 5]]);
    const bare = await h.sfn.send(new GetExecutionHistoryCommand({ executionArn: arn, includeExecutionData: false }));
    expect(bare.events![1]!.stateEnteredEventDetails).toEqual({ name: 'Nap' });
  });

  describe('across a restart', () => {
    let dataDir: string;
    beforeEach(() => {
      dataDir = mkdtempSync(join(tmpdir(), 'sfn-'));
    });
    afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

    /** Lets the first run go on past the moment its database stopped taking writes (in memory it still runs). */
    const turns = async (): Promise<void> => {
      for (let i = 0; i < 50; i++) await new Promise((resolve) => setImmediate(resolve));
    };

    /** Runs the first harness on a database that stops taking writes once `event` is committed: the process died there. */
    async function crashedAfter(event: string, run: (h: Harness) => Promise<void>, clock = new ManualClock(), lambda?: FakeLambda): Promise<void> {
      const database = LocalDatabase.open(dataDir);
      const h = await harness({ database, clock, ...(lambda ? { lambda } : {}) });
      const frozen = `EXISTS (SELECT 1 FROM sfn_history WHERE arn = NEW.arn AND event LIKE '${event}')`;
      database.exec(`
        CREATE TEMP TRIGGER crash_history BEFORE INSERT ON sfn_history WHEN ${frozen} BEGIN SELECT RAISE(IGNORE); END;
        CREATE TEMP TRIGGER crash_execution BEFORE UPDATE ON sfn_executions WHEN ${frozen} BEGIN SELECT RAISE(IGNORE); END;
      `);
      await run(h);
      open.splice(open.indexOf(h), 1);
      await shutdown(h);
      database.close();
    }

    async function restarted(clock = new ManualClock()): Promise<Harness & { database: LocalDatabase }> {
      const database = LocalDatabase.open(dataDir);
      const h = await harness({ database, clock });
      return Object.assign(h, { database });
    }

    async function stop(h: Harness & { database: LocalDatabase }): Promise<void> {
      open.splice(open.indexOf(h), 1);
      await shutdown(h);
      h.database.close();
    }

    it('persists executions: finished ones are described by a new instance, running ones resume with a new token', async () => {
      const clock = new ManualClock();
      let finished = '';
      let running = '';
      let oldToken = '';
      await crashedAfter(
        'no event freezes this run',
        async (h1) => {
          finished = await start(h1, 'pass', {}, 'done-before');
          await h1.service.waitForExecution(finished, 5000);
          running = await start(h1, 'callback', { r: 1 }, 'waiting');
          oldToken = await until(() => h1.tokens[0], 'token');
        },
        clock,
      );

      const h2 = await restarted(clock);
      const described = await h2.sfn.send(new DescribeExecutionCommand({ executionArn: finished }));
      expect(described).toMatchObject({ status: 'SUCCEEDED', output: JSON.stringify({ done: true }) });
      const newToken = await until(() => h2.tokens[0], 'resumed token');
      expect(newToken).not.toBe(oldToken);
      await expect(h2.sfn.send(new SendTaskSuccessCommand({ taskToken: oldToken, output: '{}' }))).rejects.toMatchObject({ name: 'TaskTimedOut' });
      await h2.sfn.send(new SendTaskSuccessCommand({ taskToken: newToken, output: '{"ok":true}' }));
      expect((await h2.service.waitForExecution(running, 5000)).status).toBe('SUCCEEDED');
      const types = await historyTypes(h2, running);
      expect(types.filter((t) => t === 'ExecutionStarted')).toHaveLength(1);
      expect(types).toContain('ExecutionResumed');
      await stop(h2);
    });

    it('continues with a SendTaskSuccess answered before the restart, without running the task again', async () => {
      let arn = '';
      await crashedAfter('%"type":"TaskSucceeded"%', async (h1) => {
        arn = await start(h1, 'callback', { r: 1 }, 'answered');
        const token = await until(() => h1.tokens[0], 'token');
        await h1.sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: '{"ok":true,"image":"a.png"}' }));
        await turns();
      });

      const h2 = await restarted();
      const done = await h2.service.waitForExecution(arn, 5000);
      expect(done).toMatchObject({ status: 'SUCCEEDED', output: '{"ok":true,"image":"a.png"}' });
      expect(h2.tokens).toEqual([]);
      const types = await historyTypes(h2, arn);
      expect(types.filter((t) => t === 'TaskSucceeded')).toHaveLength(1);
      expect(types.slice(types.indexOf('ExecutionResumed'))).toEqual(['ExecutionResumed', 'TaskStateEntered', 'TaskStateExited', 'ChoiceStateEntered', 'ChoiceStateExited', 'SucceedStateEntered', 'SucceedStateExited', 'ExecutionSucceeded']);
      await stop(h2);
    });

    it('continues with a SendTaskFailure answered before the restart: the same error reaches the Catch', async () => {
      let arn = '';
      await crashedAfter('%"type":"TaskFailed"%', async (h1) => {
        arn = await start(h1, 'callback', { r: 1 }, 'refused');
        const token = await until(() => h1.tokens[0], 'token');
        await h1.sfn.send(new SendTaskFailureCommand({ taskToken: token, error: 'InvalidRequest', cause: 'prompt is empty' }));
        await turns();
      });

      const h2 = await restarted();
      expect(await h2.service.waitForExecution(arn, 5000)).toMatchObject({ status: 'FAILED', error: 'InvalidRequest', cause: 'prompt is empty' });
      expect(h2.tokens).toEqual([]);
      await stop(h2);
    });

    it('does not send a putEvents again that succeeded before the restart', async () => {
      let arn = '';
      await crashedAfter('%"type":"TaskSucceeded"%"resourceType":"events"%', async (h1) => {
        arn = await start(h1, 'twoStep', { n: 1 }, 'notified');
        await until(() => h1.bus.entries[0], 'the putEvents');
        await turns();
      });

      const h2 = await restarted();
      expect((await h2.service.waitForExecution(arn, 5000)).status).toBe('SUCCEEDED');
      expect(h2.bus.entries).toEqual([]);
      expect(h2.lambda.calls).toEqual([]);
      await stop(h2);
    });

    it('runs a task again whose outcome was not recorded before the restart', async () => {
      let arn = '';
      await crashedAfter('%"type":"TaskScheduled"%"resourceType":"events"%', async (h1) => {
        arn = await start(h1, 'twoStep', { n: 1 }, 'interrupted');
        await until(() => h1.bus.entries[0], 'the putEvents');
        await turns();
      });

      const h2 = await restarted();
      expect((await h2.service.waitForExecution(arn, 5000)).status).toBe('SUCCEEDED');
      expect(h2.bus.entries).toHaveLength(1);
      expect(h2.lambda.calls).toEqual([]);
      await stop(h2);
    });
  });
});
