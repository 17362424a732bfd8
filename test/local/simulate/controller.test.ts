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
});
