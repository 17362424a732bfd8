/**
 * The domain of local Application Auto Scaling: scalable targets with their bounds, cooldowns and
 * scheduled actions, and the policies' evaluation — the CloudWatch alarms each policy owns, read
 * through metric math, then the capacity change AWS would make (see autoscaling-service.ts for the
 * rules). The provider maps the wire API onto this; the store keeps it.
 */
import type { CloudWatchService, MetricDataQuery } from '../cloudwatch/cloudwatch-service';
import type { Clock } from '../clock';
import type { EndpointCapacityPort } from '../ports';
import { SCALABLE_DIMENSION as DIMENSION, stepFor, type AlarmDescription, type EndpointScalingPolicies, type MetricStatQuery, type StepAdjustment, type StepScalingPolicy } from '../../topology/scaling-policies';
import type { ScalingSpec } from '../../topology/topology';
import type { ActionSchedule } from './schedule';
import { percentAdjustment } from './step-scaling';
import type { AutoScalingStore } from './store';

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

export interface ScheduledAction {
  readonly name: string;
  readonly schedule: string;
  readonly timezone: string;
  readonly min: number | undefined;
  readonly max: number | undefined;
  readonly created: number;
  readonly parsed: ActionSchedule;
}

export interface Target {
  readonly endpoint: AutoScalingEndpoint;
  readonly policies: EndpointScalingPolicies;
  readonly resourceId: string;
  readonly created: number;
  min: number;
  max: number;
  lastScaleOut: number;
  /** The desired count before the scale-out that started the running scale-out cooldown. */
  scaleOutBase: number;
  lastScaleIn: number;
  /** Per step scale-out policy: until when its cooldown runs, and the capacity before the scale-out that started it. */
  readonly stepOutCooldowns: Map<string, { until: number; base: number }>;
  stepScaleInUntil: number;
  readonly scheduled: Map<string, ScheduledAction>;
}

export interface ScalingDeps {
  readonly clock: Clock;
  readonly metrics: Pick<CloudWatchService, 'getMetricData'>;
  readonly capacity: EndpointCapacityPort;
  readonly store: AutoScalingStore;
  readonly log?: ((line: string) => void) | undefined;
}

/** Evaluates each target's scheduled actions and policies, and applies the changes they call for. */
export class TargetScaling {
  private lastEvaluation: number;

  constructor(private readonly deps: ScalingDeps) {
    this.lastEvaluation = deps.clock.now();
  }

  /** One evaluation of scheduled actions, then step and target-tracking policies, for every target. */
  evaluate(): void {
    const now = this.deps.clock.now();
    const since = this.lastEvaluation;
    this.lastEvaluation = now;
    for (const target of this.deps.store.targets.values()) {
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
    // Two alarms, each over its own evaluation range; they exist from the target's creation, so
    // neither acts before its whole window follows it.
    const firstPeriod = Math.ceil(target.created / PERIOD_MS) * PERIOD_MS;
    const alarm = (count: number) => (end - count * PERIOD_MS >= firstPeriod ? this.utilization(end, count, tt.metric) : []);
    const high = alarm(SCALE_OUT_DATAPOINTS);
    const latest = high[high.length - 1] ?? 0;
    if (high.length === SCALE_OUT_DATAPOINTS && high.every((v) => v !== undefined && v > tt.targetValue)) {
      // Within the scale-out cooldown the capacity its scale-out added counts toward the next one:
      // only a larger scale-out (from the capacity before it) goes ahead.
      const inCooldown = now < target.lastScaleOut + tt.scaleOutCooldownSeconds * 1000;
      const next = Math.ceil(((inCooldown ? target.scaleOutBase : desired) * latest) / tt.targetValue);
      const cause = `${metricName} ${fmt(latest)} > ${tt.targetValue}, ${SCALE_OUT_DATAPOINTS}/${SCALE_OUT_DATAPOINTS} datapoints${inCooldown ? ' (larger than the scale-out in cooldown)' : ''}`;
      if (next > desired && this.change(target, desired, next, cause)) this.scaledOut(target, now, desired);
      return;
    }
    const low = 0.9 * tt.targetValue;
    const values = alarm(SCALE_IN_DATAPOINTS);
    if (values.length < SCALE_IN_DATAPOINTS || !values.every((v) => v !== undefined && v < low)) return;
    const lowest = values[values.length - 1] ?? 0;
    const next = Math.ceil((desired * lowest) / tt.targetValue);
    if (next < desired && now >= target.lastScaleIn + tt.scaleInCooldownSeconds * 1000 && now >= target.lastScaleOut + tt.scaleOutCooldownSeconds * 1000) {
      if (this.change(target, desired, next, `${metricName} ${fmt(lowest)} < ${fmt(low)}, ${SCALE_IN_DATAPOINTS}/${SCALE_IN_DATAPOINTS} datapoints`)) target.lastScaleIn = now;
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
    this.scaledOut(target, now, desired);
    target.stepOutCooldowns.set(policy.policyName, { until: now + policy.cooldownSeconds * 1000, base });
    return true;
  }

  /** Starts (or extends) the scale-out cooldown; a new one remembers the capacity it scaled out from. */
  private scaledOut(target: Target, now: number, before: number): void {
    if (now >= target.lastScaleOut + target.policies.targetTracking.scaleOutCooldownSeconds * 1000) target.scaleOutBase = before;
    target.lastScaleOut = now;
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
    const value = policy.metricAggregationType === 'Maximum' ? Math.max(...breaching) : breaching.reduce((a, b) => a + b, 0) / breaching.length;
    const step = stepFor(policy, value);
    if (!step) return undefined;
    return { step, cause: `alarm ${fmt(value)} ${below ? '<' : '≥'} ${fmt(alarm.threshold)}, ${alarm.datapointsToAlarm}/${alarm.evaluationPeriods} datapoints` };
  }

  /**
   * The utilization as one of target tracking's alarms reads it, oldest first: the most recent
   * `count` real datapoints in its range; a missing one (undefined) does not breach.
   */
  private utilization(end: number, count: number, metric: MetricStatQuery): (number | undefined)[] {
    return this.series(end, count, 60, [{ ...metricStatQuery(metric, 60), ReturnData: true }]);
  }

  /**
   * `count` datapoints as an alarm evaluates them, oldest first: the last `count` periods ending at
   * `end`, or, when some are missing but the evaluation range holds `count` real ones, those; else
   * undefined where a period has no data.
   */
  private series(end: number, count: number, periodSeconds: number, queries: readonly MetricDataQuery[]): (number | undefined)[] {
    const periods = count + EVALUATION_RANGE_EXTRA_PERIODS;
    const start = end - periods * periodSeconds * 1000;
    const result = this.deps.metrics.getMetricData(queries, start, end, { scanBy: 'TimestampAscending' }).MetricDataResults[0];
    const byTime = new Map<number, number>();
    result?.Timestamps.forEach((t, i) => byTime.set(t.getTime(), result.Values[i] as number));
    const range = Array.from({ length: periods }, (_, i) => byTime.get(start + i * periodSeconds * 1000));
    const real = range.filter((v): v is number => v !== undefined);
    return real.length >= count ? real.slice(-count) : range.slice(-count);
  }

  capacityOf(target: Target): { current: number; desired: number } {
    return this.deps.capacity.getCapacity(target.endpoint.name, target.endpoint.variantName);
  }

  /** Clamps, applies and records a change; false when nothing changes. */
  change(target: Target, from: number, to: number, cause: string): boolean {
    const next = Math.min(target.max, Math.max(target.min, to));
    if (next === from) return false;
    this.deps.capacity.setDesiredInstanceCount(target.endpoint.name, target.endpoint.variantName, next);
    const now = this.deps.clock.now();
    const clampNote = next !== to ? ` (clamped to [${target.min}, ${target.max}])` : '';
    this.deps.store.record({
      ActivityId: this.deps.store.nextActivityId(now),
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
    this.deps.log?.(`autoscaling: ${target.endpoint.name} ${from} → ${next} (${cause}${clampNote})`);
    return true;
  }
}

/** The alarm's queries: its inputs, then the expression it compares; or its one metric. */
function alarmQueries(alarm: AlarmDescription): MetricDataQuery[] {
  const { expression } = alarm;
  if (!expression) return alarm.metrics.map((m) => ({ ...metricStatQuery(m, alarm.periodSeconds), ReturnData: true }));
  return [...alarm.metrics.map((m) => ({ ...metricStatQuery(m, alarm.periodSeconds), ReturnData: false })), { Id: expression.id, Expression: expression.expression, ReturnData: true }];
}

export function metricStatQuery(metric: MetricStatQuery, periodSeconds?: number): { Id: string; MetricStat: NonNullable<MetricDataQuery['MetricStat']> } {
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
