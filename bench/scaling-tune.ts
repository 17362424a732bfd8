/**
 * How the imagegen policy was chosen: candidate policies against the seed and the backlog recipe on
 * the tuning traces only (the built-in shapes, seeds 1–14 and the steep seeds among 101–240; the
 * held-out ones are never run here), each candidate's goal misses, its cost per image against the
 * seed's and the backlog recipe's, and how far its p95 came above the seed's at worst.
 * `npx tsx bench/scaling-tune.ts [--alarm-delay-seconds S] [NAME…]`.
 */
import { defaultSimulationConfig, warmStart } from '../local/cli/simulate';
import { simulate, type SimulationConfig } from '../local/simulate/engine';
import { loadPolicy, type PolicySpec } from '../local/simulate/policies';
import { randomTrace, STEEP_TUNING_SEEDS, TUNING_SEEDS } from '../local/simulate/random-traces';
import { generateShape, SHAPES } from '../local/simulate/trace';
import { goalMisses, row, type Row } from './scaling';

type Candidate = (p: PolicySpec) => PolicySpec;

/** Multiples of the target at which the step scale-out steps start (the deployed ones are √2 apart). */
const ROOT2 = [3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384];

function withStepOut(p: PolicySpec, target: number, from: number, evaluationPeriods: number, aggregation: 'Average' | 'Maximum', multiples = ROOT2): PolicySpec {
  const steps = multiples.filter((m) => m >= from).map((m) => ({ atLeast: Number((target * m).toFixed(6)), percentChange: (m - 1) * 100 }));
  return { ...p, stepScaleOut: { ...p.stepScaleOut!, threshold: steps[0]!.atLeast, evaluationPeriods, aggregation, steps } };
}

function withScaleIn(p: PolicySpec, target: number, tenths: readonly number[], evaluationPeriods = 3): PolicySpec {
  const steps = tenths.map((t) => ({ below: Number(((target * t) / 10).toFixed(6)), percentChange: -100 + t * 10 }));
  return { ...p, stepScaleIn: { ...p.stepScaleIn!, threshold: steps[0]!.below, evaluationPeriods, steps } };
}

function withTarget(p: PolicySpec, target: number, drainSeconds: number): PolicySpec {
  return { ...p, targetTracking: { ...p.targetTracking!, targetValue: target, drainSeconds } };
}

type Forecast = NonNullable<NonNullable<PolicySpec['targetTracking']>['forecast']>;

/** The publisher's forecast changed (or removed, with `undefined`). */
function withForecast(p: PolicySpec, change: Partial<Forecast> | undefined): PolicySpec {
  const { forecast, ...tt } = p.targetTracking!;
  return { ...p, targetTracking: change === undefined ? tt : { ...tt, forecast: { ...forecast!, ...change } } };
}

function withCapacityOf(p: PolicySpec, capacityOf: 'desired' | 'in-service'): PolicySpec {
  return { ...p, targetTracking: { ...p.targetTracking!, capacityOf } };
}

/** Each candidate is named by what it changes from the deployed policy. */
export const CANDIDATES: Record<string, Candidate> = {
  deployed: (p) => p,
  'before: capacity in service, no forecast': (p) => withCapacityOf(withForecast(p, undefined), 'in-service'),
  'capacity in service': (p) => withCapacityOf(p, 'in-service'),
  'no forecast': (p) => withForecast(p, undefined),
  'forecast 3 min ahead': (p) => withForecast(p, { horizonPeriods: 3 }),
  'forecast 4 min ahead': (p) => withForecast(p, { horizonPeriods: 4 }),
  'forecast 6 min ahead': (p) => withForecast(p, { horizonPeriods: 6 }),
  'forecast over 3 min': (p) => withForecast(p, { windowPeriods: 3 }),
  'forecast over 5 min': (p) => withForecast(p, { windowPeriods: 5 }),
  'forecast noise share 0': (p) => withForecast(p, { noiseSharePerPeriod: 0 }),
  'forecast noise share 2 %': (p) => withForecast(p, { noiseSharePerPeriod: 0.02 }),
  'forecast noise share 5 %': (p) => withForecast(p, { noiseSharePerPeriod: 0.05 }),
  'target 0.75': (p) => withScaleIn(withStepOut(withTarget(p, 0.75, p.targetTracking!.drainSeconds ?? 180), 0.75, 3, 2, 'Maximum'), 0.75, [6, 5, 4, 3, 2, 1]),
  'target 0.7': (p) => withScaleIn(withStepOut(withTarget(p, 0.7, p.targetTracking!.drainSeconds ?? 180), 0.7, 3, 2, 'Maximum'), 0.7, [6, 5, 4, 3, 2, 1]),
  'target 0.85': (p) => withScaleIn(withStepOut(withTarget(p, 0.85, p.targetTracking!.drainSeconds ?? 180), 0.85, 3, 2, 'Maximum'), 0.85, [6, 5, 4, 3, 2, 1]),
  'drain 300': (p) => withTarget(p, p.targetTracking!.targetValue, 300),
  'drain 600': (p) => withTarget(p, p.targetTracking!.targetValue, 600),
  'step out 1 datapoint': (p) => withStepOut(p, p.targetTracking!.targetValue, 3, 1, 'Maximum'),
  'step out from 2×': (p) => withStepOut(p, p.targetTracking!.targetValue, 2, 2, 'Maximum', [2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384]),
  'step out from 2×, 1 datapoint': (p) => withStepOut(p, p.targetTracking!.targetValue, 2, 1, 'Maximum', [2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384]),
  'scale-in from 50 %': (p) => withScaleIn(p, p.targetTracking!.targetValue, [5, 4, 3, 2, 1]),
  'scale-in from 40 %': (p) => withScaleIn(p, p.targetTracking!.targetValue, [4, 3, 2, 1]),
  'scale-in 5 datapoints': (p) => withScaleIn(p, p.targetTracking!.targetValue, [6, 5, 4, 3, 2, 1], 5),
  'no step scale-in': (p) => {
    const { stepScaleIn: _si, ...rest } = p;
    return rest;
  },
};

export interface CandidateResult {
  readonly name: string;
  readonly misses: { trace: string; misses: string[] }[];
  readonly worstVsSeed: number;
  readonly meanVsSeed: number;
  readonly worstVsBacklog: number;
  /** The largest p95 − the seed's p95 where the seed serves ≥ 99 % (the goal allows 1 s). */
  readonly worstP95Excess: number;
}

/** The tuning traces: the built-in shapes (as the bench runs them), seeds 1–14 and the steep seeds. */
export function tuningTraces(): { name: string; trace: readonly number[] }[] {
  const shapes = SHAPES.map((shape) => ({ name: shape, trace: generateShape(shape, { seed: 1, ...(shape === 'diurnal' ? { peak: 20 } : {}) }) }));
  return [...shapes, ...[...TUNING_SEEDS, ...STEEP_TUNING_SEEDS].map((seed) => randomTrace(seed))];
}

/** `onResult` hears each candidate as soon as it has run (a whole run takes minutes per candidate). */
export function tune(names: readonly string[], overrides: Partial<SimulationConfig> = {}, onResult: (r: CandidateResult) => void = () => {}): CandidateResult[] {
  const traces = tuningTraces();
  const base = defaultSimulationConfig(overrides);
  const configs = traces.map((t) => ({ ...base, initialInstances: warmStart(t.trace, base) }));
  const baselines = traces.map((t, i) => ['seed', 'backlog'].map((p) => row(t.name, simulate(t.trace, loadPolicy(p), configs[i]!))) as [Row, Row]);
  return names.map((name) => {
    const candidate = CANDIDATES[name];
    if (!candidate) throw new Error(`unknown candidate "${name}": one of ${Object.keys(CANDIDATES).join(', ')}`);
    const policy = candidate(loadPolicy('imagegen'));
    const ratios: number[] = [];
    const vsBacklog: number[] = [];
    const excess: number[] = [];
    const misses = traces.map((t, i) => {
      const [seed, backlog] = baselines[i]!;
      const ours = row(t.name, simulate(t.trace, policy, configs[i]!));
      const serves = seed.completed >= 0.99 * seed.requests;
      if (serves && ours.cost_per_image_usd !== null && seed.cost_per_image_usd !== null) ratios.push(ours.cost_per_image_usd / seed.cost_per_image_usd);
      if (ours.cost_per_image_usd !== null && backlog.cost_per_image_usd !== null) vsBacklog.push(ours.cost_per_image_usd / backlog.cost_per_image_usd);
      if (serves && ours.p95_s !== null && seed.p95_s !== null) excess.push(ours.p95_s - seed.p95_s);
      return { trace: t.name, misses: goalMisses(ours, seed, backlog) };
    });
    const result = {
      name,
      misses: misses.filter((m) => m.misses.length > 0),
      worstVsSeed: Math.max(...ratios),
      meanVsSeed: ratios.reduce((a, b) => a + b, 0) / ratios.length,
      worstVsBacklog: Math.max(...vsBacklog),
      worstP95Excess: Math.max(...excess),
    };
    onResult(result);
    return result;
  });
}

if (require.main === module) {
  // `--alarm-delay-seconds S` first: how long after the publisher the alarms run (59 ≈ just before it).
  const args = process.argv.slice(2);
  const delay = args[0] === '--alarm-delay-seconds' ? Number(args[1]) : undefined;
  const names = delay === undefined ? args : args.slice(2);
  tune(names.length ? names : Object.keys(CANDIDATES), delay === undefined ? {} : { alarmDelaySeconds: delay }, (r) =>
    process.stdout.write(
      `| ${r.name} | ${r.misses.length} | ${r.worstVsSeed.toFixed(3)} / ${r.meanVsSeed.toFixed(3)} | ${r.worstVsBacklog.toFixed(3)} | ${r.worstP95Excess.toFixed(1)} s | ${r.misses.map((m) => `${m.trace}: ${m.misses.join(', ')}`).join('; ') || '—'} |\n`,
    ),
  );
}
