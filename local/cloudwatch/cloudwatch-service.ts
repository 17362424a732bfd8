/**
 * Emulated Amazon CloudWatch metrics: PutMetricData, GetMetricData (with metric math),
 * GetMetricStatistics and ListMetrics, over AWS JSON 1.0 in query-compatible mode (current SDKs)
 * and over the AWS Query protocol (older SDKs and the AWS CLI 2.9). The same operations are
 * offered in-process to the local autoscaler and Lambda runner.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import type { Clock } from '../clock';
import { AwsServiceError } from '../edge/errors';
import { jsonErrorResponse, jsonService } from '../edge/json-protocol';
import { handleQueryRequest, isQueryRequest, type QueryInput, xmlMap } from '../edge/query-protocol';
import type { EdgeRequest, EdgeResponse, ServiceHandler } from '../edge/types';
import type { MetricDatum, MetricsPort } from '../ports';
import { expressionError, invalidNextToken, invalidParameterCombination, invalidParameterValue, missingParameter } from './errors';
import { evaluate, type MathContext, type MathNode, MetricMathError, type MathValue, parseExpression, references, type Series } from './metric-math';
import { type Dimension, isBasicStatistic, isPercentile, MetricStore, sortDimensions, statisticValue, type StoredPoint } from './metric-store';
import { decodeQueryInput } from './query-shapes';

export const CLOUDWATCH_XMLNS = 'http://monitoring.amazonaws.com/doc/2010-08-01/';
const TARGET_PREFIX = 'GraniteServiceVersion20100801';

export const STANDARD_UNITS = [
  'Seconds', 'Microseconds', 'Milliseconds', 'Bytes', 'Kilobytes', 'Megabytes', 'Gigabytes', 'Terabytes', 'Bits', 'Kilobits',
  'Megabits', 'Gigabits', 'Terabits', 'Percent', 'Count', 'Bytes/Second', 'Kilobytes/Second', 'Megabytes/Second',
  'Gigabytes/Second', 'Terabytes/Second', 'Bits/Second', 'Kilobits/Second', 'Megabits/Second', 'Gigabits/Second',
  'Terabits/Second', 'Count/Second', 'None',
] as const;

const LIMITS = {
  metricDataPerPut: 1000,
  dimensions: 30,
  valuesPerDatum: 150,
  queries: 500,
  datapointsPerStatistics: 1440,
  maxDatapoints: 100_800,
  listMetricsPage: 500,
  dimensionFilters: 10,
  pastMs: 14 * 24 * 3600_000,
  futureMs: 2 * 3600_000,
  recentlyActiveMs: 3 * 3600_000,
} as const;
/** CloudWatch rejects magnitudes outside 2^-260 … 2^360 (other than zero). */
const MAX_MAGNITUDE = 2 ** 360;
const MIN_MAGNITUDE = 2 ** -260;

// ---------------------------------------------------------------------------------------------
// In-process shapes (the SDK's, with timestamps as Date)

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

export interface CloudWatchServiceOptions {
  readonly clock: Clock;
  /** Metrics persist to `<dataDir>/cloudwatch/metrics.json` when set. */
  readonly dataDir?: string;
  /** Delay before a change is written to disk. @default 1000 ms (clock time) */
  readonly persistDelayMs?: number;
}

type Raw = Record<string, unknown>;

export class CloudWatchService implements MetricsPort {
  readonly handler: ServiceHandler;
  private readonly store = new MetricStore();
  private readonly clock: Clock;
  private readonly file: string | undefined;
  private readonly persistDelayMs: number;
  private cancelPersist: (() => void) | undefined;
  private writing: Promise<void> = Promise.resolve();
  private lastPrune = -Infinity;

  constructor(options: CloudWatchServiceOptions) {
    this.clock = options.clock;
    this.persistDelayMs = options.persistDelayMs ?? 1000;
    if (options.dataDir !== undefined) {
      const dir = join(options.dataDir, 'cloudwatch');
      mkdirSync(dir, { recursive: true });
      this.file = join(dir, 'metrics.json');
      this.loadFromDisk(this.file);
    }
    const json = jsonService({
      name: 'cloudwatch',
      signingNames: ['monitoring'],
      targetPrefix: TARGET_PREFIX,
      version: '1.0',
      errorTypePrefix: 'com.amazonaws.cloudwatch#',
      queryCompatible: true,
      operations: {
        PutMetricData: (input) => this.wirePutMetricData(input),
        GetMetricData: (input) => toJsonWire(this.wireGetMetricData(input)),
        GetMetricStatistics: (input) => toJsonWire(this.wireGetMetricStatistics(input)),
        ListMetrics: (input) => this.wireListMetrics(input),
      },
      fallback: (request) => this.handleNonJson(request),
    });
    this.handler = {
      name: json.name,
      signingNames: json.signingNames,
      handle: async (request) => {
        let decoded: EdgeRequest;
        try {
          decoded = await decompress(request);
        } catch (error) {
          if (error instanceof AwsServiceError) return jsonErrorResponse(error, { version: '1.0', errorTypePrefix: 'com.amazonaws.cloudwatch#', queryCompatible: true });
          throw error;
        }
        return json.handle(decoded);
      },
    };
  }

  // -------------------------------------------------------------------------------------------
  // In-process API

  /** MetricsPort: stores data points (the `AWS/` namespaces are allowed here, for emulated services). Throws AwsServiceError on invalid data. */
  putMetricData(namespace: string, data: readonly MetricDatum[]): void {
    this.validateNamespace(namespace, false);
    if (data.length > LIMITS.metricDataPerPut) throw invalidParameterValue(`The collection MetricData must not have a size greater than ${LIMITS.metricDataPerPut}.`);
    const points = data.map((datum, i) => {
      const raw: Raw = {
        MetricName: datum.metricName,
        Dimensions: Object.entries(datum.dimensions).map(([Name, Value]) => ({ Name, Value })),
        Value: datum.value,
        Timestamp: new Date(datum.timestamp),
      };
      if (datum.unit !== undefined) raw['Unit'] = datum.unit;
      return this.parseDatum(raw, `MetricData.member.${i + 1}`);
    });
    for (const p of points) this.store.add({ namespace, metricName: p.metricName, dimensions: p.dimensions }, p.point);
    this.changed();
  }

  /** GetMetricData over [startMs, endMs); results are the API's, timestamps as Date. */
  getMetricData(queries: readonly MetricDataQuery[], startMs: number, endMs: number, options: GetMetricDataOptions = {}): GetMetricDataOutput {
    return this.runGetMetricData(queries, startMs, endMs, options);
  }

  /** GetMetricStatistics; `Datapoints` are in ascending time order. */
  getMetricStatistics(input: {
    Namespace: string;
    MetricName: string;
    Dimensions?: readonly Dimension[];
    StartTime: Date;
    EndTime: Date;
    Period: number;
    Statistics?: readonly string[];
    ExtendedStatistics?: readonly string[];
    Unit?: string;
  }): { Label: string; Datapoints: Datapoint[] } {
    return this.wireGetMetricStatistics(input as unknown as Raw);
  }

  listMetrics(input: { Namespace?: string; MetricName?: string; Dimensions?: readonly { Name: string; Value?: string }[]; RecentlyActive?: 'PT3H'; NextToken?: string } = {}): {
    Metrics: ListedMetric[];
    NextToken?: string;
  } {
    return this.wireListMetrics(input as Raw);
  }

  /** Writes pending changes now (call before shutdown). */
  async flush(): Promise<void> {
    this.cancelPersist?.();
    this.cancelPersist = undefined;
    if (this.file) await this.persist(this.file);
  }

  // -------------------------------------------------------------------------------------------
  // Wire operations (input: the JSON body, or the decoded Query parameters)

  private wirePutMetricData(input: Raw): Record<string, never> {
    const namespace = requiredString(input, 'Namespace');
    this.validateNamespace(namespace, true);
    const data = optionalArray(input, 'MetricData');
    if (!data || data.length === 0) throw missingParameter('MetricData');
    if (data.length > LIMITS.metricDataPerPut) {
      throw invalidParameterValue(`The collection MetricData must not have a size greater than ${LIMITS.metricDataPerPut}.`);
    }
    const points = data.map((datum, i) => this.parseDatum(asRecord(datum, `MetricData.member.${i + 1}`), `MetricData.member.${i + 1}`));
    for (const p of points) this.store.add({ namespace, metricName: p.metricName, dimensions: p.dimensions }, p.point);
    this.changed();
    return {};
  }

  private wireGetMetricData(input: Raw): GetMetricDataOutput & { NextToken?: string } {
    const queries = optionalArray(input, 'MetricDataQueries');
    if (!queries) throw missingParameter('MetricDataQueries');
    const start = requiredTime(input, 'StartTime');
    const end = requiredTime(input, 'EndTime');
    const scanBy = optionalString(input, 'ScanBy');
    if (scanBy !== undefined && scanBy !== 'TimestampDescending' && scanBy !== 'TimestampAscending') {
      throw invalidParameterValue(`The value ${scanBy} for parameter ScanBy is invalid: must be TimestampDescending or TimestampAscending.`);
    }
    const maxDatapoints = optionalNumber(input, 'MaxDatapoints');
    if (maxDatapoints !== undefined && (!Number.isInteger(maxDatapoints) || maxDatapoints < 1)) {
      throw invalidParameterValue(`The value ${maxDatapoints} for parameter MaxDatapoints is invalid: must be a positive integer.`);
    }
    if (optionalString(input, 'NextToken') !== undefined) throw invalidNextToken('The NextToken is invalid or expired.');
    const options: { scanBy?: 'TimestampDescending' | 'TimestampAscending'; maxDatapoints?: number } = {};
    if (scanBy) options.scanBy = scanBy;
    if (maxDatapoints !== undefined) options.maxDatapoints = maxDatapoints;
    return this.runGetMetricData(queries.map((q, i) => asRecord(q, `MetricDataQueries.member.${i + 1}`) as MetricDataQuery), start, end, options);
  }

  private wireGetMetricStatistics(input: Raw): { Label: string; Datapoints: Datapoint[] } {
    const namespace = requiredString(input, 'Namespace');
    const metricName = requiredString(input, 'MetricName');
    const dimensions = parseDimensions(input['Dimensions'], 'Dimensions');
    const start = requiredTime(input, 'StartTime');
    const end = requiredTime(input, 'EndTime');
    if (start >= end) throw invalidParameterValue('The parameter StartTime must be less than the parameter EndTime.');
    const period = requiredNumber(input, 'Period');
    validatePeriod(period, 'Period');
    const statistics = (optionalArray(input, 'Statistics') ?? []).map((s, i) => stringAt(s, `Statistics.member.${i + 1}`));
    const extended = (optionalArray(input, 'ExtendedStatistics') ?? []).map((s, i) => stringAt(s, `ExtendedStatistics.member.${i + 1}`));
    if (statistics.length === 0 && extended.length === 0) throw invalidParameterCombination('Must specify either Statistics or ExtendedStatistics, but not both.');
    if (statistics.length > 5) throw invalidParameterValue('The collection Statistics must not have a size greater than 5.');
    if (extended.length > 10) throw invalidParameterValue('The collection ExtendedStatistics must not have a size greater than 10.');
    statistics.forEach((s, i) => {
      if (!isBasicStatistic(s)) throw invalidParameterValue(`The value ${s} for parameter Statistics.member.${i + 1} is invalid: must be one of SampleCount, Average, Sum, Minimum, Maximum.`);
    });
    extended.forEach((s, i) => {
      if (!isPercentile(s)) throw invalidParameterValue(`The value ${s} for parameter ExtendedStatistics.member.${i + 1} is invalid: must be a percentile such as p99 or p99.9.`);
    });
    const unit = optionalUnit(input, 'Unit');
    const requested = Math.ceil((end - start) / (period * 1000));
    if (requested > LIMITS.datapointsPerStatistics) {
      throw invalidParameterCombination(
        `You have requested up to ${requested} datapoints, which exceeds the limit of ${LIMITS.datapointsPerStatistics}. You may reduce the datapoints requested by increasing Period, or decreasing the time range.`,
      );
    }
    const metric = this.store.get(namespace, metricName, dimensions);
    const datapoints: Datapoint[] = [];
    if (metric) {
      const buckets = this.store.aggregate(metric, roundStart(start, period), end, period, unit);
      for (const [t, aggregate] of [...buckets].sort((a, b) => a[0] - b[0])) {
        const point: { -readonly [K in keyof Datapoint]?: Datapoint[K] } = { Timestamp: new Date(t) };
        for (const stat of statistics) {
          const value = statisticValue(aggregate, stat);
          if (value !== undefined) point[stat as 'Sum'] = value;
        }
        if (extended.length) {
          const values: Record<string, number> = {};
          for (const stat of extended) {
            const value = statisticValue(aggregate, stat);
            if (value !== undefined) values[stat] = value;
          }
          point.ExtendedStatistics = values;
        }
        point.Unit = aggregate.unit;
        datapoints.push(point as Datapoint);
      }
    }
    return { Label: metricName, Datapoints: datapoints };
  }

  private wireListMetrics(input: Raw): { Metrics: ListedMetric[]; NextToken?: string } {
    const namespace = optionalString(input, 'Namespace');
    const metricName = optionalString(input, 'MetricName');
    const filters = (optionalArray(input, 'Dimensions') ?? []).map((f, i) => {
      const field = `Dimensions.member.${i + 1}`;
      const record = asRecord(f, field);
      const name = requiredString(record, 'Name', `${field}.Name`);
      const value = optionalString(record, 'Value', `${field}.Value`);
      return { name, value };
    });
    if (filters.length > LIMITS.dimensionFilters) throw invalidParameterValue(`The collection Dimensions must not have a size greater than ${LIMITS.dimensionFilters}.`);
    const recentlyActive = optionalString(input, 'RecentlyActive');
    if (recentlyActive !== undefined && recentlyActive !== 'PT3H') throw invalidParameterValue(`The value ${recentlyActive} for parameter RecentlyActive is invalid: must be PT3H.`);
    const token = optionalString(input, 'NextToken');
    const offset = token === undefined ? 0 : decodeToken(token);
    const now = this.clock.now();
    this.prune(now);
    const matches = this.store
      .all()
      .filter((m) => namespace === undefined || m.namespace === namespace)
      .filter((m) => metricName === undefined || m.metricName === metricName)
      .filter((m) => filters.every((f) => m.dimensions.some((d) => d.Name === f.name && (f.value === undefined || d.Value === f.value))))
      .filter((m) => recentlyActive === undefined || m.points.some((p) => p.t >= now - LIMITS.recentlyActiveMs))
      .map((m) => ({ Namespace: m.namespace, MetricName: m.metricName, Dimensions: m.dimensions.map((d) => ({ Name: d.Name, Value: d.Value })) }))
      .sort((a, b) => compareKeys(a, b));
    const page = matches.slice(offset, offset + LIMITS.listMetricsPage);
    const result: { Metrics: ListedMetric[]; NextToken?: string } = { Metrics: page };
    if (offset + LIMITS.listMetricsPage < matches.length) result.NextToken = encodeToken(offset + LIMITS.listMetricsPage);
    return result;
  }

  // -------------------------------------------------------------------------------------------
  // GetMetricData

  private runGetMetricData(queries: readonly MetricDataQuery[], start: number, end: number, options: GetMetricDataOptions): GetMetricDataOutput {
    if (queries.length === 0) throw missingParameter('MetricDataQueries');
    if (queries.length > LIMITS.queries) throw invalidParameterValue(`The collection MetricDataQueries must not have a size greater than ${LIMITS.queries}.`);
    if (!Number.isFinite(start) || !Number.isFinite(end)) throw invalidParameterValue('StartTime and EndTime must be valid timestamps.');
    if (start >= end) throw invalidParameterValue('The parameter StartTime must be less than the parameter EndTime.');
    const parsed = queries.map((query, i) => parseQuery(query, `MetricDataQueries.member.${i + 1}`));
    const byId = new Map<string, ParsedQuery>();
    for (const q of parsed) {
      if (byId.has(q.id)) throw invalidParameterValue(`The value ${q.id} for parameter ${q.field}.Id is invalid: Ids must be unique.`);
      byId.set(q.id, q);
    }
    const minPeriod = Math.min(60, ...parsed.map((q) => q.period ?? 60));
    const startMs = roundStart(start, minPeriod);
    const values = new Map<string, MathValue>();
    const evaluating = new Set<string>();

    const resolve = (id: string, from: string): MathValue => {
      const cached = values.get(id);
      if (cached) return cached;
      const query = byId.get(id);
      if (!query) throw expressionError(from, `Unrecognized identifier '${id}'`);
      if (evaluating.has(id)) throw expressionError(from, `circular reference through '${id}'`);
      evaluating.add(id);
      const value = query.kind === 'metric' ? { kind: 'series' as const, series: this.metricSeries(query, startMs, end) } : evalExpression(query);
      evaluating.delete(id);
      values.set(id, value);
      return value;
    };
    const evalExpression = (query: ExpressionQuery): MathValue => {
      const context: MathContext = {
        startMs,
        endMs: end,
        defaultPeriod: query.period ?? 60,
        resolve: (ref) => resolve(ref, query.id),
        metrics: () => parsed.filter((q): q is MetricQuery => q.kind === 'metric').map((q) => ({ id: q.id, series: seriesOfValue(resolve(q.id, query.id)) })),
      };
      try {
        return evaluate(query.node, context);
      } catch (error) {
        if (error instanceof MetricMathError) throw expressionError(query.id, error.message);
        throw error;
      }
    };

    for (const q of parsed) {
      if (q.kind !== 'expression') continue;
      for (const ref of references(q.node)) if (!byId.has(ref)) throw expressionError(q.id, `Unrecognized identifier '${ref}'`);
    }

    const descending = (options.scanBy ?? 'TimestampDescending') === 'TimestampDescending';
    const results: MetricDataResult[] = [];
    let total = 0;
    const maxDatapoints = options.maxDatapoints ?? LIMITS.maxDatapoints;
    for (const q of parsed) {
      if (!q.returnData) continue;
      const value = resolve(q.id, q.id);
      const seriesList = resultSeries(value, q);
      for (const { label, series } of seriesList) {
        const points = [...series.points].filter(([t]) => t >= startMs && t < end);
        points.sort((a, b) => (descending ? b[0] - a[0] : a[0] - b[0]));
        const kept = points.slice(0, Math.max(0, maxDatapoints - total));
        total += kept.length;
        results.push({
          Id: q.id,
          Label: label,
          Timestamps: kept.map(([t]) => new Date(t)),
          Values: kept.map(([, v]) => v),
          StatusCode: kept.length < points.length ? 'PartialData' : 'Complete',
          Messages: [],
        });
      }
    }
    return { MetricDataResults: results, Messages: [] };
  }

  private metricSeries(query: MetricQuery, startMs: number, endMs: number): Series {
    const metric = this.store.get(query.namespace, query.metricName, query.dimensions);
    const points = new Map<number, number>();
    if (metric) {
      const buckets = this.store.aggregate(metric, startMs, endMs, query.period, query.unit);
      for (const [t, aggregate] of [...buckets].sort((a, b) => a[0] - b[0])) {
        const value = statisticValue(aggregate, query.stat);
        if (value !== undefined) points.set(t, value);
      }
    }
    return { label: query.label ?? query.metricName, period: query.period, points };
  }

  // -------------------------------------------------------------------------------------------
  // Validation of data points

  private validateNamespace(namespace: string, wire: boolean): void {
    if (namespace.length < 1 || namespace.length > 255) throw invalidParameterValue(`The parameter Namespace must be 1 to 255 characters long (got ${namespace.length}).`);
    if (namespace.startsWith(':')) throw invalidParameterValue(`The value ${namespace} for parameter Namespace is invalid: it must not start with ':'.`);
    if (wire && namespace.startsWith('AWS/')) throw invalidParameterValue(`The value ${namespace} for parameter Namespace is invalid: the AWS/ prefix is reserved for AWS services.`);
  }

  private parseDatum(raw: Raw, field: string): { metricName: string; dimensions: Dimension[]; point: StoredPoint } {
    const metricName = requiredString(raw, 'MetricName', `${field}.MetricName`);
    if (metricName.length < 1 || metricName.length > 255) throw invalidParameterValue(`The parameter ${field}.MetricName must be 1 to 255 characters long.`);
    const dimensions = parseDimensions(raw['Dimensions'], `${field}.Dimensions`);
    const now = this.clock.now();
    const timestampRaw = raw['Timestamp'];
    const t = timestampRaw === undefined || timestampRaw === null ? now : toMs(timestampRaw, `${field}.Timestamp`);
    if (t < now - LIMITS.pastMs) throw invalidParameterValue(`The parameter ${field}.Timestamp must specify a time no more than two weeks in the past.`);
    if (t > now + LIMITS.futureMs) throw invalidParameterValue(`The parameter ${field}.Timestamp must specify a time no more than two hours in the future.`);
    const resolution = optionalNumber(raw, 'StorageResolution', `${field}.StorageResolution`) ?? 60;
    if (resolution !== 1 && resolution !== 60) throw invalidParameterValue(`The value ${resolution} for parameter ${field}.StorageResolution is invalid: must be 1 or 60.`);
    const unit = optionalUnit(raw, 'Unit', `${field}.Unit`) ?? 'None';
    const truncated = Math.floor(t / (resolution * 1000)) * resolution * 1000;

    const value = optionalNumber(raw, 'Value', `${field}.Value`);
    const stats = raw['StatisticValues'];
    const values = optionalArray(raw, 'Values', `${field}.Values`);
    const counts = optionalArray(raw, 'Counts', `${field}.Counts`);
    const given = [value !== undefined, stats !== undefined && stats !== null, values !== undefined].filter(Boolean).length;
    if (given > 1) throw invalidParameterCombination(`The parameters ${field}.Value, ${field}.StatisticValues and ${field}.Values are mutually exclusive.`);
    if (given === 0) throw invalidParameterCombination(`One of ${field}.Value, ${field}.StatisticValues or ${field}.Values must be specified.`);
    if (counts !== undefined && values === undefined) throw invalidParameterCombination(`The parameter ${field}.Counts requires ${field}.Values.`);
    const base = { t: truncated, unit, resolution: resolution as 1 | 60 };
    if (value !== undefined) {
      checkValue(value, `${field}.Value`);
      return { metricName, dimensions, point: { ...base, values: [value] } };
    }
    if (values !== undefined) {
      if (values.length > LIMITS.valuesPerDatum) throw invalidParameterValue(`The collection ${field}.Values must not have a size greater than ${LIMITS.valuesPerDatum}.`);
      const nums = values.map((v, i) => checkValue(numberAt(v, `${field}.Values.member.${i + 1}`), `${field}.Values.member.${i + 1}`));
      const point: StoredPoint = { ...base, values: nums };
      if (counts !== undefined) {
        if (counts.length !== values.length) throw invalidParameterValue(`The parameters ${field}.Values and ${field}.Counts must be of the same size.`);
        const countNums = counts.map((c, i) => {
          const n = numberAt(c, `${field}.Counts.member.${i + 1}`);
          if (!Number.isFinite(n) || n < 0) throw invalidParameterValue(`The value ${n} for parameter ${field}.Counts.member.${i + 1} is invalid: must be a non-negative number.`);
          return n;
        });
        return { metricName, dimensions, point: { ...point, counts: countNums } };
      }
      return { metricName, dimensions, point };
    }
    const set = asRecord(stats, `${field}.StatisticValues`);
    const part = (name: string): number => {
      const v = optionalNumber(set, name, `${field}.StatisticValues.${name}`);
      if (v === undefined) throw missingParameter(`${field}.StatisticValues.${name}`);
      return checkValue(v, `${field}.StatisticValues.${name}`);
    };
    const statisticSet = { SampleCount: part('SampleCount'), Sum: part('Sum'), Minimum: part('Minimum'), Maximum: part('Maximum') };
    if (statisticSet.SampleCount <= 0) throw invalidParameterValue(`The parameter ${field}.StatisticValues.SampleCount must be greater than 0.`);
    if (statisticSet.Minimum > statisticSet.Maximum) throw invalidParameterValue(`The parameter ${field}.StatisticValues.Minimum must not exceed ${field}.StatisticValues.Maximum.`);
    return { metricName, dimensions, point: { ...base, stats: statisticSet } };
  }

  // -------------------------------------------------------------------------------------------
  // Protocol plumbing and persistence

  private async handleNonJson(request: EdgeRequest): Promise<EdgeResponse> {
    if (!isQueryRequest(request)) {
      const error = new AwsServiceError('UnknownOperationException', 'the local CloudWatch speaks AWS JSON 1.0 (X-Amz-Target) and the Query protocol; this request is neither');
      return jsonErrorResponse(error, { version: '1.0', errorTypePrefix: 'com.amazonaws.cloudwatch#', queryCompatible: true });
    }
    const operation = (shape: string, run: (input: Raw) => unknown) => (input: QueryInput) => run(decodeQueryInput(shape, input));
    return handleQueryRequest(request, {
      name: 'cloudwatch',
      xmlns: CLOUDWATCH_XMLNS,
      operations: {
        PutMetricData: operation('PutMetricData', (input) => {
          this.wirePutMetricData(input);
          return undefined;
        }),
        GetMetricData: operation('GetMetricData', (input) => this.wireGetMetricData(input)),
        GetMetricStatistics: operation('GetMetricStatistics', (input) => {
          const output = this.wireGetMetricStatistics(input);
          return {
            Label: output.Label,
            Datapoints: output.Datapoints.map((d) => ({ ...d, ExtendedStatistics: d.ExtendedStatistics ? xmlMap(d.ExtendedStatistics) : undefined })),
          };
        }),
        ListMetrics: operation('ListMetrics', (input) => this.wireListMetrics(input)),
      },
    });
  }

  private changed(): void {
    this.prune(this.clock.now());
    if (!this.file || this.cancelPersist) return;
    const file = this.file;
    this.cancelPersist = this.clock.schedule(this.persistDelayMs, () => {
      this.cancelPersist = undefined;
      // A failed background write must not take the process down; the next write retries.
      this.persist(file).catch((error: unknown) => process.emitWarning(`cloudwatch: could not persist metrics: ${String(error)}`));
    });
  }

  private prune(now: number): void {
    // Pruning scans everything, so it runs at most once a minute of clock time.
    if (now - this.lastPrune < 60_000) return;
    this.lastPrune = now;
    this.store.prune(now);
  }

  private persist(file: string): Promise<void> {
    const document = JSON.stringify(this.store.toJSON());
    this.writing = this.writing.catch(() => undefined).then(async () => {
      const temporary = `${file}.${process.pid}.tmp`;
      await writeFile(temporary, document);
      await rename(temporary, file);
    });
    return this.writing;
  }

  private loadFromDisk(file: string): void {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    this.store.load(JSON.parse(text));
    this.store.prune(this.clock.now());
  }
}

// ---------------------------------------------------------------------------------------------
// Query parsing

interface MetricQuery {
  readonly kind: 'metric';
  readonly id: string;
  readonly field: string;
  readonly label: string | undefined;
  readonly returnData: boolean;
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: Dimension[];
  readonly period: number;
  readonly stat: string;
  readonly unit: string | undefined;
}

interface ExpressionQuery {
  readonly kind: 'expression';
  readonly id: string;
  readonly field: string;
  readonly label: string | undefined;
  readonly returnData: boolean;
  readonly node: MathNode;
  readonly period: number | undefined;
}

type ParsedQuery = MetricQuery | ExpressionQuery;

const ID_PATTERN = /^[a-z][a-zA-Z0-9_]*$/;

function parseQuery(query: MetricDataQuery, field: string): ParsedQuery {
  const raw = query as unknown as Raw;
  const id = requiredString(raw, 'Id', `${field}.Id`);
  if (id.length > 255 || !ID_PATTERN.test(id)) {
    throw invalidParameterValue(`The value ${id} for parameter ${field}.Id is invalid: it must start with a lowercase letter and contain only letters, numbers and underscores.`);
  }
  const label = optionalString(raw, 'Label', `${field}.Label`);
  const returnData = raw['ReturnData'] === undefined || raw['ReturnData'] === null ? true : raw['ReturnData'] === true;
  const period = optionalNumber(raw, 'Period', `${field}.Period`);
  if (period !== undefined) validatePeriod(period, `${field}.Period`);
  const expression = optionalString(raw, 'Expression', `${field}.Expression`);
  const stat = raw['MetricStat'];
  if (expression !== undefined && stat !== undefined && stat !== null) {
    throw invalidParameterCombination(`${field}: specify either Expression or MetricStat, not both.`);
  }
  if (expression !== undefined) {
    if (expression.length < 1 || expression.length > 2048) throw invalidParameterValue(`The parameter ${field}.Expression must be 1 to 2048 characters long.`);
    let node: MathNode;
    try {
      node = parseExpression(expression);
    } catch (error) {
      if (error instanceof MetricMathError) throw expressionError(id, error.message);
      throw error;
    }
    return { kind: 'expression', id, field, label, returnData, node, period };
  }
  if (stat === undefined || stat === null) throw invalidParameterCombination(`${field}: specify either Expression or MetricStat.`);
  const metricStat = asRecord(stat, `${field}.MetricStat`);
  const metric = asRecord(metricStat['Metric'] ?? missing(`${field}.MetricStat.Metric`), `${field}.MetricStat.Metric`);
  const statName = requiredString(metricStat, 'Stat', `${field}.MetricStat.Stat`);
  if (!isBasicStatistic(statName) && !isPercentile(statName)) {
    throw invalidParameterValue(`The value ${statName} for parameter ${field}.MetricStat.Stat is invalid: must be Average, Sum, SampleCount, Minimum, Maximum or a percentile pNN.`);
  }
  const statPeriod = optionalNumber(metricStat, 'Period', `${field}.MetricStat.Period`);
  if (statPeriod === undefined) throw missingParameter(`${field}.MetricStat.Period`);
  validatePeriod(statPeriod, `${field}.MetricStat.Period`);
  return {
    kind: 'metric',
    id,
    field,
    label,
    returnData,
    namespace: requiredString(metric, 'Namespace', `${field}.MetricStat.Metric.Namespace`),
    metricName: requiredString(metric, 'MetricName', `${field}.MetricStat.Metric.MetricName`),
    dimensions: parseDimensions(metric['Dimensions'], `${field}.MetricStat.Metric.Dimensions`),
    period: statPeriod,
    stat: statName,
    unit: optionalUnit(metricStat, 'Unit', `${field}.MetricStat.Unit`),
  };
}

function missing(field: string): never {
  throw missingParameter(field);
}

function seriesOfValue(value: MathValue): Series {
  if (value.kind !== 'series') throw new MetricMathError('expected a time series');
  return value.series;
}

function resultSeries(value: MathValue, query: ParsedQuery): { label: string; series: Series }[] {
  if (value.kind === 'series') return [{ label: query.label ?? (query.kind === 'metric' ? value.series.label : query.id), series: value.series }];
  if (value.kind === 'array') {
    return value.items.map((series) => ({ label: query.label ? `${query.label} ${series.label}`.trim() : series.label, series }));
  }
  throw expressionError(query.id, 'the expression must return a time series or an array of time series (use TIME_SERIES() for a constant)');
}

// ---------------------------------------------------------------------------------------------
// Field helpers: each names the field in its error

function asRecord(value: unknown, field: string): Raw {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalidParameterValue(`The parameter ${field} must be a structure.`);
  return value as Raw;
}

function optionalString(input: Raw, name: string, field = name): string | undefined {
  const value = input[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw invalidParameterValue(`The value for parameter ${field} must be a string.`);
  return value;
}

function requiredString(input: Raw, name: string, field = name): string {
  const value = optionalString(input, name, field);
  if (value === undefined || value === '') throw missingParameter(field);
  return value;
}

function stringAt(value: unknown, field: string): string {
  if (typeof value !== 'string') throw invalidParameterValue(`The value for parameter ${field} must be a string.`);
  return value;
}

/** Numbers arrive as JSON numbers, or as strings for the special values (`"NaN"`, `"Infinity"`). */
function numberAt(value: unknown, field: string): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && value.trim() !== '') {
    const n = Number(value);
    if (!Number.isNaN(n) || value === 'NaN') return n;
  }
  throw invalidParameterValue(`The value ${String(value)} for parameter ${field} is invalid: must be a number.`);
}

function optionalNumber(input: Raw, name: string, field = name): number | undefined {
  const value = input[name];
  return value === undefined || value === null ? undefined : numberAt(value, field);
}

function requiredNumber(input: Raw, name: string, field = name): number {
  const value = optionalNumber(input, name, field);
  if (value === undefined) throw missingParameter(field);
  return value;
}

function optionalArray(input: Raw, name: string, field = name): unknown[] | undefined {
  const value = input[name];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) throw invalidParameterValue(`The parameter ${field} must be a list.`);
  return value;
}

function optionalUnit(input: Raw, name: string, field = name): string | undefined {
  const unit = optionalString(input, name, field);
  if (unit !== undefined && !(STANDARD_UNITS as readonly string[]).includes(unit)) {
    throw invalidParameterValue(`The value ${unit} for parameter ${field} is invalid: must be one of ${STANDARD_UNITS.join(', ')}.`);
  }
  return unit;
}

function checkValue(value: number, field: string): number {
  if (!Number.isFinite(value)) throw invalidParameterValue(`The value ${value} for parameter ${field} is invalid: NaN and Infinity are not supported.`);
  const magnitude = Math.abs(value);
  if (magnitude > MAX_MAGNITUDE || (magnitude !== 0 && magnitude < MIN_MAGNITUDE)) {
    throw invalidParameterValue(`The value ${value} for parameter ${field} is invalid: values must be within -2^360 to 2^360 and not smaller in magnitude than 2^-260.`);
  }
  return value;
}

function parseDimensions(value: unknown, field: string): Dimension[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw invalidParameterValue(`The parameter ${field} must be a list.`);
  if (value.length > LIMITS.dimensions) throw invalidParameterValue(`The collection ${field} must not have a size greater than ${LIMITS.dimensions}.`);
  const seen = new Set<string>();
  const dimensions = value.map((d, i) => {
    const at = `${field}.member.${i + 1}`;
    const record = asRecord(d, at);
    const name = requiredString(record, 'Name', `${at}.Name`);
    const dimensionValue = requiredString(record, 'Value', `${at}.Value`);
    if (name.length > 255) throw invalidParameterValue(`The parameter ${at}.Name must be 1 to 255 characters long.`);
    if (dimensionValue.length > 1024) throw invalidParameterValue(`The parameter ${at}.Value must be 1 to 1024 characters long.`);
    if (seen.has(name)) throw invalidParameterValue(`The value ${name} for parameter ${at}.Name is invalid: dimension names must be unique.`);
    seen.add(name);
    return { Name: name, Value: dimensionValue };
  });
  return sortDimensions(dimensions);
}

/** Epoch ms from a Date, epoch seconds (JSON), or an ISO-8601 string (Query). */
function toMs(value: unknown, field: string): number {
  let ms = NaN;
  if (value instanceof Date) ms = value.getTime();
  else if (typeof value === 'number') ms = value * 1000;
  else if (typeof value === 'string') ms = /^-?\d+(\.\d+)?$/.test(value.trim()) ? Number(value) * 1000 : Date.parse(value);
  if (!Number.isFinite(ms)) throw invalidParameterValue(`The value ${String(value)} for parameter ${field} is invalid: must be a timestamp.`);
  return ms;
}

function requiredTime(input: Raw, name: string): number {
  const value = input[name];
  if (value === undefined || value === null || value === '') throw missingParameter(name);
  return toMs(value, name);
}

function validatePeriod(period: number, field: string): void {
  if (!Number.isInteger(period) || period < 1 || (period >= 60 ? period % 60 !== 0 : ![1, 5, 10, 30].includes(period))) {
    throw invalidParameterValue(`The value ${period} for parameter ${field} is invalid: must be 1, 5, 10, 30 or a multiple of 60.`);
  }
}

/** CloudWatch rounds a recent StartTime down to the whole minute (to the second for high-resolution periods). */
function roundStart(startMs: number, period: number): number {
  const unit = period < 60 ? 1000 : 60_000;
  return Math.floor(startMs / unit) * unit;
}

function compareKeys(a: ListedMetric, b: ListedMetric): number {
  const ka = JSON.stringify([a.Namespace, a.MetricName, a.Dimensions]);
  const kb = JSON.stringify([b.Namespace, b.MetricName, b.Dimensions]);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

function encodeToken(offset: number): string {
  return Buffer.from(JSON.stringify({ offset })).toString('base64');
}

function decodeToken(token: string): number {
  try {
    const offset = (JSON.parse(Buffer.from(token, 'base64').toString('utf8')) as { offset?: unknown }).offset;
    if (typeof offset === 'number' && Number.isInteger(offset) && offset >= 0) return offset;
  } catch {
    // fall through to the error below
  }
  throw invalidNextToken('The NextToken is invalid or expired.');
}

const gunzipAsync = promisify(gunzip);

/** PutMetricData is modelled with request compression: SDKs gzip bodies of 10 KB and more. */
async function decompress(request: EdgeRequest): Promise<EdgeRequest> {
  const encoding = request.headers['content-encoding'];
  if (typeof encoding !== 'string' || !encoding.split(',').some((e) => e.trim().toLowerCase() === 'gzip')) return request;
  let body: Buffer;
  try {
    body = await gunzipAsync(request.body);
  } catch {
    throw new AwsServiceError('SerializationException', 'the request body is not valid gzip despite Content-Encoding: gzip');
  }
  return { ...request, body };
}

/** JSON wire form: Dates become epoch seconds. */
function toJsonWire(value: unknown): unknown {
  if (value instanceof Date) return value.getTime() / 1000;
  if (Array.isArray(value)) return value.map(toJsonWire);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined).map(([k, v]) => [k, toJsonWire(v)]));
  }
  return value;
}

