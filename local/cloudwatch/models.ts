/**
 * CloudWatch's domain: one series of raw data points per metric (namespace, name, dimension set),
 * retention, the period aggregation that GetMetricData and GetMetricStatistics share, and the
 * statistics. Points keep their raw values (not pre-aggregated), so any statistic, percentiles
 * included, can be asked later. No wire format here.
 */

export const STANDARD_UNITS = [
  'Seconds', 'Microseconds', 'Milliseconds', 'Bytes', 'Kilobytes', 'Megabytes', 'Gigabytes', 'Terabytes', 'Bits', 'Kilobits',
  'Megabits', 'Gigabits', 'Terabits', 'Percent', 'Count', 'Bytes/Second', 'Kilobytes/Second', 'Megabytes/Second',
  'Gigabytes/Second', 'Terabytes/Second', 'Bits/Second', 'Kilobits/Second', 'Megabits/Second', 'Gigabits/Second',
  'Terabits/Second', 'Count/Second', 'None',
] as const;

export interface Dimension {
  readonly Name: string;
  readonly Value: string;
}

export interface MetricIdentity {
  readonly namespace: string;
  readonly metricName: string;
  /** Sorted by name: CloudWatch treats a dimension set as unordered. */
  readonly dimensions: readonly Dimension[];
}

export interface StatisticSet {
  readonly SampleCount: number;
  readonly Sum: number;
  readonly Minimum: number;
  readonly Maximum: number;
}

export interface StoredPoint {
  /** Epoch ms, truncated to the second (high resolution) or minute (standard resolution). */
  readonly t: number;
  readonly unit: string;
  readonly resolution: 1 | 60;
  /** Raw values with their counts, or a pre-aggregated statistic set. */
  readonly values?: readonly number[];
  readonly counts?: readonly number[];
  readonly stats?: StatisticSet;
}

export interface StoredMetric extends MetricIdentity {
  points: StoredPoint[];
  /** Set when points were appended out of time order since the last sort. */
  unsorted: boolean;
}

export interface Aggregate {
  readonly sampleCount: number;
  readonly sum: number;
  readonly minimum: number;
  readonly maximum: number;
  /** Weighted raw values, sorted; absent when a statistic set contributed (no percentiles then). */
  readonly sorted: readonly (readonly [value: number, count: number])[] | undefined;
  readonly unit: string;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
/** Only 1-minute data is kept for imagegen: AWS keeps it 15 days, and sub-minute data 3 hours. */
export const RETENTION_MS = 15 * 24 * HOUR;
export const HIGH_RESOLUTION_RETENTION_MS = 3 * HOUR;

export function sortDimensions(dimensions: readonly Dimension[]): Dimension[] {
  return [...dimensions].sort((a, b) => (a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : 0));
}

export function metricKey(namespace: string, metricName: string, dimensions: readonly Dimension[]): string {
  return JSON.stringify([namespace, metricName, sortDimensions(dimensions).map((d) => [d.Name, d.Value])]);
}

/** Every metric's points, in memory. */
export class Metrics {
  private readonly metrics = new Map<string, StoredMetric>();

  add(identity: MetricIdentity, point: StoredPoint): void {
    const key = metricKey(identity.namespace, identity.metricName, identity.dimensions);
    let metric = this.metrics.get(key);
    if (!metric) {
      metric = { ...identity, dimensions: sortDimensions(identity.dimensions), points: [], unsorted: false };
      this.metrics.set(key, metric);
    }
    const last = metric.points.at(-1);
    if (last && last.t > point.t) metric.unsorted = true;
    metric.points.push(point);
  }

  get(namespace: string, metricName: string, dimensions: readonly Dimension[]): StoredMetric | undefined {
    return this.metrics.get(metricKey(namespace, metricName, dimensions));
  }

  all(): StoredMetric[] {
    return [...this.metrics.values()];
  }

  /**
   * Aggregates one metric's points in [startMs, endMs) into period buckets aligned to the epoch.
   * A `unit` filter keeps only points published with that unit.
   */
  aggregate(metric: StoredMetric, startMs: number, endMs: number, periodSeconds: number, unit?: string): Map<number, Aggregate> {
    this.sort(metric);
    const periodMs = periodSeconds * 1000;
    const buckets = new Map<number, StoredPoint[]>();
    for (const point of metric.points) {
      if (point.t < startMs) continue;
      if (point.t >= endMs) break;
      if (unit !== undefined && point.unit !== unit) continue;
      const bucket = Math.floor(point.t / periodMs) * periodMs;
      const list = buckets.get(bucket);
      if (list) list.push(point);
      else buckets.set(bucket, [point]);
    }
    const result = new Map<number, Aggregate>();
    for (const [bucket, points] of buckets) result.set(bucket, aggregatePoints(points));
    return result;
  }

  /** Drops points past retention; returns whether anything was dropped. */
  prune(nowMs: number): boolean {
    let dropped = false;
    for (const [key, metric] of this.metrics) {
      const before = metric.points.length;
      metric.points = metric.points.filter((p) => p.t >= nowMs - (p.resolution === 1 ? HIGH_RESOLUTION_RETENTION_MS : RETENTION_MS));
      if (metric.points.length !== before) dropped = true;
      if (metric.points.length === 0) this.metrics.delete(key);
    }
    return dropped;
  }

  private sort(metric: StoredMetric): void {
    if (!metric.unsorted) return;
    metric.points.sort((a, b) => a.t - b.t);
    metric.unsorted = false;
  }
}

function aggregatePoints(points: readonly StoredPoint[]): Aggregate {
  let sampleCount = 0;
  let sum = 0;
  let minimum = Infinity;
  let maximum = -Infinity;
  let weighted: [number, number][] | undefined = [];
  for (const point of points) {
    if (point.stats) {
      sampleCount += point.stats.SampleCount;
      sum += point.stats.Sum;
      minimum = Math.min(minimum, point.stats.Minimum);
      maximum = Math.max(maximum, point.stats.Maximum);
      weighted = undefined;
      continue;
    }
    const values = point.values ?? [];
    values.forEach((value, i) => {
      const count = point.counts?.[i] ?? 1;
      if (count <= 0) return;
      sampleCount += count;
      sum += value * count;
      minimum = Math.min(minimum, value);
      maximum = Math.max(maximum, value);
      weighted?.push([value, count]);
    });
  }
  weighted?.sort((a, b) => a[0] - b[0]);
  return { sampleCount, sum, minimum, maximum, sorted: weighted, unit: points[0]?.unit ?? 'None' };
}

const PERCENTILE = /^p(\d{1,2}(?:\.\d{1,10})?|100(?:\.0+)?)$/;
const BASIC_STATS = ['Average', 'Sum', 'SampleCount', 'Minimum', 'Maximum'] as const;
export type BasicStatistic = (typeof BASIC_STATS)[number];

export function isBasicStatistic(stat: string): stat is BasicStatistic {
  return (BASIC_STATS as readonly string[]).includes(stat);
}

export function isPercentile(stat: string): boolean {
  return PERCENTILE.test(stat);
}

/** The value of a statistic for one bucket, or undefined when it cannot be computed (no data, or a percentile over statistic sets). */
export function statisticValue(aggregate: Aggregate, stat: string): number | undefined {
  if (aggregate.sampleCount <= 0) return stat === 'SampleCount' ? 0 : undefined;
  switch (stat) {
    case 'Average':
      return aggregate.sum / aggregate.sampleCount;
    case 'Sum':
      return aggregate.sum;
    case 'SampleCount':
      return aggregate.sampleCount;
    case 'Minimum':
      return aggregate.minimum;
    case 'Maximum':
      return aggregate.maximum;
  }
  if (!isPercentile(stat) || !aggregate.sorted) return undefined;
  return percentile(aggregate.sorted, Number(stat.slice(1)));
}

/** Nearest-rank percentile over weighted values. */
function percentile(sorted: readonly (readonly [number, number])[], p: number): number | undefined {
  const total = sorted.reduce((n, [, count]) => n + count, 0);
  if (total <= 0) return undefined;
  const rank = Math.max(1, Math.ceil((p / 100) * total));
  let seen = 0;
  for (const [value, count] of sorted) {
    seen += count;
    if (seen >= rank) return value;
  }
  return sorted.at(-1)?.[0];
}
