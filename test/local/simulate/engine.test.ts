import { defaultSimulationConfig, warmStart } from '../../../local/cli/simulate';
import { percentAdjustment } from '../../../local/autoscaling/step-scaling';
import { integrateTimeline, simulate, stepFor } from '../../../local/simulate/engine';
import { BUILT_IN_POLICIES, loadPolicy, parsePolicy } from '../../../local/simulate/policies';
import { generateShape, parseTraceCsv } from '../../../local/simulate/trace';
import { imagegenTopology } from '../../../topology/imagegen-topology';

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

  it('backlog (AWS recipe) scales from zero by +1 after two full periods of HasBacklogWithoutCapacity', () => {
    const trace = [...steady(300, 0), ...steady(600, 2)];
    const r = simulate(trace, loadPolicy('backlog'), { ...config, initialInstances: 0 });
    expect(r.decisions[0]).toMatchObject({ from: 0, to: 1 });
    expect(r.decisions[0]!.reason).toMatch(/HasBacklogWithoutCapacity/);
    // Two full periods with backlog and no instance, then the alarm delay.
    expect(r.decisions[0]!.at).toBeGreaterThanOrEqual(300 + 120);
    expect(r.expired).toBe(0);
  });

  it('imagegen scales from zero after one period by the step the backlog reached: +1 for a trickle, many for a burst', () => {
    const oneAMinute = Array.from({ length: 600 }, (_, s) => (s % 60 === 5 ? 1 : 0));
    const trickle = simulate([...steady(295, 0), ...oneAMinute], loadPolicy('imagegen'), { ...config, initialInstances: 0 });
    expect(trickle.decisions[0]).toMatchObject({ from: 0, to: 1 });
    // The burst starts with the 300 s minute, which is then all backlog and no instance.
    const burst = simulate([...steady(300, 0), ...steady(600, 50)], loadPolicy('imagegen'), { ...defaultSimulationConfig({ startupSeconds: 120 }), initialInstances: 0 });
    const first = burst.decisions[0]!;
    expect(first.reason).toMatch(/backlog without capacity alarm (\d+) ≥ 1, 1\/1 datapoints: step \+(\d+)/);
    const [, backlog, added] = /alarm (\d+) .* step \+(\d+)/.exec(first.reason)!.map(Number);
    // 50 req/s: after the first minute with no instance ≈ 3000 waiting → the +42 step (2500–4999).
    expect(backlog).toBeGreaterThanOrEqual(2500);
    expect(backlog).toBeLessThan(5000);
    expect(added).toBe(42);
    expect(first.to).toBe(42);
    // The 300–360 s minute lands 120 s after it closes and the alarm reads it at the next evaluation
    // (the publisher 30 s into the minute, the alarms 20 s after it): one period, not the two of the +1 recipe.
    expect(first.at).toBe(360 + 120 + 30 + 20);
  });

  it('target tracking scales out by ceil(current × metric ÷ target) and back in to zero after the traffic stops', () => {
    const trace = [...steady(900, 3), ...steady(1500, 0)];
    const { stepScaleIn: _in, stepScaleOut: _out, ...trackingOnly } = parsePolicy(BUILT_IN_POLICIES['imagegen']);
    const r = simulate(trace, trackingOnly, { ...config, initialInstances: 1 });
    const out = r.decisions[0]!;
    expect(out.to).toBeGreaterThan(1);
    const metric = Number(/imagegen-utilization ([\d.]+)/.exec(out.reason)![1]);
    // The reason prints the metric to 2 decimals.
    const target = trackingOnly.targetTracking!.targetValue;
    expect(out.to).toBeGreaterThanOrEqual(Math.min(50, Math.ceil((out.from * (metric - 0.005)) / target)));
    expect(out.to).toBeLessThanOrEqual(Math.min(50, Math.ceil((out.from * (metric + 0.005)) / target)));
    expect(r.timeline[r.timeline.length - 1]!.desired).toBe(0);
    const scaleIn = r.decisions.find((d) => d.to < d.from)!;
    expect(scaleIn.reason).toMatch(/for 15 datapoints/);
  });

  it('step scale-in acts 3 datapoints after the work is done, long before target tracking’s 15, and keeps the last instance', () => {
    const trace = [...steady(600, 30), ...steady(1800, 0.05)];
    // 33 instances for 30 requests/s sit just under the 0.8 target, above its 0.72 scale-in line.
    const r = simulate(trace, loadPolicy('imagegen'), { ...config, initialInstances: 33 });
    const stepIn = r.decisions.filter((d) => d.reason.startsWith('step scale-in'));
    expect(stepIn.length).toBeGreaterThan(0);
    const first = stepIn[0]!;
    // Arrivals stop at 600 s: minutes 600–660, 660–720, 720–780 are low. Each lands 120 s after it
    // closes, is published 30 s later stamped with the minute it describes, and read by the alarms
    // 20 s after that: the third at 780 + 120 + 30 + 20 = 950 s.
    expect(first.at).toBe(950);
    const percent = Number(/(-\d+) %/.exec(first.reason)![1]);
    expect(first.to).toBe(first.from + percentAdjustment(first.from, percent));
    expect(stepIn.every((d) => d.from >= 2)).toBe(true);
    const tracking = r.decisions.find((d) => d.to < d.from && d.reason.includes('for 15 datapoints'));
    if (tracking) expect(tracking.at).toBeGreaterThan(first.at + 600);
  });

  it('step scale-out acts on the second datapoint far above target, a minute before target tracking', () => {
    const trace = [...steady(600, 2), ...steady(900, 40)];
    const r = simulate(trace, loadPolicy('imagegen'), { ...config, maxCapacity: 300, initialInstances: 3 });
    const out = r.decisions.find((d) => d.to > d.from)!;
    // The step starts at 600 s: the 660–720 minute lands at 840 s, is published at 870 s stamped
    // 660 s and read by the alarms at 890 s.
    expect(out.at).toBe(890);
    expect(out.reason).toMatch(/^step scale-out: utilization [\d.]+ ≥ 2\.4, 2\/2 datapoints: \+(\d+) %$/);
    const percent = Number(/\+(\d+) %/.exec(out.reason)![1]);
    expect(out.to).toBe(out.from + percentAdjustment(out.from, percent));
    const { stepScaleOut: _out, ...trackingOnly } = loadPolicy('imagegen');
    const slower = simulate(trace, trackingOnly, { ...config, maxCapacity: 300, initialInstances: 3 });
    // Target tracking's third datapoint (720–780) is read a minute later.
    expect(slower.decisions.find((d) => d.to > d.from)!.at).toBe(950);
    // Alarms evaluated just before the publisher read its datapoint in the next minute, not this one.
    const before = simulate(trace, loadPolicy('imagegen'), { ...config, maxCapacity: 300, initialInstances: 3, alarmDelaySeconds: 59 });
    expect(before.decisions.find((d) => d.to > d.from)!.at).toBe(30 + 59 + 14 * 60);
    expect(r.p95_s!).toBeLessThan(slower.p95_s!);
  });

  it('step scale-out sizes its step by the larger of its 2 datapoints (MetricAggregationType Maximum), not their average', () => {
    // A ramp: the first minute is partly quiet, the second at the full 40 requests/s.
    const trace = [...steady(600, 2), ...steady(30, 2), ...steady(900, 40)];
    const policy = loadPolicy('imagegen');
    const run = (aggregation: 'Average' | 'Maximum') => simulate(trace, { ...policy, stepScaleOut: { ...policy.stepScaleOut!, aggregation } }, { ...config, maxCapacity: 300, initialInstances: 3 });
    const first = (r: ReturnType<typeof simulate>) => r.decisions.find((d) => d.reason.startsWith('step scale-out'))!;
    const [max, avg] = [first(run('Maximum')), first(run('Average'))];
    expect(max.at).toBe(avg.at);
    const value = (d: { reason: string }) => Number(/utilization ([\d.]+)/.exec(d.reason)![1]);
    expect(value(max)).toBeGreaterThan(value(avg));
    expect(max.to).toBeGreaterThan(avg.to);
  });

  it('a longer drain horizon asks for less capacity for the same backlog', () => {
    const trace = [...steady(120, 20), ...steady(600, 20)];
    const withDrain = (drainSeconds: number) => {
      const { stepScaleOut: _out, ...base } = parsePolicy(BUILT_IN_POLICIES['imagegen']);
      // No warm history: the first datapoints that scale are the ones that carry the backlog.
      return simulate(trace, { ...base, targetTracking: { ...base.targetTracking!, drainSeconds } }, { ...config, initialInstances: 1, warmHistory: false });
    };
    const oneMinute = withDrain(60);
    const fiveMinutes = withDrain(300);
    expect(oneMinute.decisions[0]!.at).toBe(fiveMinutes.decisions[0]!.at);
    expect(oneMinute.decisions[0]!.to).toBeGreaterThan(fiveMinutes.decisions[0]!.to);
    const backlogged = oneMinute.periods[2]!;
    expect(backlogged.backlog).toBeGreaterThan(0);
    // Minute 2 lands at 300 s and is published stamped with minute 2.
    expect(oneMinute.periods[2]!.metric!).toBeGreaterThan(fiveMinutes.periods[2]!.metric!);
  });

  it('the seed metric ignores the backlog; imagegen counts it', () => {
    const trace = [...steady(120, 0), ...steady(60, 40), ...steady(600, 0)];
    const seed = simulate(trace, loadPolicy('seed'), { ...config, initialInstances: 1 });
    const ours = simulate(trace, loadPolicy('imagegen'), { ...config, initialInstances: 1 });
    const backlogged = (r: typeof seed) => r.periods.find((p) => p.start === 240)!;
    expect(backlogged(seed).backlog).toBeGreaterThan(1000);
    expect(backlogged(seed).metric).toBe(0); // no arrivals in that minute
    // Minute 4 lands at 420 s and is published at 450 s, after the step scale-out at 410 s: a third
    // of the backlog the one instance in service cannot start (180 s drain), against the capacity of
    // the desired count (12 × 60 ÷ 9.7 ≈ 74 images a minute each), not the one instance's.
    const [scaleOut] = ours.decisions;
    expect(scaleOut!.at).toBeGreaterThan(240 + 60);
    expect(scaleOut!.at).toBeLessThan(450);
    const waiting = backlogged(ours).backlog - 12;
    expect(backlogged(ours).metric).toBeCloseTo(waiting / 3 / ((scaleOut!.to * 12 * 60) / 9.7), 2);
  });

  it("imagegen's datapoint carries a rise in arrivals forward as the publisher does, and leaves steady minutes alone", () => {
    // 2/s for 10 minutes, then +2/s each minute; no scaling (max 1), so only the metric differs.
    const trace = [...steady(600, 2), ...Array.from({ length: 6 }, (_, m) => steady(60, 4 + 2 * m)).flat()];
    const policy = loadPolicy('imagegen');
    const { forecast: _forecast, ...plain } = policy.targetTracking!;
    const run = (p: typeof policy) => simulate(trace, p, { ...config, initialInstances: 1, maxCapacity: 1 }).periods;
    const withForecast = run(policy);
    const without = run({ ...policy, targetTracking: plain });
    // Steady minutes (within the noise share) are the same; rising ones are raised, by 5 minutes of the fitted rise at most.
    expect(withForecast[7]!.metric).toBeCloseTo(without[7]!.metric!, 9);
    const rising = withForecast[13]!;
    const arrivals = withForecast.slice(10, 14).map((p) => p.arrivals);
    const slope = (-1.5 * arrivals[0]! - 0.5 * arrivals[1]! + 0.5 * arrivals[2]! + 1.5 * arrivals[3]!) / 5;
    const mean = arrivals.reduce((a, b) => a + b, 0) / 4;
    const capacity = (12 * 60) / 9.7;
    expect(rising.metric! - without[13]!.metric!).toBeGreaterThan(0);
    expect(rising.metric! - without[13]!.metric!).toBeCloseTo((5 * (slope - 0.03 * mean)) / capacity, 1);
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

describe('step scaling arithmetic', () => {
  it('rounds PercentChangeInCapacity as Application Auto Scaling does', () => {
    expect(percentAdjustment(300, -80)).toBe(-240);
    expect(percentAdjustment(3, -90)).toBe(-2); // -2.7 rounds toward zero
    expect(percentAdjustment(1, -60)).toBe(-1); // magnitudes below 1 become 1
    expect(percentAdjustment(0, -60)).toBe(0);
  });

  it('picks the step whose interval holds the value above the threshold', () => {
    const steps = [{ lowerBound: 0, adjustment: 1 }, { lowerBound: 99, adjustment: 5 }, { lowerBound: 999, adjustment: 50 }];
    expect(stepFor(steps, 0).adjustment).toBe(1);
    expect(stepFor(steps, 98.9).adjustment).toBe(1);
    expect(stepFor(steps, 99).adjustment).toBe(5);
    expect(stepFor(steps, 5000).adjustment).toBe(50);
  });
});

describe('traces and policies', () => {
  it('the built-in imagegen policy is the stack\'s: the topology\'s scaling spec, step for step', () => {
    const scaling = imagegenTopology().endpoints[0]!.scaling;
    const policy = loadPolicy('imagegen');
    expect(policy.targetTracking).toMatchObject({ targetValue: scaling.targetTracking.targetValue, drainSeconds: scaling.targetTracking.drainSeconds });
    expect(policy.scaleFromZero!.steps).toEqual(scaling.scaleFromZero.steps.map((s) => ({ lowerBound: s.backlogAtLeast - scaling.scaleFromZero.threshold, adjustment: s.adjustment })));
    expect(policy.scaleFromZero!.evaluationPeriods).toBe(scaling.scaleFromZero.evaluationPeriods);
    expect(policy.stepScaleIn).toMatchObject({ threshold: scaling.stepScaleIn.threshold, instancesAtLeast: scaling.stepScaleIn.instancesAtLeast, cooldownSeconds: scaling.stepScaleIn.cooldownSeconds });
    expect(policy.stepScaleOut!.steps).toEqual(scaling.stepScaleOut.steps.map((s) => ({ atLeast: s.utilizationAtLeast, percentChange: s.percentChange })));
    expect(policy.stepScaleOut).toMatchObject({ threshold: scaling.stepScaleOut.threshold, evaluationPeriods: scaling.stepScaleOut.evaluationPeriods, cooldownSeconds: scaling.stepScaleOut.cooldownSeconds });
    expect(policy.stepScaleIn!.steps).toEqual(scaling.stepScaleIn.steps.map((s) => ({ below: s.utilizationBelow, percentChange: s.percentChange })));
  });

  it('rejects step lists AWS would reject', () => {
    const sz = { evaluationPeriods: 1, threshold: 1, cooldownSeconds: 60 };
    expect(() => parsePolicy({ name: 'x', scaleFromZero: { ...sz, steps: [{ lowerBound: 5, adjustment: 1 }] } })).toThrow(/scaleFromZero\.steps: the first step must start at lowerBound 0/);
    expect(() => parsePolicy({ name: 'x', scaleFromZero: { ...sz, steps: [{ lowerBound: 0, adjustment: 1 }, { lowerBound: 0, adjustment: 2 }] } })).toThrow(/lower bounds must ascend/);
    expect(() => parsePolicy({ name: 'x', stepScaleIn: { threshold: 0.3, evaluationPeriods: 3, instancesAtLeast: 2, cooldownSeconds: 60, steps: [{ below: 0.2, percentChange: -50 }] } })).toThrow(/the first step must start at the threshold/);
  });

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
