import { defaultSimulationConfig, warmStart } from '../../../local/cli/simulate';
import { integrateTimeline, simulate } from '../../../local/simulate/engine';
import { loadPolicy, parsePolicy } from '../../../local/simulate/policies';
import { generateShape, parseTraceCsv } from '../../../local/simulate/trace';

const config = defaultSimulationConfig({ maxCapacity: 50, startupSeconds: 120 });
const steady = (seconds: number, rate: number) => Array.from({ length: seconds }, () => rate);

describe('simulate', () => {
  it('accounts for every request (completed or expired) and bills the integral of the capacity timeline', () => {
    const trace = generateShape('step', { seed: 3, durationSeconds: 3600, peak: 20 });
    for (const name of ['seed', 'backlog', 'imagegen']) {
      const r = simulate(trace, loadPolicy(name), { ...config, initialInstances: 3 });
      expect(r.requests).toBe(trace.reduce((a, b) => a + b, 0));
      expect(r.completed + r.expired).toBe(r.requests);
      expect(r.instance_hours).toBeCloseTo(integrateTimeline(r.timeline, r.duration_s) / 3600, 9);
      const fromPeriods = r.periods.reduce((sum, p) => sum + p.billed * 60, 0) / 3600;
      expect(Math.abs(fromPeriods - r.instance_hours)).toBeLessThan(r.timeline[r.timeline.length - 1]!.billed * 60 / 3600 + 1e-9);
    }
  });

  it('is repeatable for a seed and differs across seeds', () => {
    const trace = generateShape('spike', { seed: 1, durationSeconds: 1800, peak: 30 });
    const a = simulate(trace, loadPolicy('imagegen'), config);
    const b = simulate(trace, loadPolicy('imagegen'), config);
    const c = simulate(trace, loadPolicy('imagegen'), { ...config, seed: 2 });
    expect(b.p95_s).toBe(a.p95_s);
    expect(b.instance_hours).toBe(a.instance_hours);
    expect(Array.from(b.latencies)).toEqual(Array.from(a.latencies));
    expect(c.p50_s).not.toBe(a.p50_s);
    expect(generateShape('diurnal', { seed: 5, durationSeconds: 600 })).toEqual(generateShape('diurnal', { seed: 5, durationSeconds: 600 }));
  });

  it('seed policy never scales out from zero: every request expires', () => {
    const trace = [...steady(600, 0), ...steady(300, 5)];
    const r = simulate(trace, loadPolicy('seed'), { ...config, initialInstances: 0, ttlSeconds: 600 });
    expect(r.completed).toBe(0);
    expect(r.expired).toBe(r.requests);
    expect(r.decisions).toEqual([]);
    expect(r.cost_per_image_usd).toBeNull();
  });

  it('imagegen and backlog scale from zero through the HasBacklogWithoutCapacity step', () => {
    const trace = [...steady(300, 0), ...steady(600, 2)];
    for (const name of ['imagegen', 'backlog']) {
      const r = simulate(trace, loadPolicy(name), { ...config, initialInstances: 0 });
      expect(r.decisions[0]).toMatchObject({ from: 0, to: 1 });
      expect(r.decisions[0]!.reason).toMatch(/HasBacklogWithoutCapacity/);
      // Two full periods with backlog and no instance, then the alarm delay.
      expect(r.decisions[0]!.at).toBeGreaterThanOrEqual(300 + 120);
      expect(r.expired).toBe(0);
    }
  });

  it('target tracking scales out by ceil(current × metric ÷ target) and back in to zero after the traffic stops', () => {
    const trace = [...steady(900, 3), ...steady(1500, 0)];
    const r = simulate(trace, loadPolicy('imagegen'), { ...config, initialInstances: 1 });
    const out = r.decisions[0]!;
    expect(out.to).toBeGreaterThan(1);
    const metric = Number(/imagegen-utilization ([\d.]+)/.exec(out.reason)![1]);
    // The reason prints the metric to 2 decimals.
    expect(out.to).toBeGreaterThanOrEqual(Math.min(50, Math.ceil((out.from * (metric - 0.005)) / 0.75)));
    expect(out.to).toBeLessThanOrEqual(Math.min(50, Math.ceil((out.from * (metric + 0.005)) / 0.75)));
    expect(r.timeline[r.timeline.length - 1]!.desired).toBe(0);
    const scaleIn = r.decisions.find((d) => d.to < d.from)!;
    expect(scaleIn.reason).toMatch(/for 15 datapoints/);
  });

  it('the seed metric ignores the backlog; imagegen counts it', () => {
    const trace = [...steady(120, 0), ...steady(60, 40), ...steady(600, 0)];
    const seed = simulate(trace, loadPolicy('seed'), { ...config, initialInstances: 1 });
    const ours = simulate(trace, loadPolicy('imagegen'), { ...config, initialInstances: 1 });
    const backlogged = (r: typeof seed) => r.periods.find((p) => p.start === 240)!;
    expect(backlogged(seed).backlog).toBeGreaterThan(1000);
    expect(backlogged(seed).metric).toBe(0); // no arrivals in that minute
    expect(backlogged(ours).metric).toBeGreaterThan(10);
  });

  it('runs scheduled actions and clamps to the policy bounds', () => {
    const trace = steady(1200, 1);
    const policy = parsePolicy({
      name: 'custom',
      maxCapacity: 5,
      targetTracking: { metric: 'imagegen-utilization', targetValue: 0.75, scaleOutCooldownSeconds: 60, scaleInCooldownSeconds: 120, disableScaleIn: true },
      scheduledActions: [{ name: 'warm', atSecond: 300, minCapacity: 8, maxCapacity: 8 }],
    });
    const r = simulate(trace, policy, { ...config, initialInstances: 1 });
    expect(r.decisions.find((d) => d.reason.includes('scheduled action warm'))).toMatchObject({ at: 300, to: 8 });
    expect(r.peak_instances).toBe(8);
  });

  it('expires requests past the TTL and counts them out of the SLO', () => {
    const trace = steady(300, 10);
    const r = simulate(trace, loadPolicy('seed'), { ...config, initialInstances: 1, ttlSeconds: 60, maxCapacity: 1 });
    expect(r.expired).toBeGreaterThan(0);
    expect(r.slo_attainment).toBeLessThan(r.completed / r.requests + 1e-12);
  });

  it('sizes a warm start for the first minute at the 0.75 target', () => {
    expect(warmStart(steady(60, 2), config)).toBe(3);
    expect(warmStart(steady(60, 0), config)).toBe(0);
  });
});

describe('traces and policies', () => {
  it('parses second,requests CSV and rejects bad rows with the line number', () => {
    expect(parseTraceCsv('second,requests\n0,2\n3,1\n')).toEqual([2, 0, 0, 1]);
    expect(() => parseTraceCsv('s,r\n0,1')).toThrow(/header must be "second,requests"/);
    expect(() => parseTraceCsv('second,requests\n0,-1', 'f.csv')).toThrow(/f\.csv: line 2: requests must be an integer/);
  });

  it('rejects an invalid custom policy naming the field', () => {
    expect(() => parsePolicy({ name: 'x', targetTracking: { metric: 'cpu', targetValue: 1, scaleOutCooldownSeconds: 0, scaleInCooldownSeconds: 0 } })).toThrow(/targetTracking\.metric/);
    expect(() => parsePolicy({ name: 'x', minCapacity: 5, maxCapacity: 2 })).toThrow(/minCapacity \(5\) must be ≤ maxCapacity \(2\)/);
    expect(() => loadPolicy('nope')).toThrow(/--policy must be one of seed, backlog, imagegen/);
  });
});
