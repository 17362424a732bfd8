/**
 * The step policies' steps, derived from the configuration: scale from zero on the backlog, scale out
 * on a utilization far above the target, scale in well below it (docs/scaling.md).
 */

/** What the steps depend on (a subset of imagegen's configuration). */
export interface StepInputs {
  readonly maxConcurrentInvocationsPerInstance: number;
  readonly inferenceSeconds: number;
  readonly utilizationTarget: number;
}

/** Backlog sizes (requests waiting with no instance) at which the scale-from-zero steps start. */
export const SCALE_FROM_ZERO_BOUNDS = [1, 100, 250, 500, 1000, 2500, 5000, 10_000] as const;

/**
 * Scale-from-zero steps: a backlog that built up in one minute with no instance is about one
 * minute of arrivals, so each step adds what that arrival rate needs at the utilization target
 * (the count target tracking would ask for), taken at the step's lower bound; at least one.
 */
export function scaleFromZeroSteps(config: StepInputs): { backlogAtLeast: number; adjustment: number }[] {
  const perInstancePerMinute = (config.maxConcurrentInvocationsPerInstance * 60 * config.utilizationTarget) / config.inferenceSeconds;
  let previous = 0;
  const steps: { backlogAtLeast: number; adjustment: number }[] = [];
  for (const bound of SCALE_FROM_ZERO_BOUNDS) {
    const adjustment = Math.max(1, Math.floor(bound / perInstancePerMinute));
    if (adjustment > previous) steps.push({ backlogAtLeast: bound, adjustment });
    previous = Math.max(previous, adjustment);
  }
  return steps;
}

/**
 * Step scale-in: below 60 %, 50 %, … 10 % of the utilization target, keep 60 %, 50 %, … 10 % of the
 * instances: the capacity left serves the interval's highest demand at the target.
 */
export function stepScaleInSteps(config: StepInputs): { utilizationBelow: number; percentChange: number }[] {
  return STEP_SCALE_IN_TENTHS.map((tenths) => ({ utilizationBelow: decimal((config.utilizationTarget * tenths) / 10), percentChange: -100 + tenths * 10 }));
}

const STEP_SCALE_IN_TENTHS = [6, 5, 4, 3, 2, 1] as const;

/** About √2 apart, so a step under-sizes by at most that (doubling steps lost up to half the demand). */
const STEP_SCALE_OUT_MULTIPLES = [3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384] as const;

/**
 * Step scale-out: from 3× the utilization target, grow the capacity to the step's multiple of the
 * target (target tracking's ceil(current × metric ÷ target), taken at the step's lower bound)
 * instead of waiting for target tracking's 3 datapoints.
 */
export function stepScaleOutSteps(config: StepInputs): { utilizationAtLeast: number; percentChange: number }[] {
  return STEP_SCALE_OUT_MULTIPLES.map((multiple) => ({ utilizationAtLeast: decimal(config.utilizationTarget * multiple), percentChange: (multiple - 1) * 100 }));
}

/** Thresholds as an operator would write them: 2.4, not 2.4000000000000004. */
function decimal(value: number): number {
  return Number(value.toFixed(6));
}
