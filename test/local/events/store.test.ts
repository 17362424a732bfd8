import { ManualClock } from '../../../local/clock';
import { Dispatcher } from '../../../local/events/dispatcher';
import { newDelivery, newEnvelope, newRule, type Archive, type Replay } from '../../../local/events/models';
import { compilePattern } from '../../../local/events/pattern';
import { parseSchedule } from '../../../local/events/schedule';
import { SqliteEventsStore } from '../../../local/events/store';
import type { LambdaPort, StepFunctionsPort } from '../../../local/ports';
import { scratchDatabase, type ScratchDatabase } from '../shared/scratch-database';

const PARTITION = { region: 'us-east-1', account: '000000000000' };
const T0 = Date.parse('2026-01-01T00:00:00Z');
const SM = 'arn:aws:states:us-east-1:000000000000:stateMachine:imagegen-request';

const event = () => newEnvelope({ source: 'campaign', detailType: 'Image Generation Requested', detail: { requestId: 'r1' }, resources: [], time: T0 }, PARTITION);
const archive = (): Archive => ({ name: 'requests', arn: 'arn:aws:events:us-east-1:000000000000:archive/requests', bus: 'imagegen', pattern: compilePattern({ source: ['campaign'] }), retentionDays: 1, creationTime: T0, events: [], sizeBytes: 0 });

function requestRule() {
  const rule = newRule('requests', 'imagegen', PARTITION);
  rule.eventPattern = compilePattern({ source: ['campaign'] });
  rule.targets.set('sm', { Id: 'sm', Arn: SM, RetryPolicy: { MaximumRetryAttempts: 3 } });
  return rule;
}

const noLambda: LambdaPort = { invoke: () => Promise.reject(new Error('unused')), invokeAsync: () => undefined };

describe('SqliteEventsStore', () => {
  let scratch: ScratchDatabase;
  beforeEach(() => {
    scratch = scratchDatabase('events-store');
  });
  afterEach(() => scratch.remove());

  it("reads an archive's events back, with its size, after a restart", () => {
    const first = new SqliteEventsStore(scratch.db, T0);
    const kept = archive();
    first.putArchive(kept);
    const record = { time: T0, event: event() };
    first.accept([{ archive: kept, record }], []);

    const again = archive();
    new SqliteEventsStore(scratch.reopen(), T0).putArchive(again);
    expect(again.events).toEqual([record]);
    expect(again.sizeBytes).toBe(kept.sizeBytes);
    expect(again.sizeBytes).toBeGreaterThan(0);
  });

  it('keeps what an accepted event owes, each retry and its due time, until the delivery ends', () => {
    const store = new SqliteEventsStore(scratch.db, T0);
    const rule = requestRule();
    const first = newDelivery(rule, rule.targets.get('sm')!, event(), '{"a":1}', T0);
    const second = newDelivery(rule, rule.targets.get('sm')!, event(), '{"a":2}', T0);
    store.accept([], [first, second]);
    store.saveDelivery({ ...second, retries: 1 }, T0 + 1500);

    const reread = new SqliteEventsStore(scratch.reopen(), T0);
    expect(reread.pendingDeliveries()).toEqual([
      { delivery: first, dueAt: undefined },
      { delivery: { ...second, retries: 1 }, dueAt: T0 + 1500 },
    ]);
    reread.removeDelivery(first.id);
    expect(new SqliteEventsStore(scratch.reopen(), T0).pendingDeliveries().map((p) => p.delivery.id)).toEqual([second.id]);
  });

  it('reads back rules with their pattern, schedule, state, description and targets, and forgets deleted ones', () => {
    const store = new SqliteEventsStore(scratch.db, T0);
    const rule = requestRule();
    rule.description = 'requests to the workflow';
    store.saveRule(rule);
    const tick = newRule('tick', 'default', PARTITION);
    tick.schedule = parseSchedule('rate(5 minutes)', T0);
    tick.state = 'DISABLED';
    store.saveRule(tick);
    const gone = newRule('gone', 'default', PARTITION);
    gone.eventPattern = compilePattern({ source: ['x'] });
    store.saveRule(gone);
    store.deleteRule(gone);

    const reread = new SqliteEventsStore(scratch.reopen(), T0);
    expect([...reread.rules()].map((r) => r.name).sort()).toEqual(['requests', 'tick']);
    const revived = reread.rule('imagegen', 'requests');
    expect(revived?.eventPattern?.source).toBe('{"source":["campaign"]}');
    expect(revived?.description).toBe('requests to the workflow');
    expect([...(revived?.targets.values() ?? [])]).toEqual([{ Id: 'sm', Arn: SM, RetryPolicy: { MaximumRetryAttempts: 3 } }]);
    const schedule = reread.rule('default', 'tick');
    expect(schedule?.state).toBe('DISABLED');
    expect(schedule?.schedule?.next(T0)).toBe(T0 + 5 * 60_000);
  });

  it('reads back a replay, attached to its archive once the archive is registered', () => {
    const store = new SqliteEventsStore(scratch.db, T0);
    const kept = archive();
    store.putArchive(kept);
    const replay: Replay = { name: 'again', arn: 'arn:aws:events:us-east-1:000000000000:replay/again', archive: kept, destination: { Arn: 'bus' }, eventStartTime: T0, eventEndTime: T0 + 1, state: 'STARTING', replayStartTime: T0 };
    store.saveReplay(replay);

    const reread = new SqliteEventsStore(scratch.reopen(), T0);
    const again = archive();
    reread.putArchive(again);
    expect(reread.replay('again')).toEqual({ ...replay, archive: again });
  });

  it('rolls back a transaction that throws: nothing it wrote is kept', () => {
    const store = new SqliteEventsStore(scratch.db, T0);
    const rule = requestRule();
    expect(() =>
      store.transaction(() => {
        store.accept([], [newDelivery(rule, rule.targets.get('sm')!, event(), '{}', T0)]);
        throw new Error('second entry failed');
      }),
    ).toThrow('second entry failed');
    expect(new SqliteEventsStore(scratch.reopen(), T0).pendingDeliveries()).toEqual([]);
  });
});

describe('Dispatcher after a restart', () => {
  let scratch: ScratchDatabase;
  beforeEach(() => {
    scratch = scratchDatabase('events-resume');
  });
  afterEach(() => scratch.remove());

  it('delivers what was accepted before the restart: owed deliveries at once, a waiting retry when it is due', async () => {
    const clock = new ManualClock(T0);
    const before = new SqliteEventsStore(scratch.db, T0);
    const rule = requestRule();
    before.saveRule(rule);
    // The previous process accepted two events and crashed before delivering them; one had failed once.
    const owed = newDelivery(rule, rule.targets.get('sm')!, event(), '{"n":1}', T0);
    const retrying = newDelivery(rule, rule.targets.get('sm')!, event(), '{"n":2}', T0);
    before.accept([], [owed, retrying]);
    before.saveDelivery({ ...retrying, retries: 1 }, T0 + 2000);

    const store = new SqliteEventsStore(scratch.reopen(), T0);
    const started: string[] = [];
    const stepFunctions: StepFunctionsPort = {
      startExecution: ({ input }) => {
        started.push(input);
        return Promise.resolve({ executionArn: 'x' });
      },
    };
    const dispatcher = new Dispatcher({ clock, store, stepFunctions, lambda: noLambda, log: () => undefined });
    dispatcher.resume(store.pendingDeliveries(), []);
    await new Promise((resolve) => setImmediate(resolve));
    await dispatcher.whenIdle();
    expect(started).toEqual(['{"n":1}']);
    expect(store.pendingDeliveries().map((p) => p.delivery.id)).toEqual([retrying.id]);

    await clock.advance(2000);
    await dispatcher.whenIdle();
    expect(started).toEqual(['{"n":1}', '{"n":2}']);
    expect(new SqliteEventsStore(scratch.reopen(), T0).pendingDeliveries()).toEqual([]);
    dispatcher.close();
  });
});
