/**
 * CloudWatch metric math: the expression language of `MetricDataQuery.Expression`. Values are
 * scalars, time series (timestamp → value, with the series' period) or arrays of time series.
 * Operations between two series combine values at the timestamps both have; results that are not
 * finite numbers (division by zero) are dropped rather than returned. Parsing is in math-parser.ts.
 */
import { MetricMathError, type MathNode } from './math-parser';

export { MetricMathError, parseExpression, references, type MathNode } from './math-parser';

export interface Series {
  readonly label: string;
  /** Period in seconds, used to lay out the grid that FILL and TIME_SERIES fill in. */
  readonly period: number;
  /** Epoch ms → value, in ascending time order. */
  readonly points: ReadonlyMap<number, number>;
}

export type MathValue =
  | { readonly kind: 'scalar'; readonly value: number }
  | { readonly kind: 'series'; readonly series: Series }
  | { readonly kind: 'array'; readonly items: readonly Series[] }
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'keyword'; readonly value: string };

export interface MathContext {
  /** Start of the query window (inclusive), epoch ms. */
  readonly startMs: number;
  /** End of the query window (exclusive), epoch ms. */
  readonly endMs: number;
  /** Period for results that have no series to take one from (the query's Period, else 60). */
  readonly defaultPeriod: number;
  /** Value of another query by Id. */
  resolve(id: string): MathValue;
  /** Series of the MetricStat queries, in request order, for METRICS(). */
  metrics(): readonly { readonly id: string; readonly series: Series }[];
}

export function evaluate(node: MathNode, context: MathContext): MathValue {
  switch (node.type) {
    case 'number':
      return scalar(node.value);
    case 'string':
      return { kind: 'string', value: node.value };
    case 'keyword':
      return { kind: 'keyword', value: node.name };
    case 'ref':
      return context.resolve(node.id);
    case 'array': {
      const items: Series[] = [];
      for (const item of node.items) {
        const value = evaluate(item, context);
        if (value.kind === 'series') items.push(value.series);
        else if (value.kind === 'array') items.push(...value.items);
        else throw new MetricMathError('an array may only contain time series');
      }
      return { kind: 'array', items };
    }
    case 'unary': {
      const arg = evaluate(node.arg, context);
      if (node.op === '-') return pointwise(arg, (v) => -v);
      if (node.op === '+') return pointwise(arg, (v) => v);
      return pointwise(arg, (v) => (v === 0 ? 1 : 0));
    }
    case 'binary':
      return binary(node.op, evaluate(node.left, context), evaluate(node.right, context));
    case 'call':
      return call(node.name, node.args, context);
  }
}

function scalar(value: number): MathValue {
  return { kind: 'scalar', value };
}

function seriesOf(label: string, period: number, points: Iterable<readonly [number, number]>): Series {
  const map = new Map<number, number>();
  for (const [t, v] of [...points].sort((a, b) => a[0] - b[0])) if (Number.isFinite(v)) map.set(t, v);
  return { label, period, points: map };
}

function mapSeries(series: Series, fn: (v: number, t: number) => number): Series {
  return seriesOf(series.label, series.period, [...series.points].map(([t, v]) => [t, fn(v, t)] as const));
}

function pointwise(value: MathValue, fn: (v: number) => number): MathValue {
  switch (value.kind) {
    case 'scalar':
      return scalar(fn(value.value));
    case 'series':
      return { kind: 'series', series: mapSeries(value.series, fn) };
    case 'array':
      return { kind: 'array', items: value.items.map((s) => mapSeries(s, fn)) };
    default:
      throw new MetricMathError(`'${value.value}' is not a number or time series`);
  }
}

const BINARY: Readonly<Record<string, (a: number, b: number) => number>> = {
  '+': (a, b) => a + b,
  '-': (a, b) => a - b,
  '*': (a, b) => a * b,
  '/': (a, b) => a / b,
  '^': (a, b) => a ** b,
  '==': (a, b) => Number(a === b),
  '!=': (a, b) => Number(a !== b),
  '<': (a, b) => Number(a < b),
  '>': (a, b) => Number(a > b),
  '<=': (a, b) => Number(a <= b),
  '>=': (a, b) => Number(a >= b),
  '&&': (a, b) => Number(a !== 0 && b !== 0),
  '||': (a, b) => Number(a !== 0 || b !== 0),
};

function binary(op: string, left: MathValue, right: MathValue): MathValue {
  const fn = BINARY[op];
  if (!fn) throw new MetricMathError(`unknown operator '${op}'`);
  if (left.kind === 'string' || left.kind === 'keyword' || right.kind === 'string' || right.kind === 'keyword') {
    throw new MetricMathError(`operator '${op}' needs numbers or time series`);
  }
  if (left.kind === 'scalar' && right.kind === 'scalar') return scalar(fn(left.value, right.value));
  if (left.kind === 'scalar') return pointwise(right, (v) => fn(left.value, v));
  if (right.kind === 'scalar') return pointwise(left, (v) => fn(v, right.value));
  if (left.kind === 'series' && right.kind === 'series') return { kind: 'series', series: combine(left.series, right.series, fn) };
  if (left.kind === 'array' && right.kind === 'series') return { kind: 'array', items: left.items.map((s) => combine(s, right.series, fn)) };
  if (left.kind === 'series' && right.kind === 'array') return { kind: 'array', items: right.items.map((s) => combine(left.series, s, fn)) };
  const a = left as Extract<MathValue, { kind: 'array' }>;
  const b = right as Extract<MathValue, { kind: 'array' }>;
  if (a.items.length !== b.items.length) throw new MetricMathError(`operator '${op}' between arrays of ${a.items.length} and ${b.items.length} time series`);
  return { kind: 'array', items: a.items.map((s, i) => combine(s, b.items[i]!, fn)) };
}

function combine(a: Series, b: Series, fn: (a: number, b: number) => number): Series {
  const points: [number, number][] = [];
  for (const [t, v] of a.points) {
    const w = b.points.get(t);
    if (w !== undefined) points.push([t, fn(v, w)]);
  }
  return seriesOf(a.label, Math.max(a.period, b.period), points);
}

/** Period-aligned timestamps covering [startMs, endMs). */
function grid(context: MathContext, period: number): number[] {
  const periodMs = period * 1000;
  const times: number[] = [];
  for (let t = Math.floor(context.startMs / periodMs) * periodMs; t < context.endMs; t += periodMs) times.push(t);
  return times;
}

function asSeriesList(value: MathValue, fn: string): { items: Series[]; array: boolean } {
  if (value.kind === 'series') return { items: [value.series], array: false };
  if (value.kind === 'array') return { items: [...value.items], array: true };
  throw new MetricMathError(`${fn} needs a time series or an array of time series`);
}

function fromList(items: Series[], array: boolean): MathValue {
  return array ? { kind: 'array', items } : { kind: 'series', series: items[0]! };
}

function fill(series: Series, how: MathValue, context: MathContext): Series {
  const times = grid(context, series.period);
  const actual = series.points;
  if (how.kind === 'scalar') return seriesOf(series.label, series.period, times.map((t) => [t, actual.get(t) ?? how.value] as const));
  if (how.kind === 'series') {
    const points: [number, number][] = [];
    for (const t of times) {
      const v = actual.get(t) ?? how.series.points.get(t);
      if (v !== undefined) points.push([t, v]);
    }
    return seriesOf(series.label, series.period, points);
  }
  if (how.kind !== 'keyword' || (how.value !== 'REPEAT' && how.value !== 'LINEAR')) {
    throw new MetricMathError('the second argument of FILL must be a number, a time series, REPEAT or LINEAR');
  }
  const known = times.filter((t) => actual.has(t));
  const points: [number, number][] = [];
  let previous: number | undefined;
  for (const t of times) {
    const v = actual.get(t);
    if (v !== undefined) {
      points.push([t, v]);
      previous = t;
      continue;
    }
    // Gaps before the first actual value (and, for LINEAR, after the last) have nothing to fill from.
    if (previous === undefined) continue;
    if (how.value === 'REPEAT') {
      points.push([t, actual.get(previous)!]);
      continue;
    }
    const next = known.find((k) => k > t);
    if (next === undefined) continue;
    const a = actual.get(previous)!;
    const b = actual.get(next)!;
    points.push([t, a + ((b - a) * (t - previous)) / (next - previous)]);
  }
  return seriesOf(series.label, series.period, points);
}

type Reducer = (values: readonly number[]) => number;
const REDUCERS: Readonly<Record<string, Reducer>> = {
  MAX: (v) => Math.max(...v),
  MIN: (v) => Math.min(...v),
  SUM: (v) => v.reduce((a, b) => a + b, 0),
  AVG: (v) => v.reduce((a, b) => a + b, 0) / v.length,
  STDDEV: (v) => {
    const mean = v.reduce((a, b) => a + b, 0) / v.length;
    return Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length);
  },
};

const POINTWISE: Readonly<Record<string, (v: number) => number>> = {
  ABS: Math.abs,
  CEIL: Math.ceil,
  FLOOR: Math.floor,
  SQRT: Math.sqrt,
  LOG: Math.log,
  LOG10: Math.log10,
  EXP: Math.exp,
};

function arity(name: string, args: readonly MathNode[], min: number, max = min): void {
  if (args.length < min || args.length > max) {
    const expected = min === max ? `${min}` : `${min} to ${max}`;
    throw new MetricMathError(`${name} takes ${expected} argument${max === 1 ? '' : 's'}, got ${args.length}`);
  }
}

function call(name: string, args: readonly MathNode[], context: MathContext): MathValue {
  const arg = (i: number): MathValue => evaluate(args[i]!, context);
  const pointFn = POINTWISE[name];
  if (pointFn) {
    arity(name, args, 1);
    return pointwise(arg(0), pointFn);
  }
  const reducer = REDUCERS[name];
  if (reducer) {
    arity(name, args, 1);
    const value = arg(0);
    if (value.kind === 'scalar') return value;
    // Over one series the result is a scalar; over an array it is the per-timestamp series.
    if (value.kind === 'series') {
      const values = [...value.series.points.values()];
      return scalar(values.length ? reducer(values) : NaN);
    }
    if (value.kind !== 'array') throw new MetricMathError(`${name} needs a time series or an array of time series`);
    const byTime = new Map<number, number[]>();
    for (const series of value.items) for (const [t, v] of series.points) (byTime.get(t) ?? byTime.set(t, []).get(t)!).push(v);
    const period = value.items.length ? Math.max(...value.items.map((s) => s.period)) : context.defaultPeriod;
    return { kind: 'series', series: seriesOf(name, period, [...byTime].map(([t, v]) => [t, reducer(v)] as const)) };
  }
  switch (name) {
    case 'METRICS': {
      arity(name, args, 0, 1);
      const filter = args.length ? arg(0) : undefined;
      if (filter && filter.kind !== 'string') throw new MetricMathError('METRICS takes a string filter');
      const items = context.metrics().filter((m) => !filter || m.id.includes(filter.value) || m.series.label.includes(filter.value));
      return { kind: 'array', items: items.map((m) => m.series) };
    }
    case 'FILL': {
      arity(name, args, 2);
      const { items, array } = asSeriesList(arg(0), name);
      const how = arg(1);
      return fromList(
        items.map((s) => fill(s, how, context)),
        array,
      );
    }
    case 'IF': {
      arity(name, args, 2, 3);
      const condition = arg(0);
      const whenTrue = arg(1);
      const whenFalse = args.length === 3 ? arg(2) : undefined;
      if (condition.kind === 'scalar') return condition.value !== 0 ? whenTrue : (whenFalse ?? { kind: 'array', items: [] });
      if (condition.kind !== 'series') throw new MetricMathError('the condition of IF must be a time series or a number');
      const pick = (branch: MathValue | undefined, t: number): number | undefined => {
        if (!branch) return undefined;
        if (branch.kind === 'scalar') return branch.value;
        if (branch.kind === 'series') return branch.series.points.get(t);
        throw new MetricMathError('IF values must be numbers or time series');
      };
      const points: [number, number][] = [];
      for (const [t, c] of condition.series.points) {
        const v = pick(c !== 0 ? whenTrue : whenFalse, t);
        if (v !== undefined) points.push([t, v]);
      }
      return { kind: 'series', series: seriesOf(condition.series.label, condition.series.period, points) };
    }
    case 'FIRST':
    case 'LAST': {
      arity(name, args, 1);
      const value = arg(0);
      if (value.kind !== 'array') throw new MetricMathError(`${name} needs an array of time series`);
      const series = name === 'FIRST' ? value.items[0] : value.items.at(-1);
      if (!series) throw new MetricMathError(`${name} of an empty array`);
      return { kind: 'series', series };
    }
    case 'PERIOD': {
      arity(name, args, 1);
      const value = arg(0);
      if (value.kind === 'series') return scalar(value.series.period);
      if (value.kind === 'array' && value.items[0]) return scalar(value.items[0].period);
      throw new MetricMathError('PERIOD needs a time series');
    }
    case 'RATE':
    case 'DIFF':
    case 'RUNNING_SUM': {
      arity(name, args, 1);
      const { items, array } = asSeriesList(arg(0), name);
      return fromList(
        items.map((s) => sequential(s, name)),
        array,
      );
    }
    case 'TIME_SERIES': {
      arity(name, args, 1);
      const value = arg(0);
      if (value.kind !== 'scalar') throw new MetricMathError('TIME_SERIES takes a number');
      return { kind: 'series', series: seriesOf('', context.defaultPeriod, grid(context, context.defaultPeriod).map((t) => [t, value.value] as const)) };
    }
    case 'REMOVE_EMPTY': {
      arity(name, args, 1);
      const { items, array } = asSeriesList(arg(0), name);
      const kept = items.filter((s) => s.points.size > 0);
      return array ? { kind: 'array', items: kept } : kept[0] ? { kind: 'series', series: kept[0] } : { kind: 'array', items: [] };
    }
    default:
      throw new MetricMathError(`unknown function ${name}`);
  }
}

function sequential(series: Series, fn: 'RATE' | 'DIFF' | 'RUNNING_SUM'): Series {
  const points: [number, number][] = [];
  let previous: [number, number] | undefined;
  let running = 0;
  for (const [t, v] of series.points) {
    if (fn === 'RUNNING_SUM') {
      running += v;
      points.push([t, running]);
    } else if (previous) {
      points.push([t, fn === 'DIFF' ? v - previous[1] : (v - previous[1]) / ((t - previous[0]) / 1000)]);
    }
    previous = [t, v];
  }
  return seriesOf(series.label, series.period, points);
}
