/**
 * The simulator's Application Auto Scaling: each evaluation reads the alarms' datapoints and applies
 * at most one policy — scale from zero, step scale-out, step scale-in, then target tracking — with
 * AWS's cooldown semantics. The local autoscaler (local/autoscaling/) runs the same policies live.
 */
import { percentAdjustment } from '../autoscaling/step-scaling';
import type { PolicySpec } from './policies';
import { EVALUATION_RANGE_EXTRA_PERIODS, type AlarmView } from './signal';

/** What the alarms see when they are evaluated (signal.ts says when each datapoint becomes readable). */
export interface AlarmInputs extends AlarmView {
  readonly now: number;
  readonly desired: number;
  /** Instances starting or draining: the endpoint is Updating and SageMaker rejects capacity changes. */
  readonly updating: boolean;
}

/** Sets the desired count (clamped by the caller) and returns the count it became. */
export type SetDesired = (target: number, reason: string) => number;

export class PolicyController {
  private lastScaleOut = -Infinity;
  private lastScaleIn = -Infinity;
  // Step scaling's cooldown: a breach within it adds only what exceeds the scale-out that started it.
  private fromZeroCooldown = { until: -Infinity, base: 0 };
  private stepOutCooldown = { until: -Infinity, base: 0 };
  private stepScaleInUntil = -Infinity;
  /** The desired count before the target-tracking scale-out that started the running cooldown. */
  private trackingOutBase = 0;

  constructor(private readonly policy: PolicySpec) {}

  /** A scheduled action that raised the count starts target tracking's scale-out cooldown. */
  scaledOut(now: number, before: number): void {
    // A scale-out outside target tracking's cooldown starts one from the capacity before it.
    if (now >= this.lastScaleOut + (this.policy.targetTracking?.scaleOutCooldownSeconds ?? 0)) this.trackingOutBase = before;
    this.lastScaleOut = now;
  }

  evaluate(input: AlarmInputs, setDesired: SetDesired): void {
    // SageMaker rejects capacity changes while the endpoint is Updating (instances starting), so a
    // scaling activity holds further ones until it completes: no compounding on a stale metric.
    if (input.updating) return;
    if (this.scaleFromZero(input, setDesired)) return;
    if (this.stepScaleOut(input, setDesired)) return;
    if (this.stepScaleIn(input, setDesired)) return;
    this.targetTracking(input, setDesired);
  }

  private scaleFromZero({ now, desired, fromZero, fromZeroSeen }: AlarmInputs, setDesired: SetDesired): boolean {
    const sz = this.policy.scaleFromZero;
    if (!sz || fromZeroSeen < sz.evaluationPeriods) return false;
    const recent = fromZero.slice(fromZeroSeen - sz.evaluationPeriods, fromZeroSeen);
    if (!recent.every((v) => v >= sz.threshold)) return false;
    // MetricAggregationType Average over the breaching datapoints picks the step.
    const value = mean(recent);
    const step = stepFor(sz.steps, value - sz.threshold);
    const base = now < this.fromZeroCooldown.until ? this.fromZeroCooldown.base : desired;
    if (base + step.adjustment <= desired) return false;
    const label = sz.metric === 'has-backlog-without-capacity' ? 'HasBacklogWithoutCapacity' : 'backlog without capacity';
    const after = setDesired(base + step.adjustment, `${label} alarm ${fmtValue(value)} ≥ ${sz.threshold}, ${sz.evaluationPeriods}/${sz.evaluationPeriods} datapoints: step +${step.adjustment}`);
    if (after === desired) return false;
    this.scaledOut(now, desired);
    this.fromZeroCooldown = { until: now + sz.cooldownSeconds, base };
    return true;
  }

  /** Within its cooldown a breach adds only what its step exceeds the one that started it. */
  private stepScaleOut({ now, desired, datapoints, seen }: AlarmInputs, setDesired: SetDesired): boolean {
    const so = this.policy.stepScaleOut;
    if (!so || seen < so.evaluationPeriods) return false;
    // The alarm reads the published metric itself: the most recent real datapoints, a gap does not breach.
    const recent = alarmWindow(datapoints, seen, so.evaluationPeriods);
    if (!recent.every((v): v is number => v !== undefined && v >= so.threshold)) return false;
    const value = so.aggregation === 'Maximum' ? Math.max(...recent) : mean(recent);
    let step = so.steps[0] as (typeof so.steps)[number];
    for (const st of so.steps) if (value >= st.atLeast) step = st;
    const base = now < this.stepOutCooldown.until ? this.stepOutCooldown.base : desired;
    const target = base + percentAdjustment(base, step.percentChange);
    if (target <= desired) return false;
    const after = setDesired(target, `step scale-out: utilization ${fmtValue(value)} ≥ ${so.threshold}, ${so.evaluationPeriods}/${so.evaluationPeriods} datapoints: +${step.percentChange} %`);
    if (after === desired) return false;
    this.scaledOut(now, desired);
    this.stepOutCooldown = { until: now + so.cooldownSeconds, base };
    return true;
  }

  private stepScaleIn({ now, desired, datapoints, instancesAt, seen }: AlarmInputs, setDesired: SetDesired): boolean {
    const si = this.policy.stepScaleIn;
    if (!si || seen < si.evaluationPeriods || now < this.stepScaleInUntil) return false;
    // The alarm reads IF(FILL(instances, REPEAT) >= N, utilization, threshold): a minute with no
    // published utilization has no datapoint (never a 0 that would scale in), a minute whose instance
    // count has not landed repeats the last one; then the most recent real datapoints.
    const rangeStart = seen - si.evaluationPeriods - EVALUATION_RANGE_EXTRA_PERIODS;
    const first = Math.max(0, rangeStart);
    const series = datapoints.slice(first, seen).map((v, i) => {
      const instances = v === undefined ? undefined : instancesAt(first + i, rangeStart);
      return instances === undefined ? undefined : instances >= si.instancesAtLeast ? v : si.threshold;
    });
    const recent = alarmWindow(series, series.length, si.evaluationPeriods);
    if (!recent.every((v): v is number => v !== undefined && v < si.threshold)) return false;
    const value = mean(recent);
    const step = si.steps.reduce((chosen, s) => (value < s.below ? s : chosen), si.steps[0] as (typeof si.steps)[number]);
    const target = desired + percentAdjustment(desired, step.percentChange);
    if (target >= desired) return false;
    const after = setDesired(target, `step scale-in: utilization ${fmtValue(value)} < ${si.threshold}, ${si.evaluationPeriods}/${si.evaluationPeriods} datapoints: ${step.percentChange} %`);
    if (after === desired) return false;
    this.stepScaleInUntil = now + si.cooldownSeconds;
    return true;
  }

  /**
   * AWS's two alarms: 3 datapoints above the target scale out, 15 below 90 % of it scale in. Within
   * a scale-out cooldown a larger scale-out still happens: the capacity the cooldown's scale-out added
   * counts toward the next one, so only what ceil(capacity before it × metric ÷ target) exceeds the
   * desired count is added.
   */
  private targetTracking({ now, desired, datapoints, seen }: AlarmInputs, setDesired: SetDesired): void {
    const tt = this.policy.targetTracking;
    if (!tt) return;
    const high = alarmWindow(datapoints, seen, tt.scaleOutDatapoints);
    const latest = high[high.length - 1];
    if (latest !== undefined && high.length === tt.scaleOutDatapoints && high.every((v) => v !== undefined && v > tt.targetValue)) {
      const inCooldown = now < this.lastScaleOut + tt.scaleOutCooldownSeconds;
      const base = inCooldown ? this.trackingOutBase : desired;
      const target = Math.ceil((base * latest) / tt.targetValue);
      if (target > desired) {
        const reason = `${tt.metric} ${latest.toFixed(2)} > ${tt.targetValue} for ${tt.scaleOutDatapoints} datapoints${inCooldown ? ' (larger than the scale-out in cooldown)' : ''}`;
        if (setDesired(target, reason) !== desired) this.scaledOut(now, desired);
      }
      return;
    }
    const low = alarmWindow(datapoints, seen, tt.scaleInDatapoints);
    const last = low[low.length - 1];
    const threshold = 0.9 * tt.targetValue;
    if (tt.disableScaleIn || last === undefined || low.length < tt.scaleInDatapoints || !low.every((v) => v !== undefined && v < threshold)) return;
    const target = Math.ceil((desired * last) / tt.targetValue);
    if (target < desired && now >= this.lastScaleIn + tt.scaleInCooldownSeconds && now >= this.lastScaleOut + tt.scaleOutCooldownSeconds) {
      if (setDesired(target, `${tt.metric} ${last.toFixed(2)} < ${threshold.toFixed(3)} for ${tt.scaleInDatapoints} datapoints`) !== desired) this.lastScaleIn = now;
    }
  }
}

/**
 * The `count` datapoints an alarm evaluates out of the `seen` readable ones: the most recent real
 * ones within its evaluation range (count + 5 periods) when there are enough, else the last `count`
 * periods with their gaps (undefined), as CloudWatch evaluates late or sparse metrics.
 */
export function alarmWindow(datapoints: readonly (number | undefined)[], seen: number, count: number): (number | undefined)[] {
  const range = datapoints.slice(Math.max(0, seen - count - EVALUATION_RANGE_EXTRA_PERIODS), seen);
  const real = range.filter((v): v is number => v !== undefined);
  return real.length >= count ? real.slice(-count) : range.slice(-count);
}

/** The step whose interval [lowerBound, next lowerBound) holds `aboveThreshold`. */
export function stepFor<S extends { readonly lowerBound: number }>(steps: readonly S[], aboveThreshold: number): S {
  let chosen = steps[0] as S;
  for (const step of steps) if (aboveThreshold >= step.lowerBound) chosen = step;
  return chosen;
}

function mean(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

function fmtValue(value: number): string {
  return Number(value.toFixed(2)).toString();
}
