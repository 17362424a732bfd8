/** Small statistics helpers for the benchmarks. */
export { inParallel } from '../local/concurrency';
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))] ?? NaN;
}


export const round = (value: number, digits = 1) => Number(value.toFixed(digits));
