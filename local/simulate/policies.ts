/**
 * Scaling policies the simulator can run. A policy is data (so custom ones load from JSON): which
 * metric target tracking follows, its target and cooldowns, an optional scale-from-zero step on
 * HasBacklogWithoutCapacity, optional scheduled actions and capacity bounds.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { defaultConfig } from '../../workflows/imagegen-topology';
import { SimulationInputError } from './errors';

/**
 * - `seed-utilization`: the seed's `m2 / (m1 * 60 / 10 * 12)`; no data point at zero instances.
 * - `imagegen-utilization`: tasks/publish-utilization's computeUtilization, published every minute
 *   (explicit zeros) and read through `FILL(…, 0)` as the stack deploys it.
 * - `backlog-per-instance`: AWS/SageMaker ApproximateBacklogSizePerInstance, Average.
 */
export const METRICS = ['seed-utilization', 'imagegen-utilization', 'backlog-per-instance'] as const;
export type PolicyMetric = (typeof METRICS)[number];

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
      })
      .strict()
      .optional(),
    scaleFromZero: z
      .object({
        evaluationPeriods: z.number().int().min(1).max(60),
        threshold: z.number().min(0),
        adjustment: z.number().int().min(1).max(1000),
        cooldownSeconds: nonNegativeInt.max(86_400),
      })
      .strict()
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

const tt = defaultConfig;
const fromZero = { evaluationPeriods: 2, threshold: 1, adjustment: 1 };

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
    scaleFromZero: { ...fromZero, cooldownSeconds: 300 },
  },
  imagegen: {
    name: 'imagegen',
    description: 'publish-utilization metric (arrivals + backlog over capacity, FILL 0), target 0.75, cooldowns 60/120, scale-from-zero step',
    targetTracking: {
      metric: 'imagegen-utilization',
      targetValue: tt.utilizationTarget,
      scaleOutCooldownSeconds: tt.scaleOutCooldownSeconds,
      scaleInCooldownSeconds: tt.scaleInCooldownSeconds,
    },
    scaleFromZero: { ...fromZero, cooldownSeconds: 150 },
  },
};

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
