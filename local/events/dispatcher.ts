/**
 * Moves accepted events on: archives them, matches them against the bus's rules, and delivers each
 * target its input asynchronously, retried per the target's retry policy on the `Clock`. Replays
 * and schedule firings go through the same delivery path; `attempt` is the one place a delivery
 * reaches its target. A delivery is in the store from its event's acceptance to its end, so a
 * restart delivers whatever was still owed (`resume`).
 */
import { randomUUID } from 'node:crypto';
import type { FaultInjector } from '../chaos/injector';
import type { Clock } from '../clock';
import type { LambdaPort, StepFunctionsPort } from '../ports';
import {
  archiveKeeps,
  matchingRules,
  newDelivery,
  nextRetryDelay,
  replayedEvents,
  type Archive,
  type ArchivedEvent,
  type Delivery,
  type EventEnvelope,
  type Replay,
  type Rule,
} from './models';
import type { EventsStore, PendingDelivery } from './store';
import { renderTargetInput } from './transform';

export interface DispatcherDeps {
  readonly clock: Clock;
  readonly store: EventsStore;
  readonly stepFunctions: StepFunctionsPort;
  readonly lambda: LambdaPort;
  readonly log: (line: string) => void;
  /** Delivery faults (`drop`, `duplicate`, `delay`) on each target's copy of an event. */
  readonly faults?: FaultInjector;
}

const RESUME_BATCH = 25;

class UnsupportedTargetError extends Error {
  override readonly name = 'UnsupportedTargetError';
}

export class Dispatcher {
  private inFlight = 0;
  private idleWaiters: (() => void)[] = [];
  private readonly retryTimers = new Set<() => void>();
  private closed = false;

  constructor(private readonly deps: DispatcherDeps) {}

  /** An event accepted on `bus`: archived, and owed to the targets of every rule it matches. */
  publish(bus: string, event: EventEnvelope, ingestionTime: number, onlyRules?: ReadonlySet<string>): void {
    const archived: { archive: Archive; record: ArchivedEvent }[] = this.deps.store
      .archives()
      .filter((archive) => archiveKeeps(archive, bus, event))
      .map((archive) => ({ archive, record: { time: Date.parse(event.time), event } }));
    const deliveries: Delivery[] = [];
    for (const rule of matchingRules(this.deps.store.rules(), bus, event, onlyRules)) {
      this.deps.log(`events: ${event.id} matched rule ${rule.name}`);
      deliveries.push(...this.deliveriesFor(rule, event, ingestionTime));
    }
    this.accept(archived, deliveries);
  }

  /** A schedule rule fired: its targets get the Scheduled Event (no pattern, no archive). */
  fire(rule: Rule, event: EventEnvelope, at: number): void {
    this.accept([], this.deliveriesFor(rule, event, at));
  }

  /**
   * Re-publishes the replay's window of archived events to its bus, then marks it COMPLETED, all in
   * one commit: a replay interrupted by a restart has published nothing and runs again (`resume`).
   */
  replay(replay: Replay): void {
    this.deps.store.transaction(() => {
      replay.state = 'RUNNING';
      this.deps.store.saveReplay(replay);
      const only = replay.destination.FilterArns ? new Set(replay.destination.FilterArns) : undefined;
      for (const { time, event } of replayedEvents(replay)) {
        this.publish(replay.archive.bus, event, this.deps.clock.now(), only);
        replay.eventLastReplayedTime = time;
      }
      replay.state = 'COMPLETED';
      replay.replayEndTime = this.deps.clock.now();
      this.deps.store.saveReplay(replay);
    });
    this.deps.log(`events: replay ${replay.name} completed`);
  }

  /** After a restart: every delivery still owed is attempted, at once or when its retry is due; unfinished replays run. */
  resume(pending: readonly PendingDelivery[], replays: readonly Replay[]): void {
    const { clock, log } = this.deps;
    if (pending.length > 0) log(`events: resuming ${pending.length} pending deliver${pending.length === 1 ? 'y' : 'ies'}`);
    const due: Delivery[] = [];
    for (const { delivery, dueAt } of pending) {
      const wait = dueAt === undefined ? 0 : dueAt - clock.now();
      if (wait <= 0) due.push(delivery);
      else this.retryAt(delivery, wait);
    }
    // A batch per turn of the event loop: a large backlog never keeps the edge from answering.
    const launchBatch = (): void => {
      for (const delivery of due.splice(0, RESUME_BATCH)) this.launch(delivery);
      if (due.length > 0 && !this.closed) setImmediate(launchBatch);
    };
    launchBatch();
    for (const replay of replays) setImmediate(() => this.replay(replay));
  }

  /** Resolves once no delivery attempt is running (scheduled retries are not waited for). */
  whenIdle(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Cancels pending retries; attempts still running leave their delivery owed, for the next start. */
  close(): void {
    this.closed = true;
    for (const cancel of this.retryTimers) cancel();
    this.retryTimers.clear();
  }

  private deliveriesFor(rule: Rule, event: EventEnvelope, ingestionTime: number): Delivery[] {
    const deliveries: Delivery[] = [];
    for (const target of rule.targets.values()) {
      try {
        const input = renderTargetInput(target, event as unknown as Record<string, unknown>, { ruleArn: rule.arn, ruleName: rule.name, ingestionTime });
        deliveries.push(newDelivery(rule, target, event, input, ingestionTime));
      } catch (error) {
        this.deps.log(`events: rule ${rule.name} target ${target.Id}: input could not be rendered (${String(error)}); event ${event.id} dropped`);
      }
    }
    return deliveries;
  }

  /**
   * Commits what an event owes its targets, fault rules applied first, so the commit is what happens:
   * a dropped delivery is never stored, a duplicate is a second delivery, a delayed one is stored due
   * later. Deliveries run once committed, never from a write that rolled back.
   */
  private accept(archived: Parameters<EventsStore['accept']>[0], matched: readonly Delivery[]): void {
    const { store, faults, clock } = this.deps;
    const now: Delivery[] = [];
    const later: { delivery: Delivery; delayMs: number }[] = [];
    for (const delivery of matched) {
      const fault = faults?.active ? faults.delivery('events', { name: delivery.ruleName, arn: delivery.ruleArn }, `event ${delivery.eventId} to ${delivery.targetArn}`) : undefined;
      if (fault?.kind === 'delay') later.push({ delivery, delayMs: fault.delayMs });
      else if (fault?.kind !== 'drop') now.push(delivery);
      if (fault?.kind === 'duplicate') now.push({ ...delivery, id: randomUUID() });
    }
    store.accept(archived, [...now, ...later.map((l) => l.delivery)]);
    for (const { delivery, delayMs } of later) store.saveDelivery(delivery, clock.now() + delayMs);
    if (now.length > 0 || later.length > 0) {
      store.afterCommit(() => {
        now.forEach((delivery) => this.launch(delivery));
        later.forEach(({ delivery, delayMs }) => this.retryAt(delivery, delayMs));
      });
    }
  }

  /** The first attempt runs on the next turn: PutEvents answers before any target runs. */
  private launch(delivery: Delivery): void {
    this.inFlight++;
    setImmediate(() => void this.attempt(delivery));
  }

  private async attempt(delivery: Delivery): Promise<void> {
    const { store, clock, log } = this.deps;
    try {
      if (this.closed) return;
      await this.invoke(delivery.targetArn, delivery.input);
      if (this.closed) return;
      store.removeDelivery(delivery.id);
      log(`events: delivered ${delivery.eventId} to ${delivery.targetArn} (rule ${delivery.ruleName}, attempt ${delivery.retries + 1})`);
    } catch (error) {
      if (this.closed) return;
      const message = error instanceof Error ? error.message : String(error);
      const delay = nextRetryDelay(delivery, clock.now());
      if (error instanceof UnsupportedTargetError || delay === undefined) {
        store.removeDelivery(delivery.id);
        log(`events: giving up on ${delivery.eventId} for ${delivery.targetArn} after ${delivery.retries + 1} attempt(s): ${message}`);
      } else {
        log(`events: delivery of ${delivery.eventId} to ${delivery.targetArn} failed (${message}); retry in ${delay} ms`);
        const next: Delivery = { ...delivery, retries: delivery.retries + 1 };
        store.saveDelivery(next, clock.now() + delay);
        this.retryAt(next, delay);
      }
    } finally {
      this.inFlight--;
      if (this.inFlight === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
    }
  }

  private retryAt(delivery: Delivery, delay: number): void {
    const cancel = this.deps.clock.schedule(delay, () => {
      this.retryTimers.delete(cancel);
      this.inFlight++;
      void this.attempt(delivery);
    });
    this.retryTimers.add(cancel);
  }

  private async invoke(arn: string, input: string): Promise<void> {
    if (/^arn:[^:]+:states:[^:]*:[^:]*:stateMachine:/.test(arn)) {
      await this.deps.stepFunctions.startExecution({ stateMachineArn: arn, input });
      return;
    }
    if (/^arn:[^:]+:lambda:[^:]*:[^:]*:function:/.test(arn)) {
      let payload: unknown = input;
      try {
        payload = JSON.parse(input);
      } catch {
        // A non-JSON Input is passed through as text.
      }
      this.deps.lambda.invokeAsync(arn, payload);
      return;
    }
    throw new UnsupportedTargetError(`target ${arn} is neither a state machine nor a Lambda function`);
  }
}
