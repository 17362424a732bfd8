/** The API's request and result shapes as in-process callers use them (the SDK's, timestamps as Date). */
import type { Dimension } from './models';

export interface MetricStatInput {
  readonly Metric?: { readonly Namespace?: string | undefined; readonly MetricName?: string | undefined; readonly Dimensions?: readonly Dimension[] | undefined } | undefined;
  readonly Period?: number | undefined;
  readonly Stat?: string | undefined;
  readonly Unit?: string | undefined;
}

export interface MetricDataQuery {
  readonly Id?: string | undefined;
  readonly MetricStat?: MetricStatInput | undefined;
  readonly Expression?: string | undefined;
  readonly Label?: string | undefined;
  readonly ReturnData?: boolean | undefined;
  readonly Period?: number | undefined;
  readonly AccountId?: string | undefined;
}

export interface MetricDataResult {
  readonly Id: string;
  readonly Label: string;
  readonly Timestamps: Date[];
  readonly Values: number[];
  /** `PartialData` when MaxDatapoints cut the result short (no NextToken is issued). */
  readonly StatusCode: 'Complete' | 'PartialData';
  readonly Messages: never[];
}

export interface GetMetricDataOutput {
  readonly MetricDataResults: MetricDataResult[];
  readonly Messages: never[];
}

export interface GetMetricDataOptions {
  /** @default 'TimestampDescending' (as CloudWatch) */
  readonly scanBy?: 'TimestampDescending' | 'TimestampAscending';
  /** @default 100800 */
  readonly maxDatapoints?: number;
}

export interface Datapoint {
  readonly Timestamp: Date;
  readonly SampleCount?: number;
  readonly Average?: number;
  readonly Sum?: number;
  readonly Minimum?: number;
  readonly Maximum?: number;
  readonly Unit: string;
  readonly ExtendedStatistics?: Record<string, number>;
}

export interface ListedMetric {
  readonly Namespace: string;
  readonly MetricName: string;
  readonly Dimensions: Dimension[];
}

export interface GetMetricStatisticsInput {
  Namespace: string;
  MetricName: string;
  Dimensions?: readonly Dimension[];
  StartTime: Date;
  EndTime: Date;
  Period: number;
  Statistics?: readonly string[];
  ExtendedStatistics?: readonly string[];
  Unit?: string;
}

export interface ListMetricsInput {
  Namespace?: string;
  MetricName?: string;
  Dimensions?: readonly { Name: string; Value?: string }[];
  RecentlyActive?: 'PT3H';
  NextToken?: string;
}
