/**
 * EventBridge's operations over AWS JSON 1.1 (`X-Amz-Target: AWSEvents.<Operation>`): validation
 * and error shapes, pagination, and the mapping of each operation onto the models, the store, the
 * dispatcher and the schedule timers.
 */
import type { Partition } from '../arns';
import type { Clock } from '../clock';
import { AwsServiceError } from '../edge/errors';
import { jsonService } from '../edge/json-protocol';
import type { ServiceHandler } from '../edge/types';
import { paginate, type PaginationRules } from '../shared/pagination';
import type { Dispatcher } from './dispatcher';
import { notFound, read, validation } from './errors';
import { busArn, busNameOf, newRule, type Archive, type Replay, type Rule, type Target } from './models';
import { compilePattern, matchesPattern, MAX_EVENT_PATTERN_LENGTH } from './pattern';
import { putEvents, wireEntries } from './put-events';
import { parseSchedule } from './schedule';
import type { RuleScheduler } from './scheduler';
import type { EventsStore } from './store';
import { parseTarget } from './target-parser';

export interface EventBridgeProviderDeps {
  readonly partition: Partition;
  readonly clock: Clock;
  readonly store: EventsStore;
  readonly dispatcher: Dispatcher;
  readonly scheduler: RuleScheduler;
  readonly log: (line: string) => void;
}

type Raw = Readonly<Record<string, unknown>>;
type FailedEntry = { TargetId: string; ErrorCode: string; ErrorMessage: string };

const NAME = /^[.\-_A-Za-z0-9]{1,64}$/;
const DELIVERABLE_TARGET = /^arn:[^:]+:(states:[^:]*:[^:]*:stateMachine:|lambda:[^:]*:[^:]*:function:)/;
const PAGES: PaginationRules = { defaultSize: 100, maxSize: 100, invalidToken: () => validation('Invalid NextToken: it was not issued by this service or has expired.') };

export class EventBridgeProvider {
  readonly handler: ServiceHandler;

  constructor(private readonly deps: EventBridgeProviderDeps) {
    this.handler = jsonService({
      name: 'events',
      signingNames: ['events'],
      targetPrefix: 'AWSEvents',
      version: '1.1',
      operations: {
        PutEvents: (input) => putEvents(wireEntries(input), deps),
        TestEventPattern: (input) => this.testEventPattern(input),
        DescribeEventBus: (input) => this.describeEventBus(input),
        ListEventBuses: (input) => this.listEventBuses(input),
        PutRule: (input) => this.putRule(input),
        DescribeRule: (input) => ({ ...this.ruleView(this.requireRule(input, 'Name')), CreatedBy: deps.partition.account }),
        ListRules: (input) => this.listRules(input),
        EnableRule: (input) => this.setRuleState(input, 'ENABLED'),
        DisableRule: (input) => this.setRuleState(input, 'DISABLED'),
        DeleteRule: (input) => this.deleteRule(input),
        PutTargets: (input) => this.putTargets(input),
        RemoveTargets: (input) => this.removeTargets(input),
        ListTargetsByRule: (input) => page([...this.requireRule(input, 'Rule').targets.values()], input, 'Targets'),
        DescribeArchive: (input) => this.describeArchive(input),
        ListArchives: (input) => this.listArchives(input),
        StartReplay: (input) => this.startReplay(input),
        DescribeReplay: (input) => this.describeReplay(input),
        ListReplays: () => ({ Replays: deps.store.replays().map((r) => replayView(r)) }),
      },
    });
  }

  private requireBus(nameOrArn: unknown): string {
    const name = busNameOf(nameOrArn);
    if (!this.deps.store.bus(name)) throw notFound(`Event bus ${name} does not exist.`);
    return name;
  }

  private requireRule(input: Raw, field: 'Name' | 'Rule'): Rule {
    const name = read.requiredString(input, field);
    const bus = this.requireBus(input.EventBusName);
    const rule = this.deps.store.rule(bus, name);
    if (!rule) throw notFound(`Rule ${name} does not exist on EventBus ${bus}.`);
    return rule;
  }

  private describeEventBus(input: Raw): unknown {
    const bus = this.deps.store.bus(this.requireBus(input.Name));
    return { Name: bus?.name, Arn: bus?.arn, CreationTime: (bus?.creationTime ?? 0) / 1000, LastModifiedTime: (bus?.creationTime ?? 0) / 1000 };
  }

  private listEventBuses(input: Raw): unknown {
    const prefix = read.optionalString(input, 'NamePrefix') ?? '';
    return page(this.deps.store.buses().filter((b) => b.name.startsWith(prefix)).map((b) => ({ Name: b.name, Arn: b.arn })), input, 'EventBuses');
  }

  private putRule(input: Raw): unknown {
    const name = read.requiredString(input, 'Name');
    if (!NAME.test(name)) throw validation(`Rule name "${name}" must be 1-64 characters of [.-_A-Za-z0-9]`);
    const bus = this.requireBus(input.EventBusName);
    const patternText = read.optionalString(input, 'EventPattern');
    const scheduleText = read.optionalString(input, 'ScheduleExpression');
    if (patternText === undefined && scheduleText === undefined) throw validation('Parameter(s) EventPattern or ScheduleExpression must be specified.');
    if (scheduleText !== undefined && bus !== 'default') throw validation('ScheduleExpression is supported only on the default event bus.');
    if (patternText !== undefined && patternText.length > MAX_EVENT_PATTERN_LENGTH) {
      throw new AwsServiceError('InvalidEventPatternException', `Event pattern is not valid. Reason: the pattern is ${patternText.length} characters; the maximum is ${MAX_EVENT_PATTERN_LENGTH}`);
    }
    const pattern = patternText !== undefined ? compilePattern(patternText) : undefined;
    const schedule = scheduleText !== undefined ? parseSchedule(scheduleText, this.deps.clock.now()) : undefined;
    const state = read.optionalString(input, 'State') ?? 'ENABLED';
    if (state !== 'ENABLED' && state !== 'DISABLED') throw validation(`State "${state}" must be ENABLED or DISABLED`);
    const rule = this.deps.store.rule(bus, name) ?? newRule(name, bus, this.deps.partition);
    if (pattern) rule.eventPattern = pattern;
    else delete rule.eventPattern;
    if (schedule) rule.schedule = schedule;
    else delete rule.schedule;
    rule.state = state;
    const description = read.optionalString(input, 'Description');
    if (description !== undefined) rule.description = description;
    this.deps.store.saveRule(rule);
    this.deps.scheduler.arm(rule);
    return { RuleArn: rule.arn };
  }

  private ruleView(rule: Rule): Record<string, unknown> {
    return {
      Name: rule.name,
      Arn: rule.arn,
      ...(rule.eventPattern ? { EventPattern: rule.eventPattern.source } : {}),
      ...(rule.schedule ? { ScheduleExpression: rule.schedule.expression } : {}),
      State: rule.state,
      ...(rule.description !== undefined ? { Description: rule.description } : {}),
      EventBusName: rule.bus,
    };
  }

  private listRules(input: Raw): unknown {
    const bus = this.requireBus(input.EventBusName);
    const prefix = read.optionalString(input, 'NamePrefix') ?? '';
    const rules = [...this.deps.store.rules()].filter((r) => r.bus === bus && r.name.startsWith(prefix)).sort((a, b) => a.name.localeCompare(b.name));
    return page(rules.map((r) => this.ruleView(r)), input, 'Rules');
  }

  private setRuleState(input: Raw, state: 'ENABLED' | 'DISABLED'): unknown {
    const rule = this.requireRule(input, 'Name');
    rule.state = state;
    this.deps.store.saveRule(rule);
    this.deps.scheduler.arm(rule);
    return {};
  }

  private deleteRule(input: Raw): unknown {
    const rule = this.requireRule(input, 'Name');
    if (rule.targets.size > 0) throw validation("Rule can't be deleted since it has targets.");
    this.deps.scheduler.disarm(rule);
    this.deps.store.deleteRule(rule);
    return {};
  }

  private putTargets(input: Raw): unknown {
    const rule = this.requireRule(input, 'Rule');
    const targets = input.Targets;
    if (!Array.isArray(targets) || targets.length < 1 || targets.length > 10) {
      throw validation("1 validation error detected: Value at 'targets' failed to satisfy constraint: Member must have length between 1 and 10");
    }
    const failed: FailedEntry[] = [];
    const accepted: Target[] = [];
    for (const raw of targets as Record<string, unknown>[]) {
      const target = parseTarget(raw);
      if (!DELIVERABLE_TARGET.test(target.Arn)) {
        failed.push({ TargetId: target.Id, ErrorCode: 'ValidationException', ErrorMessage: `Target ${target.Id}: ${target.Arn} is not a target the local cloud delivers to (a Step Functions state machine or a Lambda function)` });
        continue;
      }
      accepted.push(target);
    }
    if (rule.targets.size + accepted.filter((t) => !rule.targets.has(t.Id)).length > 5) {
      throw new AwsServiceError('LimitExceededException', `The requested resource exceeds the maximum number allowed: a rule has at most 5 targets (rule ${rule.name}).`);
    }
    for (const target of accepted) rule.targets.set(target.Id, target);
    this.deps.store.saveRule(rule);
    return { FailedEntryCount: failed.length, FailedEntries: failed };
  }

  private removeTargets(input: Raw): unknown {
    const rule = this.requireRule(input, 'Rule');
    const ids = input.Ids;
    if (!Array.isArray(ids) || ids.length < 1 || ids.length > 100) throw validation("1 validation error detected: Value at 'ids' failed to satisfy constraint: Member must have length between 1 and 100");
    const failed: FailedEntry[] = [];
    for (const id of ids as string[]) {
      if (!rule.targets.delete(id)) failed.push({ TargetId: id, ErrorCode: 'ResourceNotFoundException', ErrorMessage: `Target ${id} does not exist on rule ${rule.name}.` });
    }
    this.deps.store.saveRule(rule);
    return { FailedEntryCount: failed.length, FailedEntries: failed };
  }

  private testEventPattern(input: Raw): unknown {
    const patternText = read.requiredString(input, 'EventPattern');
    const eventText = read.requiredString(input, 'Event');
    const pattern = compilePattern(patternText);
    let event: unknown;
    try {
      event = JSON.parse(eventText);
    } catch {
      throw validation('Parameter Event is not valid: it is not valid JSON.');
    }
    if (typeof event !== 'object' || event === null || Array.isArray(event)) throw validation('Parameter Event is not valid: it must be a JSON object.');
    // AWS requires the envelope fields of a real event.
    const missing = ['id', 'account', 'source', 'time', 'region', 'detail-type'].filter((f) => !(f in event));
    if (missing.length > 0) throw validation(`Parameter Event is not valid: missing ${missing.join(', ')}.`);
    return { Result: matchesPattern(pattern, event) };
  }

  private describeArchive(input: Raw): unknown {
    const name = read.requiredString(input, 'ArchiveName');
    const archive = this.deps.store.archive(name);
    if (!archive) throw notFound(`Archive ${name} does not exist.`);
    return { ArchiveArn: archive.arn, ...this.archiveView(archive), EventPattern: archive.pattern.source };
  }

  private listArchives(input: Raw): unknown {
    const prefix = read.optionalString(input, 'NamePrefix') ?? '';
    const source = read.optionalString(input, 'EventSourceArn');
    const archives = this.deps.store.archives().filter((a) => a.name.startsWith(prefix) && (!source || busArn(a.bus, this.deps.partition) === source));
    return { Archives: archives.map((a) => this.archiveView(a)) };
  }

  /** The members ListArchives reports; DescribeArchive adds the ARN and the pattern. */
  private archiveView(archive: Archive): Record<string, unknown> {
    return {
      ArchiveName: archive.name,
      EventSourceArn: busArn(archive.bus, this.deps.partition),
      State: 'ENABLED',
      RetentionDays: archive.retentionDays,
      SizeBytes: archive.sizeBytes,
      EventCount: archive.events.length,
      CreationTime: archive.creationTime / 1000,
    };
  }

  private startReplay(input: Raw): unknown {
    const name = read.requiredString(input, 'ReplayName');
    if (!NAME.test(name)) throw validation(`ReplayName "${name}" must be 1-64 characters of [.-_A-Za-z0-9]`);
    if (this.deps.store.replay(name)) throw new AwsServiceError('ResourceAlreadyExistsException', `Replay ${name} already exists.`);
    const sourceArn = read.requiredString(input, 'EventSourceArn');
    const archive = this.deps.store.archives().find((a) => a.arn === sourceArn);
    if (!archive) throw notFound(`Archive ${sourceArn.split('/').pop() ?? sourceArn} does not exist.`);
    const start = input.EventStartTime;
    const end = input.EventEndTime;
    if (typeof start !== 'number' || typeof end !== 'number') throw validation('EventStartTime and EventEndTime are required');
    if (end <= start) throw validation('Parameter EventEndTime is not valid. Reason: EventStartTime must be before EventEndTime.');
    const destination = input.Destination as { Arn?: unknown; FilterArns?: unknown } | undefined;
    if (!destination || typeof destination.Arn !== 'string') throw validation('Destination.Arn is required');
    const sourceBus = busArn(archive.bus, this.deps.partition);
    if (destination.Arn !== sourceBus) throw validation(`Parameter Destination.Arn is not valid. Reason: Cross event bus replay is not permitted (the archive's bus is ${sourceBus}).`);
    const filterArns = Array.isArray(destination.FilterArns) ? (destination.FilterArns as string[]) : undefined;
    const now = this.deps.clock.now();
    const { region, account } = this.deps.partition;
    const replay: Replay = {
      name,
      arn: `arn:aws:events:${region}:${account}:replay/${name}`,
      archive,
      destination: { Arn: destination.Arn, ...(filterArns ? { FilterArns: filterArns } : {}) },
      eventStartTime: start * 1000,
      eventEndTime: end * 1000,
      state: 'STARTING',
      replayStartTime: now,
    };
    this.deps.store.saveReplay(replay);
    setImmediate(() => this.deps.dispatcher.replay(replay));
    return { ReplayArn: replay.arn, State: replay.state, ReplayStartTime: now / 1000 };
  }

  private describeReplay(input: Raw): unknown {
    const name = read.requiredString(input, 'ReplayName');
    const replay = this.deps.store.replay(name);
    if (!replay) throw notFound(`Replay ${name} does not exist.`);
    return { ...replayView(replay), ReplayArn: replay.arn, Destination: replay.destination };
  }
}

function replayView(replay: Replay): Record<string, unknown> {
  return {
    ReplayName: replay.name,
    EventSourceArn: replay.archive.arn,
    State: replay.state,
    EventStartTime: replay.eventStartTime / 1000,
    EventEndTime: replay.eventEndTime / 1000,
    ReplayStartTime: replay.replayStartTime / 1000,
    ...(replay.replayEndTime !== undefined ? { ReplayEndTime: replay.replayEndTime / 1000 } : {}),
    ...(replay.eventLastReplayedTime !== undefined ? { EventLastReplayedTime: replay.eventLastReplayedTime / 1000 } : {}),
  };
}

/** One page of a List operation (`Limit` 1-100, default 100) under the operation's member name. */
function page<T>(items: readonly T[], input: Raw, key: string): Record<string, unknown> {
  const { items: pageItems, nextToken } = paginate(items, read.optionalInteger(input, 'Limit', { min: 1, max: 100 }), input.NextToken, PAGES);
  return { [key]: pageItems, ...(nextToken ? { NextToken: nextToken } : {}) };
}
