/**
 * PercentChangeInCapacity as Application Auto Scaling rounds it: a magnitude between 0 and 1 becomes
 * 1, a larger one rounds toward zero (−0.6 of one instance removes it; −2.7 of three removes two).
 */
export function percentAdjustment(capacity: number, percent: number): number {
  const raw = (capacity * percent) / 100;
  if (raw === 0) return 0;
  if (Math.abs(raw) < 1) return Math.sign(raw);
  return Math.trunc(raw);
}
