import { imagegenTopology } from '../../topology/imagegen-topology';
import { endpointScalingPolicies, stepFor, stepPolicies } from '../../topology/scaling-policies';
import type { EndpointSpec } from '../../topology/topology';

const endpoint = (): EndpointSpec => {
  const spec = imagegenTopology().endpoints[0];
  if (!spec) throw new Error('the imagegen topology has no endpoint');
  return spec;
};

describe('endpointScalingPolicies (imagegen topology)', () => {
  const spec = endpoint();
  const policies = endpointScalingPolicies(spec);
  const bounds = (steps: readonly { lowerBound?: number; upperBound?: number; scalingAdjustment: number }[]) =>
    steps.map((s) => [s.lowerBound ?? null, s.upperBound ?? null, s.scalingAdjustment]);

  it('names the scalable target and its four policies after the endpoint', () => {
    expect(policies.resourceId).toBe(`endpoint/${spec.name}/variant/${spec.variantName}`);
    expect([policies.targetTracking, ...stepPolicies(policies)].map((p) => [p.policyName, p.policyType])).toEqual([
      [`${spec.name}-utilization`, 'TargetTrackingScaling'],
      [`${spec.name}-scale-from-zero`, 'StepScaling'],
      [`${spec.name}-step-scale-out`, 'StepScaling'],
      [`${spec.name}-step-scale-in`, 'StepScaling'],
    ]);
  });

  it('tracks ImageGen/UtilizationRate itself per endpoint at the target with its cooldowns: no FILL over the minutes not yet published', () => {
    const tt = policies.targetTracking;
    expect(tt).toEqual({
      policyName: `${spec.name}-utilization`,
      policyType: 'TargetTrackingScaling',
      targetValue: 0.8,
      scaleOutCooldownSeconds: 60,
      scaleInCooldownSeconds: 120,
      metric: { id: 'utilization', namespace: 'ImageGen', metricName: 'UtilizationRate', dimensions: [{ name: 'EndpointName', value: spec.name }], stat: 'Average' },
    });
  });

  it('scales out of zero by ChangeInCapacity steps whose bounds are the backlog sizes less the threshold', () => {
    const p = policies.scaleFromZero;
    expect(p).toMatchObject({ adjustmentType: 'ChangeInCapacity', cooldownSeconds: 480, metricAggregationType: 'Average' });
    // One instance serves 12 × 60 × 0.8 ÷ 9.7 ≈ 59.4 requests a minute at the target.
    expect(bounds(p.stepAdjustments)).toEqual([
      [0, 249, 1],
      [249, 499, 4],
      [499, 999, 8],
      [999, 2499, 16],
      [2499, 4999, 42],
      [4999, 9999, 84],
      [9999, null, 168],
    ]);
    expect(p.alarm).toMatchObject({
      name: `${spec.name}-has-backlog-without-capacity`,
      threshold: 1,
      comparisonOperator: 'GreaterThanOrEqualToThreshold',
      evaluationPeriods: 1,
      datapointsToAlarm: 1,
      treatMissingData: 'notBreaching',
      periodSeconds: 60,
      expression: { id: 'fromZero', expression: 'IF(hbwc >= 1, backlog, 0)', label: 'Backlog while no instance serves' },
    });
    expect(p.alarm.metrics.map((m) => [m.id, m.namespace, m.metricName, m.stat, m.periodSeconds, m.dimensions])).toEqual([
      ['hbwc', 'AWS/SageMaker', 'HasBacklogWithoutCapacity', 'Average', 60, [{ name: 'EndpointName', value: spec.name }]],
      ['backlog', 'AWS/SageMaker', 'ApproximateBacklogSize', 'Maximum', 60, [{ name: 'EndpointName', value: spec.name }]],
    ]);
  });

  it('scales out by PercentChangeInCapacity steps about √2 apart from 3× the target, the larger of 2 datapoints picking the step, bounds without floating-point dust', () => {
    const p = policies.stepScaleOut;
    expect(p).toMatchObject({ adjustmentType: 'PercentChangeInCapacity', cooldownSeconds: 480, metricAggregationType: 'Maximum' });
    // Multiples 3, 4, 6, 8, … 384 of the 0.8 target, relative to the 2.4 threshold; capacity × the multiple.
    expect(bounds(p.stepAdjustments)).toEqual([
      [0, 0.8, 200],
      [0.8, 2.4, 300],
      [2.4, 4, 500],
      [4, 7.2, 700],
      [7.2, 10.4, 1100],
      [10.4, 16.8, 1500],
      [16.8, 23.2, 2300],
      [23.2, 36, 3100],
      [36, 48.8, 4700],
      [48.8, 74.4, 6300],
      [74.4, 100, 9500],
      [100, 151.2, 12700],
      [151.2, 202.4, 19100],
      [202.4, 304.8, 25500],
      [304.8, null, 38300],
    ]);
    expect(p.stepAdjustments.length).toBeLessThanOrEqual(20); // AWS's limit per policy
    expect(p.alarm).toMatchObject({ name: `${spec.name}-high-utilization`, threshold: 2.4, comparisonOperator: 'GreaterThanOrEqualToThreshold', evaluationPeriods: 2, datapointsToAlarm: 2 });
    // The published metric itself, no metric math: a minute not yet published is no datapoint, never a 0.
    expect(p.alarm.expression).toBeUndefined();
    expect(p.alarm.metrics).toEqual([{ id: 'utilization', namespace: 'ImageGen', metricName: 'UtilizationRate', dimensions: [{ name: 'EndpointName', value: spec.name }], stat: 'Average', periodSeconds: 60 }]);
  });

  it('scales in by negative PercentChangeInCapacity steps below 60 % of the target, upper bounds nearest the threshold', () => {
    const p = policies.stepScaleIn;
    expect(p).toMatchObject({ adjustmentType: 'PercentChangeInCapacity', cooldownSeconds: 240, metricAggregationType: 'Average' });
    // 0.8 × 6 ÷ 10 is 0.4800000000000001 in floating point: the threshold and bounds are written as decimals.
    expect(bounds(p.stepAdjustments)).toEqual([
      [-0.08, 0, -40],
      [-0.16, -0.08, -50],
      [-0.24, -0.16, -60],
      [-0.32, -0.24, -70],
      [-0.4, -0.32, -80],
      [null, -0.4, -90],
    ]);
    expect(p.alarm).toMatchObject({ name: `${spec.name}-low-utilization`, threshold: 0.48, comparisonOperator: 'LessThanThreshold', evaluationPeriods: 3, datapointsToAlarm: 3, treatMissingData: 'notBreaching' });
    // The id the alarm returns its data under (CloudWatch refuses an empty one) and the label its graph shows.
    expect(p.alarm.expression).toEqual({ id: 'lowUtilization', expression: 'IF(FILL(instances, REPEAT) >= 2, utilization, 0.48)', label: 'Utilization while scale-in by steps may act' });
    expect(p.alarm.metrics.map((m) => [m.id, m.namespace, m.metricName, m.stat, m.dimensions.map((d) => d.name)])).toEqual([
      ['utilization', 'ImageGen', 'UtilizationRate', 'Average', ['EndpointName']],
      ['instances', '/aws/sagemaker/Endpoints', 'CPUUtilization', 'SampleCount', ['EndpointName', 'VariantName']],
    ]);
  });

  it('describes each step alarm by its steps', () => {
    expect(policies.stepScaleOut.alarm.description).toBe(`${spec.name} is far above its utilization target: adds 200 % from 2.4, 300 % from 3.2, 500 % from 4.8, 700 % from 6.4, 1100 % from 9.6, 1500 % from 12.8, 2300 % from 19.2, 3100 % from 25.6, 4700 % from 38.4, 6300 % from 51.2, 9500 % from 76.8, 12700 % from 102.4, 19100 % from 153.6, 25500 % from 204.8, 38300 % from 307.2`);
    expect(policies.stepScaleIn.alarm.description).toBe(`${spec.name} is well below its utilization target with ≥ 2 instances: removes 40 % below 0.48, 50 % below 0.4, 60 % below 0.32, 70 % below 0.24, 80 % below 0.16, 90 % below 0.08`);
    expect(policies.scaleFromZero.alarm.description).toMatch(/^Requests wait for .* while it has no instances: adds 1 at a backlog ≥ 1, 4 at a backlog ≥ 250, /);
  });
});

describe('stepFor', () => {
  const policies = endpointScalingPolicies(endpoint());

  it('picks the step whose start a value above the threshold reaches, inclusive', () => {
    const pick = (value: number) => stepFor(policies.scaleFromZero, value)?.scalingAdjustment;
    expect([pick(1), pick(249), pick(250), pick(9999), pick(10_000), pick(1e6)]).toEqual([1, 1, 4, 84, 168, 168]);
  });

  it('picks the step a value below the threshold falls under, exclusive of its start', () => {
    const pick = (value: number) => stepFor(policies.stepScaleIn, value)?.scalingAdjustment;
    expect([pick(0.47), pick(0.4), pick(0.3999), pick(0.08), pick(0.079), pick(0)]).toEqual([-40, -40, -50, -80, -90, -90]);
  });
});
