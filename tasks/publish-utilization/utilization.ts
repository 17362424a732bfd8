/**
 * The utilization metric that drives the endpoint's target-tracking policy.
 *
 *   capacity (images per period) = desired instances × concurrency per instance × period ÷ seconds per image
 *   waiting                      = backlog − instances in service × concurrency per instance (never below 0)
 *   demand   (images per period) = inferences started in the period + waiting × period ÷ drain horizon
 *   utilization                  = demand ÷ capacity
 *
 * AWS's backlog counts requests being processed as well as queued ones, and the ones being processed
 * arrived in this period or an earlier one, already counted as arrivals then: only what the instances
 * in service cannot start right away is extra demand. Counting it is what lets utilization exceed 1
 * when work piles up. The drain horizon says how soon the waiting backlog should be cleared: one
 * period (the default) asks for all of it in the next minute; a longer horizon asks for less capacity,
 * so it scales out less on a step of traffic and holds less after a spike (docs/scaling.md measures
 * both). At zero instances the capacity of ONE instance is used instead, so demand shows up as a
 * positive value (never "no data"): the seed's `IF(m1 != 0, …)` produced no data there, and target
 * tracking could never act on it.
 *
 * The capacity is that of the instances the endpoint is being sized to (the desired count), not of
 * those in service: target tracking sets ceil(desired × metric ÷ target), so a metric relative to
 * the instances in service while others start would size the scale-out again on top of itself
 * (8 in service, 32 desired, utilization 2.42 → 97 instances where 25 serve the demand at the target).
 */
export interface UtilizationInput {
  /** Instances in service (DescribeEndpoint's CurrentInstanceCount): the slots that can start the backlog. */
  readonly instances: number;
  /** Instances the endpoint is being sized to (DescribeEndpoint's DesiredInstanceCount). @default instances */
  readonly desiredInstances?: number;
  /** Inferences started in the period (misses that won the image's lease and were accepted by the endpoint). */
  readonly arrivals: number;
  /** Requests queued or being processed (ApproximateBacklogSize) that stayed through the period. */
  readonly backlog: number;
  /** Seconds per image: measured ModelLatency when available, else the configured estimate. */
  readonly inferenceSeconds: number;
  readonly concurrencyPerInstance: number;
  readonly periodSeconds: number;
  /** Seconds over which the waiting backlog should be cleared (≥ periodSeconds). @default DEFAULT_DRAIN_SECONDS */
  readonly drainSeconds?: number;
}

/** One period: all of the backlog is demand for the next minute (see docs/scaling.md for longer horizons). */
export const DEFAULT_DRAIN_SECONDS = 60;

export interface Utilization {
  readonly value: number;
  readonly capacityPerPeriod: number;
  readonly demandPerPeriod: number;
  /** The part of the backlog the instances in service cannot start right away. */
  readonly waiting: number;
}

export class UtilizationInputError extends Error {
  override readonly name = 'UtilizationInputError';
}

export function computeUtilization(input: UtilizationInput): Utilization {
  for (const [field, value] of Object.entries(input)) {
    if (!Number.isFinite(value) || value < 0) throw new UtilizationInputError(`${field} must be a finite number ≥ 0 (got ${value})`);
  }
  for (const field of ['inferenceSeconds', 'concurrencyPerInstance', 'periodSeconds'] as const) {
    if (input[field] === 0) throw new UtilizationInputError(`${field} must be greater than 0`);
  }
  const drainSeconds = input.drainSeconds ?? DEFAULT_DRAIN_SECONDS;
  // A horizon shorter than the period would demand more than the whole backlog in one period.
  if (drainSeconds < input.periodSeconds) throw new UtilizationInputError(`drainSeconds must be ≥ periodSeconds (${input.periodSeconds}) (got ${drainSeconds})`);
  const sizedTo = Math.max(input.desiredInstances ?? input.instances, 1);
  const capacityPerPeriod = (sizedTo * input.concurrencyPerInstance * input.periodSeconds) / input.inferenceSeconds;
  const waiting = Math.max(0, input.backlog - input.instances * input.concurrencyPerInstance);
  const demandPerPeriod = input.arrivals + (waiting * input.periodSeconds) / drainSeconds;
  return { value: demandPerPeriod / capacityPerPeriod, capacityPerPeriod, demandPerPeriod, waiting };
}

/**
 * The seed's metric, for comparison: `m2 / (m1 * 60 / 10 * 12)` with m1 ≈ instance count and
 * m2 = requests in the minute; undefined (no data point) at zero instances.
 */
export function seedUtilization(instances: number, requestsPerMinute: number): number | undefined {
  if (instances === 0) return undefined;
  return requestsPerMinute / ((instances * 60) / 10) / 12;
}
