/**
 * Amazon EventBridge for the local cloud: buses, rules (event patterns and schedules), targets
 * (Step Functions state machines and Lambda functions), PutEvents with AWS's per-entry validation,
 * asynchronous delivery retried per the rule's retry policy on the `Clock`, archives written as
 * JSON lines, and replays. Wire protocol: AWS JSON 1.1, `X-Amz-Target: AWSEvents.<Operation>`.
 */
import { randomUUID } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BusSpec, RuleSpec, TargetSpec } from '../../topology/topology';
import type { Clock } from '../clock';
import { AwsServiceError } from '../edge/errors';
import { jsonService } from '../edge/json-protocol';
import type { ServiceHandler } from '../edge/types';
import type { EventBusPort, LambdaPort, StepFunctionsPort } from '../ports';
import { compilePattern, matchesPattern, MAX_EVENT_PATTERN_LENGTH, type CompiledPattern } from './pattern';
import { parseSchedule, type Schedule } from './schedule';
import { parseJsonPath, renderTargetInput, validateInputTransformer, type TargetInputSpec } from './transform';

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
  /** Archives are written under `<dataDir>/events/archive/`. @default kept in memory only */
  readonly dataDir?: string;
  readonly log?: (line: string) => void;
}

export type PutEventsEntry = Parameters<EventBusPort['putEvents']>[0][number];

interface RetryPolicy {
  readonly MaximumRetryAttempts: number;
  readonly MaximumEventAgeInSeconds: number;
}

interface Target extends TargetInputSpec {
  readonly Id: string;
  readonly Arn: string;
  readonly RetryPolicy?: Partial<RetryPolicy>;
}

interface Rule {
  readonly name: string;
  readonly bus: string;
  readonly arn: string;
  eventPattern?: CompiledPattern;
  schedule?: Schedule;
  state: 'ENABLED' | 'DISABLED';
  description?: string;
  readonly targets: Map<string, Target>;
  cancelTimer?: () => void;
}

interface Archive {
  readonly name: string;
  readonly arn: string;
  readonly bus: string;
  readonly pattern: CompiledPattern;
  readonly retentionDays: number;
  readonly creationTime: number;
  readonly events: { readonly time: number; readonly event: EventEnvelope }[];
  sizeBytes: number;
}

interface Replay {
  readonly name: string;
  readonly arn: string;
  readonly archive: Archive;
  readonly destination: { Arn: string; FilterArns?: string[] };
  readonly eventStartTime: number;
  readonly eventEndTime: number;
  state: 'STARTING' | 'RUNNING' | 'COMPLETED' | 'FAILED';
  stateReason?: string;
  readonly replayStartTime: number;
  replayEndTime?: number;
  eventLastReplayedTime?: number;
}

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

/** EventBridge's documented default: 24 hours, 185 attempts. */
const DEFAULT_RETRY: RetryPolicy = { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 86_400 };
const MAX_PUT_EVENTS_BYTES = 256 * 1024;
const RULE_NAME = /^[.\-_A-Za-z0-9]{1,64}$/;
const BASE_BACKOFF_MS = 1_000;
const MAX_BACKOFF_MS = 5 * 60_000;

export class EventBridgeService implements EventBusPort {
  readonly handler: ServiceHandler;
  private readonly buses = new Map<string, { name: string; arn: string; creationTime: number }>();
  private readonly rules = new Map<string, Rule>();
  private readonly archives = new Map<string, Archive>();
  private readonly replays = new Map<string, Replay>();
  private readonly log: (line: string) => void;
  private started = false;
  private inFlight = 0;
  private idleWaiters: (() => void)[] = [];
  private readonly retryTimers = new Set<() => void>();

  constructor(private readonly options: EventBridgeServiceOptions) {
    this.log = options.log ?? (() => undefined);
    const now = options.clock.now();
    this.addBus('default', now);
    for (const bus of options.buses) {
      this.addBus(bus.name, now);
      if (bus.archive) {
        this.archives.set(bus.archive.name, {
          name: bus.archive.name,
          arn: `arn:aws:events:${options.region}:${options.account}:archive/${bus.archive.name}`,
          bus: bus.name,
          pattern: compilePattern(bus.archive.eventPattern),
          retentionDays: bus.archive.retentionDays,
          creationTime: now,
          events: [],
          sizeBytes: 0,
        });
      }
    }
    this.loadArchives();
    for (const spec of options.rules) {
      const bus = spec.bus ?? 'default';
      if (!this.buses.has(bus)) throw new Error(`rule ${spec.name} listens on unknown bus ${bus}`);
      const rule = this.createRule(spec.name, bus);
      if (spec.eventPattern) rule.eventPattern = compilePattern(spec.eventPattern);
      if (spec.schedule) rule.schedule = parseSchedule(spec.schedule, now);
      spec.targets.forEach((target, index) => {
        const retry = spec.retryPolicy
          ? { MaximumRetryAttempts: spec.retryPolicy.maximumRetryAttempts, MaximumEventAgeInSeconds: spec.retryPolicy.maximumEventAgeSeconds }
          : undefined;
        const t: Target = {
          Id: `Target${index}`,
          Arn: options.resolveTarget(target),
          ...(target.input !== undefined ? { Input: target.input } : {}),
          ...(target.inputPath !== undefined ? { InputPath: target.inputPath } : {}),
          ...(target.inputTransformer
            ? {
                InputTransformer: {
                  InputTemplate: target.inputTransformer.inputTemplate,
                  ...(target.inputTransformer.inputPathsMap ? { InputPathsMap: target.inputTransformer.inputPathsMap } : {}),
                },
              }
            : {}),
          ...(retry ? { RetryPolicy: retry } : {}),
        };
        rule.targets.set(t.Id, t);
      });
    }
    this.handler = jsonService({
      name: 'events',
      signingNames: ['events'],
      targetPrefix: 'AWSEvents',
      version: '1.1',
      operations: {
        PutEvents: (input) => this.putEventsOperation(input),
        TestEventPattern: (input) => this.testEventPattern(input),
        DescribeEventBus: (input) => this.describeEventBus(input),
        ListEventBuses: (input) => this.listEventBuses(input),
        PutRule: (input) => this.putRule(input),
        DescribeRule: (input) => this.describeRule(input),
        ListRules: (input) => this.listRules(input),
        EnableRule: (input) => this.setRuleState(input, 'ENABLED'),
        DisableRule: (input) => this.setRuleState(input, 'DISABLED'),
        DeleteRule: (input) => this.deleteRule(input),
        PutTargets: (input) => this.putTargets(input),
        RemoveTargets: (input) => this.removeTargets(input),
        ListTargetsByRule: (input) => this.listTargetsByRule(input),
        DescribeArchive: (input) => this.describeArchive(input),
        ListArchives: (input) => this.listArchives(input),
        StartReplay: (input) => this.startReplay(input),
        DescribeReplay: (input) => this.describeReplay(input),
        ListReplays: () => ({ Replays: [...this.replays.values()].map((r) => this.replayView(r)) }),
      },
    });
  }

  /** Arms every schedule rule on the clock. */
  start(): void {
    if (this.started) return;
    this.started = true;
    for (const rule of this.rules.values()) this.arm(rule);
  }

  /** Stops schedules and pending retries. */
  close(): void {
    this.started = false;
    for (const rule of this.rules.values()) this.disarm(rule);
    for (const cancel of this.retryTimers) cancel();
    this.retryTimers.clear();
  }

  /** Resolves once no delivery attempt is running (scheduled retries are not waited for). */
  whenIdle(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** The in-process port: same validation and per-entry results as the API. */
  putEvents(entries: readonly PutEventsEntry[]): Promise<{ FailedEntryCount: number; Entries: { EventId?: string; ErrorCode?: string; ErrorMessage?: string }[] }> {
    return Promise.resolve(this.ingest(entries));
  }

  // -------------------------------------------------------------------------------------------
  // PutEvents

  private putEventsOperation(input: Record<string, unknown>): unknown {
    const entries = input.Entries;
    if (!Array.isArray(entries)) throw validation("1 validation error detected: Value null at 'entries' failed to satisfy constraint: Member must not be null");
    const parsed = entries.map((item: unknown): PutEventsEntry => {
      const raw = (typeof item === 'object' && item !== null ? item : {}) as Record<string, unknown>;
      const time = raw.Time;
      return {
        ...(typeof raw.Source === 'string' ? { Source: raw.Source } : {}),
        ...(typeof raw.DetailType === 'string' ? { DetailType: raw.DetailType } : {}),
        ...(typeof raw.Detail === 'string' ? { Detail: raw.Detail } : {}),
        ...(typeof raw.EventBusName === 'string' ? { EventBusName: raw.EventBusName } : {}),
        ...(Array.isArray(raw.Resources) ? { Resources: raw.Resources as string[] } : {}),
        ...(typeof time === 'number' ? { Time: new Date(time * 1000) } : typeof time === 'string' ? { Time: new Date(time) } : {}),
      };
    });
    return this.ingest(parsed);
  }

  private ingest(entries: readonly PutEventsEntry[]): { FailedEntryCount: number; Entries: { EventId?: string; ErrorCode?: string; ErrorMessage?: string }[] } {
    if (entries.length < 1 || entries.length > 10) {
      throw validation(
        `1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length ${entries.length < 1 ? 'greater than or equal to 1' : 'less than or equal to 10'} (got ${entries.length})`,
      );
    }
    const total = entries.reduce((sum, entry) => sum + entrySize(entry), 0);
    if (total > MAX_PUT_EVENTS_BYTES) {
      throw validation(`Total size of the entries in the request is over the limit: ${total} bytes, the maximum is ${MAX_PUT_EVENTS_BYTES} (256 KB)`);
    }
    const results = entries.map((entry) => this.ingestEntry(entry));
    return { FailedEntryCount: results.filter((r) => r.ErrorCode).length, Entries: results };
  }

  private ingestEntry(entry: PutEventsEntry): { EventId?: string; ErrorCode?: string; ErrorMessage?: string } {
    for (const field of ['Source', 'DetailType', 'Detail'] as const) {
      if (entry[field] === undefined || entry[field] === '') {
        return { ErrorCode: 'InvalidArgument', ErrorMessage: `Parameter ${field} is not valid. Reason: ${field} is a required argument.` };
      }
    }
    if ((entry.DetailType as string).length > 128) {
      return { ErrorCode: 'InvalidArgument', ErrorMessage: 'Parameter DetailType is not valid. Reason: DetailType is longer than 128 characters.' };
    }
    let detail: unknown;
    try {
      detail = JSON.parse(entry.Detail as string);
    } catch {
      detail = undefined;
    }
    if (typeof detail !== 'object' || detail === null || Array.isArray(detail)) {
      return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
    }
    if (entry.Time !== undefined && Number.isNaN(entry.Time.getTime())) {
      return { ErrorCode: 'InvalidArgument', ErrorMessage: 'Parameter Time is not valid.' };
    }
    const event: EventEnvelope = {
      version: '0',
      id: randomUUID(),
      'detail-type': entry.DetailType as string,
      source: entry.Source as string,
      account: this.options.account,
      time: isoSeconds(entry.Time?.getTime() ?? this.options.clock.now()),
      region: this.options.region,
      resources: [...(entry.Resources ?? [])],
      detail,
    };
    const busName = this.busNameOf(entry.EventBusName);
    if (!this.buses.has(busName)) {
      // AWS accepts events for a bus that does not exist and drops them (aws/aws-sdk#186).
      this.log(`events: PutEvents to unknown bus "${busName}": event ${event.id} accepted and dropped, as AWS does`);
      return { EventId: event.id };
    }
    this.archive(busName, event);
    this.route(busName, event, this.options.clock.now());
    return { EventId: event.id };
  }

  // -------------------------------------------------------------------------------------------
  // Routing and delivery

  private route(busName: string, event: EventEnvelope, ingestionTime: number, onlyRules?: ReadonlySet<string>): void {
    for (const rule of this.rules.values()) {
      if (rule.bus !== busName || rule.state !== 'ENABLED' || !rule.eventPattern) continue;
      if (onlyRules && !onlyRules.has(rule.arn)) continue;
      if (!matchesPattern(rule.eventPattern, event)) continue;
      this.log(`events: ${event.id} matched rule ${rule.name}`);
      for (const target of rule.targets.values()) this.deliver(rule, target, event, ingestionTime);
    }
  }

  private deliver(rule: Rule, target: Target, event: EventEnvelope, ingestionTime: number): void {
    let input: string;
    try {
      input = renderTargetInput(target, event as unknown as Record<string, unknown>, { ruleArn: rule.arn, ruleName: rule.name, ingestionTime });
    } catch (error) {
      this.log(`events: rule ${rule.name} target ${target.Id}: input could not be rendered (${String(error)}); event ${event.id} dropped`);
      return;
    }
    const policy = { ...DEFAULT_RETRY, ...target.RetryPolicy };
    this.inFlight++;
    setImmediate(() => void this.attempt(rule, target, event.id, input, ingestionTime, policy, 0));
  }

  private async attempt(rule: Rule, target: Target, eventId: string, input: string, ingestionTime: number, policy: RetryPolicy, retries: number): Promise<void> {
    try {
      await this.invoke(target.Arn, input);
      this.log(`events: delivered ${eventId} to ${target.Arn} (rule ${rule.name}, attempt ${retries + 1})`);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const age = this.options.clock.now() - ingestionTime;
      const delay = backoff(retries);
      if (error instanceof UnsupportedTargetError || retries >= policy.MaximumRetryAttempts || age + delay > policy.MaximumEventAgeInSeconds * 1000) {
        this.log(`events: giving up on ${eventId} for ${target.Arn} after ${retries + 1} attempt(s): ${message}`);
      } else {
        this.log(`events: delivery of ${eventId} to ${target.Arn} failed (${message}); retry in ${delay} ms`);
        const cancel = this.options.clock.schedule(delay, () => {
          this.retryTimers.delete(cancel);
          this.inFlight++;
          void this.attempt(rule, target, eventId, input, ingestionTime, policy, retries + 1);
        });
        this.retryTimers.add(cancel);
      }
    } finally {
      this.inFlight--;
      if (this.inFlight === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
    }
  }

  private async invoke(arn: string, input: string): Promise<void> {
    if (/^arn:[^:]+:states:[^:]*:[^:]*:stateMachine:/.test(arn)) {
      await this.options.stepFunctions.startExecution({ stateMachineArn: arn, input });
      return;
    }
    if (/^arn:[^:]+:lambda:[^:]*:[^:]*:function:/.test(arn)) {
      let payload: unknown = input;
      try {
        payload = JSON.parse(input);
      } catch {
        // A non-JSON Input is passed through as text.
      }
      this.options.lambda.invokeAsync(arn, payload);
      return;
    }
    throw new UnsupportedTargetError(`target ${arn} is neither a state machine nor a Lambda function`);
  }

  // -------------------------------------------------------------------------------------------
  // Schedules

  private arm(rule: Rule): void {
    this.disarm(rule);
    if (!this.started || !rule.schedule || rule.state !== 'ENABLED') return;
    const now = this.options.clock.now();
    const next = rule.schedule.next(now);
    if (next === undefined) return;
    rule.cancelTimer = this.options.clock.schedule(next - now, () => {
      delete rule.cancelTimer;
      this.fireSchedule(rule, next);
      this.arm(rule);
    });
  }

  private disarm(rule: Rule): void {
    rule.cancelTimer?.();
    delete rule.cancelTimer;
  }

  private fireSchedule(rule: Rule, at: number): void {
    const event: EventEnvelope = {
      version: '0',
      id: randomUUID(),
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: this.options.account,
      time: isoSeconds(at),
      region: this.options.region,
      resources: [rule.arn],
      detail: {},
    };
    this.log(`events: schedule ${rule.schedule?.expression ?? ''} fired rule ${rule.name}`);
    for (const target of rule.targets.values()) this.deliver(rule, target, event, at);
  }

  // -------------------------------------------------------------------------------------------
  // Archives and replays

  private archiveFile(archive: Archive): string | undefined {
    return this.options.dataDir ? join(this.options.dataDir, 'events', 'archive', `${archive.name}.jsonl`) : undefined;
  }

  private loadArchives(): void {
    for (const archive of this.archives.values()) {
      const file = this.archiveFile(archive);
      if (!file || !existsSync(file)) continue;
      for (const line of readFileSync(file, 'utf8').split('\n')) {
        if (!line.trim()) continue;
        const record = JSON.parse(line) as { time: number; event: EventEnvelope };
        archive.events.push(record);
        archive.sizeBytes += Buffer.byteLength(line);
      }
    }
  }

  private archive(busName: string, event: EventEnvelope): void {
    for (const archive of this.archives.values()) {
      if (archive.bus !== busName || event['replay-name'] !== undefined || !matchesPattern(archive.pattern, event)) continue;
      const record = { time: Date.parse(event.time), event };
      const line = JSON.stringify(record);
      archive.events.push(record);
      archive.sizeBytes += Buffer.byteLength(line);
      const file = this.archiveFile(archive);
      if (file) {
        mkdirSync(join(file, '..'), { recursive: true });
        appendFileSync(file, `${line}\n`);
      }
    }
  }

  private describeArchive(input: Record<string, unknown>): unknown {
    const archive = this.archiveByName(requiredString(input, 'ArchiveName'));
    return {
      ArchiveArn: archive.arn,
      ArchiveName: archive.name,
      EventSourceArn: this.busArn(archive.bus),
      EventPattern: archive.pattern.source,
      State: 'ENABLED',
      RetentionDays: archive.retentionDays,
      SizeBytes: archive.sizeBytes,
      EventCount: archive.events.length,
      CreationTime: archive.creationTime / 1000,
    };
  }

  private listArchives(input: Record<string, unknown>): unknown {
    const prefix = optionalString(input, 'NamePrefix') ?? '';
    const source = optionalString(input, 'EventSourceArn');
    return {
      Archives: [...this.archives.values()]
        .filter((a) => a.name.startsWith(prefix) && (!source || this.busArn(a.bus) === source))
        .map((a) => ({
          ArchiveName: a.name,
          EventSourceArn: this.busArn(a.bus),
          State: 'ENABLED',
          RetentionDays: a.retentionDays,
          SizeBytes: a.sizeBytes,
          EventCount: a.events.length,
          CreationTime: a.creationTime / 1000,
        })),
    };
  }

  private archiveByName(name: string): Archive {
    const archive = this.archives.get(name);
    if (!archive) throw new AwsServiceError('ResourceNotFoundException', `Archive ${name} does not exist.`);
    return archive;
  }

  private startReplay(input: Record<string, unknown>): unknown {
    const name = requiredString(input, 'ReplayName');
    if (!RULE_NAME.test(name)) throw validation(`ReplayName "${name}" must be 1-64 characters of [.-_A-Za-z0-9]`);
    if (this.replays.has(name)) throw new AwsServiceError('ResourceAlreadyExistsException', `Replay ${name} already exists.`);
    const sourceArn = requiredString(input, 'EventSourceArn');
    const archive = [...this.archives.values()].find((a) => a.arn === sourceArn);
    if (!archive) throw new AwsServiceError('ResourceNotFoundException', `Archive ${sourceArn.split('/').pop() ?? sourceArn} does not exist.`);
    const start = input.EventStartTime;
    const end = input.EventEndTime;
    if (typeof start !== 'number' || typeof end !== 'number') throw validation('EventStartTime and EventEndTime are required');
    if (end <= start) throw validation('Parameter EventEndTime is not valid. Reason: EventStartTime must be before EventEndTime.');
    const destination = input.Destination as { Arn?: unknown; FilterArns?: unknown } | undefined;
    if (!destination || typeof destination.Arn !== 'string') throw validation('Destination.Arn is required');
    if (destination.Arn !== this.busArn(archive.bus)) {
      throw validation(`Parameter Destination.Arn is not valid. Reason: Cross event bus replay is not permitted (the archive's bus is ${this.busArn(archive.bus)}).`);
    }
    const filterArns = Array.isArray(destination.FilterArns) ? (destination.FilterArns as string[]) : undefined;
    const now = this.options.clock.now();
    const replay: Replay = {
      name,
      arn: `arn:aws:events:${this.options.region}:${this.options.account}:replay/${name}`,
      archive,
      destination: { Arn: destination.Arn, ...(filterArns ? { FilterArns: filterArns } : {}) },
      eventStartTime: start * 1000,
      eventEndTime: end * 1000,
      state: 'STARTING',
      replayStartTime: now,
    };
    this.replays.set(name, replay);
    setImmediate(() => this.runReplay(replay));
    return { ReplayArn: replay.arn, State: replay.state, ReplayStartTime: now / 1000 };
  }

  private runReplay(replay: Replay): void {
    replay.state = 'RUNNING';
    const only = replay.destination.FilterArns ? new Set(replay.destination.FilterArns) : undefined;
    for (const record of replay.archive.events) {
      if (record.time < replay.eventStartTime || record.time >= replay.eventEndTime) continue;
      const event: EventEnvelope = { ...record.event, 'replay-name': replay.name };
      this.route(replay.archive.bus, event, this.options.clock.now(), only);
      replay.eventLastReplayedTime = record.time;
    }
    replay.state = 'COMPLETED';
    replay.replayEndTime = this.options.clock.now();
    this.log(`events: replay ${replay.name} completed`);
  }

  private describeReplay(input: Record<string, unknown>): unknown {
    const name = requiredString(input, 'ReplayName');
    const replay = this.replays.get(name);
    if (!replay) throw new AwsServiceError('ResourceNotFoundException', `Replay ${name} does not exist.`);
    return { ...this.replayView(replay), ReplayArn: replay.arn, Destination: replay.destination };
  }

  private replayView(replay: Replay): Record<string, unknown> {
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

  // -------------------------------------------------------------------------------------------
  // Buses, rules, targets

  private addBus(name: string, now: number): void {
    this.buses.set(name, { name, arn: this.busArn(name), creationTime: now });
  }

  private busArn(name: string): string {
    return `arn:aws:events:${this.options.region}:${this.options.account}:event-bus/${name}`;
  }

  /** Accepts a bus name or ARN; absent means `default`. */
  private busNameOf(nameOrArn: unknown): string {
    if (typeof nameOrArn !== 'string' || nameOrArn === '') return 'default';
    const arn = /^arn:[^:]+:events:[^:]*:[^:]*:event-bus\/(.+)$/.exec(nameOrArn);
    return arn ? (arn[1] as string) : nameOrArn;
  }

  private requireBus(nameOrArn: unknown): string {
    const name = this.busNameOf(nameOrArn);
    if (!this.buses.has(name)) throw new AwsServiceError('ResourceNotFoundException', `Event bus ${name} does not exist.`);
    return name;
  }

  private ruleKey(bus: string, name: string): string {
    return `${bus}/${name}`;
  }

  private createRule(name: string, bus: string): Rule {
    const arn = bus === 'default'
      ? `arn:aws:events:${this.options.region}:${this.options.account}:rule/${name}`
      : `arn:aws:events:${this.options.region}:${this.options.account}:rule/${bus}/${name}`;
    const rule: Rule = { name, bus, arn, state: 'ENABLED', targets: new Map() };
    this.rules.set(this.ruleKey(bus, name), rule);
    return rule;
  }

  private requireRule(input: Record<string, unknown>, field: 'Name' | 'Rule'): Rule {
    const name = requiredString(input, field);
    const bus = this.requireBus(input.EventBusName);
    const rule = this.rules.get(this.ruleKey(bus, name));
    if (!rule) throw new AwsServiceError('ResourceNotFoundException', `Rule ${name} does not exist on EventBus ${bus}.`);
    return rule;
  }

  private describeEventBus(input: Record<string, unknown>): unknown {
    const bus = this.buses.get(this.requireBus(input.Name));
    return { Name: bus?.name, Arn: bus?.arn, CreationTime: (bus?.creationTime ?? 0) / 1000, LastModifiedTime: (bus?.creationTime ?? 0) / 1000 };
  }

  private listEventBuses(input: Record<string, unknown>): unknown {
    const prefix = optionalString(input, 'NamePrefix') ?? '';
    const all = [...this.buses.values()].filter((b) => b.name.startsWith(prefix)).map((b) => ({ Name: b.name, Arn: b.arn }));
    return paginate(all, input, 'EventBuses');
  }

  private putRule(input: Record<string, unknown>): unknown {
    const name = requiredString(input, 'Name');
    if (!RULE_NAME.test(name)) throw validation(`Rule name "${name}" must be 1-64 characters of [.-_A-Za-z0-9]`);
    const bus = this.requireBus(input.EventBusName);
    const patternText = optionalString(input, 'EventPattern');
    const scheduleText = optionalString(input, 'ScheduleExpression');
    if (patternText === undefined && scheduleText === undefined) throw validation('Parameter(s) EventPattern or ScheduleExpression must be specified.');
    if (scheduleText !== undefined && bus !== 'default') throw validation('ScheduleExpression is supported only on the default event bus.');
    if (patternText !== undefined && patternText.length > MAX_EVENT_PATTERN_LENGTH) {
      throw new AwsServiceError('InvalidEventPatternException', `Event pattern is not valid. Reason: the pattern is ${patternText.length} characters; the maximum is ${MAX_EVENT_PATTERN_LENGTH}`);
    }
    const pattern = patternText !== undefined ? compilePattern(patternText) : undefined;
    const schedule = scheduleText !== undefined ? parseSchedule(scheduleText, this.options.clock.now()) : undefined;
    const state = optionalString(input, 'State') ?? 'ENABLED';
    if (state !== 'ENABLED' && state !== 'DISABLED') throw validation(`State "${state}" must be ENABLED or DISABLED`);
    const rule = this.rules.get(this.ruleKey(bus, name)) ?? this.createRule(name, bus);
    if (pattern) rule.eventPattern = pattern;
    else delete rule.eventPattern;
    if (schedule) rule.schedule = schedule;
    else delete rule.schedule;
    rule.state = state;
    const description = optionalString(input, 'Description');
    if (description !== undefined) rule.description = description;
    this.arm(rule);
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

  private describeRule(input: Record<string, unknown>): unknown {
    return { ...this.ruleView(this.requireRule(input, 'Name')), CreatedBy: this.options.account };
  }

  private listRules(input: Record<string, unknown>): unknown {
    const bus = this.requireBus(input.EventBusName);
    const prefix = optionalString(input, 'NamePrefix') ?? '';
    const rules = [...this.rules.values()].filter((r) => r.bus === bus && r.name.startsWith(prefix)).sort((a, b) => a.name.localeCompare(b.name));
    return paginate(rules.map((r) => this.ruleView(r)), input, 'Rules');
  }

  private setRuleState(input: Record<string, unknown>, state: 'ENABLED' | 'DISABLED'): unknown {
    const rule = this.requireRule(input, 'Name');
    rule.state = state;
    this.arm(rule);
    return {};
  }

  private deleteRule(input: Record<string, unknown>): unknown {
    const rule = this.requireRule(input, 'Name');
    if (rule.targets.size > 0) throw validation("Rule can't be deleted since it has targets.");
    this.disarm(rule);
    this.rules.delete(this.ruleKey(rule.bus, rule.name));
    return {};
  }

  private putTargets(input: Record<string, unknown>): unknown {
    const rule = this.requireRule(input, 'Rule');
    const targets = input.Targets;
    if (!Array.isArray(targets) || targets.length < 1 || targets.length > 10) {
      throw validation("1 validation error detected: Value at 'targets' failed to satisfy constraint: Member must have length between 1 and 10");
    }
    const failed: { TargetId: string; ErrorCode: string; ErrorMessage: string }[] = [];
    const accepted: Target[] = [];
    for (const raw of targets as Record<string, unknown>[]) {
      const target = parseTarget(raw);
      if (!/^arn:[^:]+:(states:[^:]*:[^:]*:stateMachine:|lambda:[^:]*:[^:]*:function:)/.test(target.Arn)) {
        failed.push({ TargetId: target.Id, ErrorCode: 'ValidationException', ErrorMessage: `Target ${target.Id}: ${target.Arn} is not a target the local cloud delivers to (a Step Functions state machine or a Lambda function)` });
        continue;
      }
      accepted.push(target);
    }
    if (rule.targets.size + accepted.filter((t) => !rule.targets.has(t.Id)).length > 5) {
      throw new AwsServiceError('LimitExceededException', `The requested resource exceeds the maximum number allowed: a rule has at most 5 targets (rule ${rule.name}).`);
    }
    for (const target of accepted) rule.targets.set(target.Id, target);
    return { FailedEntryCount: failed.length, FailedEntries: failed };
  }

  private removeTargets(input: Record<string, unknown>): unknown {
    const rule = this.requireRule(input, 'Rule');
    const ids = input.Ids;
    if (!Array.isArray(ids) || ids.length < 1 || ids.length > 100) throw validation("1 validation error detected: Value at 'ids' failed to satisfy constraint: Member must have length between 1 and 100");
    const failed: { TargetId: string; ErrorCode: string; ErrorMessage: string }[] = [];
    for (const id of ids as string[]) {
      if (!rule.targets.delete(id)) failed.push({ TargetId: id, ErrorCode: 'ResourceNotFoundException', ErrorMessage: `Target ${id} does not exist on rule ${rule.name}.` });
    }
    return { FailedEntryCount: failed.length, FailedEntries: failed };
  }

  private listTargetsByRule(input: Record<string, unknown>): unknown {
    const rule = this.requireRule(input, 'Rule');
    return paginate([...rule.targets.values()], input, 'Targets');
  }

  private testEventPattern(input: Record<string, unknown>): unknown {
    const patternText = requiredString(input, 'EventPattern');
    const eventText = requiredString(input, 'Event');
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
}

class UnsupportedTargetError extends Error {
  override readonly name = 'UnsupportedTargetError';
}

function parseTarget(raw: Record<string, unknown>): Target {
  const id = raw.Id;
  const arn = raw.Arn;
  if (typeof id !== 'string' || !/^[.\-_A-Za-z0-9]{1,64}$/.test(id)) throw validation('Target Id is required: 1-64 characters of [.-_A-Za-z0-9]');
  if (typeof arn !== 'string' || arn.length === 0) throw validation(`Target ${id}: Arn is required`);
  const given = ['Input', 'InputPath', 'InputTransformer'].filter((k) => raw[k] !== undefined);
  if (given.length > 1) throw validation(`Target ${id}: only one of Input, InputPath and InputTransformer may be set (got ${given.join(', ')})`);
  const target: { -readonly [K in keyof Target]: Target[K] } = { Id: id, Arn: arn };
  if (typeof raw.Input === 'string') {
    if (raw.Input.length > 8192) throw validation(`Target ${id}: Input is longer than 8192 characters`);
    try {
      JSON.parse(raw.Input);
    } catch {
      throw validation(`Target ${id}: Input is not valid JSON text`);
    }
    target.Input = raw.Input;
  }
  if (typeof raw.InputPath === 'string') {
    if (raw.InputPath.length > 256) throw validation(`Target ${id}: InputPath is longer than 256 characters`);
    parseJsonPath(raw.InputPath, `Target ${id} InputPath`);
    target.InputPath = raw.InputPath;
  }
  if (raw.InputTransformer !== undefined) {
    const transformer = raw.InputTransformer as { InputPathsMap?: Record<string, string>; InputTemplate: string };
    validateInputTransformer(transformer, id);
    target.InputTransformer = transformer;
  }
  const retry = raw.RetryPolicy as { MaximumRetryAttempts?: unknown; MaximumEventAgeInSeconds?: unknown } | undefined;
  if (retry) {
    const attempts = retry.MaximumRetryAttempts;
    const age = retry.MaximumEventAgeInSeconds;
    if (attempts !== undefined && (typeof attempts !== 'number' || !Number.isInteger(attempts) || attempts < 0 || attempts > 185)) {
      throw validation(`Target ${id}: RetryPolicy.MaximumRetryAttempts must be an integer 0-185`);
    }
    if (age !== undefined && (typeof age !== 'number' || !Number.isInteger(age) || age < 60 || age > 86_400)) {
      throw validation(`Target ${id}: RetryPolicy.MaximumEventAgeInSeconds must be an integer 60-86400`);
    }
    target.RetryPolicy = {
      ...(typeof attempts === 'number' ? { MaximumRetryAttempts: attempts } : {}),
      ...(typeof age === 'number' ? { MaximumEventAgeInSeconds: age } : {}),
    };
  }
  return target;
}

/** "Calculating PutEvents event entry size": Time counts 14 bytes, plus the UTF-8 bytes of the strings. */
export function entrySize(entry: PutEventsEntry): number {
  let size = entry.Time !== undefined ? 14 : 0;
  for (const text of [entry.Source, entry.DetailType, entry.Detail]) if (text !== undefined) size += Buffer.byteLength(text, 'utf8');
  for (const resource of entry.Resources ?? []) size += Buffer.byteLength(resource, 'utf8');
  return size;
}

/** Exponential backoff with jitter: 1 s, 2 s, 4 s … capped at 5 minutes, each scaled by 0.5-1.0. */
function backoff(retries: number): number {
  const base = Math.min(MAX_BACKOFF_MS, BASE_BACKOFF_MS * 2 ** Math.min(retries, 20));
  return Math.round(base * (0.5 + Math.random() * 0.5));
}

function isoSeconds(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

function validation(message: string): AwsServiceError {
  return new AwsServiceError('ValidationException', message);
}

function requiredString(input: Record<string, unknown>, field: string): string {
  const value = input[field];
  if (typeof value !== 'string' || value === '') throw validation(`1 validation error detected: Value at '${field}' failed to satisfy constraint: Member must not be null`);
  return value;
}

function optionalString(input: Record<string, unknown>, field: string): string | undefined {
  const value = input[field];
  return typeof value === 'string' ? value : undefined;
}

function paginate<T>(items: readonly T[], input: Record<string, unknown>, key: string): Record<string, unknown> {
  const start = typeof input.NextToken === 'string' ? Number(input.NextToken) || 0 : 0;
  const limit = typeof input.Limit === 'number' && input.Limit > 0 ? Math.min(input.Limit, 100) : 100;
  const page = items.slice(start, start + limit);
  const next = start + limit < items.length ? String(start + limit) : undefined;
  return { [key]: page, ...(next ? { NextToken: next } : {}) };
}
