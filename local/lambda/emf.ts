/**
 * CloudWatch Embedded Metric Format: a log line that is a JSON object with `_aws.CloudWatchMetrics`
 * becomes metrics, as CloudWatch Logs extracts them on AWS (that is how Powertools Metrics publishes).
 * Follows the EMF specification: each directive names a namespace, dimension sets (arrays of member
 * names whose values are strings on the root) and metrics (members holding a number or up to 100
 * numbers). Invalid directives are skipped, as CloudWatch skips them, and reported.
 */
import type { MetricDatum } from '../ports';

export interface EmfMetrics {
  readonly namespace: string;
  readonly data: readonly MetricDatum[];
}

export interface EmfExtraction {
  readonly metrics: readonly EmfMetrics[];
  /** Why parts of an EMF document were not published. */
  readonly problems: readonly string[];
}

const MAX_DIMENSIONS = 30;
const MAX_METRICS = 100;
const MAX_VALUES = 100;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Undefined when the line is not an EMF document at all (plain text or ordinary JSON logs). */
export function extractEmf(line: string): EmfExtraction | undefined {
  const text = line.trim();
  if (!text.startsWith('{') || !text.includes('"_aws"')) return undefined;
  let root: unknown;
  try {
    root = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isRecord(root) || !isRecord(root._aws) || !('CloudWatchMetrics' in root._aws)) return undefined;
  const aws = root._aws;
  const problems: string[] = [];
  if (typeof aws.Timestamp !== 'number' || !Number.isFinite(aws.Timestamp)) {
    return { metrics: [], problems: ['_aws.Timestamp must be a number of epoch milliseconds'] };
  }
  if (!Array.isArray(aws.CloudWatchMetrics)) {
    return { metrics: [], problems: ['_aws.CloudWatchMetrics must be an array of metric directives'] };
  }
  const timestamp = aws.Timestamp;
  const metrics: EmfMetrics[] = [];
  aws.CloudWatchMetrics.forEach((directive: unknown, index) => {
    const where = `_aws.CloudWatchMetrics[${index}]`;
    if (!isRecord(directive)) return problems.push(`${where} must be an object`);
    const { Namespace: namespace, Dimensions: dimensionSets, Metrics: definitions } = directive;
    if (typeof namespace !== 'string' || namespace.length < 1 || namespace.length > 255) {
      return problems.push(`${where}.Namespace must be a string of 1-255 characters`);
    }
    if (!Array.isArray(dimensionSets) || !dimensionSets.every((set) => Array.isArray(set) && set.every((d) => typeof d === 'string'))) {
      return problems.push(`${where}.Dimensions must be an array of arrays of member names`);
    }
    if (!Array.isArray(definitions) || definitions.length > MAX_METRICS) {
      return problems.push(`${where}.Metrics must be an array of at most ${MAX_METRICS} metric definitions`);
    }
    const resolvedSets: Record<string, string>[] = [];
    for (const set of dimensionSets as string[][]) {
      if (set.length > MAX_DIMENSIONS) {
        problems.push(`${where}: a dimension set has ${set.length} dimensions, more than ${MAX_DIMENSIONS}`);
        continue;
      }
      const dimensions: Record<string, string> = {};
      const missing = set.filter((name) => typeof root[name] !== 'string');
      if (missing.length) {
        problems.push(`${where}: dimension ${missing.join(', ')} has no string value on the root`);
        continue;
      }
      for (const name of set) dimensions[name] = root[name] as string;
      resolvedSets.push(dimensions);
    }
    // No dimension sets at all means the metrics are published without dimensions.
    if (dimensionSets.length === 0) resolvedSets.push({});
    const data: MetricDatum[] = [];
    for (const definition of definitions as unknown[]) {
      if (!isRecord(definition) || typeof definition.Name !== 'string' || !definition.Name) {
        problems.push(`${where}.Metrics: each definition needs a Name`);
        continue;
      }
      const name = definition.Name;
      const raw = root[name];
      const values = Array.isArray(raw) ? raw : [raw];
      if (values.length === 0 || values.length > MAX_VALUES || !values.every((v) => typeof v === 'number' && Number.isFinite(v))) {
        problems.push(`${where}: metric ${name} needs a number or 1-${MAX_VALUES} numbers on the root`);
        continue;
      }
      const unit = typeof definition.Unit === 'string' ? definition.Unit : undefined;
      for (const dimensions of resolvedSets) {
        for (const value of values as number[]) {
          data.push({ metricName: name, dimensions, value, timestamp, ...(unit === undefined ? {} : { unit }) });
        }
      }
    }
    if (data.length) metrics.push({ namespace, data });
    return undefined;
  });
  return { metrics, problems };
}
