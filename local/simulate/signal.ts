/**
 * What the alarms can read, minute by minute, as the stack produces it:
 * - the endpoint's SageMaker minute (its arrivals, the backlog and instance count at its end, the
 *   mean ModelLatency) becomes readable `metricsLagSeconds` after the minute closes, as the local
 *   SageMaker emulator publishes it (one sample a minute, so Minimum = Maximum = the end value);
 * - publish-utilization runs once a minute (at the evaluation offset), evaluates the latest minute
 *   that has landed with the instance counts DescribeEndpoint reports at that moment (the capacity
 *   is the desired count's), and stamps its datapoint with that minute (a closed period, so an alarm
 *   can read it at once); the task's own `forecastArrivals` and `computeUtilization` do the sums;
 * - an alarm evaluated at time t reads the periods that closed before the whole minute of t, and
 *   of those the most recent real datapoints (CloudWatch's evaluation range), as the local
 *   autoscaler does (local/autoscaling/models.ts).
 * The seed's metric and the backlog recipe read the SageMaker metrics directly, so they see each
 * minute once it lands; imagegen's published datapoint of a minute once the publisher has run after
 * it landed.
 */
import { forecastArrivals } from '../../tasks/publish-utilization/forecast';
import { computeUtilization, seedUtilization } from '../../tasks/publish-utilization/utilization';
import { DEFAULT_LOOKBACK_PERIODS } from '../../tasks/publish-utilization/publish-utilization';
import type { PolicySpec } from './policies';

export const PERIOD_SECONDS = 60;
/** CloudWatch retrieves this many periods more than an alarm evaluates (the local autoscaler's value). */
export const EVALUATION_RANGE_EXTRA_PERIODS = 5;

/** One closed SageMaker minute, as the endpoint's metrics describe it. */
export interface MinuteRecord {
  /** Inferences the endpoint accepted in the minute (Resolve's InferencesStarted, by EndpointName). */
  readonly arrivals: number;
  /** ApproximateBacklogSize at the minute's end: queued and being processed. */
  readonly backlog: number;
  /** Instances in service at the minute's end, draining ones included (CPUUtilization SampleCount). */
  readonly instances: number;
  /** Mean ModelLatency of the inferences that finished in the minute; undefined when none did. */
  readonly latencySeconds: number | undefined;
}

export interface SignalConfig {
  /** How long after a SageMaker minute closes its datapoints become readable. */
  readonly metricsLagSeconds: number;
  /** Fallback seconds per image for the publisher (its INFERENCE_SECONDS). */
  readonly secondsPerImage: number;
  readonly concurrencyPerInstance: number;
}

/** The streams the controller's alarms read, with how many datapoints of each are readable now. */
export interface AlarmView {
  /** The policy metric by minute, oldest first; undefined = no data. */
  readonly datapoints: readonly (number | undefined)[];
  readonly seen: number;
  /** The scale-from-zero alarm's value by minute. */
  readonly fromZero: readonly number[];
  readonly fromZeroSeen: number;
  /**
   * `FILL(instances, REPEAT)` at a minute of the policy metric, as the step scale-in alarm reads it:
   * the instance count of that minute if it has landed, else the latest landed one in the alarm's
   * range; undefined when none is (no instance served in the range).
   */
  readonly instancesAt: (minute: number, rangeStart: number) => number | undefined;
}

export class MetricSignal {
  private readonly minutes: MinuteRecord[] = [];
  private readonly metric: (number | undefined)[] = [];
  private readonly fromZero: number[] = [];

  /** `prior`: the minutes before the simulation, for an endpoint that was already serving. */
  constructor(
    private readonly policy: PolicySpec,
    private readonly config: SignalConfig,
    private readonly prior?: MinuteRecord,
  ) {}

  /** The SageMaker minute `minutes.length` closes (at its end). */
  closeMinute(record: MinuteRecord): void {
    this.minutes.push(record);
    const waitingWithoutCapacity = record.backlog > 0 && record.instances === 0;
    const fromZeroMetric = this.policy.scaleFromZero?.metric;
    // IF(hbwc >= 1, backlog, 0) for imagegen; HasBacklogWithoutCapacity itself for the recipe.
    this.fromZero.push(waitingWithoutCapacity ? (fromZeroMetric === 'backlog-without-capacity' ? record.backlog : 1) : 0);
    const tt = this.policy.targetTracking;
    if (tt?.metric === 'seed-utilization') this.metric.push(seedUtilization(record.instances, record.arrivals));
    else if (tt?.metric === 'backlog-per-instance') this.metric.push(record.backlog / Math.max(1, record.instances));
  }

  /** SageMaker minutes readable at `now`. */
  landed(now: number): number {
    return Math.max(0, Math.min(this.minutes.length, Math.floor((now - this.config.metricsLagSeconds) / PERIOD_SECONDS)));
  }

  /**
   * publish-utilization's run in whole minute `minute` (at `now`, with `instances` in service and
   * `desired` as DescribeEndpoint reports them); a no-op for policies that read SageMaker's metrics
   * directly, and when no minute has landed in the publisher's lookback (it publishes nothing then).
   */
  publish(minute: number, now: number, instances: number, desired: number): number | undefined {
    const tt = this.policy.targetTracking;
    if (tt?.metric !== 'imagegen-utilization') return undefined;
    const landed = this.landed(now);
    const evaluated = landed > 0 ? (landed - 1 >= minute - DEFAULT_LOOKBACK_PERIODS ? this.minutes[landed - 1] : undefined) : this.prior;
    // The prior minutes of a warm endpoint come before the simulation: the latest closed minute
    // stands for them until its own metrics land and replace it.
    const stamp = landed > 0 ? landed - 1 : minute - 1;
    if (evaluated === undefined || stamp < 0 || (landed === 0 && this.metric[stamp] !== undefined)) return undefined;
    // The publisher's forecast reads the described minutes of its lookback, the evaluated one last.
    const recent = landed > 0 ? this.minutes.slice(Math.max(0, minute - DEFAULT_LOOKBACK_PERIODS), landed).map((m) => m.arrivals) : [evaluated.arrivals];
    const value = computeUtilization({
      instances,
      desiredInstances: tt.capacityOf === 'in-service' ? instances : desired,
      arrivals: tt.forecast ? forecastArrivals(recent, tt.forecast).arrivals : evaluated.arrivals,
      backlog: evaluated.backlog,
      inferenceSeconds: landed > 0 ? this.latencyAtOrBefore(landed - 1, minute) : (evaluated.latencySeconds ?? this.config.secondsPerImage),
      concurrencyPerInstance: this.config.concurrencyPerInstance,
      periodSeconds: PERIOD_SECONDS,
      ...(tt.drainSeconds === undefined ? {} : { drainSeconds: tt.drainSeconds }),
    }).value;
    while (this.metric.length < stamp) this.metric.push(undefined);
    this.metric[stamp] = value;
    return value;
  }

  /** The policy metric's datapoint stamped with minute `minute`, once there is one. */
  metricAt(minute: number): number | undefined {
    return this.metric[minute];
  }

  /** What an alarm evaluated at `now` can read. */
  view(now: number): AlarmView {
    const end = Math.floor(now / PERIOD_SECONDS);
    const landed = this.landed(now);
    const published = this.policy.targetTracking?.metric === 'imagegen-utilization';
    return {
      datapoints: this.metric,
      // A published datapoint is read once its period has closed; SageMaker's once they land.
      seen: published ? Math.min(this.metric.length, end) : Math.min(landed, end),
      fromZero: this.fromZero,
      fromZeroSeen: Math.min(landed, end),
      instancesAt: (minute, rangeStart) => {
        for (let m = Math.min(minute, landed - 1); m >= Math.max(0, rangeStart); m--) {
          const count = this.minutes[m]?.instances ?? 0;
          // No instance in service publishes no CPUUtilization sample: REPEAT carries the last one.
          if (count > 0) return count;
        }
        return rangeStart < 0 && this.prior && this.prior.instances > 0 ? this.prior.instances : undefined;
      },
    };
  }

  /** The publisher's ModelLatency: the evaluated minute's, else the latest before it in the lookback. */
  private latencyAtOrBefore(evaluated: number, minute: number): number {
    for (let m = evaluated; m >= Math.max(0, minute - DEFAULT_LOOKBACK_PERIODS); m--) {
      const latency = this.minutes[m]?.latencySeconds;
      if (latency !== undefined && latency > 0) return latency;
    }
    return this.config.secondsPerImage;
  }
}
