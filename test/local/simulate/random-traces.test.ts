import { FRESH_HELD_OUT_SEEDS, HELD_OUT_SEEDS, randomTrace, STEEP_TUNING_SEEDS, TRACE_FAMILIES, traceFamily, TUNING_SEEDS } from '../../../local/simulate/random-traces';

describe('random traces', () => {
  it('gives the same trace for the same seed and a different one for another seed', () => {
    const digest = (trace: readonly number[]) => trace.reduce((h, v, i) => (h * 31 + v * (i + 1)) % 2147483647, trace.length);
    expect(randomTrace(9).trace.length).toBeGreaterThan(0);
    expect(digest(randomTrace(9).trace)).toBe(digest(randomTrace(9).trace));
    expect(digest(randomTrace(9).trace)).not.toBe(digest(randomTrace(16).trace));
    expect(randomTrace(9).family).toBe(randomTrace(16).family);
  });

  it('covers every family in the tuning set and at least 20 traces of every family in each held-out set, no two sets sharing a seed', () => {
    expect(new Set(TUNING_SEEDS.map(traceFamily))).toEqual(new Set(TRACE_FAMILIES));
    for (const heldOut of [HELD_OUT_SEEDS, FRESH_HELD_OUT_SEEDS]) {
      expect(heldOut.length).toBeGreaterThanOrEqual(20);
      expect(new Set(heldOut.map(traceFamily))).toEqual(new Set(TRACE_FAMILIES));
    }
    expect(STEEP_TUNING_SEEDS.length).toBe(40);
    expect(new Set(STEEP_TUNING_SEEDS.map(traceFamily))).toEqual(new Set(['spikes', 'ramp']));
    const all = [...TUNING_SEEDS, ...STEEP_TUNING_SEEDS, ...HELD_OUT_SEEDS, ...FRESH_HELD_OUT_SEEDS];
    expect(new Set(all).size).toBe(all.length);
  });

  it('draws each family with its defining feature', () => {
    const perMinute = (trace: readonly number[]) => Array.from({ length: Math.floor(trace.length / 60) }, (_, m) => trace.slice(m * 60, m * 60 + 60).reduce((a, b) => a + b, 0));
    const first = (family: string) => randomTrace(TUNING_SEEDS.find((s) => traceFamily(s) === family)!);
    // A diurnal day never reaches zero; its busiest hour is several times its quietest.
    const diurnal = perMinute(first('diurnal').trace);
    expect(diurnal.length).toBe(24 * 60);
    expect(Math.min(...diurnal)).toBeGreaterThan(0);
    const hours = Array.from({ length: 24 }, (_, h) => diurnal.slice(h * 60, h * 60 + 60).reduce((a, b) => a + b, 0));
    expect(Math.max(...hours)).toBeGreaterThan(2 * Math.min(...hours));
    // A week is seven days.
    expect(first('weekly').trace.length).toBe(7 * 24 * 3600);
    // Quiet gaps: whole silent half-hours between sessions.
    const gaps = perMinute(first('quiet-gaps').trace);
    expect(gaps.some((_, m) => m + 30 <= gaps.length && gaps.slice(m, m + 30).every((v) => v === 0))).toBe(true);
    expect(gaps.some((v) => v > 0)).toBe(true);
    // Spikes and flash crowds: the busiest minute is many times the median one.
    for (const family of ['spikes', 'flash-crowd']) {
      const minutes = perMinute(first(family).trace);
      const median = [...minutes].sort((a, b) => a - b)[Math.floor(minutes.length / 2)]!;
      expect(Math.max(...minutes)).toBeGreaterThan(4 * Math.max(1, median));
    }
  });

  it('rejects a seed outside 0..2^32-1', () => {
    expect(() => traceFamily(-1)).toThrow(/trace seed must be an integer from 0 to 4294967295 \(got -1\)/);
  });
});
