import { compileStateMachine } from '../../../local/stepfunctions/asl-runtime';
import { appendHistory, close, newExecution, stateMachineArn, type StateMachine } from '../../../local/stepfunctions/models';
import { SqliteExecutionStore } from '../../../local/stepfunctions/store';
import { scratchDatabase, type ScratchDatabase } from '../shared/scratch-database';

const PARTITION = { region: 'us-east-1', account: '000000000000' };
const T0 = Date.parse('2026-01-01T00:00:00Z');
const DEFINITION = JSON.stringify({ StartAt: 'P', States: { P: { Type: 'Pass', End: true } } });
const machine: StateMachine = { name: 'm', arn: stateMachineArn('m', PARTITION), definition: DEFINITION, compiled: compileStateMachine(DEFINITION), creationDate: T0 };

describe('SqliteExecutionStore', () => {
  let scratch: ScratchDatabase;
  beforeEach(() => {
    scratch = scratchDatabase('sfn-store');
  });
  afterEach(() => scratch.remove());

  it('commits every save: a reopened database has the execution, its state in progress and its whole history', () => {
    const store = new SqliteExecutionStore(scratch.db);
    const record = newExecution(machine, 'run-1', '{"a":1}', T0, PARTITION);
    for (let i = 0; i < 5; i++) {
      appendHistory(record, T0 + i, `Event${i}`, 'someEventDetails', { n: i });
      store.save(record);
    }
    record.current = { stateName: 'P', input: '{"a":1}', outcome: { ok: true, output: '{"b":2}' } };
    store.save(record);

    const reread = new SqliteExecutionStore(scratch.reopen());
    const [resumed] = reread.running();
    expect(resumed).toEqual(record);
    expect(resumed?.history.map((e) => e.id)).toEqual([1, 2, 3, 4, 5]);
  });

  it('keeps only running executions in memory; finished ones are read back by ARN', () => {
    const store = new SqliteExecutionStore(scratch.db);
    const running = newExecution(machine, 'running', '{}', T0, PARTITION);
    store.save(running);
    expect(store.get(running.executionArn)).toBe(running);
    const done = newExecution(machine, 'done', '{}', T0 + 1, PARTITION);
    appendHistory(done, T0 + 1, 'ExecutionStarted');
    store.save(done);
    close(done, 'SUCCEEDED', T0 + 2, { output: '{"ok":true}' });
    appendHistory(done, T0 + 2, 'ExecutionSucceeded');
    store.save(done);

    const reread = new SqliteExecutionStore(scratch.reopen());
    expect(reread.running().map((r) => r.name)).toEqual(['running']);
    const described = reread.get(done.executionArn);
    expect(described).toMatchObject({ status: 'SUCCEEDED', output: '{"ok":true}', stopDate: T0 + 2 });
    expect(described?.history.map((e) => e.type)).toEqual(['ExecutionStarted', 'ExecutionSucceeded']);
    expect(reread.get('arn:aws:states:us-east-1:000000000000:execution:m:absent')).toBeUndefined();
  });

  it('appends only the events added since the last save, also to a record read back from the database', () => {
    const store = new SqliteExecutionStore(scratch.db);
    const record = newExecution(machine, 'run-1', '{}', T0, PARTITION);
    appendHistory(record, T0, 'ExecutionStarted');
    store.save(record);
    close(record, 'FAILED', T0 + 1, { error: 'E' });
    appendHistory(record, T0 + 1, 'ExecutionFailed');
    store.save(record);

    const reread = new SqliteExecutionStore(scratch.reopen());
    const failed = reread.get(record.executionArn);
    if (!failed) throw new Error('execution not found');
    appendHistory(failed, T0 + 2, 'ExecutionRedriven');
    reread.save(failed);
    expect(new SqliteExecutionStore(scratch.reopen()).get(record.executionArn)?.history.map((e) => e.type)).toEqual(['ExecutionStarted', 'ExecutionFailed', 'ExecutionRedriven']);
  });

  it("lists a state machine's executions newest first, a window at a time, optionally by status", () => {
    const store = new SqliteExecutionStore(scratch.db);
    for (let i = 0; i < 5; i++) {
      const record = newExecution(machine, `run-${i}`, '{}', T0 + i * 1000, PARTITION);
      if (i % 2 === 0) close(record, 'SUCCEEDED', T0 + i * 1000 + 10, { output: '{}' });
      store.save(record);
    }
    const reread = new SqliteExecutionStore(scratch.reopen());
    expect(reread.list(machine.arn, undefined, 0, 10).map((s) => s.name)).toEqual(['run-4', 'run-3', 'run-2', 'run-1', 'run-0']);
    expect(reread.list(machine.arn, undefined, 1, 2).map((s) => s.name)).toEqual(['run-3', 'run-2']);
    expect(reread.list(machine.arn, 'SUCCEEDED', 0, 10)).toEqual([
      { executionArn: `${machine.arn.replace(':stateMachine:', ':execution:')}:run-4`, stateMachineArn: machine.arn, name: 'run-4', status: 'SUCCEEDED', startDate: T0 + 4000, stopDate: T0 + 4010, redriveCount: 0 },
      expect.objectContaining({ name: 'run-2' }),
      expect.objectContaining({ name: 'run-0' }),
    ]);
    expect(reread.list('arn:aws:states:us-east-1:000000000000:stateMachine:other', undefined, 0, 10)).toEqual([]);
  });
});
