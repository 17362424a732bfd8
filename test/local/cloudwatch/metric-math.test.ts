import { evaluate, type MathContext, type MathValue, MetricMathError, parseExpression, references, type Series } from '../../../local/cloudwatch/metric-math';

const M = 60_000;
const series = (label: string, points: [minute: number, value: number][]): Series => ({ label, period: 60, points: new Map(points.map(([m, v]) => [m * M, v])) });

function context(values: Record<string, Series>, minutes = 5): MathContext {
  return {
    startMs: 0,
    endMs: minutes * M,
    defaultPeriod: 60,
    resolve: (id) => {
      const s = values[id];
      if (!s) throw new MetricMathError(`unknown ${id}`);
      return { kind: 'series', series: s };
    },
    metrics: () => Object.entries(values).map(([id, s]) => ({ id, series: s })),
  };
}

function run(expression: string, values: Record<string, Series>): MathValue {
  return evaluate(parseExpression(expression), context(values));
}

function points(value: MathValue): [number, number][] {
  if (value.kind !== 'series') throw new Error(`expected a series, got ${value.kind}`);
  return [...value.series.points].map(([t, v]) => [t / M, v]);
}

describe('metric math', () => {
  const a = series('A', [
    [0, 1],
    [1, 4],
    [3, 9],
  ]);
  const b = series('B', [
    [0, 2],
    [1, 0],
    [2, 5],
  ]);

  it('follows operator precedence and associativity', () => {
    expect(run('2 + 3 * 4 ^ 2 / 8 - -1', {})).toEqual({ kind: 'scalar', value: 9 });
    expect(run('(2 + 3) * 2', {})).toEqual({ kind: 'scalar', value: 10 });
    expect(run('1 < 2 AND 3 >= 4 OR !0', {})).toEqual({ kind: 'scalar', value: 1 });
    expect(run('10 - 4 - 3', {})).toEqual({ kind: 'scalar', value: 3 });
  });

  it('combines two series only where both have a value, dropping division by zero', () => {
    expect(points(run('a / b', { a, b }))).toEqual([[0, 0.5]]);
    expect(points(run('a * 2 + 1', { a }))).toEqual([
      [0, 3],
      [1, 9],
      [3, 19],
    ]);
  });

  it('IF picks per timestamp and drops points where the chosen branch has none', () => {
    expect(points(run('IF(b, a, 100)', { a, b }))).toEqual([
      [0, 1],
      [1, 100],
    ]);
    expect(points(run('IF(b > 1, b)', { b }))).toEqual([
      [0, 2],
      [2, 5],
    ]);
  });

  it('FILL fills the period grid with a constant, REPEAT or LINEAR', () => {
    expect(points(run('FILL(a, 0)', { a }))).toEqual([
      [0, 1],
      [1, 4],
      [2, 0],
      [3, 9],
      [4, 0],
    ]);
    expect(points(run('FILL(a, REPEAT)', { a }))).toEqual([
      [0, 1],
      [1, 4],
      [2, 4],
      [3, 9],
      [4, 9],
    ]);
    expect(points(run('FILL(a, LINEAR)', { a }))).toEqual([
      [0, 1],
      [1, 4],
      [2, 6.5],
      [3, 9],
    ]);
    expect(points(run('FILL(e, 0)', { e: series('E', []) }))).toEqual([0, 1, 2, 3, 4].map((m) => [m, 0]));
  });

  it('reduces one series to a scalar and a list of series to a series', () => {
    expect(run('MAX(a)', { a })).toEqual({ kind: 'scalar', value: 9 });
    expect(run('AVG(a)', { a })).toEqual({ kind: 'scalar', value: 14 / 3 });
    expect(points(run('SUM([a, b])', { a, b }))).toEqual([
      [0, 3],
      [1, 4],
      [2, 5],
      [3, 9],
    ]);
    expect(points(run('MIN([a, b])', { a, b }))).toEqual([
      [0, 1],
      [1, 0],
      [2, 5],
      [3, 9],
    ]);
  });

  it('returns METRICS() as an array and applies operators to each element', () => {
    const value = run('METRICS() * 10', { a, b });
    expect(value.kind).toBe('array');
    if (value.kind !== 'array') return;
    expect(value.items.map((s) => s.label)).toEqual(['A', 'B']);
    expect([...value.items[1]!.points.values()]).toEqual([20, 0, 50]);
    const filtered = run("METRICS('b')", { a, b });
    expect(filtered.kind === 'array' && filtered.items.map((s) => s.label)).toEqual(['B']);
  });

  it('supports ABS, RATE, DIFF, RUNNING_SUM, PERIOD and TIME_SERIES', () => {
    expect(points(run('ABS(0 - a)', { a }))).toEqual([
      [0, 1],
      [1, 4],
      [3, 9],
    ]);
    expect(points(run('DIFF(a)', { a }))).toEqual([
      [1, 3],
      [3, 5],
    ]);
    expect(points(run('RATE(a)', { a }))).toEqual([
      [1, 3 / 60],
      [3, 5 / 120],
    ]);
    expect(points(run('RUNNING_SUM(a)', { a }))).toEqual([
      [0, 1],
      [1, 5],
      [3, 14],
    ]);
    expect(run('PERIOD(a)', { a })).toEqual({ kind: 'scalar', value: 60 });
    expect(points(run('TIME_SERIES(7)', {}))).toHaveLength(5);
  });

  it('lists the ids an expression refers to', () => {
    expect(references(parseExpression('IF(m1 != 0, m2 / (m1 * 60 / 10 * 12), 0)'))).toEqual(['m1', 'm2', 'm1']);
  });

  it.each([
    ['FILL(', /end of expression/],
    ['a +', /end of expression/],
    ['a $ b', /unexpected character/],
    ['NOPE(a)', /unknown function NOPE/],
    ['FILL(a, SOMETIMES)', /REPEAT or LINEAR/],
    ['ABS(a, b)', /ABS takes 1 argument/],
    ['(a', /expected '\)'/],
  ])('rejects %s', (expression, message) => {
    expect(() => run(expression, { a, b })).toThrow(message);
  });
});
