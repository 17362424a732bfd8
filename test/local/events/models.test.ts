import { DescribeArchiveCommand, EventBridgeClient, ListArchivesCommand, ListRulesCommand, PutEventsCommand, PutRuleCommand } from '@aws-sdk/client-eventbridge';
import { ManualClock } from '../../../local/clock';
import { EdgeServer } from '../../../local/edge/server';
import { Dispatcher } from '../../../local/events/dispatcher';
import { EventBridgeService } from '../../../local/events/events-service';
import {
  archiveKeeps,
  busNameOf,
  matchingRules,
  newDelivery,
  newEnvelope,
  newRule,
  nextRetryDelay,
  replayedEvents,
  type Archive,
  type Replay,
} from '../../../local/events/models';
import { compilePattern } from '../../../local/events/pattern';
import { SqliteEventsStore } from '../../../local/events/store';
import { LocalDatabase } from '../../../local/shared/database';

const PARTITION = { region: 'us-east-1', account: '000000000000' };
const T0 = Date.parse('2026-01-01T00:00:00Z');

function event(source = 'campaign', time = T0) {
  return newEnvelope({ source, detailType: 'Image Generation Requested', detail: { requestId: 'r1' }, resources: [], time }, PARTITION);
}

function archive(name = 'requests'): Archive {
  return { name, arn: `arn:aws:events:us-east-1:000000000000:archive/${name}`, bus: 'imagegen', pattern: compilePattern({ source: ['campaign'] }), retentionDays: 1, creationTime: T0, events: [], sizeBytes: 0 };
}

describe('EventBridge models', () => {
  it('matches only enabled pattern rules of the event\'s bus, and only the replay\'s rules when it names some', () => {
    const match = newRule('match', 'imagegen', PARTITION);
    match.eventPattern = compilePattern({ source: ['campaign'] });
    const disabled = { ...newRule('disabled', 'imagegen', PARTITION), eventPattern: compilePattern({ source: ['campaign'] }), state: 'DISABLED' as const };
    const otherBus = { ...newRule('other', 'default', PARTITION), eventPattern: compilePattern({ source: ['campaign'] }) };
    const scheduleOnly = newRule('tick', 'imagegen', PARTITION);
    const rules = [match, disabled, otherBus, scheduleOnly];
    expect(matchingRules(rules, 'imagegen', event()).map((r) => r.name)).toEqual(['match']);
    expect(matchingRules(rules, 'imagegen', event('elsewhere'))).toEqual([]);
    expect(matchingRules(rules, 'imagegen', event(), new Set(['arn:aws:events:us-east-1:000000000000:rule/imagegen/nope']))).toEqual([]);
  });

  it('names rules on the default bus without the bus, others with it, and reads a bus ARN as its name', () => {
    expect(newRule('r', 'default', PARTITION).arn).toBe('arn:aws:events:us-east-1:000000000000:rule/r');
    expect(newRule('r', 'imagegen', PARTITION).arn).toBe('arn:aws:events:us-east-1:000000000000:rule/imagegen/r');
    expect(busNameOf('arn:aws:events:us-east-1:000000000000:event-bus/imagegen')).toBe('imagegen');
    expect(busNameOf(undefined)).toBe('default');
  });

  it('stamps the envelope time to the second', () => {
    expect(event('campaign', T0 + 1_999).time).toBe('2026-01-01T00:00:01Z');
  });

  it('never archives a replayed event', () => {
    expect(archiveKeeps(archive(), 'imagegen', event())).toBe(true);
    expect(archiveKeeps(archive(), 'imagegen', { ...event(), 'replay-name': 'again' })).toBe(false);
    expect(archiveKeeps(archive(), 'default', event())).toBe(false);
  });

  it('retries with growing back-off until the attempts or the event age run out', () => {
    const rule = newRule('r', 'imagegen', PARTITION);
    const delivery = newDelivery(rule, { Id: 't', Arn: 'arn', RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 60 } }, event(), '{}', T0);
    const noJitter = () => 1;
    expect(nextRetryDelay(delivery, T0, noJitter)).toBe(1_000);
    expect(nextRetryDelay({ ...delivery, retries: 1 }, T0, noJitter)).toBe(2_000);
    expect(nextRetryDelay({ ...delivery, retries: 2 }, T0, noJitter)).toBeUndefined();
    expect(nextRetryDelay(delivery, T0 + 59_500, noJitter)).toBeUndefined();
    expect(newDelivery(rule, { Id: 't', Arn: 'arn' }, event(), '{}', T0).policy).toEqual({ MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 86_400 });
  });

  it('replays the archived events inside [start, end) marked with the replay\'s name', () => {
    const kept = archive();
    const [early, inside, late] = [event('campaign', T0 - 1000), event('campaign', T0), event('campaign', T0 + 10_000)];
    kept.events.push(...[early, inside, late].map((e) => ({ time: Date.parse(e.time), event: e })));
    const replay: Replay = { name: 'again', arn: 'arn', archive: kept, destination: { Arn: 'bus' }, eventStartTime: T0, eventEndTime: T0 + 10_000, state: 'STARTING', replayStartTime: T0 };
    expect(replayedEvents(replay).map((r) => [r.event.id, r.event['replay-name']])).toEqual([[inside.id, 'again']]);
  });
});

describe('Dispatcher and the store', () => {
  it('keeps a delivery pending through its retries and drops it once delivered', async () => {
    const clock = new ManualClock(T0);
    const store = new SqliteEventsStore(LocalDatabase.open(undefined), T0);
    let failures = 1;
    const starts: string[] = [];
    const dispatcher = new Dispatcher({
      clock,
      store,
      log: () => undefined,
      lambda: { invoke: () => Promise.reject(new Error('unused')), invokeAsync: () => undefined },
      stepFunctions: {
        startExecution: ({ input }) => {
          starts.push(input);
          return failures-- > 0 ? Promise.reject(new Error('throttled')) : Promise.resolve({ executionArn: 'x' });
        },
      },
    });
    const rule = newRule('requests', 'imagegen', PARTITION);
    rule.eventPattern = compilePattern({ source: ['campaign'] });
    rule.targets.set('sm', { Id: 'sm', Arn: 'arn:aws:states:us-east-1:000000000000:stateMachine:imagegen-request' });
    store.saveRule(rule);

    dispatcher.publish('imagegen', event(), T0);
    expect(store.pendingDeliveries()).toEqual([{ delivery: expect.objectContaining({ ruleName: 'requests', retries: 0 }), dueAt: undefined }]);
    await new Promise((resolve) => setImmediate(resolve));
    await dispatcher.whenIdle();
    const [retrying] = store.pendingDeliveries();
    expect(retrying?.delivery.retries).toBe(1);
    expect(retrying?.dueAt).toBeGreaterThan(T0);
    await clock.advance(1_000);
    await dispatcher.whenIdle();
    expect(starts).toHaveLength(2);
    expect(store.pendingDeliveries()).toEqual([]);
  });
});

describe('EventBridge List pagination', () => {
  it('pages ListRules by Limit and rejects a token it did not issue or an out-of-range Limit', async () => {
    const service = new EventBridgeService({ ...PARTITION, clock: new ManualClock(T0), buses: [], rules: [], resolveTarget: () => 'unused', stepFunctions: { startExecution: () => Promise.reject(new Error('unused')) }, lambda: { invoke: () => Promise.reject(new Error('unused')), invokeAsync: () => undefined } });
    const edge = new EdgeServer({ services: [service.handler], port: 0, region: PARTITION.region });
    const client = new EventBridgeClient({ endpoint: await edge.listen(), region: PARTITION.region, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    try {
      for (const name of ['a', 'b', 'c']) await client.send(new PutRuleCommand({ Name: name, EventPattern: '{"source":["x"]}' }));
      const first = await client.send(new ListRulesCommand({ Limit: 2 }));
      expect(first.Rules?.map((r) => r.Name)).toEqual(['a', 'b']);
      const second = await client.send(new ListRulesCommand({ Limit: 2, NextToken: first.NextToken! }));
      expect(second.Rules?.map((r) => r.Name)).toEqual(['c']);
      expect(second.NextToken).toBeUndefined();
      await expect(client.send(new ListRulesCommand({ NextToken: '2' }))).rejects.toMatchObject({ name: 'ValidationException', message: expect.stringContaining('NextToken') });
      await expect(client.send(new ListRulesCommand({ Limit: 101 }))).rejects.toMatchObject({ name: 'ValidationException', message: expect.stringContaining("'Limit'") });
    } finally {
      service.close();
      client.destroy();
      await edge.close();
    }
  });
});

describe('EventBridge archives on the wire', () => {
  it('describes an archive with its ARN, pattern and count, and lists it by its source bus', async () => {
    const service = new EventBridgeService({
      ...PARTITION,
      clock: new ManualClock(T0),
      buses: [{ name: 'imagegen', archive: { name: 'requests', retentionDays: 7, eventPattern: { source: ['campaign'] } } }],
      rules: [],
      resolveTarget: () => 'unused',
      stepFunctions: { startExecution: () => Promise.reject(new Error('unused')) },
      lambda: { invoke: () => Promise.reject(new Error('unused')), invokeAsync: () => undefined },
    });
    const edge = new EdgeServer({ services: [service.handler], port: 0, region: PARTITION.region });
    const client = new EventBridgeClient({ endpoint: await edge.listen(), region: PARTITION.region, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    try {
      await client.send(new PutEventsCommand({ Entries: [{ EventBusName: 'imagegen', Source: 'campaign', DetailType: 'x', Detail: '{}' }, { EventBusName: 'imagegen', Source: 'other', DetailType: 'x', Detail: '{}' }] }));
      const described = await client.send(new DescribeArchiveCommand({ ArchiveName: 'requests' }));
      expect(described).toMatchObject({
        ArchiveArn: 'arn:aws:events:us-east-1:000000000000:archive/requests',
        EventSourceArn: 'arn:aws:events:us-east-1:000000000000:event-bus/imagegen',
        EventPattern: '{"source":["campaign"]}',
        RetentionDays: 7,
        EventCount: 1,
        State: 'ENABLED',
      });
      expect(described.SizeBytes).toBeGreaterThan(0);
      const listed = await client.send(new ListArchivesCommand({ EventSourceArn: 'arn:aws:events:us-east-1:000000000000:event-bus/imagegen' }));
      expect(listed.Archives?.map((a) => [a.ArchiveName, a.EventCount])).toEqual([['requests', 1]]);
      expect((await client.send(new ListArchivesCommand({ EventSourceArn: 'arn:aws:events:us-east-1:000000000000:event-bus/default' }))).Archives).toEqual([]);
    } finally {
      service.close();
      client.destroy();
      await edge.close();
    }
  });
});
