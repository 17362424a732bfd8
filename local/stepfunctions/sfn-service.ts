/**
 * Step Functions (Standard workflows) for the local cloud: the AWS JSON 1.0 API around the ASL
 * runtime, task tokens, Clock-driven task/heartbeat/execution timeouts, AWS-shaped history, and
 * executions that survive a restart (see `Executor.resume` for what a restart means).
 *
 * Laid out as LocalStack lays out a service: `provider.ts` (the operations), `models.ts` (state
 * machines, executions, history, task tokens) and `store.ts` (where executions are kept);
 * `executor.ts` and `task-attempts.ts` run executions on the interpreter in `asl-runtime.ts`.
 */
import type { Partition } from '../arns';
import type { Clock } from '../clock';
import type { ServiceHandler } from '../edge/types';
import { LocalDatabase } from '../shared/database';
import type { EventBusPort, LambdaPort, StepFunctionsPort } from '../ports';
import { compileStateMachine } from './asl-runtime';
import { Executor } from './executor';
import { snapshot, stateMachineArn, type ExecutionRecord, type ExecutionSnapshot, type StateMachine } from './models';
import { StepFunctionsProvider } from './provider';
import { SqliteExecutionStore, type ExecutionStore } from './store';
import { parseTaskResource } from './task-resources';

export type { ExecutionSnapshot } from './models';

const RESUME_BATCH = 25;

export interface StateMachineConfig {
  readonly name: string;
  /** ASL JSON with placeholders already substituted. */
  readonly definition: string;
  readonly type: 'STANDARD';
}

export interface StepFunctionsServiceOptions {
  readonly region: string;
  readonly account: string;
  readonly clock: Clock;
  /** Where executions are kept. @default a private in-memory database */
  readonly database?: LocalDatabase;
  readonly stateMachines: readonly StateMachineConfig[];
  readonly lambda: LambdaPort;
  readonly events: EventBusPort;
  readonly log?: (line: string) => void;
}

export class StepFunctionsService implements StepFunctionsPort {
  readonly handler: ServiceHandler;
  private readonly store: ExecutionStore;
  private readonly executor: Executor;
  private readonly provider: StepFunctionsProvider;
  private started = false;
  /** Executions the previous process left RUNNING. */
  private readonly resumable: readonly ExecutionRecord[];

  constructor(options: StepFunctionsServiceOptions) {
    const partition: Partition = { region: options.region, account: options.account };
    const machines = new Map<string, StateMachine>();
    const now = options.clock.now();
    for (const config of options.stateMachines) {
      const compiled = compileStateMachine(config.definition);
      for (const state of compiled.taskStates()) {
        if (!parseTaskResource(state.definition.Resource)) {
          throw new Error(`state machine ${config.name}: Task state ${state.name} uses unsupported Resource ${String(state.definition.Resource)}`);
        }
      }
      const arn = stateMachineArn(config.name, partition);
      machines.set(arn, { name: config.name, arn, definition: config.definition, compiled, creationDate: now });
    }
    this.store = new SqliteExecutionStore(options.database ?? LocalDatabase.open(undefined));
    this.resumable = this.store.running();
    this.executor = new Executor({
      partition,
      clock: options.clock,
      store: this.store,
      machine: (arn) => machines.get(arn),
      lambda: options.lambda,
      events: options.events,
      log: options.log ?? (() => undefined),
    });
    this.provider = new StepFunctionsProvider({ partition, clock: options.clock, store: this.store, machines, executor: this.executor });
    this.handler = this.provider.handler;
  }

  /**
   * Resumes executions that were RUNNING when the previous process stopped, a batch per turn of the
   * event loop, so a large backlog never keeps the edge from answering.
   */
  start(): void {
    if (this.started) return;
    this.started = true;
    const queue = [...this.resumable];
    const resumeBatch = (): void => {
      for (const record of queue.splice(0, RESUME_BATCH)) this.executor.resume(record);
      if (queue.length > 0) setImmediate(resumeBatch);
    };
    resumeBatch();
  }

  /** Stops interpreting; RUNNING executions stay RUNNING in the store, to resume. */
  close(): void {
    this.executor.close();
  }

  async startExecution(input: { stateMachineArn: string; input: string; name?: string }): Promise<{ executionArn: string }> {
    return { executionArn: this.provider.startExecution(input.stateMachineArn, input.name, input.input).executionArn };
  }

  describeExecution(executionArn: string): ExecutionSnapshot {
    return snapshot(this.provider.requireExecution(executionArn));
  }

  /** Resolves when the execution leaves RUNNING; rejects after `timeoutMs` of wall-clock time. */
  waitForExecution(executionArn: string, timeoutMs = 30_000): Promise<ExecutionSnapshot> {
    return this.executor.waitFor(this.provider.requireExecution(executionArn), timeoutMs);
  }

  /** Task tokens currently waiting for SendTaskSuccess/Failure, for an execution. */
  openTaskTokens(executionArn: string): string[] {
    return this.executor.attempts.openTokens(executionArn);
  }
}
