/** What a simulation run reports, and the summaries computed from its per-request record. */

export interface ScalingDecision {
  readonly at: number;
  readonly from: number;
  readonly to: number;
  readonly reason: string;
}

export interface PeriodRecord {
  readonly start: number;
  readonly arrivals: number;
  readonly inferences: number;
  readonly backlog: number;
  readonly inService: number;
  /** Mean desired count over the period. */
  readonly billed: number;
  /** Busy slots ÷ in-service slots, time-averaged; undefined with no instance in service. */
  readonly busyShare: number | undefined;
  /** The policy metric's datapoint; undefined = no data. */
  readonly metric: number | undefined;
}

export interface CapacityPoint {
  readonly at: number;
  /** Instances billed (pending, in service or draining). */
  readonly billed: number;
  readonly inService: number;
  readonly desired: number;
}

export interface SimulationResult {
  readonly policy: string;
  readonly requests: number;
  readonly completed: number;
  readonly hits: number;
  readonly expired: number;
  /** End-to-end latency (arrival → result) of completed requests. */
  readonly p50_s: number | null;
  readonly p95_s: number | null;
  readonly p99_s: number | null;
  /** Time inferences waited in the endpoint's queue (arrival → an instance took it); cache hits excluded. */
  readonly wait_p50_s: number | null;
  readonly wait_p95_s: number | null;
  readonly wait_p99_s: number | null;
  readonly slo_seconds: number;
  /** Share of all requests (expired ones count as misses) completed within `slo_seconds`. */
  readonly slo_attainment: number;
  readonly instance_hours: number;
  readonly cost_usd: number;
  /** Endpoint cost ÷ completed requests; null when nothing completed. */
  readonly cost_per_image_usd: number | null;
  readonly peak_instances: number;
  readonly scaling_actions: number;
  readonly duration_s: number;
  readonly decisions: readonly ScalingDecision[];
  readonly periods: readonly PeriodRecord[];
  readonly timeline: readonly CapacityPoint[];
  /** Per request: arrival second, latency and queue wait (NaN = expired; wait NaN for a cache hit). */
  readonly arrivals: Float64Array;
  readonly latencies: Float64Array;
  readonly waits: Float64Array;
}

/** ∫ billed dt over the step function, in instance-seconds. */
export function integrateTimeline(timeline: readonly CapacityPoint[], end: number): number {
  let total = 0;
  for (let i = 0; i < timeline.length; i++) {
    const point = timeline[i] as CapacityPoint;
    const next = timeline[i + 1]?.at ?? end;
    total += point.billed * (next - point.at);
  }
  return total;
}

/** Nearest-rank percentile of ascending values; null when empty. */
export function percentile(sorted: ArrayLike<number>, p: number): number | null {
  if (sorted.length === 0) return null;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1));
  return sorted[index] as number;
}

/** The values that are numbers (NaN marks none), ascending. */
export function sortedDefined(values: Float64Array): Float64Array {
  return values.filter((v) => !Number.isNaN(v)).sort();
}
