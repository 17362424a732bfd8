/**
 * Local Application Auto Scaling for the emulated async endpoints: the policies the CDK stack
 * deploys (topology/scaling-policies.ts, rendered by infra/constructs/endpoint-scaling.ts),
 * evaluated every minute of Clock time —
 * - target tracking on the utilization metric (its most recent real datapoints): 3 of 3 datapoints
 *   above target → ceil(current × metric ÷ target); 15 of 15 below 90 % of it → scale in the same
 *   way; scale-out and scale-in cooldowns (within a scale-out cooldown only a larger scale-out, from
 *   the capacity before it); no scale-in while a scale-out cooldown runs;
 * - step scaling out of zero on `IF(hbwc >= 1, backlog, 0)` (the backlog while no instance serves):
 *   the step whose bound the backlog reaches adds its instances; cooldown as AWS step scaling;
 * - step scaling out on utilization far above target after its datapoints breach, the step picked by
 *   their Average or Maximum (MetricAggregationType; PercentChangeInCapacity);
 * - step scaling in on low utilization with ≥ N instances (PercentChangeInCapacity, AWS rounding);
 * - scheduled actions that set min/max.
 * While instances are starting (desired ≠ in service) the endpoint is Updating and SageMaker refuses
 * capacity changes, so dynamic scaling waits. Wire API: AWS JSON 1.1, `AnyScaleFrontendService.*`.
 */
import type { CloudWatchService } from '../cloudwatch/cloudwatch-service';
import type { Clock } from '../clock';
import type { ServiceHandler } from '../edge/types';
import type { EndpointCapacityPort } from '../ports';
import { endpointScalingPolicies } from '../../topology/scaling-policies';
import { TargetScaling, type AutoScalingEndpoint, type ScalingActivity, type Target } from './models';
import { AutoScalingProvider } from './provider';
import { parseActionSchedule } from './schedule';
import { AutoScalingStore } from './store';

export type { AutoScalingEndpoint, ScalingActivity } from './models';

const PERIOD_MS = 60_000;
/**
 * The alarms are evaluated this long after each minute of the autoscaler's start, as the schedule
 * that runs publish-utilization starts with the cloud: its datapoint is read in the minute it is
 * published. (AWS evaluates alarms at a second of its own choosing; docs/scaling.md measures both orders.)
 */
export const ALARM_EVALUATION_DELAY_SECONDS = 20;

export interface AutoScalingServiceOptions {
  readonly clock: Clock;
  readonly region: string;
  readonly account: string;
  readonly endpoints: readonly AutoScalingEndpoint[];
  readonly metrics: Pick<CloudWatchService, 'getMetricData'>;
  readonly capacity: EndpointCapacityPort;
  readonly log?: (line: string) => void;
}

/** The service as the local cloud wires it: the store, the policies' evaluation, the wire API. */
export class AutoScalingService {
  readonly handler: ServiceHandler;
  private readonly store = new AutoScalingStore();
  private readonly scaling: TargetScaling;
  private cancelTick: (() => void) | undefined;

  constructor(private readonly options: AutoScalingServiceOptions) {
    const now = options.clock.now();
    for (const endpoint of options.endpoints) {
      const policies = endpointScalingPolicies(endpoint);
      const { resourceId } = policies;
      const target: Target = { endpoint, policies, resourceId, created: now, min: endpoint.scaling.minCapacity, max: endpoint.scaling.maxCapacity, lastScaleOut: -Infinity, scaleOutBase: 0, lastScaleIn: -Infinity, stepOutCooldowns: new Map(), stepScaleInUntil: -Infinity, scheduled: new Map() };
      for (const a of endpoint.scaling.scheduledActions) {
        target.scheduled.set(a.name, { name: a.name, schedule: a.schedule, timezone: a.timezone, min: a.minCapacity, max: a.maxCapacity, created: now, parsed: parseActionSchedule(a.schedule, a.timezone, now) });
      }
      this.store.targets.set(resourceId, target);
    }
    this.scaling = new TargetScaling({ clock: options.clock, metrics: options.metrics, capacity: options.capacity, store: this.store, log: options.log });
    this.handler = new AutoScalingProvider({ clock: options.clock, region: options.region, account: options.account, store: this.store, scaling: this.scaling }).handler;
  }

  /** Evaluates every minute of clock time. */
  start(): void {
    if (this.cancelTick) return;
    const tick = () => {
      this.evaluate();
      this.cancelTick = this.options.clock.schedule(PERIOD_MS, tick);
    };
    this.cancelTick = this.options.clock.schedule(PERIOD_MS + ALARM_EVALUATION_DELAY_SECONDS * 1000, tick);
  }

  close(): void {
    this.cancelTick?.();
    this.cancelTick = undefined;
  }

  scalingActivities(): readonly ScalingActivity[] {
    return this.store.scalingActivities();
  }

  /** One evaluation of scheduled actions, then step and target-tracking policies, for every target. */
  evaluate(): void {
    this.scaling.evaluate();
  }
}
