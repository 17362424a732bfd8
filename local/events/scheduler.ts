/**
 * Keeps one timer per enabled schedule rule on the `Clock`, and fires the rule's targets with the
 * `Scheduled Event` envelope at each time the schedule names. Timers run only between start and close.
 */
import type { Partition } from '../arns';
import type { Clock } from '../clock';
import type { Dispatcher } from './dispatcher';
import { newEnvelope, type Rule } from './models';

export class RuleScheduler {
  private readonly timers = new Map<Rule, () => void>();
  private started = false;

  constructor(
    private readonly deps: { readonly partition: Partition; readonly clock: Clock; readonly dispatcher: Dispatcher; readonly log: (line: string) => void },
  ) {}

  start(rules: Iterable<Rule>): void {
    if (this.started) return;
    this.started = true;
    for (const rule of rules) this.arm(rule);
  }

  close(): void {
    this.started = false;
    for (const rule of [...this.timers.keys()]) this.disarm(rule);
  }

  /** (Re)arms a rule after any change to it; a disabled or pattern-only rule ends up without a timer. */
  arm(rule: Rule): void {
    this.disarm(rule);
    if (!this.started || !rule.schedule || rule.state !== 'ENABLED') return;
    const now = this.deps.clock.now();
    const next = rule.schedule.next(now);
    if (next === undefined) return;
    this.timers.set(
      rule,
      this.deps.clock.schedule(next - now, () => {
        this.timers.delete(rule);
        this.fire(rule, next);
        this.arm(rule);
      }),
    );
  }

  disarm(rule: Rule): void {
    this.timers.get(rule)?.();
    this.timers.delete(rule);
  }

  private fire(rule: Rule, at: number): void {
    const event = newEnvelope({ source: 'aws.events', detailType: 'Scheduled Event', detail: {}, resources: [rule.arn], time: at }, this.deps.partition);
    this.deps.log(`events: schedule ${rule.schedule?.expression ?? ''} fired rule ${rule.name}`);
    this.deps.dispatcher.fire(rule, event, at);
  }
}
