import { computeUtilization, DEFAULT_DRAIN_SECONDS, seedUtilization, UtilizationInputError } from '../../../tasks/publish-utilization/utilization';

const base = { inferenceSeconds: 10, concurrencyPerInstance: 12, periodSeconds: 60 };

describe('computeUtilization', () => {
  it('divides demand by the capacity of the instances (the desired count defaults to the instances in service)', () => {
    // 2 instances × 12 concurrent × 60 s ÷ 10 s = 144 images per minute.
    const result = computeUtilization({ ...base, instances: 2, arrivals: 108, backlog: 0 });
    expect(result.capacityPerPeriod).toBe(144);
    expect(result.value).toBeCloseTo(0.75);
  });

  it('divides by the capacity of the desired count while instances start: target tracking multiplies the desired count by it', () => {
    // 8 in service, 32 desired: 1152 a minute against 32 × 72 = 2304 (0.5), not against 8 × 72 (2.0),
    // which target tracking would turn into ceil(32 × 2.0 ÷ 0.8) = 80 instances where 20 serve it.
    const result = computeUtilization({ ...base, instances: 8, desiredInstances: 32, arrivals: 1152, backlog: 96 });
    expect(result.capacityPerPeriod).toBe(2304);
    expect(result.value).toBeCloseTo(0.5);
    // The waiting backlog is what the instances in service cannot start: 96 fill their 96 slots.
    expect(result.waiting).toBe(0);
    expect(computeUtilization({ ...base, instances: 8, desiredInstances: 32, arrivals: 1152, backlog: 120 }).waiting).toBe(24);
  });

  it('counts the backlog the instances cannot start as demand, so a growing queue pushes utilization above 1', () => {
    // 48 in the backlog, 12 of them running on the one instance: 36 wait.
    const result = computeUtilization({ ...base, instances: 1, arrivals: 72, backlog: 48 });
    expect(result.waiting).toBe(36);
    expect(result.demandPerPeriod).toBe(108);
    expect(result.value).toBeCloseTo(1.5);
  });

  it('does not count requests being processed twice: they are arrivals of this or an earlier period', () => {
    // 30 requests of 20 s on one 12-slot instance: 36 per minute of capacity; at the minute's end 6 still run.
    const result = computeUtilization({ instances: 1, arrivals: 30, backlog: 6, inferenceSeconds: 20, concurrencyPerInstance: 12, periodSeconds: 60 });
    expect(result.waiting).toBe(0);
    expect(result.value).toBeCloseTo(30 / 36);
  });

  it('reports demand against one instance at zero instances, instead of no data', () => {
    const result = computeUtilization({ ...base, instances: 0, arrivals: 0, backlog: 18 });
    expect(result.value).toBeCloseTo(0.25);
    expect(result.value).toBeGreaterThan(0);
  });

  it('reports an explicit zero when idle at zero instances', () => {
    expect(computeUtilization({ ...base, instances: 0, arrivals: 0, backlog: 0 }).value).toBe(0);
  });

  it('spreads the waiting backlog over the drain horizon: demand = arrivals + waiting × period ÷ drainSeconds', () => {
    const result = computeUtilization({ ...base, instances: 1, arrivals: 36, backlog: 192, drainSeconds: 300 });
    expect(result.demandPerPeriod).toBe(72); // 36 + (192 − 12) × 60 ÷ 300
    expect(result.value).toBeCloseTo(1);
    // The default horizon is one period: the whole waiting backlog is next minute's demand.
    expect(DEFAULT_DRAIN_SECONDS).toBe(60);
    expect(computeUtilization({ ...base, instances: 1, arrivals: 36, backlog: 192 }).demandPerPeriod).toBe(216);
  });

  it('rejects a drain horizon shorter than the period, which would demand more than the backlog', () => {
    expect(() => computeUtilization({ ...base, instances: 1, arrivals: 0, backlog: 10, drainSeconds: 30 })).toThrow(/drainSeconds must be ≥ periodSeconds \(60\) \(got 30\)/);
  });

  it('rejects a negative or zero divisor naming the field', () => {
    expect(() => computeUtilization({ ...base, instances: 1, arrivals: -1, backlog: 0 })).toThrow(/arrivals must be a finite number ≥ 0/);
    expect(() => computeUtilization({ ...base, inferenceSeconds: 0, instances: 1, arrivals: 1, backlog: 0 })).toThrow(UtilizationInputError);
  });
});

describe('seed formula side by side', () => {
  it('agrees with ours when there is no backlog and the seed assumptions hold (10 s per image, 12 per instance)', () => {
    const ours = computeUtilization({ ...base, instances: 3, arrivals: 150, backlog: 0 }).value;
    expect(seedUtilization(3, 150)).toBeCloseTo(ours);
  });

  it('has no value at zero instances, where ours still signals demand', () => {
    expect(seedUtilization(0, 40)).toBeUndefined();
    expect(computeUtilization({ ...base, instances: 0, arrivals: 40, backlog: 0 }).value).toBeGreaterThan(0);
  });

  it('cannot see a backlog that ours counts', () => {
    const seed = seedUtilization(1, 72) ?? NaN;
    const ours = computeUtilization({ ...base, instances: 1, arrivals: 72, backlog: 212 }).value;
    expect(seed).toBeCloseTo(1);
    expect(ours).toBeGreaterThan(3);
  });
});
