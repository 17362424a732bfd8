import {
  DescribeEventBusCommand,
  DescribeReplayCommand,
  DescribeRuleCommand,
  EventBridgeClient,
  ListEventBusesCommand,
  ListRulesCommand,
  ListTargetsByRuleCommand,
  PutEventsCommand,
  PutRuleCommand,
  PutTargetsCommand,
  RemoveTargetsCommand,
  DeleteRuleCommand,
  StartReplayCommand,
  TestEventPatternCommand,
} from '@aws-sdk/client-eventbridge';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RuleSpec, TargetSpec } from '../../../topology/topology';
import { ManualClock } from '../../../local/clock';
import { EdgeServer } from '../../../local/edge/server';
import { EventBridgeService, entrySize } from '../../../local/events/events-service';
import type { LambdaInvocationResult, LambdaPort, StepFunctionsPort } from '../../../local/ports';
import { LocalDatabase } from '../../../local/shared/database';

const REGION = 'us-east-1';
const ACCOUNT = '000000000000';
const SM_ARN = `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:`;
const FN_ARN = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:`;

class FakeStepFunctions implements StepFunctionsPort {
  readonly calls: { stateMachineArn: string; input: string }[] = [];
  failuresLeft = 0;
  startExecution(input: { stateMachineArn: string; input: string }): Promise<{ executionArn: string }> {
    this.calls.push({ stateMachineArn: input.stateMachineArn, input: input.input });
    if (this.failuresLeft > 0) {
      this.failuresLeft--;
      return Promise.reject(new Error('ServiceUnavailable'));
    }
    return Promise.resolve({ executionArn: `exec-${this.calls.length}` });
  }
}

class FakeLambda implements LambdaPort {
  readonly calls: { name: string; payload: unknown }[] = [];
  invoke(): Promise<LambdaInvocationResult> {
    return Promise.reject(new Error('not used'));
  }
  invokeAsync(name: string, payload: unknown): void {
    this.calls.push({ name, payload });
  }
}

const requestPattern = { 'detail-type': ['Image Generation Requested'], source: [{ 'anything-but': 'imagegen' }] };

function resolveTarget(target: TargetSpec): string {
  return target.kind === 'stateMachine' ? `${SM_ARN}${target.name}` : `${FN_ARN}${target.name}`;
}

interface Harness {
  service: EventBridgeService;
  client: EventBridgeClient;
  clock: ManualClock;
  sfn: FakeStepFunctions;
  lambda: FakeLambda;
  edge: EdgeServer;
  dataDir: string;
  database: LocalDatabase;
}

async function startHarness(rules: RuleSpec[]): Promise<Harness> {
  const clock = new ManualClock();
  const sfn = new FakeStepFunctions();
  const lambda = new FakeLambda();
  const dataDir = mkdtempSync(join(tmpdir(), 'events-'));
  const database = LocalDatabase.open(dataDir);
  const service = new EventBridgeService({
    region: REGION,
    account: ACCOUNT,
    clock,
    buses: [{ name: 'imagegen', archive: { name: 'requests-archive', retentionDays: 30, eventPattern: requestPattern } }],
    rules,
    resolveTarget,
    stepFunctions: sfn,
    lambda,
    database,
  });
  const edge = new EdgeServer({ services: [service.handler], port: 0, region: REGION });
  const url = await edge.listen();
  const client = new EventBridgeClient({ endpoint: url, region: REGION, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  return { service, client, clock, sfn, lambda, edge, dataDir, database };
}

async function stopHarness(h: Harness): Promise<void> {
  h.service.close();
  h.client.destroy();
  await h.edge.close();
  h.database.close();
  rmSync(h.dataDir, { recursive: true, force: true });
}

const requestRule: RuleSpec = {
  name: 'imagegen-requests',
  bus: 'imagegen',
  eventPattern: requestPattern,
  targets: [{ kind: 'stateMachine', name: 'imagegen-request' }],
  retryPolicy: { maximumEventAgeSeconds: 3600, maximumRetryAttempts: 20 },
};

function request(detail: Record<string, unknown> = { requestId: 'r1', prompt: 'a cat' }) {
  return { EventBusName: 'imagegen', Source: 'campaign.tool', DetailType: 'Image Generation Requested', Detail: JSON.stringify(detail) };
}

describe('EventBridgeService over the AWS SDK', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness([requestRule]);
  });
  afterEach(async () => {
    await stopHarness(h);
  });

  describe('PutEvents', () => {
    it('returns an EventId per entry and delivers the AWS envelope to the state machine', async () => {
      const out = await h.client.send(new PutEventsCommand({ Entries: [{ ...request(), Time: new Date('2026-01-01T10:00:00.750Z'), Resources: ['arn:x'] }] }));
      expect(out.FailedEntryCount).toBe(0);
      expect(out.Entries?.[0]?.EventId).toMatch(/^[0-9a-f-]{36}$/);
      await h.service.whenIdle();
      expect(h.sfn.calls).toHaveLength(1);
      expect(h.sfn.calls[0]?.stateMachineArn).toBe(`${SM_ARN}imagegen-request`);
      expect(JSON.parse(h.sfn.calls[0]?.input ?? '')).toEqual({
        version: '0',
        id: out.Entries?.[0]?.EventId,
        'detail-type': 'Image Generation Requested',
        source: 'campaign.tool',
        account: ACCOUNT,
        time: '2026-01-01T10:00:00Z',
        region: REGION,
        resources: ['arn:x'],
        detail: { requestId: 'r1', prompt: 'a cat' },
      });
    });

    it('returns before the target runs', async () => {
      const out = await h.service.putEvents([request()]);
      expect(out.FailedEntryCount).toBe(0);
      expect(h.sfn.calls).toHaveLength(0);
      await h.service.whenIdle();
      expect(h.sfn.calls).toHaveLength(1);
    });

    it('answers PutEvents while a target is still running', async () => {
      let release: () => void = () => undefined;
      h.sfn.startExecution = (input) => {
        h.sfn.calls.push(input);
        return new Promise((resolve) => {
          release = () => resolve({ executionArn: 'slow' });
        });
      };
      const out = await h.client.send(new PutEventsCommand({ Entries: [request()] }));
      expect(out.FailedEntryCount).toBe(0);
      for (let i = 0; i < 100 && h.sfn.calls.length === 0; i++) await new Promise((resolve) => setImmediate(resolve));
      release();
      await h.service.whenIdle();
      expect(h.sfn.calls).toHaveLength(1);
    });

    it('does not deliver events the pattern excludes', async () => {
      await h.client.send(new PutEventsCommand({ Entries: [{ ...request(), Source: 'imagegen' }, { ...request(), DetailType: 'Other' }] }));
      await h.service.whenIdle();
      expect(h.sfn.calls).toHaveLength(0);
    });

    it('accepts the bus ARN as EventBusName', async () => {
      await h.client.send(new PutEventsCommand({ Entries: [{ ...request(), EventBusName: `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/imagegen` }] }));
      await h.service.whenIdle();
      expect(h.sfn.calls).toHaveLength(1);
    });

    it('rejects 0 and 11 entries with ValidationException', async () => {
      await expect(h.client.send(new PutEventsCommand({ Entries: [] }))).rejects.toMatchObject({ name: 'ValidationException', message: expect.stringContaining('greater than or equal to 1') as unknown });
      const eleven = Array.from({ length: 11 }, () => request());
      await expect(h.client.send(new PutEventsCommand({ Entries: eleven }))).rejects.toMatchObject({ name: 'ValidationException', message: expect.stringContaining('less than or equal to 10') as unknown });
    });

    it('rejects a request over 256 KB by the documented entry-size calculation', async () => {
      const big = 'x'.repeat(132_000);
      const entry = request({ blob: big });
      expect(entrySize(entry) * 2).toBeGreaterThan(256 * 1024);
      await expect(h.client.send(new PutEventsCommand({ Entries: [entry, entry] }))).rejects.toMatchObject({ name: 'ValidationException', message: expect.stringContaining('over the limit') as unknown });
      const ok = await h.client.send(new PutEventsCommand({ Entries: [entry] }));
      expect(ok.FailedEntryCount).toBe(0);
    });

    it('counts Time as 14 bytes and UTF-8 bytes of the strings', () => {
      expect(entrySize({ Source: 'ab', DetailType: 'é', Detail: '{}', Resources: ['r'], Time: new Date() })).toBe(14 + 2 + 2 + 2 + 1);
    });

    it('reports per-entry failures and still accepts the valid entries', async () => {
      const out = await h.client.send(
        new PutEventsCommand({
          Entries: [
            { DetailType: 'x', Detail: '{}' },
            { Source: 's', Detail: '{}' },
            { Source: 's', DetailType: 'x' },
            { Source: 's', DetailType: 'x', Detail: '[1,2]' },
            { Source: 's', DetailType: 'x', Detail: 'not json' },
            request(),
          ],
        }),
      );
      expect(out.FailedEntryCount).toBe(5);
      expect(out.Entries?.map((e) => e.ErrorCode ?? 'ok')).toEqual(['InvalidArgument', 'InvalidArgument', 'InvalidArgument', 'MalformedDetail', 'MalformedDetail', 'ok']);
      expect(out.Entries?.[0]?.ErrorMessage).toContain('Source');
      expect(out.Entries?.[1]?.ErrorMessage).toContain('DetailType');
      expect(out.Entries?.[2]?.ErrorMessage).toContain('Detail');
      await h.service.whenIdle();
      expect(h.sfn.calls).toHaveLength(1);
    });

    it('accepts and drops an event for a bus that does not exist, as AWS does', async () => {
      const out = await h.client.send(new PutEventsCommand({ Entries: [{ ...request(), EventBusName: 'no-such-bus' }] }));
      expect(out.FailedEntryCount).toBe(0);
      await h.service.whenIdle();
      expect(h.sfn.calls).toHaveLength(0);
    });

    it('is also available in-process through the EventBusPort', async () => {
      const out = await h.service.putEvents([request()]);
      expect(out.FailedEntryCount).toBe(0);
      await h.service.whenIdle();
      expect(h.sfn.calls).toHaveLength(1);
    });
  });

  describe('retries', () => {
    it('retries a failing target with backoff on the clock until it succeeds', async () => {
      h.sfn.failuresLeft = 2;
      await h.client.send(new PutEventsCommand({ Entries: [request()] }));
      await h.service.whenIdle();
      expect(h.sfn.calls).toHaveLength(1);
      await h.clock.advance(10_000);
      expect(h.sfn.calls).toHaveLength(3);
      await h.clock.advance(3_600_000);
      expect(h.sfn.calls).toHaveLength(3);
      expect(new Set(h.sfn.calls.map((c) => c.input)).size).toBe(1);
    });

    it('stops after the target RetryPolicy.MaximumRetryAttempts', async () => {
      await h.client.send(new PutTargetsCommand({ Rule: 'imagegen-requests', EventBusName: 'imagegen', Targets: [{ Id: 'Target0', Arn: `${SM_ARN}imagegen-request`, RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 3600 } }] }));
      h.sfn.failuresLeft = 1000;
      await h.client.send(new PutEventsCommand({ Entries: [request()] }));
      await h.service.whenIdle();
      await h.clock.advance(3_600_000);
      expect(h.sfn.calls).toHaveLength(3);
    });

    it('stops when the event is older than MaximumEventAgeInSeconds', async () => {
      await h.client.send(new PutTargetsCommand({ Rule: 'imagegen-requests', EventBusName: 'imagegen', Targets: [{ Id: 'Target0', Arn: `${SM_ARN}imagegen-request`, RetryPolicy: { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 60 } }] }));
      h.sfn.failuresLeft = 1000;
      await h.client.send(new PutEventsCommand({ Entries: [request()] }));
      await h.service.whenIdle();
      await h.clock.advance(3_600_000);
      // Backoff 1, 2, 4, 8, 16 s (each scaled 0.5-1.0) fits 60 s at most 5-7 times, never 185.
      expect(h.sfn.calls.length).toBeGreaterThanOrEqual(4);
      expect(h.sfn.calls.length).toBeLessThanOrEqual(8);
    });
  });

  describe('target input', () => {
    async function addFunctionTarget(target: Record<string, unknown>): Promise<void> {
      await h.client.send(new PutRuleCommand({ Name: 'fn-rule', EventBusName: 'imagegen', EventPattern: JSON.stringify({ source: ['campaign.tool'] }) }));
      const out = await h.client.send(new PutTargetsCommand({ Rule: 'fn-rule', EventBusName: 'imagegen', Targets: [{ Id: 'fn', Arn: `${FN_ARN}consumer`, ...target }] }));
      expect(out.FailedEntryCount).toBe(0);
    }

    it('sends a constant Input', async () => {
      await addFunctionTarget({ Input: '{"constant":true}' });
      await h.client.send(new PutEventsCommand({ Entries: [request()] }));
      await h.service.whenIdle();
      expect(h.lambda.calls).toEqual([{ name: `${FN_ARN}consumer`, payload: { constant: true } }]);
    });

    it('sends the part of the event at InputPath', async () => {
      await addFunctionTarget({ InputPath: '$.detail' });
      await h.client.send(new PutEventsCommand({ Entries: [request({ requestId: 'r9', prompt: 'p' })] }));
      await h.service.whenIdle();
      expect(h.lambda.calls[0]?.payload).toEqual({ requestId: 'r9', prompt: 'p' });
    });

    it('renders an InputTransformer template (JSON values unquoted, raw text inside strings)', async () => {
      await addFunctionTarget({
        InputTransformer: {
          InputPathsMap: { 'detail-requestId': '$.detail.requestId', size: '$.detail.size', id: '$.id', missing: '$.detail.nope' },
          InputTemplate: '{"requestId":<detail-requestId>,"size":<size>,"eventId":<id>,"text":"req <detail-requestId> size <size>","rule":"<aws.events.rule-name>","gone":"<missing>"}',
        },
      });
      const out = await h.client.send(new PutEventsCommand({ Entries: [request({ requestId: 'r "q"', size: { w: 1 } })] }));
      await h.service.whenIdle();
      expect(h.lambda.calls[0]?.payload).toEqual({
        requestId: 'r "q"',
        size: { w: 1 },
        eventId: out.Entries?.[0]?.EventId,
        text: 'req r "q" size {"w":1}',
        rule: 'fn-rule',
        gone: '',
      });
    });

    it('rejects more than one of Input, InputPath, InputTransformer', async () => {
      await h.client.send(new PutRuleCommand({ Name: 'fn-rule', EventBusName: 'imagegen', EventPattern: '{"source":["x"]}' }));
      await expect(
        h.client.send(new PutTargetsCommand({ Rule: 'fn-rule', EventBusName: 'imagegen', Targets: [{ Id: 'fn', Arn: `${FN_ARN}c`, Input: '{}', InputPath: '$.detail' }] })),
      ).rejects.toMatchObject({ name: 'ValidationException', message: expect.stringContaining('only one of Input, InputPath and InputTransformer') as unknown });
    });

    it('rejects a transformer variable with the reserved aws.events. prefix', async () => {
      await h.client.send(new PutRuleCommand({ Name: 'fn-rule', EventBusName: 'imagegen', EventPattern: '{"source":["x"]}' }));
      await expect(
        h.client.send(new PutTargetsCommand({ Rule: 'fn-rule', EventBusName: 'imagegen', Targets: [{ Id: 'fn', Arn: `${FN_ARN}c`, InputTransformer: { InputPathsMap: { 'aws.events.x': '$.id' }, InputTemplate: '<aws.events.x>' } }] })),
      ).rejects.toMatchObject({ name: 'ValidationException', message: expect.stringContaining('reserved prefix') as unknown });
    });
  });

  describe('rules and buses', () => {
    it('describes and lists buses', async () => {
      const bus = await h.client.send(new DescribeEventBusCommand({ Name: 'imagegen' }));
      expect(bus.Arn).toBe(`arn:aws:events:${REGION}:${ACCOUNT}:event-bus/imagegen`);
      const buses = await h.client.send(new ListEventBusesCommand({}));
      expect(buses.EventBuses?.map((b) => b.Name).sort()).toEqual(['default', 'imagegen']);
      await expect(h.client.send(new DescribeEventBusCommand({ Name: 'nope' }))).rejects.toMatchObject({ name: 'ResourceNotFoundException', message: 'Event bus nope does not exist.' });
    });

    it('describes the topology rule and its targets', async () => {
      const rule = await h.client.send(new DescribeRuleCommand({ Name: 'imagegen-requests', EventBusName: 'imagegen' }));
      expect(rule).toMatchObject({ Name: 'imagegen-requests', Arn: `arn:aws:events:${REGION}:${ACCOUNT}:rule/imagegen/imagegen-requests`, State: 'ENABLED', EventBusName: 'imagegen' });
      expect(JSON.parse(rule.EventPattern ?? '')).toEqual(requestPattern);
      const targets = await h.client.send(new ListTargetsByRuleCommand({ Rule: 'imagegen-requests', EventBusName: 'imagegen' }));
      expect(targets.Targets).toEqual([{ Id: 'Target0', Arn: `${SM_ARN}imagegen-request`, RetryPolicy: { MaximumRetryAttempts: 20, MaximumEventAgeInSeconds: 3600 } }]);
      const rules = await h.client.send(new ListRulesCommand({ EventBusName: 'imagegen' }));
      expect(rules.Rules?.map((r) => r.Name)).toEqual(['imagegen-requests']);
    });

    it('adds, removes and deletes a rule', async () => {
      const put = await h.client.send(new PutRuleCommand({ Name: 'extra', EventBusName: 'imagegen', EventPattern: '{"source":["campaign.tool"]}' }));
      expect(put.RuleArn).toBe(`arn:aws:events:${REGION}:${ACCOUNT}:rule/imagegen/extra`);
      await h.client.send(new PutTargetsCommand({ Rule: 'extra', EventBusName: 'imagegen', Targets: [{ Id: 't', Arn: `${FN_ARN}f` }] }));
      await expect(h.client.send(new DeleteRuleCommand({ Name: 'extra', EventBusName: 'imagegen' }))).rejects.toMatchObject({ name: 'ValidationException' });
      await h.client.send(new RemoveTargetsCommand({ Rule: 'extra', EventBusName: 'imagegen', Ids: ['t'] }));
      await h.client.send(new DeleteRuleCommand({ Name: 'extra', EventBusName: 'imagegen' }));
      await expect(h.client.send(new DescribeRuleCommand({ Name: 'extra', EventBusName: 'imagegen' }))).rejects.toMatchObject({ name: 'ResourceNotFoundException', message: 'Rule extra does not exist on EventBus imagegen.' });
    });

    it('rejects an invalid pattern with InvalidEventPatternException naming the problem', async () => {
      await expect(h.client.send(new PutRuleCommand({ Name: 'bad', EventPattern: '{"source":"aws.ec2"}' }))).rejects.toMatchObject({
        name: 'InvalidEventPatternException',
        message: 'Event pattern is not valid. Reason: "source" must be an object or an array',
      });
    });

    it('rejects a rule with neither pattern nor schedule, and a schedule on a custom bus', async () => {
      await expect(h.client.send(new PutRuleCommand({ Name: 'none' }))).rejects.toMatchObject({ name: 'ValidationException' });
      await expect(h.client.send(new PutRuleCommand({ Name: 's', EventBusName: 'imagegen', ScheduleExpression: 'rate(1 minute)' }))).rejects.toMatchObject({
        name: 'ValidationException',
        message: 'ScheduleExpression is supported only on the default event bus.',
      });
      await expect(h.client.send(new PutRuleCommand({ Name: 's', ScheduleExpression: 'rate(2 minute)' }))).rejects.toMatchObject({ name: 'ValidationException', message: expect.stringContaining('plural') as unknown });
    });

    it('reports targets it cannot deliver to as failed entries', async () => {
      const out = await h.client.send(new PutTargetsCommand({ Rule: 'imagegen-requests', EventBusName: 'imagegen', Targets: [{ Id: 'q', Arn: `arn:aws:sqs:${REGION}:${ACCOUNT}:queue` }] }));
      expect(out.FailedEntryCount).toBe(1);
      expect(out.FailedEntries?.[0]?.TargetId).toBe('q');
    });
  });

  describe('TestEventPattern', () => {
    const event = JSON.stringify({ id: '1', account: ACCOUNT, source: 'aws.ec2', time: '2026-01-01T00:00:00Z', region: REGION, 'detail-type': 'x', resources: [], detail: { state: 'running', n: 7 } });

    it('returns true and false', async () => {
      const yes = await h.client.send(new TestEventPatternCommand({ Event: event, EventPattern: '{"detail":{"n":[{"numeric":[">",5]}]}}' }));
      expect(yes.Result).toBe(true);
      const no = await h.client.send(new TestEventPatternCommand({ Event: event, EventPattern: '{"detail":{"state":[{"anything-but":"running"}]}}' }));
      expect(no.Result).toBe(false);
    });

    it('rejects an invalid pattern and an event without the envelope fields', async () => {
      await expect(h.client.send(new TestEventPatternCommand({ Event: event, EventPattern: '{"n":[{"numeric":[">","5"]}]}' }))).rejects.toMatchObject({ name: 'InvalidEventPatternException', message: expect.stringContaining('Value of > must be numeric') as unknown });
      await expect(h.client.send(new TestEventPatternCommand({ Event: '{"source":"x"}', EventPattern: '{}' }))).rejects.toMatchObject({ name: 'ValidationException', message: expect.stringContaining('missing id') as unknown });
    });
  });

  describe('archive and replay', () => {
    it('archives matching events in the database and replays them with replay-name', async () => {
      const put = await h.client.send(new PutEventsCommand({ Entries: [request(), { ...request(), Source: 'imagegen' }] }));
      await h.service.whenIdle();
      const rows = h.database.all<{ archive: string; record: string }>('SELECT archive, record FROM events_archive');
      expect(rows.map((r) => r.archive)).toEqual(['requests-archive']);
      expect((JSON.parse(rows[0]?.record ?? '') as { event: { id: string } }).event.id).toBe(put.Entries?.[0]?.EventId);

      const now = h.clock.now() / 1000;
      await h.client.send(
        new StartReplayCommand({
          ReplayName: 'again',
          EventSourceArn: `arn:aws:events:${REGION}:${ACCOUNT}:archive/requests-archive`,
          EventStartTime: new Date((now - 60) * 1000),
          EventEndTime: new Date((now + 60) * 1000),
          Destination: { Arn: `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/imagegen` },
        }),
      );
      await new Promise((resolve) => setImmediate(resolve));
      await h.service.whenIdle();
      expect(h.sfn.calls).toHaveLength(2);
      const replayed = JSON.parse(h.sfn.calls[1]?.input ?? '') as Record<string, unknown>;
      expect(replayed['replay-name']).toBe('again');
      expect(replayed.id).toBe(put.Entries?.[0]?.EventId);
      const described = await h.client.send(new DescribeReplayCommand({ ReplayName: 'again' }));
      expect(described.State).toBe('COMPLETED');
    });
  });
});

describe('schedule rules', () => {
  let h: Harness;
  afterEach(async () => {
    await stopHarness(h);
  });

  it('fires rate(1 minute) three times in three minutes with the Scheduled Event envelope', async () => {
    h = await startHarness([{ name: 'tick', schedule: 'rate(1 minute)', targets: [{ kind: 'function', name: 'publish-utilization' }] }]);
    h.service.start();
    await h.clock.advance(3 * 60_000);
    expect(h.lambda.calls).toHaveLength(3);
    const first = h.lambda.calls[0]?.payload as Record<string, unknown>;
    expect(first).toMatchObject({
      version: '0',
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: ACCOUNT,
      region: REGION,
      resources: [`arn:aws:events:${REGION}:${ACCOUNT}:rule/tick`],
      detail: {},
      time: '2026-01-01T00:01:00Z',
    });
    expect(h.lambda.calls.map((c) => (c.payload as { time: string }).time)).toEqual(['2026-01-01T00:01:00Z', '2026-01-01T00:02:00Z', '2026-01-01T00:03:00Z']);
  });

  it('does not fire before start() and stops after close()', async () => {
    h = await startHarness([{ name: 'tick', schedule: 'rate(1 minute)', targets: [{ kind: 'function', name: 'f' }] }]);
    await h.clock.advance(2 * 60_000);
    expect(h.lambda.calls).toHaveLength(0);
    h.service.start();
    await h.clock.advance(60_000);
    expect(h.lambda.calls).toHaveLength(1);
    h.service.close();
    await h.clock.advance(5 * 60_000);
    expect(h.lambda.calls).toHaveLength(1);
  });

  it('fires a cron rule added through PutRule', async () => {
    h = await startHarness([]);
    h.service.start();
    await h.client.send(new PutRuleCommand({ Name: 'quarter', ScheduleExpression: 'cron(0/15 * * * ? *)' }));
    await h.client.send(new PutTargetsCommand({ Rule: 'quarter', Targets: [{ Id: 'f', Arn: `${FN_ARN}f` }] }));
    await h.clock.advance(60 * 60_000);
    expect(h.lambda.calls.map((c) => (c.payload as { time: string }).time)).toEqual(['2026-01-01T00:15:00Z', '2026-01-01T00:30:00Z', '2026-01-01T00:45:00Z', '2026-01-01T01:00:00Z']);
  });
});
