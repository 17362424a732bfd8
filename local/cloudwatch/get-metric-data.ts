/**
 * GetMetricData over the metrics: each query checked as CloudWatch checks it, MetricStat queries
 * aggregated per period, expressions evaluated with metric math in dependency order, and the
 * results cut at MaxDatapoints in the requested scan order.
 */
import { expressionError, invalidParameterCombination, invalidParameterValue, missingParameter } from './errors';
import { asRecord, fields, LIMITS, optionalNumber, optionalUnit, parseDimensions, validatePeriod, type Raw } from './inputs';
import { MetricMathError, parseExpression, references, type MathNode } from './math-parser';
import { evaluate, type MathContext, type MathValue, type Series } from './metric-math';
import { isBasicStatistic, isPercentile, statisticValue, type Dimension, type Metrics } from './models';
import type { GetMetricDataOptions, GetMetricDataOutput, MetricDataQuery, MetricDataResult } from './shapes';

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

/** GetMetricData over [start, end) in epoch ms. */
export function getMetricData(metrics: Metrics, queries: readonly MetricDataQuery[], start: number, end: number, options: GetMetricDataOptions): GetMetricDataOutput {
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
    const value = query.kind === 'metric' ? { kind: 'series' as const, series: metricSeries(metrics, query, startMs, end) } : evalExpression(query);
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
    for (const { label, series } of resultSeries(resolve(q.id, q.id), q)) {
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

/** CloudWatch rounds a recent StartTime down to the whole minute (to the second for high-resolution periods). */
export function roundStart(startMs: number, period: number): number {
  const unit = period < 60 ? 1000 : 60_000;
  return Math.floor(startMs / unit) * unit;
}

function parseQuery(query: MetricDataQuery, field: string): ParsedQuery {
  const raw = query as unknown as Raw;
  const read = fields(field);
  const id = read.requiredString(raw, 'Id');
  if (id.length > 255 || !ID_PATTERN.test(id)) {
    throw invalidParameterValue(`The value ${id} for parameter ${field}.Id is invalid: it must start with a lowercase letter and contain only letters, numbers and underscores.`);
  }
  const label = read.optionalString(raw, 'Label');
  const returnData = raw['ReturnData'] === undefined || raw['ReturnData'] === null ? true : raw['ReturnData'] === true;
  const period = optionalNumber(raw, 'Period', field);
  if (period !== undefined) validatePeriod(period, `${field}.Period`);
  const expression = read.optionalString(raw, 'Expression');
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
  const statField = `${field}.MetricStat`;
  const metricStat = asRecord(stat, statField);
  const metricField = `${statField}.Metric`;
  const metricRaw = metricStat['Metric'];
  if (metricRaw === undefined || metricRaw === null) throw missingParameter(metricField);
  const metric = asRecord(metricRaw, metricField);
  const statName = fields(statField).requiredString(metricStat, 'Stat');
  if (!isBasicStatistic(statName) && !isPercentile(statName)) {
    throw invalidParameterValue(`The value ${statName} for parameter ${statField}.Stat is invalid: must be Average, Sum, SampleCount, Minimum, Maximum or a percentile pNN.`);
  }
  const statPeriod = optionalNumber(metricStat, 'Period', statField);
  if (statPeriod === undefined) throw missingParameter(`${statField}.Period`);
  validatePeriod(statPeriod, `${statField}.Period`);
  return {
    kind: 'metric',
    id,
    field,
    label,
    returnData,
    namespace: fields(metricField).requiredString(metric, 'Namespace'),
    metricName: fields(metricField).requiredString(metric, 'MetricName'),
    dimensions: parseDimensions(metric['Dimensions'], `${metricField}.Dimensions`),
    period: statPeriod,
    stat: statName,
    unit: optionalUnit(metricStat, 'Unit', statField),
  };
}

function metricSeries(metrics: Metrics, query: MetricQuery, startMs: number, endMs: number): Series {
  const metric = metrics.get(query.namespace, query.metricName, query.dimensions);
  const points = new Map<number, number>();
  if (metric) {
    const buckets = metrics.aggregate(metric, startMs, endMs, query.period, query.unit);
    for (const [t, aggregate] of [...buckets].sort((a, b) => a[0] - b[0])) {
      const value = statisticValue(aggregate, query.stat);
      if (value !== undefined) points.set(t, value);
    }
  }
  return { label: query.label ?? query.metricName, period: query.period, points };
}

function seriesOfValue(value: MathValue): Series {
  if (value.kind !== 'series') throw new MetricMathError('expected a time series');
  return value.series;
}

function resultSeries(value: MathValue, query: ParsedQuery): { label: string; series: Series }[] {
  if (value.kind === 'series') return [{ label: query.label ?? (query.kind === 'metric' ? value.series.label : query.id), series: value.series }];
  if (value.kind === 'array') return value.items.map((series) => ({ label: query.label ? `${query.label} ${series.label}`.trim() : series.label, series }));
  throw expressionError(query.id, 'the expression must return a time series or an array of time series (use TIME_SERIES() for a constant)');
}
