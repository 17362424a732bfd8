/**
 * Traffic traces: `second,requests` CSV files (one row per second with arrivals; absent seconds have
 * none) and the built-in campaign shapes. A trace is requests per second, index = second.
 */
import { SimulationInputError } from './errors';
import { Prng } from './prng';

export type Trace = readonly number[];
export const SHAPES = ['spike', 'diurnal', 'step', 'burst-from-zero'] as const;
export type Shape = (typeof SHAPES)[number];

/** Longest trace accepted: 7 days of seconds. */
const MAX_SECONDS = 7 * 24 * 3600;

export function parseTraceCsv(text: string, source = 'trace'): Trace {
  const lines = text.split(/\r?\n/).filter((line) => line.trim() !== '');
  const header = lines.shift()?.trim().toLowerCase().replace(/\s+/g, '');
  if (header !== 'second,requests') throw new SimulationInputError(`${source}: the header must be "second,requests" (got ${JSON.stringify(header ?? '')})`);
  const trace: number[] = [];
  lines.forEach((line, i) => {
    const [s, r, extra] = line.split(',').map((cell) => cell.trim());
    const row = `${source}: line ${i + 2}`;
    if (extra !== undefined || s === undefined || r === undefined) throw new SimulationInputError(`${row}: expected two columns "second,requests"`);
    const second = Number(s);
    const requests = Number(r);
    if (!Number.isInteger(second) || second < 0 || second >= MAX_SECONDS) throw new SimulationInputError(`${row}: second must be an integer from 0 to ${MAX_SECONDS - 1} (got "${s}")`);
    if (!Number.isInteger(requests) || requests < 0 || requests > 1_000_000) throw new SimulationInputError(`${row}: requests must be an integer from 0 to 1000000 (got "${r}")`);
    while (trace.length <= second) trace.push(0);
    trace[second] = (trace[second] ?? 0) + requests;
  });
  if (trace.length === 0) throw new SimulationInputError(`${source}: no rows after the header`);
  return trace;
}

export function traceToCsv(trace: Trace): string {
  return ['second,requests', ...trace.map((r, s) => `${s},${r}`)].join('\n') + '\n';
}

export interface ShapeOptions {
  readonly seed: number;
  /** @default per shape: spike 2 h, diurnal 24 h, step 3 h, burst-from-zero 1 h */
  readonly durationSeconds?: number;
  /** Peak requests per second. @default 300 (spike), 40 (diurnal), 60 (step), 100 (burst-from-zero) */
  readonly peak?: number;
}

export const SHAPE_DEFAULTS: Record<Shape, { durationSeconds: number; peak: number; describe: string }> = {
  spike: { durationSeconds: 7200, peak: 300, describe: '2 req/s base; at 30 min a 1-min ramp to the peak, held 5 min, 1-min ramp down' },
  diurnal: { durationSeconds: 86400, peak: 40, describe: 'sinusoidal day: near 0 at 03:00, the peak at 15:00' },
  step: { durationSeconds: 10800, peak: 60, describe: '5 req/s, a step to the peak at 1 h held for 1 h, back to 5 req/s' },
  'burst-from-zero': { durationSeconds: 3600, peak: 100, describe: 'idle (endpoint at zero) for 10 min, then the peak for 10 min, then idle' },
};

/** Expected rate × Poisson noise from the seed. */
export function generateShape(shape: Shape, options: ShapeOptions): Trace {
  const defaults = SHAPE_DEFAULTS[shape];
  const duration = options.durationSeconds ?? defaults.durationSeconds;
  const peak = options.peak ?? defaults.peak;
  if (!Number.isInteger(duration) || duration < 60 || duration > MAX_SECONDS) throw new SimulationInputError(`duration must be an integer from 60 to ${MAX_SECONDS} seconds (got ${duration})`);
  if (!Number.isFinite(peak) || peak < 0 || peak > 100_000) throw new SimulationInputError(`peak must be 0 to 100000 requests/s (got ${peak})`);
  const rng = new Prng(options.seed);
  const rate = rateFunction(shape, duration, peak);
  return Array.from({ length: duration }, (_, s) => rng.poisson(rate(s)));
}

function rateFunction(shape: Shape, duration: number, peak: number): (second: number) => number {
  const at = (fraction: number) => Math.round(duration * fraction);
  switch (shape) {
    case 'spike': {
      const base = 2;
      const start = at(0.25);
      return (s) => {
        const t = s - start;
        if (t < 0 || t >= 420) return base;
        if (t < 60) return base + ((peak - base) * t) / 60;
        if (t < 360) return peak;
        return peak - ((peak - base) * (t - 360)) / 60;
      };
    }
    case 'diurnal':
      // Scaled to the duration, so a shorter run is a compressed day.
      return (s) => (peak * (1 - Math.cos((2 * Math.PI * (s / duration - 0.125)) ))) / 2;
    case 'step':
      return (s) => (s >= at(1 / 3) && s < at(2 / 3) ? peak : 5);
    case 'burst-from-zero':
      return (s) => (s >= 600 && s < 1200 ? peak : 0);
  }
}
