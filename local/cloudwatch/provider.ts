/**
 * CloudWatch's metric operations (PutMetricData, GetMetricData, GetMetricStatistics, ListMetrics)
 * over AWS JSON 1.0 in query-compatible mode (current SDKs) and over the AWS Query protocol (older
 * SDKs and the AWS CLI 2.9): gzip request bodies, validation, wire dates, pagination.
 */
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import type { Clock } from '../clock';
import { AwsServiceError } from '../edge/errors';
import { jsonErrorResponse, jsonService } from '../edge/json-protocol';
import { handleQueryRequest, isQueryRequest, queryErrorResponse, queryParams, xmlMap, type QueryInput } from '../edge/query-protocol';
import type { EdgeRequest, EdgeResponse, ServiceHandler } from '../edge/types';
import { paginate, type PaginationRules } from '../shared/pagination';
import { invalidNextToken, invalidParameterCombination, invalidParameterValue, missingParameter } from './errors';
import { getMetricData, roundStart } from './get-metric-data';
import { asRecord, fields, LIMITS, optionalList, optionalNumber, optionalUnit, parseDatum, parseDimensions, requiredNumber, requiredTime, stringAt, validateNamespace, validatePeriod, type Raw } from './inputs';
import { isBasicStatistic, isPercentile, statisticValue, type StoredMetric } from './models';
import { decodeQueryInput } from './query-shapes';
import type { Datapoint, GetMetricDataOptions, GetMetricDataOutput, ListedMetric, MetricDataQuery } from './shapes';
import type { MetricsStore } from './store';

export const CLOUDWATCH_XMLNS = 'http://monitoring.amazonaws.com/doc/2010-08-01/';
const TARGET_PREFIX = 'GraniteServiceVersion20100801';
const JSON_ERRORS = { version: '1.0', errorTypePrefix: 'com.amazonaws.cloudwatch#', queryCompatible: true } as const;
const PAGES: PaginationRules = { defaultSize: LIMITS.listMetricsPage, maxSize: LIMITS.listMetricsPage, invalidToken: () => invalidNextToken('The NextToken is invalid or expired.') };

export class CloudWatchProvider {
  readonly handler: ServiceHandler;
  private readonly read = fields();

  constructor(private readonly deps: { readonly clock: Clock; readonly store: MetricsStore }) {
    const json = jsonService({
      name: 'cloudwatch',
      signingNames: ['monitoring'],
      targetPrefix: TARGET_PREFIX,
      ...JSON_ERRORS,
      operations: {
        PutMetricData: (input) => this.putMetricData(input),
        GetMetricData: (input) => toJsonWire(this.getMetricData(input)),
        GetMetricStatistics: (input) => toJsonWire(this.getMetricStatistics(input)),
        ListMetrics: (input) => this.listMetrics(input),
      },
      fallback: (request) => this.handleQuery(request),
    });
    this.handler = {
      name: json.name,
      signingNames: json.signingNames,
      // Both protocols carry the same operation names; an error goes back in the protocol the call came in.
      api: {
        operations: json.api?.operations ?? [],
        operationOf: (request) => json.api?.operationOf(request) ?? (isQueryRequest(request) ? queryParams(request).get('Action') : undefined),
        errorResponse: (error, request) => (request.headers['x-amz-target'] === undefined ? queryErrorResponse(error, CLOUDWATCH_XMLNS) : jsonErrorResponse(error, JSON_ERRORS)),
      },
      handle: async (request) => {
        let decoded: EdgeRequest;
        try {
          decoded = await decompress(request);
        } catch (error) {
          if (error instanceof AwsServiceError) return jsonErrorResponse(error, JSON_ERRORS);
          throw error;
        }
        return json.handle(decoded);
      },
    };
  }

  /** PutMetricData's body (or decoded Query parameters). */
  putMetricData(input: Raw): Record<string, never> {
    const namespace = this.read.requiredString(input, 'Namespace');
    validateNamespace(namespace, true);
    const data = optionalList(input, 'MetricData');
    if (!data || data.length === 0) throw missingParameter('MetricData');
    if (data.length > LIMITS.metricDataPerPut) throw invalidParameterValue(`The collection MetricData must not have a size greater than ${LIMITS.metricDataPerPut}.`);
    const now = this.deps.clock.now();
    const points = data.map((datum, i) => parseDatum(asRecord(datum, `MetricData.member.${i + 1}`), `MetricData.member.${i + 1}`, now));
    this.deps.store.add(points.map((p) => ({ identity: { namespace, metricName: p.metricName, dimensions: p.dimensions }, point: p.point })));
    return {};
  }

  getMetricData(input: Raw): GetMetricDataOutput & { NextToken?: string } {
    const queries = optionalList(input, 'MetricDataQueries');
    if (!queries) throw missingParameter('MetricDataQueries');
    const start = requiredTime(input, 'StartTime');
    const end = requiredTime(input, 'EndTime');
    const scanBy = this.read.optionalString(input, 'ScanBy');
    if (scanBy !== undefined && !isScanBy(scanBy)) {
      throw invalidParameterValue(`The value ${scanBy} for parameter ScanBy is invalid: must be TimestampDescending or TimestampAscending.`);
    }
    const maxDatapoints = optionalNumber(input, 'MaxDatapoints');
    if (maxDatapoints !== undefined && (!Number.isInteger(maxDatapoints) || maxDatapoints < 1)) {
      throw invalidParameterValue(`The value ${maxDatapoints} for parameter MaxDatapoints is invalid: must be a positive integer.`);
    }
    // Results are never cut into pages (PartialData instead), so no token is ever valid.
    if (this.read.optionalString(input, 'NextToken') !== undefined) throw invalidNextToken('The NextToken is invalid or expired.');
    const options = { ...(scanBy ? { scanBy } : {}), ...(maxDatapoints !== undefined ? { maxDatapoints } : {}) };
    const parsed = queries.map((q, i) => asRecord(q, `MetricDataQueries.member.${i + 1}`) as MetricDataQuery);
    return getMetricData(this.deps.store.metrics, parsed, start, end, options);
  }

  /** GetMetricStatistics; `Datapoints` are in ascending time order. */
  getMetricStatistics(input: Raw): { Label: string; Datapoints: Datapoint[] } {
    const namespace = this.read.requiredString(input, 'Namespace');
    const metricName = this.read.requiredString(input, 'MetricName');
    const dimensions = parseDimensions(input['Dimensions'], 'Dimensions');
    const start = requiredTime(input, 'StartTime');
    const end = requiredTime(input, 'EndTime');
    if (start >= end) throw invalidParameterValue('The parameter StartTime must be less than the parameter EndTime.');
    const period = requiredNumber(input, 'Period');
    validatePeriod(period, 'Period');
    const statistics = (optionalList(input, 'Statistics') ?? []).map((s, i) => stringAt(s, `Statistics.member.${i + 1}`));
    const extended = (optionalList(input, 'ExtendedStatistics') ?? []).map((s, i) => stringAt(s, `ExtendedStatistics.member.${i + 1}`));
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
    const metrics = this.deps.store.metrics;
    const metric = metrics.get(namespace, metricName, dimensions);
    const datapoints: Datapoint[] = [];
    if (metric) {
      const buckets = metrics.aggregate(metric, roundStart(start, period), end, period, unit);
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

  listMetrics(input: Raw): { Metrics: ListedMetric[]; NextToken?: string } {
    const namespace = this.read.optionalString(input, 'Namespace');
    const metricName = this.read.optionalString(input, 'MetricName');
    const filters = (optionalList(input, 'Dimensions') ?? []).map((f, i) => {
      const field = `Dimensions.member.${i + 1}`;
      const record = asRecord(f, field);
      return { name: fields(field).requiredString(record, 'Name'), value: fields(field).optionalString(record, 'Value') };
    });
    if (filters.length > LIMITS.dimensionFilters) throw invalidParameterValue(`The collection Dimensions must not have a size greater than ${LIMITS.dimensionFilters}.`);
    const recentlyActive = this.read.optionalString(input, 'RecentlyActive');
    if (recentlyActive !== undefined && recentlyActive !== 'PT3H') throw invalidParameterValue(`The value ${recentlyActive} for parameter RecentlyActive is invalid: must be PT3H.`);
    const token = this.read.optionalString(input, 'NextToken');
    const now = this.deps.clock.now();
    this.deps.store.prune(now);
    const matches = this.deps.store.metrics
      .all()
      .filter((m) => namespace === undefined || m.namespace === namespace)
      .filter((m) => metricName === undefined || m.metricName === metricName)
      .filter((m) => filters.every((f) => m.dimensions.some((d) => d.Name === f.name && (f.value === undefined || d.Value === f.value))))
      .filter((m) => recentlyActive === undefined || m.points.some((p) => p.t >= now - LIMITS.recentlyActiveMs))
      .map(listed)
      .sort(compareKeys);
    const { items, nextToken } = paginate(matches, undefined, token, PAGES);
    return nextToken ? { Metrics: items, NextToken: nextToken } : { Metrics: items };
  }

  private async handleQuery(request: EdgeRequest): Promise<EdgeResponse> {
    if (!isQueryRequest(request)) {
      const error = new AwsServiceError('UnknownOperationException', 'the local CloudWatch speaks AWS JSON 1.0 (X-Amz-Target) and the Query protocol; this request is neither');
      return jsonErrorResponse(error, JSON_ERRORS);
    }
    const operation = (shape: string, run: (input: Raw) => unknown) => (input: QueryInput) => run(decodeQueryInput(shape, input));
    return handleQueryRequest(request, {
      name: 'cloudwatch',
      xmlns: CLOUDWATCH_XMLNS,
      operations: {
        PutMetricData: operation('PutMetricData', (input) => {
          this.putMetricData(input);
          return undefined;
        }),
        GetMetricData: operation('GetMetricData', (input) => this.getMetricData(input)),
        GetMetricStatistics: operation('GetMetricStatistics', (input) => {
          const output = this.getMetricStatistics(input);
          return {
            Label: output.Label,
            Datapoints: output.Datapoints.map((d) => ({ ...d, ExtendedStatistics: d.ExtendedStatistics ? xmlMap(d.ExtendedStatistics) : undefined })),
          };
        }),
        ListMetrics: operation('ListMetrics', (input) => this.listMetrics(input)),
      },
    });
  }
}

function isScanBy(value: string): value is NonNullable<GetMetricDataOptions['scanBy']> {
  return value === 'TimestampDescending' || value === 'TimestampAscending';
}

function listed(metric: StoredMetric): ListedMetric {
  return { Namespace: metric.namespace, MetricName: metric.metricName, Dimensions: metric.dimensions.map((d) => ({ Name: d.Name, Value: d.Value })) };
}

function compareKeys(a: ListedMetric, b: ListedMetric): number {
  const ka = JSON.stringify([a.Namespace, a.MetricName, a.Dimensions]);
  const kb = JSON.stringify([b.Namespace, b.MetricName, b.Dimensions]);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
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
