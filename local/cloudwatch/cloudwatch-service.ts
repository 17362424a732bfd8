/**
 * Emulated Amazon CloudWatch metrics: PutMetricData, GetMetricData (with metric math),
 * GetMetricStatistics and ListMetrics on the edge, and the same operations in-process for the local
 * autoscaler and the Lambda runner.
 *
 * Laid out as LocalStack lays out a service: `provider.ts` (the JSON and Query operations),
 * `models.ts` (metrics, aggregation, statistics) and `store.ts` (where metrics are kept);
 * `get-metric-data.ts` answers queries with the metric math of `metric-math.ts`.
 */
import type { Clock } from '../clock';
import type { ServiceHandler } from '../edge/types';
import type { MetricDatum, MetricsPort } from '../ports';
import { LocalDatabase } from '../shared/database';
import { invalidParameterValue } from './errors';
import { getMetricData } from './get-metric-data';
import { LIMITS, parseDatum, validateNamespace, type Raw } from './inputs';
import { CloudWatchProvider } from './provider';
import type { Datapoint, GetMetricDataOptions, GetMetricDataOutput, GetMetricStatisticsInput, ListedMetric, ListMetricsInput, MetricDataQuery } from './shapes';
import { SqliteMetricsStore, type MetricsStore } from './store';

export { CLOUDWATCH_XMLNS } from './provider';
export { STANDARD_UNITS } from './models';
export type { Datapoint, GetMetricDataOptions, GetMetricDataOutput, ListedMetric, MetricDataQuery, MetricDataResult, MetricStatInput } from './shapes';

export interface CloudWatchServiceOptions {
  readonly clock: Clock;
  /** Where metrics are kept. @default a private in-memory database */
  readonly database?: LocalDatabase;
}

export class CloudWatchService implements MetricsPort {
  readonly handler: ServiceHandler;
  private readonly clock: Clock;
  private readonly store: MetricsStore;
  private readonly provider: CloudWatchProvider;

  constructor(options: CloudWatchServiceOptions) {
    this.clock = options.clock;
    this.store = new SqliteMetricsStore(options.database ?? LocalDatabase.open(undefined), options.clock);
    this.provider = new CloudWatchProvider({ clock: options.clock, store: this.store });
    this.handler = this.provider.handler;
  }

  /** MetricsPort: stores data points (the `AWS/` namespaces are allowed here, for emulated services). Throws AwsServiceError on invalid data. */
  putMetricData(namespace: string, data: readonly MetricDatum[]): void {
    validateNamespace(namespace, false);
    if (data.length > LIMITS.metricDataPerPut) throw invalidParameterValue(`The collection MetricData must not have a size greater than ${LIMITS.metricDataPerPut}.`);
    const now = this.clock.now();
    const points = data.map((datum, i) => {
      const raw: Raw = {
        MetricName: datum.metricName,
        Dimensions: Object.entries(datum.dimensions).map(([Name, Value]) => ({ Name, Value })),
        Value: datum.value,
        Timestamp: new Date(datum.timestamp),
        ...(datum.unit !== undefined ? { Unit: datum.unit } : {}),
      };
      const parsed = parseDatum(raw, `MetricData.member.${i + 1}`, now);
      return { identity: { namespace, metricName: parsed.metricName, dimensions: parsed.dimensions }, point: parsed.point };
    });
    this.store.add(points);
  }

  /** GetMetricData over [startMs, endMs); results are the API's, timestamps as Date. */
  getMetricData(queries: readonly MetricDataQuery[], startMs: number, endMs: number, options: GetMetricDataOptions = {}): GetMetricDataOutput {
    return getMetricData(this.store.metrics, queries, startMs, endMs, options);
  }

  /** GetMetricStatistics; `Datapoints` are in ascending time order. */
  getMetricStatistics(input: GetMetricStatisticsInput): { Label: string; Datapoints: Datapoint[] } {
    return this.provider.getMetricStatistics(input as unknown as Raw);
  }

  listMetrics(input: ListMetricsInput = {}): { Metrics: ListedMetric[]; NextToken?: string } {
    return this.provider.listMetrics(input as Raw);
  }

}
