/**
 * EventBridge's domain: buses, rules with their targets, archives and replays, the event envelope,
 * and the deliveries an accepted event owes its rules' targets. No wire format here.
 */
import { randomUUID } from 'node:crypto';
import type { Partition } from '../arns';
import { compilePattern, matchesPattern, type CompiledPattern } from './pattern';
import { parseSchedule, type Schedule } from './schedule';
import type { TargetInputSpec } from './transform';

export interface EventEnvelope {
  version: '0';
  id: string;
  'detail-type': string;
  source: string;
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: unknown;
  'replay-name'?: string;
}

export interface RetryPolicy {
  readonly MaximumRetryAttempts: number;
  readonly MaximumEventAgeInSeconds: number;
}

/** A target as PutTargets describes it (the API's member names, kept for ListTargetsByRule). */
export interface Target extends TargetInputSpec {
  readonly Id: string;
  readonly Arn: string;
  readonly RetryPolicy?: Partial<RetryPolicy>;
}

export interface Bus {
  readonly name: string;
  readonly arn: string;
  readonly creationTime: number;
}

export type RuleState = 'ENABLED' | 'DISABLED';

export interface Rule {
  readonly name: string;
  readonly bus: string;
  readonly arn: string;
  eventPattern?: CompiledPattern;
  schedule?: Schedule;
  state: RuleState;
  description?: string;
  readonly targets: Map<string, Target>;
}

/** A rule as it is kept: the pattern's and schedule's source text, the targets as PutTargets gave them. */
export interface RuleDocument {
  readonly name: string;
  readonly bus: string;
  readonly arn: string;
  readonly eventPattern?: string;
  readonly schedule?: string;
  readonly state: RuleState;
  readonly description?: string;
  readonly targets: readonly Target[];
}

export function ruleDocument(rule: Rule): RuleDocument {
  return {
    name: rule.name,
    bus: rule.bus,
    arn: rule.arn,
    ...(rule.eventPattern ? { eventPattern: rule.eventPattern.source } : {}),
    ...(rule.schedule ? { schedule: rule.schedule.expression } : {}),
    state: rule.state,
    ...(rule.description !== undefined ? { description: rule.description } : {}),
    targets: [...rule.targets.values()],
  };
}

/** A kept rule, compiled again; its schedule counts from `now`. */
export function reviveRule(document: RuleDocument, now: number): Rule {
  return {
    name: document.name,
    bus: document.bus,
    arn: document.arn,
    ...(document.eventPattern !== undefined ? { eventPattern: compilePattern(document.eventPattern) } : {}),
    ...(document.schedule !== undefined ? { schedule: parseSchedule(document.schedule, now) } : {}),
    state: document.state,
    ...(document.description !== undefined ? { description: document.description } : {}),
    targets: new Map(document.targets.map((target) => [target.Id, target])),
  };
}

export interface ArchivedEvent {
  /** Epoch ms of the event's `time`. */
  readonly time: number;
  readonly event: EventEnvelope;
}

export interface Archive {
  readonly name: string;
  readonly arn: string;
  readonly bus: string;
  readonly pattern: CompiledPattern;
  readonly retentionDays: number;
  readonly creationTime: number;
  readonly events: ArchivedEvent[];
  sizeBytes: number;
}

export type ReplayState = 'STARTING' | 'RUNNING' | 'COMPLETED' | 'FAILED';

export interface Replay {
  readonly name: string;
  readonly arn: string;
  readonly archive: Archive;
  readonly destination: { Arn: string; FilterArns?: string[] };
  readonly eventStartTime: number;
  readonly eventEndTime: number;
  state: ReplayState;
  readonly replayStartTime: number;
  replayEndTime?: number;
  eventLastReplayedTime?: number;
}

/** What one matched (rule, target) pair is owed for one event: its rendered input, until delivered or given up. */
export interface Delivery {
  readonly id: string;
  readonly ruleArn: string;
  readonly ruleName: string;
  readonly targetArn: string;
  readonly eventId: string;
  /** The target's input, rendered once when the event matched. */
  readonly input: string;
  /** Epoch ms the event was received: MaximumEventAgeInSeconds counts from here. */
  readonly ingestionTime: number;
  readonly policy: RetryPolicy;
  /** Failed attempts so far. */
  readonly retries: number;
}

/** EventBridge's documented default: 24 hours, 185 attempts. */
export const DEFAULT_RETRY: RetryPolicy = { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 86_400 };
const BASE_BACKOFF_MS = 1_000;
const MAX_BACKOFF_MS = 5 * 60_000;

export function busArn(name: string, { region, account }: Partition): string {
  return `arn:aws:events:${region}:${account}:event-bus/${name}`;
}

export function newRule(name: string, bus: string, { region, account }: Partition): Rule {
  const arn = bus === 'default' ? `arn:aws:events:${region}:${account}:rule/${name}` : `arn:aws:events:${region}:${account}:rule/${bus}/${name}`;
  return { name, bus, arn, state: 'ENABLED', targets: new Map() };
}

/** Accepts a bus name or ARN; absent means `default`. */
export function busNameOf(nameOrArn: unknown): string {
  if (typeof nameOrArn !== 'string' || nameOrArn === '') return 'default';
  const arn = /^arn:[^:]+:events:[^:]*:[^:]*:event-bus\/(.+)$/.exec(nameOrArn);
  return arn ? (arn[1] as string) : nameOrArn;
}

/** The envelope of a new event; `time` is truncated to the second, as EventBridge stamps it. */
export function newEnvelope(fields: { source: string; detailType: string; detail: unknown; resources: readonly string[]; time: number }, { region, account }: Partition): EventEnvelope {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': fields.detailType,
    source: fields.source,
    account,
    time: isoSeconds(fields.time),
    region,
    resources: [...fields.resources],
    detail: fields.detail,
  };
}

/** Enabled pattern rules of `bus` that match `event` (restricted to `onlyRules` ARNs for a replay). */
export function matchingRules(rules: Iterable<Rule>, bus: string, event: EventEnvelope, onlyRules?: ReadonlySet<string>): Rule[] {
  const matched: Rule[] = [];
  for (const rule of rules) {
    if (rule.bus !== bus || rule.state !== 'ENABLED' || !rule.eventPattern) continue;
    if (onlyRules && !onlyRules.has(rule.arn)) continue;
    if (matchesPattern(rule.eventPattern, event)) matched.push(rule);
  }
  return matched;
}

/** Whether an archive keeps `event`: its bus, its pattern, and never a replayed event. */
export function archiveKeeps(archive: Archive, bus: string, event: EventEnvelope): boolean {
  return archive.bus === bus && event['replay-name'] === undefined && matchesPattern(archive.pattern, event);
}

export function newDelivery(rule: Rule, target: Target, event: EventEnvelope, input: string, ingestionTime: number): Delivery {
  return {
    id: randomUUID(),
    ruleArn: rule.arn,
    ruleName: rule.name,
    targetArn: target.Arn,
    eventId: event.id,
    input,
    ingestionTime,
    policy: { ...DEFAULT_RETRY, ...target.RetryPolicy },
    retries: 0,
  };
}

/**
 * After a failed attempt: the delay before the next one, or undefined when the policy gives up
 * (attempts used up, or the event would be older than MaximumEventAgeInSeconds by then).
 */
export function nextRetryDelay(delivery: Delivery, now: number, random: () => number = Math.random): number | undefined {
  const delay = backoff(delivery.retries, random);
  if (delivery.retries >= delivery.policy.MaximumRetryAttempts) return undefined;
  if (now - delivery.ingestionTime + delay > delivery.policy.MaximumEventAgeInSeconds * 1000) return undefined;
  return delay;
}

/** Archived events of a replay's window, oldest first, each marked with the replay's name. */
export function replayedEvents(replay: Replay): { time: number; event: EventEnvelope }[] {
  return replay.archive.events
    .filter((record) => record.time >= replay.eventStartTime && record.time < replay.eventEndTime)
    .map((record) => ({ time: record.time, event: { ...record.event, 'replay-name': replay.name } }));
}

/** Exponential backoff with jitter: 1 s, 2 s, 4 s … capped at 5 minutes, each scaled by 0.5-1.0. */
function backoff(retries: number, random: () => number): number {
  const base = Math.min(MAX_BACKOFF_MS, BASE_BACKOFF_MS * 2 ** Math.min(retries, 20));
  return Math.round(base * (0.5 + random() * 0.5));
}

export function isoSeconds(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}
