/**
 * Seeded random traffic traces, so a policy is judged on shapes it was not tuned on: each seed draws
 * a family (diurnal with noise, a week, several spikes, a ramp–hold–drop, a flash crowd, quiet
 * gaps, an office day with bursts) and that family's parameters, and the same seed always gives
 * the same trace. `TUNING_SEEDS` and `STEEP_TUNING_SEEDS` are what policies may be tuned on; the held-out sets are only reported:
 * `HELD_OUT_SEEDS` were reported while the policy was tuned again (so they have been looked at),
 * `FRESH_HELD_OUT_SEEDS` were never tuned on nor examined (only reported, for the previous policy and this one).
 */
import { SimulationInputError } from './errors';
import { Prng } from './prng';
import type { Trace } from './trace';

export const TRACE_FAMILIES = ['diurnal', 'weekly', 'spikes', 'ramp', 'flash-crowd', 'quiet-gaps', 'office'] as const;
export type TraceFamily = (typeof TRACE_FAMILIES)[number];

/** Tuning seeds and held-out seeds never overlap; each set covers every family. */
export const TUNING_SEEDS: readonly number[] = Array.from({ length: 14 }, (_, i) => 1 + i);
/**
 * More tuning traces of the steep families, where the policy was missing its p95 goal: the spikes
 * and ramps among seeds 101–240 (40 traces).
 */
export const STEEP_TUNING_SEEDS: readonly number[] = Array.from({ length: 140 }, (_, i) => 101 + i).filter((seed) => ['spikes', 'ramp'].includes(traceFamily(seed)));
export const HELD_OUT_SEEDS: readonly number[] = Array.from({ length: 21 }, (_, i) => 1001 + i);
export const FRESH_HELD_OUT_SEEDS: readonly number[] = Array.from({ length: 21 }, (_, i) => 2001 + i);

export interface RandomTrace {
  readonly name: string;
  readonly family: TraceFamily;
  readonly seed: number;
  readonly describe: string;
  readonly trace: Trace;
}

const HOUR = 3600;
const DAY = 24 * HOUR;

/** The family is the seed modulo the families, so any run of consecutive seeds covers them all. */
export function traceFamily(seed: number): TraceFamily {
  if (!Number.isInteger(seed) || seed < 0 || seed > 2 ** 32 - 1) throw new SimulationInputError(`trace seed must be an integer from 0 to 4294967295 (got ${seed})`);
  return TRACE_FAMILIES[seed % TRACE_FAMILIES.length] as TraceFamily;
}

export function randomTrace(seed: number): RandomTrace {
  const family = traceFamily(seed);
  const rng = new Prng(seed * 7919 + 17);
  const { duration, rate, describe } = FAMILIES[family](rng);
  const noise = minuteNoise(rng, Math.ceil(duration / 60), family === 'quiet-gaps' || family === 'flash-crowd' ? 0.05 : uniform(rng, 0.03, 0.15));
  const trace = Array.from({ length: duration }, (_, s) => rng.poisson(Math.max(0, rate(s) * (noise[Math.floor(s / 60)] ?? 1))));
  return { name: `${family}-${seed}`, family, seed, describe, trace };
}

type Family = (rng: Prng) => { duration: number; rate: (second: number) => number; describe: string };

const FAMILIES: Record<TraceFamily, Family> = {
  // A day that never reaches zero: a trough at night, a peak in the afternoon.
  diurnal: (rng) => {
    const peak = uniform(rng, 6, 60);
    const trough = peak * uniform(rng, 0.05, 0.4);
    const peakHour = uniform(rng, 12, 20);
    return {
      duration: DAY,
      rate: (s) => trough + ((peak - trough) * (1 + Math.cos((2 * Math.PI * (s / HOUR - peakHour)) / 24))) / 2,
      describe: `day from ${trough.toFixed(1)} to ${peak.toFixed(1)} req/s, peak at ${peakHour.toFixed(1)} h`,
    };
  },
  // Seven days: weekdays at full height, the weekend lower; nights low but not zero.
  weekly: (rng) => {
    const peak = uniform(rng, 3, 12);
    const weekend = uniform(rng, 0.2, 0.6);
    const trough = uniform(rng, 0.05, 0.25);
    return {
      duration: 7 * DAY,
      rate: (s) => {
        const day = Math.floor(s / DAY);
        const height = day >= 5 ? peak * weekend : peak;
        const daily = (1 + Math.cos((2 * Math.PI * (s / HOUR - 14)) / 24)) / 2;
        return height * (trough + (1 - trough) * daily);
      },
      describe: `week: weekday peak ${peak.toFixed(1)} req/s, weekend ×${weekend.toFixed(2)}, night ×${trough.toFixed(2)}`,
    };
  },
  // Campaign pushes: a steady base with 2–5 spikes of random height, ramp and length.
  spikes: (rng) => {
    const duration = Math.round(uniform(rng, 4, 8) * HOUR);
    const base = uniform(rng, 1, 10);
    const count = 2 + Math.floor(rng.next() * 4);
    const spikes = Array.from({ length: count }, () => ({
      start: Math.round(uniform(rng, 0.1, 0.85) * duration),
      ramp: Math.round(uniform(rng, 10, 180)),
      hold: Math.round(uniform(rng, 60, 900)),
      height: base * uniform(rng, 4, 30),
    }));
    return {
      duration,
      rate: (s) => base + spikes.reduce((sum, sp) => sum + trapezoid(s - sp.start, sp.ramp, sp.hold, sp.ramp) * sp.height, 0),
      describe: `${count} spikes over ${base.toFixed(1)} req/s, up to ${Math.max(...spikes.map((sp) => base + sp.height)).toFixed(0)} req/s`,
    };
  },
  // Ramp up, hold, drop back.
  ramp: (rng) => {
    const base = uniform(rng, 0.5, 8);
    const peak = uniform(rng, 15, 120);
    const start = Math.round(uniform(rng, 0.3, 1.5) * HOUR);
    const up = Math.round(uniform(rng, 10, 90) * 60);
    const hold = Math.round(uniform(rng, 0.5, 3) * HOUR);
    const down = Math.round(uniform(rng, 1, 20) * 60);
    return {
      duration: start + up + hold + down + Math.round(uniform(rng, 1, 2) * HOUR),
      rate: (s) => base + (peak - base) * trapezoid(s - start, up, hold, down),
      describe: `ramp ${base.toFixed(1)} → ${peak.toFixed(0)} req/s over ${up / 60} min, hold ${(hold / 60).toFixed(0)} min, drop over ${down / 60} min`,
    };
  },
  // A sudden crowd (a mention, a push notification) decaying exponentially.
  'flash-crowd': (rng) => {
    const base = uniform(rng, 0, 3);
    const peak = uniform(rng, 30, 250);
    const start = Math.round(uniform(rng, 0.25, 1) * HOUR);
    const halfLife = uniform(rng, 3, 30) * 60;
    return {
      duration: start + Math.round(uniform(rng, 2, 4) * HOUR),
      rate: (s) => base + (s < start ? 0 : (peak - base) * Math.pow(0.5, (s - start) / halfLife)),
      describe: `flash crowd over ${base.toFixed(1)} req/s to ${peak.toFixed(0)} req/s, half-life ${(halfLife / 60).toFixed(0)} min`,
    };
  },
  // Work in sessions separated by silences (the endpoint goes to zero in between).
  'quiet-gaps': (rng) => {
    const sessions: { start: number; end: number; rate: number }[] = [];
    let t = Math.round(uniform(rng, 5, 30) * 60);
    const duration = Math.round(uniform(rng, 4, 8) * HOUR);
    while (t < duration) {
      const length = Math.round(uniform(rng, 10, 60) * 60);
      sessions.push({ start: t, end: Math.min(duration, t + length), rate: uniform(rng, 1, 40) });
      t += length + Math.round(uniform(rng, 30, 90) * 60);
    }
    return {
      duration,
      rate: (s) => sessions.find((x) => s >= x.start && s < x.end)?.rate ?? 0,
      describe: `${sessions.length} sessions of 10–60 min at 1–40 req/s separated by 30–90 min of silence`,
    };
  },
  // A working day: low before 8 h and after 18 h, a lunch dip, short bursts of 1–5 minutes.
  office: (rng) => {
    const peak = uniform(rng, 5, 40);
    const night = peak * uniform(rng, 0.02, 0.15);
    const bursts = Array.from({ length: 5 + Math.floor(rng.next() * 15) }, () => ({
      start: Math.round(uniform(rng, 8, 18) * HOUR),
      length: Math.round(uniform(rng, 1, 5) * 60),
      height: peak * uniform(rng, 0.5, 3),
    }));
    return {
      duration: DAY,
      rate: (s) => {
        const hour = s / HOUR;
        const working = smoothStep(hour, 7.5, 9) * (1 - smoothStep(hour, 17, 19));
        const lunch = 1 - 0.4 * smoothStep(hour, 12, 12.5) * (1 - smoothStep(hour, 13, 13.5));
        const burst = bursts.reduce((sum, b) => sum + (s >= b.start && s < b.start + b.length ? b.height : 0), 0);
        return night + (peak - night) * working * lunch + burst;
      },
      describe: `office day: ${night.toFixed(1)} → ${peak.toFixed(1)} req/s, ${bursts.length} bursts of 1–5 min`,
    };
  },
};

/** Multiplicative noise per minute: a slow AR(1) wander around 1. */
function minuteNoise(rng: Prng, minutes: number, sigma: number): number[] {
  const out: number[] = [];
  let x = 0;
  for (let i = 0; i < minutes; i++) {
    x = 0.8 * x + sigma * Math.sqrt(1 - 0.64) * rng.normal();
    out.push(Math.max(0, 1 + x));
  }
  return out;
}

function uniform(rng: Prng, low: number, high: number): number {
  return low + (high - low) * rng.next();
}

/** 0 → 1 over `up` seconds, 1 for `hold`, 1 → 0 over `down`; 0 outside. */
function trapezoid(t: number, up: number, hold: number, down: number): number {
  if (t < 0) return 0;
  if (t < up) return t / up;
  if (t < up + hold) return 1;
  if (t < up + hold + down) return 1 - (t - up - hold) / down;
  return 0;
}

function smoothStep(x: number, from: number, to: number): number {
  const t = Math.min(1, Math.max(0, (x - from) / (to - from)));
  return t * t * (3 - 2 * t);
}
