import { alarmWindow, PolicyController } from '../../../local/simulate/controller';
import { parsePolicy, type PolicySpec } from '../../../local/simulate/policies';

const tracking: PolicySpec = parsePolicy({ name: 'tracking', targetTracking: { metric: 'imagegen-utilization', targetValue: 0.8, scaleOutCooldownSeconds: 1200, scaleInCooldownSeconds: 120 } });

/** One evaluation with the given readable datapoints; returns the desired count after it. */
function evaluate(controller: PolicyController, now: number, desired: number, datapoints: number[]): number {
  let result = desired;
  controller.evaluate({ now, desired, updating: false, datapoints, seen: datapoints.length, fromZero: [], fromZeroSeen: 0, instancesAt: () => undefined }, (target) => (result = target));
  return result;
}

describe('PolicyController', () => {
  it('within the scale-out cooldown scales out again only when larger than the scale-out that started it', () => {
    const controller = new PolicyController(tracking);
    expect(evaluate(controller, 0, 2, [1.5, 1.5, 1.5])).toBe(4); // ceil(2 × 1.5 ÷ 0.8)
    // From the cooldown's base of 2 the same metric asks for 4 again: nothing more (from 4 it would be 8).
    expect(evaluate(controller, 60, 4, [1.5, 1.5, 1.5, 1.5])).toBe(4);
    // Larger: ceil(2 × 3 ÷ 0.8) = 8 goes ahead inside the 1200 s cooldown.
    expect(evaluate(controller, 120, 4, [1.5, 1.5, 3, 3, 3])).toBe(8);
    // After the cooldown the base is the desired count again.
    expect(evaluate(controller, 1400, 8, [3, 3, 3])).toBe(30);
  });

  it('evaluates the most recent real datapoints within the evaluation range when later ones are missing', () => {
    expect(alarmWindow([1, 2, 3, undefined, undefined], 5, 3)).toEqual([1, 2, 3]);
    // Not enough real ones in the range (3 + 5 periods): the last periods, gaps and all.
    expect(alarmWindow([1, undefined, undefined, undefined, undefined, undefined, undefined, 2, undefined], 9, 3)).toEqual([undefined, 2, undefined]);
  });

  it('step alarms read the published metric: minutes not yet published neither breach scale-in as zeros nor block scale-out', () => {
    const steps: PolicySpec = parsePolicy({
      name: 'steps',
      stepScaleOut: { threshold: 2.4, evaluationPeriods: 2, aggregation: 'Maximum', cooldownSeconds: 480, steps: [{ atLeast: 2.4, percentChange: 200 }] },
      stepScaleIn: { threshold: 0.48, evaluationPeriods: 3, instancesAtLeast: 2, cooldownSeconds: 240, steps: [{ below: 0.48, percentChange: -40 }] },
    });
    const run = (datapoints: (number | undefined)[], instances: number | undefined) => {
      let result = 10;
      const input = { now: 0, desired: 10, updating: false, datapoints, seen: datapoints.length, fromZero: [], fromZeroSeen: 0, instancesAt: () => instances };
      new PolicyController(steps).evaluate(input, (target) => (result = target));
      return result;
    };
    // One low minute published, the two after it not yet: no scale-in (FILL(…, 0) would have scaled in).
    expect(run([0.6, 0.6, 0.6, 0.1, undefined, undefined], 10)).toBe(10);
    // Three low published minutes, then unpublished ones: the most recent real datapoints breach.
    expect(run([0.1, 0.1, 0.1, undefined, undefined], 10)).toBe(6);
    // Below 2 instances the value is the threshold: no breach.
    expect(run([0.1, 0.1, 0.1, undefined, undefined], 1)).toBe(10);
    // Two high published minutes followed by unpublished ones still scale out.
    expect(run([3, 3, undefined, undefined], 10)).toBe(30);
  });
});
