/**
 * Amazon EventBridge for the local cloud: buses, rules (event patterns and schedules), targets
 * (Step Functions state machines and Lambda functions), PutEvents with AWS's per-entry validation,
 * asynchronous delivery retried per the rule's retry policy on the `Clock`, archives and replays.
 *
 * Laid out as LocalStack lays out a service: `provider.ts` and `put-events.ts` (the JSON 1.1
 * operations), `models.ts` (buses, rules, targets, archives, replays, deliveries) and `store.ts`
 * (where they are kept); `dispatcher.ts` delivers and `scheduler.ts` fires schedule rules.
 */
import type { BusSpec, RuleSpec, TargetSpec } from '../../topology/topology';
import type { Partition } from '../arns';
import type { FaultInjector } from '../chaos/injector';
import type { Clock } from '../clock';
import type { ServiceHandler } from '../edge/types';
import type { EventBusPort, LambdaPort, StepFunctionsPort } from '../ports';
import { LocalDatabase } from '../shared/database';
import { Dispatcher } from './dispatcher';
import { busArn, newRule, type Replay, type Target } from './models';
import { compilePattern } from './pattern';
import { EventBridgeProvider } from './provider';
import { putEvents, type PutEventsDeps, type PutEventsEntry, type PutEventsResult } from './put-events';
import { parseSchedule } from './schedule';
import { RuleScheduler } from './scheduler';
import { SqliteEventsStore, type EventsStore, type PendingDelivery } from './store';

export type { EventEnvelope } from './models';
export { entrySize, type PutEventsEntry } from './put-events';

export interface EventBridgeServiceOptions {
  readonly region: string;
  readonly account: string;
  readonly clock: Clock;
  readonly buses: readonly BusSpec[];
  readonly rules: readonly RuleSpec[];
  /** ARN of a topology target (state machine or function). */
  readonly resolveTarget: (target: TargetSpec) => string;
  readonly stepFunctions: StepFunctionsPort;
  readonly lambda: LambdaPort;
  /** Where rules, archives, replays and owed deliveries are kept. @default a private in-memory database */
  readonly database?: LocalDatabase;
  readonly log?: (line: string) => void;
  /** Delivery faults on each target's copy of an event. */
  readonly faults?: FaultInjector;
}

export class EventBridgeService implements EventBusPort {
  readonly handler: ServiceHandler;
  private readonly store: EventsStore;
  private readonly dispatcher: Dispatcher;
  private readonly scheduler: RuleScheduler;
  private readonly putEventsDeps: PutEventsDeps;
  private readonly resumable: { readonly deliveries: readonly PendingDelivery[]; readonly replays: readonly Replay[] };

  constructor(options: EventBridgeServiceOptions) {
    const partition: Partition = { region: options.region, account: options.account };
    const log = options.log ?? (() => undefined);
    const clock = options.clock;
    this.store = new SqliteEventsStore(options.database ?? LocalDatabase.open(undefined), clock.now());
    // What the previous process left, read before anything new is accepted.
    this.resumable = { deliveries: this.store.pendingDeliveries(), replays: this.store.replays().filter((r) => r.state !== 'COMPLETED') };
    seedTopology(this.store, options, partition, clock.now());
    this.dispatcher = new Dispatcher({ clock, store: this.store, stepFunctions: options.stepFunctions, lambda: options.lambda, log, ...(options.faults ? { faults: options.faults } : {}) });
    this.scheduler = new RuleScheduler({ partition, clock, dispatcher: this.dispatcher, log });
    this.putEventsDeps = { partition, clock, store: this.store, dispatcher: this.dispatcher, log };
    this.handler = new EventBridgeProvider({ ...this.putEventsDeps, scheduler: this.scheduler }).handler;
  }

  /** Arms every schedule rule on the clock, and delivers what accepted events still owe their targets. */
  start(): void {
    this.scheduler.start(this.store.rules());
    this.dispatcher.resume(this.resumable.deliveries, this.resumable.replays);
  }

  /** Stops schedules and pending retries. */
  close(): void {
    this.scheduler.close();
    this.dispatcher.close();
  }

  /** Resolves once no delivery attempt is running (scheduled retries are not waited for). */
  whenIdle(): Promise<void> {
    return this.dispatcher.whenIdle();
  }

  /** The in-process port: same validation and per-entry results as the API. */
  putEvents(entries: readonly PutEventsEntry[]): Promise<PutEventsResult> {
    return Promise.resolve(putEvents(entries, this.putEventsDeps));
  }
}

/** The default bus, the topology's buses with their archives, and its rules with their targets. */
function seedTopology(store: EventsStore, options: EventBridgeServiceOptions, partition: Partition, now: number): void {
  for (const name of ['default', ...options.buses.map((b) => b.name)]) store.putBus({ name, arn: busArn(name, partition), creationTime: now });
  for (const bus of options.buses) {
    if (!bus.archive) continue;
    store.putArchive({
      name: bus.archive.name,
      arn: `arn:aws:events:${partition.region}:${partition.account}:archive/${bus.archive.name}`,
      bus: bus.name,
      pattern: compilePattern(bus.archive.eventPattern),
      retentionDays: bus.archive.retentionDays,
      creationTime: now,
      events: [],
      sizeBytes: 0,
    });
  }
  for (const spec of options.rules) {
    const bus = spec.bus ?? 'default';
    if (!store.bus(bus)) throw new Error(`rule ${spec.name} listens on unknown bus ${bus}`);
    const rule = newRule(spec.name, bus, partition);
    if (spec.eventPattern) rule.eventPattern = compilePattern(spec.eventPattern);
    if (spec.schedule) rule.schedule = parseSchedule(spec.schedule, now);
    const retry = spec.retryPolicy ? { MaximumRetryAttempts: spec.retryPolicy.maximumRetryAttempts, MaximumEventAgeInSeconds: spec.retryPolicy.maximumEventAgeSeconds } : undefined;
    spec.targets.forEach((target, index) => {
      const t: Target = {
        Id: `Target${index}`,
        Arn: options.resolveTarget(target),
        ...(target.input !== undefined ? { Input: target.input } : {}),
        ...(target.inputPath !== undefined ? { InputPath: target.inputPath } : {}),
        ...(target.inputTransformer
          ? { InputTransformer: { InputTemplate: target.inputTransformer.inputTemplate, ...(target.inputTransformer.inputPathsMap ? { InputPathsMap: target.inputTransformer.inputPathsMap } : {}) } }
          : {}),
        ...(retry ? { RetryPolicy: retry } : {}),
      };
      rule.targets.set(t.Id, t);
    });
    store.saveRule(rule);
  }
}
