/**
 * CloudWatch's request members read and checked as CloudWatch checks them. Every error names the
 * member by its full path (`MetricData.member.1.Value`), as CloudWatch's messages do.
 */
import { inputReaders, type InputReaders } from '../shared/input';
import { invalidParameterCombination, invalidParameterValue, missingParameter } from './errors';
import { sortDimensions, STANDARD_UNITS, type Dimension, type StoredPoint } from './models';

export type Raw = Readonly<Record<string, unknown>>;

export const LIMITS = {
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

function path(prefix: string | undefined, name: string): string {
  return prefix ? `${prefix}.${name}` : name;
}

/** The shared readers for the members of the structure at `prefix` (top level when absent). */
export function fields(prefix?: string): InputReaders {
  return inputReaders({
    missing: (name) => missingParameter(path(prefix, name)),
    invalid: (name, detail) => invalidParameterValue(`The value for parameter ${path(prefix, name)} ${detail}.`),
  });
}

export function asRecord(value: unknown, field: string): Raw {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalidParameterValue(`The parameter ${field} must be a structure.`);
  return value as Raw;
}

/** A list member, undefined when absent (an empty list is present). */
export function optionalList(input: Raw, name: string, prefix?: string): unknown[] | undefined {
  const value = input[name];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) throw invalidParameterValue(`The parameter ${path(prefix, name)} must be a list.`);
  return value;
}

export function stringAt(value: unknown, field: string): string {
  if (typeof value !== 'string') throw invalidParameterValue(`The value for parameter ${field} must be a string.`);
  return value;
}

/** Numbers arrive as JSON numbers, or as strings for the special values (`"NaN"`, `"Infinity"`). */
export function numberAt(value: unknown, field: string): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && value.trim() !== '') {
    const n = Number(value);
    if (!Number.isNaN(n) || value === 'NaN') return n;
  }
  throw invalidParameterValue(`The value ${String(value)} for parameter ${field} is invalid: must be a number.`);
}

export function optionalNumber(input: Raw, name: string, prefix?: string): number | undefined {
  const value = input[name];
  return value === undefined || value === null ? undefined : numberAt(value, path(prefix, name));
}

export function requiredNumber(input: Raw, name: string): number {
  const value = optionalNumber(input, name);
  if (value === undefined) throw missingParameter(name);
  return value;
}

export function optionalUnit(input: Raw, name: string, prefix?: string): string | undefined {
  const unit = fields(prefix).optionalString(input, name);
  if (unit !== undefined && !(STANDARD_UNITS as readonly string[]).includes(unit)) {
    throw invalidParameterValue(`The value ${unit} for parameter ${path(prefix, name)} is invalid: must be one of ${STANDARD_UNITS.join(', ')}.`);
  }
  return unit;
}

export function parseDimensions(value: unknown, field: string): Dimension[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw invalidParameterValue(`The parameter ${field} must be a list.`);
  if (value.length > LIMITS.dimensions) throw invalidParameterValue(`The collection ${field} must not have a size greater than ${LIMITS.dimensions}.`);
  const seen = new Set<string>();
  const dimensions = value.map((d, i) => {
    const at = `${field}.member.${i + 1}`;
    const record = asRecord(d, at);
    const name = fields(at).requiredString(record, 'Name');
    const dimensionValue = fields(at).requiredString(record, 'Value');
    if (name.length > 255) throw invalidParameterValue(`The parameter ${at}.Name must be 1 to 255 characters long.`);
    if (dimensionValue.length > 1024) throw invalidParameterValue(`The parameter ${at}.Value must be 1 to 1024 characters long.`);
    if (seen.has(name)) throw invalidParameterValue(`The value ${name} for parameter ${at}.Name is invalid: dimension names must be unique.`);
    seen.add(name);
    return { Name: name, Value: dimensionValue };
  });
  return sortDimensions(dimensions);
}

/** Epoch ms from a Date, epoch seconds (JSON), or an ISO-8601 string (Query). */
export function toMs(value: unknown, field: string): number {
  let ms = NaN;
  if (value instanceof Date) ms = value.getTime();
  else if (typeof value === 'number') ms = value * 1000;
  else if (typeof value === 'string') ms = /^-?\d+(\.\d+)?$/.test(value.trim()) ? Number(value) * 1000 : Date.parse(value);
  if (!Number.isFinite(ms)) throw invalidParameterValue(`The value ${String(value)} for parameter ${field} is invalid: must be a timestamp.`);
  return ms;
}

export function requiredTime(input: Raw, name: string): number {
  const value = input[name];
  if (value === undefined || value === null || value === '') throw missingParameter(name);
  return toMs(value, name);
}

export function validatePeriod(period: number, field: string): void {
  if (!Number.isInteger(period) || period < 1 || (period >= 60 ? period % 60 !== 0 : ![1, 5, 10, 30].includes(period))) {
    throw invalidParameterValue(`The value ${period} for parameter ${field} is invalid: must be 1, 5, 10, 30 or a multiple of 60.`);
  }
}

/** `AWS/` namespaces are reserved for AWS services: refused on the wire, allowed to the emulated services in process. */
export function validateNamespace(namespace: string, wire: boolean): void {
  if (namespace.length < 1 || namespace.length > 255) throw invalidParameterValue(`The parameter Namespace must be 1 to 255 characters long (got ${namespace.length}).`);
  if (namespace.startsWith(':')) throw invalidParameterValue(`The value ${namespace} for parameter Namespace is invalid: it must not start with ':'.`);
  if (wire && namespace.startsWith('AWS/')) throw invalidParameterValue(`The value ${namespace} for parameter Namespace is invalid: the AWS/ prefix is reserved for AWS services.`);
}

/** One `MetricDatum` (at `field`, e.g. `MetricData.member.1`) as the point it stores. */
export function parseDatum(raw: Raw, field: string, now: number): { metricName: string; dimensions: Dimension[]; point: StoredPoint } {
  const read = fields(field);
  const metricName = read.requiredString(raw, 'MetricName');
  if (metricName.length < 1 || metricName.length > 255) throw invalidParameterValue(`The parameter ${field}.MetricName must be 1 to 255 characters long.`);
  const dimensions = parseDimensions(raw['Dimensions'], `${field}.Dimensions`);
  const timestampRaw = raw['Timestamp'];
  const t = timestampRaw === undefined || timestampRaw === null ? now : toMs(timestampRaw, `${field}.Timestamp`);
  if (t < now - LIMITS.pastMs) throw invalidParameterValue(`The parameter ${field}.Timestamp must specify a time no more than two weeks in the past.`);
  if (t > now + LIMITS.futureMs) throw invalidParameterValue(`The parameter ${field}.Timestamp must specify a time no more than two hours in the future.`);
  const resolution = optionalNumber(raw, 'StorageResolution', field) ?? 60;
  if (resolution !== 1 && resolution !== 60) throw invalidParameterValue(`The value ${resolution} for parameter ${field}.StorageResolution is invalid: must be 1 or 60.`);
  const unit = optionalUnit(raw, 'Unit', field) ?? 'None';
  const truncated = Math.floor(t / (resolution * 1000)) * resolution * 1000;

  const value = optionalNumber(raw, 'Value', field);
  const stats = raw['StatisticValues'];
  const values = optionalList(raw, 'Values', field);
  const counts = optionalList(raw, 'Counts', field);
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
    const v = optionalNumber(set, name, `${field}.StatisticValues`);
    if (v === undefined) throw missingParameter(`${field}.StatisticValues.${name}`);
    return checkValue(v, `${field}.StatisticValues.${name}`);
  };
  const statisticSet = { SampleCount: part('SampleCount'), Sum: part('Sum'), Minimum: part('Minimum'), Maximum: part('Maximum') };
  if (statisticSet.SampleCount <= 0) throw invalidParameterValue(`The parameter ${field}.StatisticValues.SampleCount must be greater than 0.`);
  if (statisticSet.Minimum > statisticSet.Maximum) throw invalidParameterValue(`The parameter ${field}.StatisticValues.Minimum must not exceed ${field}.StatisticValues.Maximum.`);
  return { metricName, dimensions, point: { ...base, stats: statisticSet } };
}

function checkValue(value: number, field: string): number {
  if (!Number.isFinite(value)) throw invalidParameterValue(`The value ${value} for parameter ${field} is invalid: NaN and Infinity are not supported.`);
  const magnitude = Math.abs(value);
  if (magnitude > MAX_MAGNITUDE || (magnitude !== 0 && magnitude < MIN_MAGNITUDE)) {
    throw invalidParameterValue(`The value ${value} for parameter ${field} is invalid: values must be within -2^360 to 2^360 and not smaller in magnitude than 2^-260.`);
  }
  return value;
}
