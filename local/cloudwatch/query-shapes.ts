/**
 * The members of CloudWatch's Query-protocol requests, so a form body decodes into the same plain
 * object the JSON protocol delivers (numbers as numbers, lists as arrays; timestamps stay strings).
 */
import type { QueryInput } from '../edge/query-protocol';

type Scalar = 'string' | 'number' | 'boolean';
type Shape = Scalar | { readonly list: Shape } | { readonly struct: Readonly<Record<string, Shape>> };

const dimension: Shape = { struct: { Name: 'string', Value: 'string' } };
const metric: Shape = { struct: { Namespace: 'string', MetricName: 'string', Dimensions: { list: dimension } } };

export const QUERY_SHAPES: Readonly<Record<string, Readonly<Record<string, Shape>>>> = {
  PutMetricData: {
    Namespace: 'string',
    StrictEntityValidation: 'boolean',
    MetricData: {
      list: {
        struct: {
          MetricName: 'string',
          Dimensions: { list: dimension },
          Timestamp: 'string',
          Value: 'number',
          StatisticValues: { struct: { SampleCount: 'number', Sum: 'number', Minimum: 'number', Maximum: 'number' } },
          Values: { list: 'number' },
          Counts: { list: 'number' },
          Unit: 'string',
          StorageResolution: 'number',
        },
      },
    },
  },
  GetMetricData: {
    MetricDataQueries: {
      list: {
        struct: {
          Id: 'string',
          MetricStat: { struct: { Metric: metric, Period: 'number', Stat: 'string', Unit: 'string' } },
          Expression: 'string',
          Label: 'string',
          ReturnData: 'boolean',
          Period: 'number',
          AccountId: 'string',
        },
      },
    },
    StartTime: 'string',
    EndTime: 'string',
    NextToken: 'string',
    ScanBy: 'string',
    MaxDatapoints: 'number',
    LabelOptions: { struct: { Timezone: 'string' } },
  },
  GetMetricStatistics: {
    Namespace: 'string',
    MetricName: 'string',
    Dimensions: { list: dimension },
    StartTime: 'string',
    EndTime: 'string',
    Period: 'number',
    Statistics: { list: 'string' },
    ExtendedStatistics: { list: 'string' },
    Unit: 'string',
  },
  ListMetrics: {
    Namespace: 'string',
    MetricName: 'string',
    Dimensions: { list: { struct: { Name: 'string', Value: 'string' } } },
    NextToken: 'string',
    RecentlyActive: 'string',
    IncludeLinkedAccounts: 'boolean',
    OwningAccount: 'string',
  },
};

function scalar(text: string | undefined, shape: Scalar): unknown {
  if (text === undefined) return undefined;
  if (shape === 'number') return text.trim() === '' ? NaN : Number(text);
  if (shape === 'boolean') return text === 'true';
  return text;
}

function decodeMember(input: QueryInput, name: string, shape: Shape): unknown {
  if (typeof shape === 'string') return scalar(input.get(name), shape);
  if ('list' in shape) {
    if (!input.has(name)) return undefined;
    const element = shape.list;
    return input.list(name).map((item) => (typeof element === 'string' ? scalar(item.value(), element) : decodeStructure(item, element)));
  }
  return input.has(name) ? decodeStructure(input.child(name), shape) : undefined;
}

function decodeStructure(input: QueryInput, shape: Shape): unknown {
  if (typeof shape === 'string' || 'list' in shape) return scalar(input.value(), typeof shape === 'string' ? shape : 'string');
  const out: Record<string, unknown> = {};
  for (const [name, member] of Object.entries(shape.struct)) {
    const value = decodeMember(input, name, member);
    if (value !== undefined) out[name] = value;
  }
  return out;
}

/** Decodes an action's parameters by its shape; unknown actions decode to an empty input. */
export function decodeQueryInput(action: string, input: QueryInput): Record<string, unknown> {
  const members = QUERY_SHAPES[action] ?? {};
  return decodeStructure(input, { struct: members }) as Record<string, unknown>;
}
