/**
 * Scaling policies the simulator can run. A policy is data (so custom ones load from JSON): which
 * metric target tracking follows, its target and cooldowns, an optional scale-from-zero step on
 * HasBacklogWithoutCapacity, optional scheduled actions and capacity bounds.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { imagegenTopology } from '../../topology/imagegen-topology';
import { endpointScalingPolicies, type EndpointScalingPolicies } from '../../topology/scaling-policies';
import { FORECAST_BOUNDS } from '../../tasks/publish-utilization/forecast';
import type { ScalingSpec } from '../../topology/topology';
import { SimulationInputError } from './errors';

/**
 * - `seed-utilization`: the seed's `m2 / (m1 * 60 / 10 * 12)`; no data point at zero instances.
 * - `imagegen-utilization`: tasks/publish-utilization's forecastArrivals and computeUtilization,
 *   published every minute (explicit zeros) and read by the alarms as published (signal.ts).
 * - `backlog-per-instance`: AWS/SageMaker ApproximateBacklogSizePerInstance, Average.
 */
export const METRICS = ['seed-utilization', 'imagegen-utilization', 'backlog-per-instance'] as const;
export type PolicyMetric = (typeof METRICS)[number];
export const FROM_ZERO_METRICS = ['has-backlog-without-capacity', 'backlog-without-capacity'] as const;

const nonNegativeInt = z.number().int().min(0);
const policySchema = z
  .object({
    name: z.string().min(1).max(64),
    description: z.string().max(500).optional(),
    minCapacity: nonNegativeInt.max(10_000).optional(),
    maxCapacity: nonNegativeInt.max(10_000).optional(),
    targetTracking: z
      .object({
        metric: z.enum(METRICS),
        targetValue: z.number().positive().max(1e6),
        scaleOutCooldownSeconds: nonNegativeInt.max(86_400),
        scaleInCooldownSeconds: nonNegativeInt.max(86_400),
        /** AWS's alarms: 3 datapoints above target to scale out, 15 below 90 % of it to scale in. */
        scaleOutDatapoints: z.number().int().min(1).max(60).default(3),
        scaleInDatapoints: z.number().int().min(1).max(60).default(15),
        disableScaleIn: z.boolean().default(false),
        /** imagegen-utilization only: the backlog counts as demand spread over this many seconds. */
        drainSeconds: z.number().int().min(60).max(86_400).optional(),
        /** imagegen-utilization only: the publisher's arrivals forecast (tasks/publish-utilization/forecast.ts); none without it. */
        forecast: z
          .object({
            horizonPeriods: z.number().positive().max(FORECAST_BOUNDS.maxHorizonPeriods),
            windowPeriods: z.number().int().min(FORECAST_BOUNDS.minWindowPeriods).max(FORECAST_BOUNDS.maxWindowPeriods),
            noiseSharePerPeriod: z.number().min(0).max(FORECAST_BOUNDS.maxNoiseShare),
          })
          .strict()
          .optional(),
        /**
         * imagegen-utilization only: whose capacity the publisher divides by, the desired count's (as
         * it does) or, as it did before, the instances in service, for comparison.
         */
        capacityOf: z.enum(['desired', 'in-service']).default('desired'),
      })
      .strict()
      .optional(),
    scaleFromZero: z
      .object({
        /**
         * - `has-backlog-without-capacity`: AWS/SageMaker HasBacklogWithoutCapacity, Average.
         * - `backlog-without-capacity`: `IF(hbwc >= 1, backlog, 0)` over HasBacklogWithoutCapacity
         *   Average and ApproximateBacklogSize Maximum: the backlog, counted only while no instance serves.
         */
        metric: z.enum(FROM_ZERO_METRICS).default('has-backlog-without-capacity'),
        evaluationPeriods: z.number().int().min(1).max(60),
        threshold: z.number().min(0),
        /** AWS StepAdjustments: lower bounds relative to the threshold, ascending; each runs to the next. */
        steps: z
          .array(z.object({ lowerBound: z.number().min(0), adjustment: z.number().int().min(1).max(10_000) }).strict())
          .min(1)
          .max(20)
          .refine((steps) => steps[0]?.lowerBound === 0, { message: 'the first step must start at lowerBound 0 (the threshold)' })
          .refine((steps) => steps.every((step, i) => i === 0 || step.lowerBound > (steps[i - 1]?.lowerBound ?? 0)), { message: 'lower bounds must ascend' }),
        cooldownSeconds: nonNegativeInt.max(86_400),
      })
      .strict()
      .optional(),
    /**
     * A step-scaling policy beside target tracking that scales in after a few datapoints well below
     * the target (AWS does not block it while target tracking waits for its 15), by
     * PercentChangeInCapacity steps sized so the capacity left still covers the interval's demand.
     */
    /**
     * A step-scaling policy beside target tracking that scales out after fewer datapoints far above
     * the target, by PercentChangeInCapacity steps (a percentage of zero instances is zero).
     */
    stepScaleOut: z
      .object({
        threshold: z.number().positive(),
        evaluationPeriods: z.number().int().min(1).max(60),
        /** MetricAggregationType: how the breaching datapoints combine into the value that picks the step. */
        aggregation: z.enum(['Average', 'Maximum']).default('Average'),
        cooldownSeconds: nonNegativeInt.max(86_400),
        /** Ascending from the threshold: a datapoint ≥ `atLeast` (and below the next one's) takes `percentChange`. */
        steps: z
          .array(z.object({ atLeast: z.number().positive(), percentChange: z.number().int().min(1).max(100_000) }).strict())
          .min(1)
          .max(20)
          .refine((steps) => steps.every((step, i) => i === 0 || step.atLeast > (steps[i - 1]?.atLeast ?? 0)), { message: 'bounds must ascend' }),
      })
      .strict()
      .refine((p) => p.steps[0]?.atLeast === p.threshold, { message: 'the first step must start at the threshold' })
      .optional(),
    stepScaleIn: z
      .object({
        threshold: z.number().positive(),
        evaluationPeriods: z.number().int().min(1).max(60),
        /** A datapoint breaches only while at least this many instances serve (the last ones go by target tracking). */
        instancesAtLeast: z.number().int().min(1).max(10_000),
        cooldownSeconds: nonNegativeInt.max(86_400),
        /** Ordered from the threshold down: a datapoint below `below` (and not below the next one's) takes `percentChange`. */
        steps: z
          .array(z.object({ below: z.number().positive(), percentChange: z.number().int().min(-100).max(-1) }).strict())
          .min(1)
          .max(20)
          .refine((steps) => steps.every((step, i) => i === 0 || step.below < (steps[i - 1]?.below ?? Infinity)), { message: 'bounds must descend' }),
      })
      .strict()
      .refine((p) => p.steps[0]?.below === p.threshold, { message: 'the first step must start at the threshold' })
      .optional(),
    scheduledActions: z
      .array(
        z
          .object({
            name: z.string().min(1).max(256),
            atSecond: nonNegativeInt,
            minCapacity: nonNegativeInt.max(10_000),
            maxCapacity: nonNegativeInt.max(10_000),
          })
          .strict()
          .refine((a) => a.minCapacity <= a.maxCapacity, { message: 'minCapacity must be ≤ maxCapacity' }),
      )
      .default([]),
  })
  .strict();

export type PolicySpec = z.output<typeof policySchema>;
export type PolicyInput = z.input<typeof policySchema>;

export function parsePolicy(document: unknown, source = 'policy'): PolicySpec {
  const result = policySchema.safeParse(document);
  if (!result.success) {
    const issue = result.error.issues[0];
    const path = issue?.path.join('.') || '(root)';
    throw new SimulationInputError(`${source}: ${path}: ${issue?.message ?? 'invalid'}`);
  }
  const policy = result.data;
  if (policy.minCapacity !== undefined && policy.maxCapacity !== undefined && policy.minCapacity > policy.maxCapacity) {
    throw new SimulationInputError(`${source}: minCapacity (${policy.minCapacity}) must be ≤ maxCapacity (${policy.maxCapacity})`);
  }
  return policy;
}

const { scaling, policies } = imagegenScaling();
const tt = scaling.targetTracking;
const sz = policies.scaleFromZero;
const so = policies.stepScaleOut;
const si = policies.stepScaleIn;

export const BUILT_IN_POLICIES: Record<string, PolicyInput> = {
  seed: {
    name: 'seed',
    description: "the seed's metric m2/(m1*60/10*12), target 0.75, cooldowns 60/120, no scale-from-zero step",
    targetTracking: { metric: 'seed-utilization', targetValue: 0.75, scaleOutCooldownSeconds: 60, scaleInCooldownSeconds: 120 },
  },
  backlog: {
    name: 'backlog',
    description: "AWS's recipe: target 5 ApproximateBacklogSizePerInstance + HasBacklogWithoutCapacity step (cooldown 300)",
    // AWS's sample sets no cooldowns: Application Auto Scaling's defaults for SageMaker are 300 s.
    targetTracking: { metric: 'backlog-per-instance', targetValue: 5, scaleOutCooldownSeconds: 300, scaleInCooldownSeconds: 300 },
    scaleFromZero: { metric: 'has-backlog-without-capacity', evaluationPeriods: 2, threshold: 1, steps: [{ lowerBound: 0, adjustment: 1 }], cooldownSeconds: 300 },
  },
  imagegen: {
    name: 'imagegen',
    description: `the stack's policy: publish-utilization metric (arrivals with a rise carried ${tt.forecast.horizonPeriods} min forward + backlog over ${tt.drainSeconds} s, over the desired capacity), target ${tt.targetValue}, cooldowns ${tt.scaleOutCooldownSeconds}/${tt.scaleInCooldownSeconds}; from zero ${sz.stepAdjustments.length} steps keyed on the backlog; step scale-out from ${so.alarm.threshold} after ${so.alarm.evaluationPeriods} datapoints (${so.metricAggregationType}), step scale-in below ${si.alarm.threshold} after ${si.alarm.evaluationPeriods}`,
    targetTracking: {
      metric: 'imagegen-utilization',
      targetValue: tt.targetValue,
      scaleOutCooldownSeconds: tt.scaleOutCooldownSeconds,
      scaleInCooldownSeconds: tt.scaleInCooldownSeconds,
      drainSeconds: tt.drainSeconds,
      forecast: tt.forecast,
    },
    scaleFromZero: {
      metric: 'backlog-without-capacity',
      evaluationPeriods: sz.alarm.evaluationPeriods,
      threshold: sz.alarm.threshold,
      steps: sz.stepAdjustments.map((step) => ({ lowerBound: step.lowerBound ?? 0, adjustment: step.scalingAdjustment })),
      cooldownSeconds: sz.cooldownSeconds,
    },
    stepScaleOut: {
      threshold: so.alarm.threshold,
      evaluationPeriods: so.alarm.evaluationPeriods,
      aggregation: so.metricAggregationType,
      cooldownSeconds: so.cooldownSeconds,
      steps: so.stepAdjustments.map((step) => ({ atLeast: step.startsAt, percentChange: step.scalingAdjustment })),
    },
    stepScaleIn: {
      threshold: si.alarm.threshold,
      evaluationPeriods: si.alarm.evaluationPeriods,
      instancesAtLeast: scaling.stepScaleIn.instancesAtLeast,
      cooldownSeconds: si.cooldownSeconds,
      steps: si.stepAdjustments.map((step) => ({ below: step.startsAt, percentChange: step.scalingAdjustment })),
    },
  },
};

/** The scaling spec the stack deploys for imagegen's endpoint, and the policies derived from it. */
function imagegenScaling(): { scaling: ScalingSpec; policies: EndpointScalingPolicies } {
  const endpoint = imagegenTopology().endpoints[0];
  if (!endpoint) throw new Error('the imagegen topology has no endpoint');
  return { scaling: endpoint.scaling, policies: endpointScalingPolicies(endpoint) };
}

/** A built-in name, or a path to a JSON policy file. */
export function loadPolicy(nameOrPath: string): PolicySpec {
  const builtIn = BUILT_IN_POLICIES[nameOrPath];
  if (builtIn) return parsePolicy(builtIn, nameOrPath);
  if (!nameOrPath.endsWith('.json')) {
    throw new SimulationInputError(`--policy must be one of ${Object.keys(BUILT_IN_POLICIES).join(', ')} or a .json policy file (got "${nameOrPath}")`);
  }
  let text: string;
  try {
    text = readFileSync(nameOrPath, 'utf8');
  } catch (error) {
    throw new SimulationInputError(`--policy ${nameOrPath}: cannot read (${(error as Error).message})`);
  }
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    throw new SimulationInputError(`--policy ${nameOrPath}: not valid JSON`);
  }
  return parsePolicy(document, nameOrPath);
}

/** The policy plus scheduled pre-warm actions (e.g. a campaign launch known in advance). */
export function withScheduledActions(policy: PolicySpec, actions: PolicySpec['scheduledActions'], suffix: string): PolicySpec {
  return { ...policy, name: `${policy.name}${suffix}`, scheduledActions: [...policy.scheduledActions, ...actions] };
}
