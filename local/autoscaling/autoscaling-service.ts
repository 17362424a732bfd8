/**
 * Local Application Auto Scaling for the emulated async endpoints: the policies the CDK stack
 * deploys (workflows/scaling-policies.ts, rendered by infra/constructs/endpoint-scaling.ts), evaluated every minute of Clock time —
 * - target tracking on the utilization metric read as `FILL(utilization, 0)`: 3 of 3 datapoints
 *   above target → ceil(current × metric ÷ target); 15 of 15 below 90 % of it → scale in the same
 *   way; scale-out and scale-in cooldowns; no scale-in while a scale-out cooldown runs;
 * - step scaling out of zero on `IF(hbwc >= 1, backlog, 0)` (the backlog while no instance serves):
 *   the step whose bound the backlog reaches adds its instances; cooldown as AWS step scaling;
 * - step scaling out on utilization far above target after one datapoint (PercentChangeInCapacity);
 * - step scaling in on low utilization with ≥ N instances (PercentChangeInCapacity, AWS rounding);
 * - scheduled actions that set min/max.
 * While instances are starting (desired ≠ in service) the endpoint is Updating and SageMaker refuses
 * capacity changes, so dynamic scaling waits. Wire API: AWS JSON 1.1, `AnyScaleFrontendService.*`.
 */
import type { MetricDataQuery, CloudWatchService } from '../cloudwatch/cloudwatch-service';
import type { Clock } from '../clock';
import { AwsServiceError } from '../edge/errors';
import { jsonService } from '../edge/json-protocol';
import type { ServiceHandler } from '../edge/types';
import type { EndpointCapacityPort } from '../ports';
import { endpointScalingPolicies, SCALABLE_DIMENSION as DIMENSION, stepFor, stepPolicies, type AlarmDescription, type EndpointScalingPolicies, type MetricStatQuery, type StepAdjustment, type StepScalingPolicy } from '../../topology/scaling-policies';
import type { ScalingSpec } from '../../topology/topology';
import { percentAdjustment } from './step-scaling';
import { parseActionSchedule, type ActionSchedule } from './schedule';

const PERIOD_MS = 60_000;
const SCALE_OUT_DATAPOINTS = 3;
const SCALE_IN_DATAPOINTS = 15;
/**
 * CloudWatch retrieves more periods than an alarm evaluates (its "evaluation range") and, when recent
 * ones are missing, evaluates the most recent real datapoints: that is how alarms on late metrics
 * (SageMaker's arrive minutes after their period) still act.
 */
const EVALUATION_RANGE_EXTRA_PERIODS = 5;

export interface AutoScalingEndpoint {
  readonly name: string;
  readonly variantName: string;
  readonly scaling: ScalingSpec;
}

export interface AutoScalingServiceOptions {
  readonly clock: Clock;
  readonly region: string;
  readonly account: string;
  readonly endpoints: readonly AutoScalingEndpoint[];
  readonly metrics: Pick<CloudWatchService, 'getMetricData'>;
  readonly capacity: EndpointCapacityPort;
  readonly log?: (line: string) => void;
}

export interface ScalingActivity {
  readonly ActivityId: string;
  readonly ServiceNamespace: 'sagemaker';
  readonly ResourceId: string;
  readonly ScalableDimension: string;
  readonly Description: string;
  readonly Cause: string;
  readonly StartTime: number;
  readonly EndTime: number;
  readonly StatusCode: 'Successful';
  readonly StatusMessage: string;
}

interface ScheduledAction {
  readonly name: string;
  readonly schedule: string;
  readonly timezone: string;
  readonly min: number | undefined;
  readonly max: number | undefined;
  readonly created: number;
  readonly parsed: ActionSchedule;
}

interface Target {
  readonly endpoint: AutoScalingEndpoint;
  readonly policies: EndpointScalingPolicies;
  readonly resourceId: string;
  readonly created: number;
  min: number;
  max: number;
  lastScaleOut: number;
  lastScaleIn: number;
  /** Per step scale-out policy: until when its cooldown runs, and the capacity before the scale-out that started it. */
  readonly stepOutCooldowns: Map<string, { until: number; base: number }>;
  stepScaleInUntil: number;
  readonly scheduled: Map<string, ScheduledAction>;
}

type Raw = Record<string, unknown>;

export class AutoScalingService {
  readonly handler: ServiceHandler;
  private readonly targets = new Map<string, Target>();
  private readonly activities: ScalingActivity[] = [];
  private cancelTick: (() => void) | undefined;
  private lastEvaluation: number;
  private activitySeq = 0;

  constructor(private readonly options: AutoScalingServiceOptions) {
    const now = options.clock.now();
    this.lastEvaluation = now;
    for (const endpoint of options.endpoints) {
      const policies = endpointScalingPolicies(endpoint);
      const { resourceId } = policies;
      const target: Target = { endpoint, policies, resourceId, created: now, min: endpoint.scaling.minCapacity, max: endpoint.scaling.maxCapacity, lastScaleOut: -Infinity, lastScaleIn: -Infinity, stepOutCooldowns: new Map(), stepScaleInUntil: -Infinity, scheduled: new Map() };
      for (const a of endpoint.scaling.scheduledActions) {
        target.scheduled.set(a.name, { name: a.name, schedule: a.schedule, timezone: a.timezone, min: a.minCapacity, max: a.maxCapacity, created: now, parsed: parseActionSchedule(a.schedule, a.timezone, now) });
      }
      this.targets.set(resourceId, target);
    }
    this.handler = jsonService({
      name: 'application-autoscaling',
      signingNames: ['application-autoscaling'],
      targetPrefix: 'AnyScaleFrontendService',
      version: '1.1',
      operations: {
        DescribeScalableTargets: (input) => this.describeScalableTargets(input),
        DescribeScalingPolicies: (input) => this.describeScalingPolicies(input),
        DescribeScalingActivities: (input) => this.describeScalingActivities(input),
        DescribeScheduledActions: (input) => this.describeScheduledActions(input),
        PutScheduledAction: (input) => this.putScheduledAction(input),
        RegisterScalableTarget: (input) => this.registerScalableTarget(input),
      },
    });
  }

  /** Evaluates every minute of clock time. */
  start(): void {
    if (this.cancelTick) return;
    const tick = () => {
      this.evaluate();
      this.cancelTick = this.options.clock.schedule(PERIOD_MS, tick);
    };
    this.cancelTick = this.options.clock.schedule(PERIOD_MS, tick);
  }

  close(): void {
    this.cancelTick?.();
    this.cancelTick = undefined;
  }

  scalingActivities(): readonly ScalingActivity[] {
    return this.activities;
  }

  /** One evaluation of scheduled actions, then step and target-tracking policies, for every target. */
  evaluate(): void {
    const now = this.options.clock.now();
    const since = this.lastEvaluation;
    this.lastEvaluation = now;
    for (const target of this.targets.values()) {
      for (const action of target.scheduled.values()) {
        const due = action.parsed.next(since);
        if (due !== undefined && due <= now) this.runScheduled(target, action);
      }
      this.evaluateDynamic(target, now);
    }
  }

  private runScheduled(target: Target, action: ScheduledAction): void {
    if (action.min !== undefined) target.min = action.min;
    if (action.max !== undefined) target.max = action.max;
    if (target.min > target.max) target.max = target.min;
    const { desired } = this.capacityOf(target);
    const clamped = Math.min(target.max, Math.max(target.min, desired));
    this.change(target, desired, clamped, `scheduled action ${action.name} set min ${target.min}, max ${target.max}`);
  }

  private evaluateDynamic(target: Target, now: number): void {
    const { current, desired } = this.capacityOf(target);
    if (current !== desired) return; // endpoint Updating: SageMaker rejects capacity changes
    const end = Math.floor(now / PERIOD_MS) * PERIOD_MS;
    // The scale-from-zero alarm acts from the first minute; the utilization ones once their whole window follows the target's creation.
    if (this.stepScaleOut(target, target.policies.scaleFromZero, 'backlog without capacity', end, now, desired)) return;
    if (this.alarmHasHistory(target, target.policies.stepScaleOut.alarm, end) && this.stepScaleOut(target, target.policies.stepScaleOut, 'high utilization', end, now, desired)) return;
    if (this.stepScaleIn(target, end, now, desired)) return;
    const tt = target.policies.targetTracking;
    const { metricName } = tt.metric;
    // The alarms exist from the target's creation: earlier periods are not datapoints.
    const firstPeriod = Math.ceil(target.created / PERIOD_MS) * PERIOD_MS;
    const values = this.filledUtilization(end, tt.metric).filter((_, i) => end - (SCALE_IN_DATAPOINTS - i) * PERIOD_MS >= firstPeriod);
    const latest = values[values.length - 1] ?? 0;
    const high = values.slice(-SCALE_OUT_DATAPOINTS);
    if (high.length === SCALE_OUT_DATAPOINTS && high.every((v) => v > tt.targetValue)) {
      const next = Math.ceil((desired * latest) / tt.targetValue);
      if (next > desired && now >= target.lastScaleOut + tt.scaleOutCooldownSeconds * 1000) {
        if (this.change(target, desired, next, `${metricName} ${fmt(latest)} > ${tt.targetValue}, ${SCALE_OUT_DATAPOINTS}/${SCALE_OUT_DATAPOINTS} datapoints`)) target.lastScaleOut = now;
      }
      return;
    }
    const low = 0.9 * tt.targetValue;
    if (values.length < SCALE_IN_DATAPOINTS || !values.every((v) => v < low)) return;
    const next = Math.ceil((desired * latest) / tt.targetValue);
    if (next < desired && now >= target.lastScaleIn + tt.scaleInCooldownSeconds * 1000 && now >= target.lastScaleOut + tt.scaleOutCooldownSeconds * 1000) {
      if (this.change(target, desired, next, `${metricName} ${fmt(latest)} < ${fmt(low)}, ${SCALE_IN_DATAPOINTS}/${SCALE_IN_DATAPOINTS} datapoints`)) target.lastScaleIn = now;
    }
  }

  /**
   * A step scale-out policy (out of zero on the backlog, or far above the utilization target): its
   * alarm picks the step by the datapoints' average. Within the cooldown a breach adds only what its
   * step exceeds the scale-out that started the cooldown (AWS step-scaling semantics).
   */
  private stepScaleOut(target: Target, policy: StepScalingPolicy, label: string, end: number, now: number, desired: number): boolean {
    const breach = this.breach(policy, end);
    if (!breach) return false;
    const cooldown = target.stepOutCooldowns.get(policy.policyName);
    const base = cooldown && now < cooldown.until ? cooldown.base : desired;
    const next = adjusted(policy, breach.step, base);
    if (next <= desired) return false;
    if (!this.change(target, desired, next, `${label} ${breach.cause}: ${adjustmentText(policy, breach.step)}`)) return false;
    target.lastScaleOut = now;
    target.stepOutCooldowns.set(policy.policyName, { until: now + policy.cooldownSeconds * 1000, base });
    return true;
  }

  /**
   * The step scale-in policy: its alarm on utilization (with enough instances in service) removes
   * the step's percentage, rounded as AWS rounds it; no evaluation within its cooldown.
   */
  private stepScaleIn(target: Target, end: number, now: number, desired: number): boolean {
    const policy = target.policies.stepScaleIn;
    if (now < target.stepScaleInUntil) return false;
    if (!this.alarmHasHistory(target, policy.alarm, end)) return false;
    const breach = this.breach(policy, end);
    if (!breach) return false;
    if (!this.change(target, desired, adjusted(policy, breach.step, desired), `low utilization ${breach.cause}: ${adjustmentText(policy, breach.step)}`)) return false;
    target.stepScaleInUntil = now + policy.cooldownSeconds * 1000;
    return true;
  }

  /** Whether every evaluation period of the alarm lies after the target's creation. */
  private alarmHasHistory(target: Target, alarm: AlarmDescription, end: number): boolean {
    const firstPeriod = Math.ceil(target.created / PERIOD_MS) * PERIOD_MS;
    return end - alarm.evaluationPeriods * alarm.periodSeconds * 1000 >= firstPeriod;
  }

  /**
   * The policy's alarm over the periods ending at `end`: when enough datapoints breach (missing ones
   * do not), the step their average falls in and the cause to record.
   */
  private breach(policy: StepScalingPolicy, end: number): { step: StepAdjustment; cause: string } | undefined {
    const { alarm } = policy;
    const below = alarm.comparisonOperator === 'LessThanThreshold';
    const values = this.series(end, alarm.evaluationPeriods, alarm.periodSeconds, alarmQueries(alarm));
    const breaching = values.filter((v): v is number => v !== undefined && (below ? v < alarm.threshold : v >= alarm.threshold));
    if (breaching.length < alarm.datapointsToAlarm) return undefined;
    const value = breaching.reduce((a, b) => a + b, 0) / breaching.length;
    const step = stepFor(policy, value);
    if (!step) return undefined;
    return { step, cause: `alarm ${fmt(value)} ${below ? '<' : '≥'} ${fmt(alarm.threshold)}, ${alarm.datapointsToAlarm}/${alarm.evaluationPeriods} datapoints` };
  }

  /** The last `SCALE_IN_DATAPOINTS` one-minute periods of `FILL(utilization, 0)`, oldest first. */
  private filledUtilization(end: number, metric: MetricStatQuery): number[] {
    const raw = this.series(end, SCALE_IN_DATAPOINTS, 60, [{ ...metricStatQuery(metric, 60), ReturnData: true }]);
    return raw.map((v) => v ?? 0);
  }

  /**
   * `count` datapoints as an alarm evaluates them, oldest first: the last `count` periods ending at
   * `end`, or, when some are missing but the evaluation range holds `count` real ones, those; else
   * undefined where a period has no data.
   */
  private series(end: number, count: number, periodSeconds: number, queries: readonly MetricDataQuery[]): (number | undefined)[] {
    const periods = count + EVALUATION_RANGE_EXTRA_PERIODS;
    const start = end - periods * periodSeconds * 1000;
    const result = this.options.metrics.getMetricData(queries, start, end, { scanBy: 'TimestampAscending' }).MetricDataResults[0];
    const byTime = new Map<number, number>();
    result?.Timestamps.forEach((t, i) => byTime.set(t.getTime(), result.Values[i] as number));
    const range = Array.from({ length: periods }, (_, i) => byTime.get(start + i * periodSeconds * 1000));
    const real = range.filter((v): v is number => v !== undefined);
    return real.length >= count ? real.slice(-count) : range.slice(-count);
  }

  private capacityOf(target: Target): { current: number; desired: number } {
    return this.options.capacity.getCapacity(target.endpoint.name, target.endpoint.variantName);
  }

  /** Clamps, applies and records a change; false when nothing changes. */
  private change(target: Target, from: number, to: number, cause: string): boolean {
    const next = Math.min(target.max, Math.max(target.min, to));
    if (next === from) return false;
    this.options.capacity.setDesiredInstanceCount(target.endpoint.name, target.endpoint.variantName, next);
    const now = this.options.clock.now();
    const clampNote = next !== to ? ` (clamped to [${target.min}, ${target.max}])` : '';
    this.activities.unshift({
      ActivityId: `${now.toString(16)}-${(this.activitySeq++).toString(16).padStart(6, '0')}`,
      ServiceNamespace: 'sagemaker',
      ResourceId: target.resourceId,
      ScalableDimension: DIMENSION,
      Description: `Setting desired instance count to ${next}.`,
      Cause: `${cause}${clampNote}`,
      StartTime: now / 1000,
      EndTime: now / 1000,
      StatusCode: 'Successful',
      StatusMessage: `Successfully set desired instance count to ${next}. Change successfully fulfilled by sagemaker.`,
    });
    this.options.log?.(`autoscaling: ${target.endpoint.name} ${from} → ${next} (${cause}${clampNote})`);
    return true;
  }

  // ---- wire API ----

  private select(input: Raw): Target[] {
    if (input['ServiceNamespace'] !== 'sagemaker') {
      throw new AwsServiceError('ValidationException', `ServiceNamespace must be "sagemaker" here (got ${JSON.stringify(input['ServiceNamespace'])})`);
    }
    const dimension = input['ScalableDimension'];
    if (dimension !== undefined && dimension !== DIMENSION) throw new AwsServiceError('ValidationException', `ScalableDimension must be ${DIMENSION}`);
    const ids = input['ResourceIds'] ?? (input['ResourceId'] === undefined ? undefined : [input['ResourceId']]);
    if (ids !== undefined && !Array.isArray(ids)) throw new AwsServiceError('ValidationException', 'ResourceIds must be a list');
    return [...this.targets.values()].filter((t) => ids === undefined || (ids as unknown[]).includes(t.resourceId));
  }

  private target(input: Raw): Target {
    const [target] = this.select({ ...input, ResourceIds: undefined });
    const id = input['ResourceId'];
    if (typeof id !== 'string') throw new AwsServiceError('ValidationException', 'ResourceId is required');
    if (input['ScalableDimension'] !== DIMENSION) throw new AwsServiceError('ValidationException', `ScalableDimension must be ${DIMENSION}`);
    const found = this.targets.get(id);
    if (!found || !target) throw new AwsServiceError('ObjectNotFoundException', `No scalable target registered for service namespace: sagemaker, resource ID: ${id}, scalable dimension: ${DIMENSION}`);
    return found;
  }

  private arn(kind: string, rest: string): string {
    return `arn:aws:autoscaling:${this.options.region}:${this.options.account}:${kind}:${rest}`;
  }

  private describeScalableTargets(input: Raw): unknown {
    return {
      ScalableTargets: this.select(input).map((t) => ({
        ServiceNamespace: 'sagemaker',
        ResourceId: t.resourceId,
        ScalableDimension: DIMENSION,
        MinCapacity: t.min,
        MaxCapacity: t.max,
        RoleARN: `arn:aws:iam::${this.options.account}:role/aws-service-role/sagemaker.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint`,
        CreationTime: t.created / 1000,
        SuspendedState: { DynamicScalingInSuspended: false, DynamicScalingOutSuspended: false, ScheduledScalingSuspended: false },
        ScalableTargetARN: this.arn('scalable-target', t.resourceId),
      })),
    };
  }

  private describeScalingPolicies(input: Raw): unknown {
    return {
      ScalingPolicies: this.select(input).flatMap((t) => {
        const { targetTracking: tt } = t.policies;
        const common = { ServiceNamespace: 'sagemaker', ResourceId: t.resourceId, ScalableDimension: DIMENSION, CreationTime: t.created / 1000 };
        const alarmRef = (name: string) => ({ AlarmName: name, AlarmARN: `arn:aws:cloudwatch:${this.options.region}:${this.options.account}:alarm:${name}` });
        const policyArn = (name: string) => this.arn('scalingPolicy', `${t.resourceId}:policyName/${name}`);
        return [
          {
            ...common,
            PolicyName: tt.policyName,
            PolicyARN: policyArn(tt.policyName),
            PolicyType: tt.policyType,
            TargetTrackingScalingPolicyConfiguration: {
              TargetValue: tt.targetValue,
              ScaleOutCooldown: tt.scaleOutCooldownSeconds,
              ScaleInCooldown: tt.scaleInCooldownSeconds,
              CustomizedMetricSpecification: {
                Metrics: [
                  { ...metricStatQuery(tt.metric), ReturnData: false },
                  { Id: tt.expression.id, Expression: tt.expression.expression, Label: tt.expression.label, ReturnData: true },
                ],
              },
            },
            Alarms: [alarmRef(`TargetTracking-${t.resourceId}-AlarmHigh`), alarmRef(`TargetTracking-${t.resourceId}-AlarmLow`)],
          },
          ...stepPolicies(t.policies).map((policy) => ({
            ...common,
            PolicyName: policy.policyName,
            PolicyARN: policyArn(policy.policyName),
            PolicyType: policy.policyType,
            StepScalingPolicyConfiguration: {
              AdjustmentType: policy.adjustmentType,
              Cooldown: policy.cooldownSeconds,
              MetricAggregationType: policy.metricAggregationType,
              StepAdjustments: policy.stepAdjustments.map((step) => ({
                ...(step.lowerBound === undefined ? {} : { MetricIntervalLowerBound: step.lowerBound }),
                ...(step.upperBound === undefined ? {} : { MetricIntervalUpperBound: step.upperBound }),
                ScalingAdjustment: step.scalingAdjustment,
              })),
            },
            Alarms: [alarmRef(policy.alarm.name)],
          })),
        ];
      }),
    };
  }

  private describeScalingActivities(input: Raw): unknown {
    const ids = new Set(this.select(input).map((t) => t.resourceId));
    return { ScalingActivities: this.activities.filter((a) => ids.has(a.ResourceId)) };
  }

  private describeScheduledActions(input: Raw): unknown {
    const names = input['ScheduledActionNames'];
    return {
      ScheduledActions: this.select(input).flatMap((t) =>
        [...t.scheduled.values()]
          .filter((a) => !Array.isArray(names) || names.includes(a.name))
          .map((a) => ({
            ScheduledActionName: a.name,
            ScheduledActionARN: this.arn('scheduledAction', `${t.resourceId}:scheduledActionName/${a.name}`),
            ServiceNamespace: 'sagemaker',
            Schedule: a.schedule,
            Timezone: a.timezone,
            ResourceId: t.resourceId,
            ScalableDimension: DIMENSION,
            ScalableTargetAction: { ...(a.min === undefined ? {} : { MinCapacity: a.min }), ...(a.max === undefined ? {} : { MaxCapacity: a.max }) },
            CreationTime: a.created / 1000,
          })),
      ),
    };
  }

  private putScheduledAction(input: Raw): unknown {
    const target = this.target(input);
    const name = input['ScheduledActionName'];
    if (typeof name !== 'string' || name.length < 1 || name.length > 256 || /[:/|]/.test(name)) {
      throw new AwsServiceError('ValidationException', 'ScheduledActionName must be 1-256 characters without ":", "/" or "|"');
    }
    const existing = target.scheduled.get(name);
    const schedule = input['Schedule'] ?? existing?.schedule;
    if (typeof schedule !== 'string') throw new AwsServiceError('ValidationException', 'Schedule is required for a new scheduled action');
    const timezone = typeof input['Timezone'] === 'string' ? input['Timezone'] : (existing?.timezone ?? 'UTC');
    const action = (input['ScalableTargetAction'] ?? {}) as Raw;
    const min = capacityField(action, 'MinCapacity') ?? existing?.min;
    const max = capacityField(action, 'MaxCapacity') ?? existing?.max;
    if (min !== undefined && max !== undefined && min > max) throw new AwsServiceError('ValidationException', `ScalableTargetAction.MinCapacity (${min}) must be ≤ MaxCapacity (${max})`);
    const now = this.options.clock.now();
    target.scheduled.set(name, { name, schedule, timezone, min, max, created: now, parsed: parseActionSchedule(schedule, timezone, now) });
    return {};
  }

  private registerScalableTarget(input: Raw): unknown {
    const target = this.target(input);
    const min = capacityField(input, 'MinCapacity') ?? target.min;
    const max = capacityField(input, 'MaxCapacity') ?? target.max;
    if (min > max) throw new AwsServiceError('ValidationException', `MinCapacity (${min}) must be ≤ MaxCapacity (${max})`);
    target.min = min;
    target.max = max;
    const { desired } = this.capacityOf(target);
    this.change(target, desired, desired, `RegisterScalableTarget set min ${min}, max ${max}`);
    return { ScalableTargetARN: this.arn('scalable-target', target.resourceId) };
  }
}

function capacityField(input: Raw, field: string): number | undefined {
  const value = input[field];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) throw new AwsServiceError('ValidationException', `${field} must be an integer ≥ 0`);
  return value;
}

/** The alarm's queries: its inputs, then the expression it compares. */
function alarmQueries(alarm: AlarmDescription): MetricDataQuery[] {
  return [...alarm.metrics.map((m) => ({ ...metricStatQuery(m, alarm.periodSeconds), ReturnData: false })), { Id: alarm.expression.id, Expression: alarm.expression.expression, ReturnData: true }];
}

function metricStatQuery(metric: MetricStatQuery, periodSeconds?: number): { Id: string; MetricStat: NonNullable<MetricDataQuery['MetricStat']> } {
  const period = metric.periodSeconds ?? periodSeconds;
  return {
    Id: metric.id,
    MetricStat: {
      Metric: { Namespace: metric.namespace, MetricName: metric.metricName, Dimensions: metric.dimensions.map((d) => ({ Name: d.name, Value: d.value })) },
      ...(period === undefined ? {} : { Period: period }),
      Stat: metric.stat,
    },
  };
}

/** As the cause names a step: `step +4` (ChangeInCapacity), `+200 %` or `-60 %` (PercentChangeInCapacity). */
function adjustmentText(policy: StepScalingPolicy, step: StepAdjustment): string {
  if (policy.adjustmentType === 'ChangeInCapacity') return `step +${step.scalingAdjustment}`;
  return `${step.scalingAdjustment > 0 ? '+' : ''}${step.scalingAdjustment} %`;
}

/** Capacity after the step from `base`: ChangeInCapacity adds, PercentChangeInCapacity rounds as AWS does. */
function adjusted(policy: StepScalingPolicy, step: StepAdjustment, base: number): number {
  return base + (policy.adjustmentType === 'ChangeInCapacity' ? step.scalingAdjustment : percentAdjustment(base, step.scalingAdjustment));
}

function fmt(value: number): string {
  return Number(value.toFixed(3)).toString();
}
