import { compileStateMachine } from '../../../local/stepfunctions/asl-runtime';
import {
  appendHistory,
  close,
  isRedrivable,
  isWellFormedToken,
  mintToken,
  newExecution,
  REDRIVE_WINDOW_MS,
  reopen,
  snapshot,
  stateMachineArn,
  type StateMachine,
} from '../../../local/stepfunctions/models';

const PARTITION = { region: 'us-east-1', account: '000000000000' };
const T0 = Date.parse('2026-01-01T00:00:00Z');
const DEFINITION = JSON.stringify({ StartAt: 'P', States: { P: { Type: 'Pass', End: true } } });
const machine: StateMachine = { name: 'm', arn: stateMachineArn('m', PARTITION), definition: DEFINITION, compiled: compileStateMachine(DEFINITION), creationDate: T0 };

describe('Step Functions models', () => {
  it('names an execution after its machine and starts it RUNNING with an empty history', () => {
    const record = newExecution(machine, 'run-1', '{}', T0, PARTITION);
    expect(record).toMatchObject({ executionArn: 'arn:aws:states:us-east-1:000000000000:execution:m:run-1', status: 'RUNNING', redriveCount: 0, history: [] });
  });

  it('numbers history events consecutively, each pointing at the one before', () => {
    const record = newExecution(machine, 'run-1', '{}', T0, PARTITION);
    appendHistory(record, T0, 'ExecutionStarted', 'executionStartedEventDetails', { input: '{}' });
    appendHistory(record, T0 + 5, 'PassStateEntered');
    expect(record.history).toEqual([
      { id: 1, previousEventId: 0, timestamp: T0, type: 'ExecutionStarted', detailsKey: 'executionStartedEventDetails', details: { input: '{}' } },
      { id: 2, previousEventId: 1, timestamp: T0 + 5, type: 'PassStateEntered' },
    ]);
  });

  it('can redrive a failed execution for 14 days, and a redrive clears its outcome', () => {
    const record = newExecution(machine, 'run-1', '{}', T0, PARTITION);
    expect(isRedrivable(record, T0)).toBe(false);
    close(record, 'FAILED', T0 + 1000, { error: 'Boom', cause: 'why' });
    expect(isRedrivable(record, T0 + 1000 + REDRIVE_WINDOW_MS)).toBe(true);
    expect(isRedrivable(record, T0 + 1001 + REDRIVE_WINDOW_MS)).toBe(false);
    reopen(record, T0 + 2000);
    expect(snapshot(record)).toEqual({ executionArn: record.executionArn, name: 'run-1', status: 'RUNNING', input: '{}', startDate: T0, redriveCount: 1 });
    expect(record.redriveDate).toBe(T0 + 2000);
    close(record, 'SUCCEEDED', T0 + 3000, { output: '{}' });
    expect(isRedrivable(record, T0 + 3000)).toBe(false);
  });

  it('mints distinct tokens that name their execution, and tells them from malformed ones', () => {
    const [a, b] = [mintToken('arn:x'), mintToken('arn:x')];
    expect(a).not.toBe(b);
    expect(isWellFormedToken(a)).toBe(true);
    expect(JSON.parse(Buffer.from(a.slice(3), 'base64url').toString('utf8'))).toMatchObject({ x: 'arn:x' });
    expect(isWellFormedToken('AQCnot-json')).toBe(false);
    expect(isWellFormedToken('not-a-token')).toBe(false);
  });
});
