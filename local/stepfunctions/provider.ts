/**
 * Step Functions' operations over AWS JSON 1.0 (`X-Amz-Target: AWSStepFunctions.<Operation>`):
 * validation, AWS's error names, pagination and response shapes (epoch-second dates, history
 * details), mapped onto the models, the store and the executor.
 */
import { randomUUID } from 'node:crypto';
import type { Partition } from '../arns';
import type { Clock } from '../clock';
import { AwsServiceError } from '../edge/errors';
import { jsonService } from '../edge/json-protocol';
import type { ServiceHandler } from '../edge/types';
import { inputReaders } from '../shared/input';
import { paginate, paginateQuery, type PaginationRules } from '../shared/pagination';
import { taskError } from './asl-errors';
import type { JsonValue } from './asl-runtime';
import type { Executor } from './executor';
import {
  isRedrivable,
  isWellFormedToken,
  newExecution,
  roleArn,
  STATUSES,
  withinRedriveWindow,
  type ExecutionRecord,
  type ExecutionStatus,
  type HistoryEvent,
  type StateMachine,
} from './models';
import type { ExecutionStore } from './store';
import type { TaskAttempt } from './task-attempts';

export interface StepFunctionsProviderDeps {
  readonly partition: Partition;
  readonly clock: Clock;
  readonly store: ExecutionStore;
  readonly machines: ReadonlyMap<string, StateMachine>;
  readonly executor: Executor;
}

type Raw = Readonly<Record<string, unknown>>;

const MAX_PAYLOAD_BYTES = 262_144;
// AWS's forbidden characters for execution names: whitespace, brackets, wildcards, specials, controls, surrogates.
// eslint-disable-next-line no-control-regex -- control characters are exactly what AWS forbids
const INVALID_NAME_CHARS = /[\s<>{}[\]?*"#%\\^|~`$&,;:/\u0000-\u001f\u007f-\u009f\ufffe\uffff\ud800-\udfff]/;
const PAGES: PaginationRules = { defaultSize: 100, maxSize: 1000, invalidToken: () => new AwsServiceError('InvalidToken', 'Invalid Token: nextToken is not valid') };
const TASK_CLOSED = 'Task Timed Out: the task token has either expired or the task associated with the token has already been closed';

const read = inputReaders({
  missing: (field) => validation(`1 validation error detected: Value at '${field}' failed to satisfy constraint: Member must not be null`),
  invalid: (field, detail) => validation(`1 validation error detected: Value at '${field}' failed to satisfy constraint: Member ${detail}`),
});

export class StepFunctionsProvider {
  readonly handler: ServiceHandler;

  constructor(private readonly deps: StepFunctionsProviderDeps) {
    this.handler = jsonService({
      name: 'stepfunctions',
      signingNames: ['states'],
      targetPrefix: 'AWSStepFunctions',
      version: '1.0',
      errorTypePrefix: 'com.amazonaws.sfn#',
      operations: {
        ListStateMachines: (input) => this.listStateMachines(input),
        DescribeStateMachine: (input) => this.stateMachineDescription(this.requireMachine(input.stateMachineArn)),
        DescribeStateMachineForExecution: (input) => this.describeStateMachineForExecution(input),
        StartExecution: (input) => {
          const record = this.startExecution(input.stateMachineArn, input.name, input.input);
          return { executionArn: record.executionArn, startDate: seconds(record.startDate) };
        },
        DescribeExecution: (input) => this.describeExecution(input),
        ListExecutions: (input) => this.listExecutions(input),
        GetExecutionHistory: (input) => this.getExecutionHistory(input),
        StopExecution: (input) => this.stopExecution(input),
        RedriveExecution: (input) => this.redriveExecution(input),
        SendTaskSuccess: (input) => this.sendTaskSuccess(input),
        SendTaskFailure: (input) => this.sendTaskFailure(input),
        SendTaskHeartbeat: (input) => {
          this.openAttempt(input).heartbeat();
          return {};
        },
      },
    });
  }

  /** StartExecution, for the API and the in-process port alike. */
  startExecution(stateMachineArn: unknown, name: unknown, input: unknown): ExecutionRecord {
    const machine = this.requireMachine(stateMachineArn);
    if (name !== undefined && typeof name !== 'string') throw validation('name must be a string');
    const executionName = name ?? randomUUID();
    if (executionName.length < 1 || executionName.length > 80) {
      throw new AwsServiceError('InvalidName', `Invalid Name: '${executionName}' (the name must be 1-80 characters)`);
    }
    if (INVALID_NAME_CHARS.test(executionName)) {
      throw new AwsServiceError('InvalidName', `Invalid Name: '${executionName}' (no whitespace, brackets, wildcards, special or control characters)`);
    }
    const inputText = input === undefined ? '{}' : input;
    if (typeof inputText !== 'string') throw validation('input must be a string');
    if (Buffer.byteLength(inputText) > MAX_PAYLOAD_BYTES) {
      throw new AwsServiceError('InvalidExecutionInput', `Invalid execution input: larger than ${MAX_PAYLOAD_BYTES} bytes`);
    }
    try {
      JSON.parse(inputText);
    } catch {
      throw new AwsServiceError('InvalidExecutionInput', 'Invalid execution input: not valid JSON');
    }
    const record = newExecution(machine, executionName, inputText, this.deps.clock.now(), this.deps.partition);
    const existing = this.deps.store.get(record.executionArn);
    if (existing) {
      // Standard idempotency: same name + same input while RUNNING returns the original response.
      if (existing.status === 'RUNNING' && existing.input === inputText) return existing;
      throw new AwsServiceError('ExecutionAlreadyExists', `Execution Already Exists: '${record.executionArn}'`);
    }
    this.deps.executor.start(record, machine);
    return record;
  }

  requireExecution(arn: unknown): ExecutionRecord {
    if (typeof arn !== 'string' || !/^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:execution:[^:]+:[^:]+$/.test(arn)) {
      throw new AwsServiceError('InvalidArn', `Invalid Arn: '${String(arn)}' is not an execution ARN`);
    }
    const record = this.deps.store.get(arn);
    if (!record) throw new AwsServiceError('ExecutionDoesNotExist', `Execution Does Not Exist: '${arn}'`);
    return record;
  }

  private requireMachine(arn: unknown): StateMachine {
    if (typeof arn !== 'string' || !/^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:stateMachine:[^:]+$/.test(arn)) {
      throw new AwsServiceError('InvalidArn', `Invalid Arn: '${String(arn)}' is not a state machine ARN`);
    }
    const machine = this.deps.machines.get(arn);
    if (!machine) throw new AwsServiceError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${arn}'`);
    return machine;
  }

  private listStateMachines(input: Raw): unknown {
    const all = [...this.deps.machines.values()].sort((a, b) => a.name.localeCompare(b.name));
    const { items, nextToken } = page(all, input);
    return {
      stateMachines: items.map((m) => ({ stateMachineArn: m.arn, name: m.name, type: 'STANDARD', creationDate: seconds(m.creationDate) })),
      ...(nextToken ? { nextToken } : {}),
    };
  }

  private describeStateMachineForExecution(input: Raw): unknown {
    const record = this.requireExecution(input.executionArn);
    const { creationDate, status, type, ...rest } = this.stateMachineDescription(this.requireMachine(record.stateMachineArn));
    void status;
    void type;
    return { ...rest, updateDate: creationDate };
  }

  private stateMachineDescription(machine: StateMachine) {
    return {
      stateMachineArn: machine.arn,
      name: machine.name,
      status: 'ACTIVE',
      definition: machine.definition,
      roleArn: roleArn(this.deps.partition.account, machine.name),
      type: 'STANDARD',
      creationDate: seconds(machine.creationDate),
      loggingConfiguration: { level: 'OFF', includeExecutionData: false },
      tracingConfiguration: { enabled: false },
    };
  }

  private describeExecution(input: Raw): unknown {
    const record = this.requireExecution(input.executionArn);
    const redrivable = isRedrivable(record, this.deps.clock.now());
    return {
      executionArn: record.executionArn,
      stateMachineArn: record.stateMachineArn,
      name: record.name,
      status: record.status,
      startDate: seconds(record.startDate),
      ...(record.stopDate !== undefined ? { stopDate: seconds(record.stopDate) } : {}),
      input: record.input,
      inputDetails: { included: true },
      ...(record.output !== undefined ? { output: record.output, outputDetails: { included: true } } : {}),
      ...(record.error !== undefined ? { error: record.error } : {}),
      ...(record.cause !== undefined ? { cause: record.cause } : {}),
      redriveCount: record.redriveCount,
      ...(record.redriveDate !== undefined ? { redriveDate: seconds(record.redriveDate) } : {}),
      redriveStatus: redrivable ? 'REDRIVABLE' : 'NOT_REDRIVABLE',
      ...(redrivable ? {} : { redriveStatusReason: `Execution is ${record.status} and cannot be redriven` }),
    };
  }

  private listExecutions(input: Raw): unknown {
    const machine = this.requireMachine(input.stateMachineArn);
    const filter = input.statusFilter;
    if (filter !== undefined && !STATUSES.includes(filter as ExecutionStatus)) throw validation(`statusFilter must be one of ${STATUSES.join(', ')}`);
    const { items, nextToken } = paginateQuery(
      (offset, limit) => this.deps.store.list(machine.arn, filter as ExecutionStatus | undefined, offset, limit),
      read.optionalInteger(input, 'maxResults', { min: 0, max: 1000 }),
      input.nextToken,
      PAGES,
    );
    return {
      executions: items.map((r) => ({
        executionArn: r.executionArn,
        stateMachineArn: r.stateMachineArn,
        name: r.name,
        status: r.status,
        startDate: seconds(r.startDate),
        ...(r.stopDate !== undefined ? { stopDate: seconds(r.stopDate) } : {}),
        redriveCount: r.redriveCount,
        ...(r.redriveDate !== undefined ? { redriveDate: seconds(r.redriveDate) } : {}),
      })),
      ...(nextToken ? { nextToken } : {}),
    };
  }

  private getExecutionHistory(input: Raw): unknown {
    const record = this.requireExecution(input.executionArn);
    const includeData = input.includeExecutionData !== false;
    const ordered = input.reverseOrder === true ? [...record.history].reverse() : record.history;
    const { items, nextToken } = page(ordered, input);
    return { events: items.map((event) => renderEvent(event, includeData)), ...(nextToken ? { nextToken } : {}) };
  }

  private stopExecution(input: Raw): unknown {
    const record = this.requireExecution(input.executionArn);
    const error = read.optionalString(input, 'error', { max: 256 });
    const cause = read.optionalString(input, 'cause', { max: 32_768 });
    this.deps.executor.stop(record, error, cause);
    return { stopDate: seconds(record.stopDate ?? this.deps.clock.now()) };
  }

  private redriveExecution(input: Raw): unknown {
    const record = this.requireExecution(input.executionArn);
    const clientToken = read.optionalString(input, 'clientToken', { max: 64 });
    const now = this.deps.clock.now();
    const last = record.lastRedrive;
    if (clientToken && last?.clientToken === clientToken && now - last.at < 15 * 60_000) return { redriveDate: seconds(last.at) };
    if (record.status === 'RUNNING' || record.status === 'SUCCEEDED') {
      throw new AwsServiceError('ExecutionNotRedrivable', `Execution is ${record.status} and cannot be redriven: ${record.executionArn}`);
    }
    if (!withinRedriveWindow(record, now)) {
      throw new AwsServiceError('ExecutionNotRedrivable', `Execution closed more than 14 days ago and cannot be redriven: ${record.executionArn}`);
    }
    if (!this.deps.machines.has(record.stateMachineArn)) throw new AwsServiceError('ExecutionNotRedrivable', 'the state machine no longer exists');
    // Saved with the redrive itself, so a retried RedriveExecution is recognised after a restart too.
    if (clientToken) record.lastRedrive = { clientToken, at: now };
    this.deps.executor.redrive(record);
    return { redriveDate: seconds(now) };
  }

  private openAttempt(input: Raw): TaskAttempt {
    const token = input.taskToken;
    if (typeof token !== 'string' || token.length < 1 || token.length > 2048) {
      throw validation("1 validation error detected: Value at 'taskToken' failed to satisfy constraint: Member must have length between 1 and 2048");
    }
    if (!isWellFormedToken(token)) throw new AwsServiceError('InvalidToken', 'Invalid Token: the task token is malformed');
    const attempt = this.deps.executor.attempts.open(token);
    if (!attempt) throw new AwsServiceError('TaskTimedOut', TASK_CLOSED);
    return attempt;
  }

  private sendTaskSuccess(input: Raw): Record<string, never> {
    const output = input.output;
    if (typeof output !== 'string') throw validation("1 validation error detected: Value at 'output' failed to satisfy constraint: Member must not be null");
    if (Buffer.byteLength(output) > MAX_PAYLOAD_BYTES) throw new AwsServiceError('InvalidOutput', `Invalid Output: larger than ${MAX_PAYLOAD_BYTES} bytes`);
    let value: JsonValue;
    try {
      value = JSON.parse(output) as JsonValue;
    } catch {
      throw new AwsServiceError('InvalidOutput', 'Invalid Output: output is not valid JSON');
    }
    this.openAttempt(input).settle({ ok: true, value });
    return {};
  }

  private sendTaskFailure(input: Raw): Record<string, never> {
    const error = read.optionalString(input, 'error', { max: 256 });
    const cause = read.optionalString(input, 'cause', { max: 32_768 });
    this.openAttempt(input).settle({ ok: false, error: taskError(error, cause) });
    return {};
  }
}

function renderEvent(event: HistoryEvent, includeData: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = { timestamp: seconds(event.timestamp), type: event.type, id: event.id, previousEventId: event.previousEventId };
  if (event.detailsKey && event.details) {
    const details = { ...event.details };
    if (!includeData) for (const key of ['input', 'inputDetails', 'output', 'outputDetails', 'parameters']) delete details[key];
    out[event.detailsKey] = details;
  }
  return out;
}

/** `maxResults` 0-1000 (0 and absent mean the default 100), `nextToken` as issued. */
function page<T>(items: readonly T[], input: Raw) {
  return paginate(items, read.optionalInteger(input, 'maxResults', { min: 0, max: 1000 }), input.nextToken, PAGES);
}

/** JSON 1.0 timestamps are epoch seconds (fractional allowed). */
function seconds(ms: number): number {
  return ms / 1000;
}

function validation(message: string): AwsServiceError {
  return new AwsServiceError('ValidationException', message);
}
