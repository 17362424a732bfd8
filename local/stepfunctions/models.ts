/**
 * Step Functions' domain: state machines, executions with their AWS-shaped history, the state in
 * progress (where a redrive or a restart resumes), and task tokens. No wire format here.
 */
import { randomBytes } from 'node:crypto';
import type { Partition } from '../arns';
import type { CompiledStateMachine } from './asl-runtime';

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';
export const STATUSES: readonly ExecutionStatus[] = ['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED'];

export interface HistoryEvent {
  readonly id: number;
  readonly previousEventId: number;
  /** Epoch milliseconds. */
  readonly timestamp: number;
  readonly type: string;
  readonly detailsKey?: string;
  readonly details?: Record<string, unknown>;
}

export interface ExecutionRecord {
  readonly executionArn: string;
  readonly stateMachineArn: string;
  readonly stateMachineName: string;
  readonly name: string;
  readonly input: string;
  readonly startDate: number;
  status: ExecutionStatus;
  stopDate?: number;
  output?: string;
  error?: string;
  cause?: string;
  redriveCount: number;
  redriveDate?: number;
  /** The last RedriveExecution's client token: a retry with it within 15 minutes changes nothing. */
  lastRedrive?: { readonly clientToken: string; readonly at: number };
  /**
   * The top-level state entered last and its input: where a redrive or a restart resumes. `outcome`
   * is its task's recorded result, once a Task state's attempt has one: a restart continues with it
   * instead of running the task again.
   */
  current?: CurrentState;
  readonly history: HistoryEvent[];
}

export interface CurrentState {
  readonly stateName: string;
  readonly input: string;
  outcome?: TaskOutcomeRecord;
}

/** A Task state attempt's result as recorded: its output (JSON text), or its error and cause. */
export type TaskOutcomeRecord = { readonly ok: true; readonly output: string } | { readonly ok: false; readonly error?: string; readonly cause?: string };

/** What `describeExecution`/`waitForExecution` return in-process (dates in epoch ms). */
export interface ExecutionSnapshot {
  readonly executionArn: string;
  readonly name: string;
  readonly status: ExecutionStatus;
  readonly input: string;
  readonly output?: string;
  readonly error?: string;
  readonly cause?: string;
  readonly startDate: number;
  readonly stopDate?: number;
  readonly redriveCount: number;
}

export interface StateMachine {
  readonly name: string;
  readonly arn: string;
  readonly definition: string;
  readonly compiled: CompiledStateMachine;
  readonly creationDate: number;
}

/** How long after it closed a failed, timed-out or aborted execution can still be redriven. */
export const REDRIVE_WINDOW_MS = 14 * 24 * 3600 * 1000;

export function stateMachineArn(name: string, { region, account }: Partition): string {
  return `arn:aws:states:${region}:${account}:stateMachine:${name}`;
}

export function roleArn(account: string, machineName: string): string {
  return `arn:aws:iam::${account}:role/service-role/StepFunctions-${machineName}-role`;
}

export function newExecution(machine: Pick<StateMachine, 'name' | 'arn'>, name: string, input: string, now: number, { region, account }: Partition): ExecutionRecord {
  return {
    executionArn: `arn:aws:states:${region}:${account}:execution:${machine.name}:${name}`,
    stateMachineArn: machine.arn,
    stateMachineName: machine.name,
    name,
    input,
    startDate: now,
    status: 'RUNNING',
    redriveCount: 0,
    history: [],
  };
}

/** Appends the next history event (ids are consecutive from 1). */
export function appendHistory(record: ExecutionRecord, now: number, type: string, detailsKey?: string, details?: Record<string, unknown>): void {
  const id = record.history.length + 1;
  record.history.push({ id, previousEventId: id - 1, timestamp: now, type, ...(detailsKey && details ? { detailsKey, details } : {}) });
}

/** Closes a RUNNING execution with its outcome. */
export function close(record: ExecutionRecord, status: Exclude<ExecutionStatus, 'RUNNING'>, now: number, fields: { output?: string; error?: string | undefined; cause?: string | undefined }): void {
  record.status = status;
  record.stopDate = now;
  if (fields.output !== undefined) record.output = fields.output;
  if (fields.error !== undefined) record.error = fields.error;
  if (fields.cause !== undefined) record.cause = fields.cause;
}

/** Failed, timed-out and aborted executions can be redriven for 14 days after they closed. */
export function isRedrivable(record: ExecutionRecord, now: number): boolean {
  return record.status !== 'RUNNING' && record.status !== 'SUCCEEDED' && withinRedriveWindow(record, now);
}

export function withinRedriveWindow(record: ExecutionRecord, now: number): boolean {
  return record.stopDate !== undefined && now - record.stopDate <= REDRIVE_WINDOW_MS;
}

/** Reopens a closed execution: RUNNING again, outcome cleared, redrive counted. */
export function reopen(record: ExecutionRecord, now: number): void {
  // A redrive runs the state that failed again, rather than replaying how it failed.
  if (record.current) delete record.current.outcome;
  record.redriveCount += 1;
  record.redriveDate = now;
  record.status = 'RUNNING';
  delete record.stopDate;
  delete record.error;
  delete record.cause;
  delete record.output;
}

export function snapshot(record: ExecutionRecord): ExecutionSnapshot {
  return {
    executionArn: record.executionArn,
    name: record.name,
    status: record.status,
    input: record.input,
    startDate: record.startDate,
    redriveCount: record.redriveCount,
    ...(record.output !== undefined ? { output: record.output } : {}),
    ...(record.error !== undefined ? { error: record.error } : {}),
    ...(record.cause !== undefined ? { cause: record.cause } : {}),
    ...(record.stopDate !== undefined ? { stopDate: record.stopDate } : {}),
  };
}

/** Opaque to callers; carries the execution so a stale token can be told from a malformed one. */
export function mintToken(executionArn: string): string {
  const body = Buffer.from(JSON.stringify({ v: 1, x: executionArn, n: randomBytes(16).toString('hex') })).toString('base64url');
  return `AQC${body}`;
}

export function isWellFormedToken(token: string): boolean {
  if (!token.startsWith('AQC')) return false;
  try {
    const parsed = JSON.parse(Buffer.from(token.slice(3), 'base64url').toString('utf8')) as { v?: unknown; x?: unknown };
    return parsed.v === 1 && typeof parsed.x === 'string';
  } catch {
    return false;
  }
}
