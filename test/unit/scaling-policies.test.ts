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

  it('tracks FILL(utilization, 0) of ImageGen/UtilizationRate per endpoint at the target with its cooldowns', () => {
    const tt = policies.targetTracking;
    expect(tt).toMatchObject({ targetValue: 0.75, scaleOutCooldownSeconds: 60, scaleInCooldownSeconds: 120 });
    expect(tt.metric).toEqual({ id: 'utilization', namespace: 'ImageGen', metricName: 'UtilizationRate', dimensions: [{ name: 'EndpointName', value: spec.name }], stat: 'Average' });
    expect(tt.expression).toEqual({ id: 'filled', expression: 'FILL(utilization, 0)', label: 'Utilization (missing = 0)' });
  });

  it('scales out of zero by ChangeInCapacity steps whose bounds are the backlog sizes less the threshold', () => {
    const p = policies.scaleFromZero;
    expect(p).toMatchObject({ adjustmentType: 'ChangeInCapacity', cooldownSeconds: 480, metricAggregationType: 'Average' });
    expect(bounds(p.stepAdjustments)).toEqual([
      [0, 249, 1],
      [249, 499, 4],
      [499, 999, 8],
      [999, 2499, 17],
      [2499, 4999, 44],
      [4999, 9999, 89],
      [9999, null, 179],
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

  it('scales out by PercentChangeInCapacity steps above 3× the target, bounds without floating-point dust', () => {
    const p = policies.stepScaleOut;
    expect(p).toMatchObject({ adjustmentType: 'PercentChangeInCapacity', cooldownSeconds: 480 });
    expect(bounds(p.stepAdjustments)).toEqual([
      [0, 2.25, 200],
      [2.25, 6.75, 500],
      [6.75, 15.75, 1100],
      [15.75, 33.75, 2300],
      [33.75, 69.75, 4700],
      [69.75, null, 9500],
    ]);
    expect(p.alarm).toMatchObject({ name: `${spec.name}-high-utilization`, threshold: 2.25, comparisonOperator: 'GreaterThanOrEqualToThreshold', evaluationPeriods: 1, datapointsToAlarm: 1 });
    expect(p.alarm.expression.expression).toBe('FILL(utilization, 0)');
    expect(p.alarm.metrics).toEqual([{ id: 'utilization', namespace: 'ImageGen', metricName: 'UtilizationRate', dimensions: [{ name: 'EndpointName', value: spec.name }], stat: 'Average', periodSeconds: 60 }]);
  });

  it('scales in by negative PercentChangeInCapacity steps below 40 % of the target, upper bounds nearest the threshold', () => {
    const p = policies.stepScaleIn;
    expect(p).toMatchObject({ adjustmentType: 'PercentChangeInCapacity', cooldownSeconds: 240 });
    // 0.225 − 0.3 is −0.07500000000000001 in floating point: the bound is written as −0.075.
    expect(bounds(p.stepAdjustments)).toEqual([
      [-0.075, 0, -60],
      [-0.15, -0.075, -70],
      [-0.225, -0.15, -80],
      [null, -0.225, -90],
    ]);
    expect(p.alarm).toMatchObject({ name: `${spec.name}-low-utilization`, threshold: 0.3, comparisonOperator: 'LessThanThreshold', evaluationPeriods: 3, datapointsToAlarm: 3, treatMissingData: 'notBreaching' });
    expect(p.alarm.expression.expression).toBe('IF(FILL(instances, 0) >= 2, FILL(utilization, 0), 0.3)');
    expect(p.alarm.metrics.map((m) => [m.id, m.namespace, m.metricName, m.stat, m.dimensions.map((d) => d.name)])).toEqual([
      ['utilization', 'ImageGen', 'UtilizationRate', 'Average', ['EndpointName']],
      ['instances', '/aws/sagemaker/Endpoints', 'CPUUtilization', 'SampleCount', ['EndpointName', 'VariantName']],
    ]);
  });

  it('describes each step alarm by its steps', () => {
    expect(policies.stepScaleOut.alarm.description).toBe(`${spec.name} is far above its utilization target: adds 200 % from 2.25, 500 % from 4.5, 1100 % from 9, 2300 % from 18, 4700 % from 36, 9500 % from 72`);
    expect(policies.stepScaleIn.alarm.description).toBe(`${spec.name} is well below its utilization target with ≥ 2 instances: removes 60 % below 0.3, 70 % below 0.225, 80 % below 0.15, 90 % below 0.075`);
    expect(policies.scaleFromZero.alarm.description).toMatch(/^Requests wait for .* while it has no instances: adds 1 at a backlog ≥ 1, 4 at a backlog ≥ 250, /);
  });
});

describe('stepFor', () => {
  const policies = endpointScalingPolicies(endpoint());

  it('picks the step whose start a value above the threshold reaches, inclusive', () => {
    const pick = (value: number) => stepFor(policies.scaleFromZero, value)?.scalingAdjustment;
    expect([pick(1), pick(249), pick(250), pick(9999), pick(10_000), pick(1e6)]).toEqual([1, 1, 4, 89, 179, 179]);
  });

  it('picks the step a value below the threshold falls under, exclusive of its start', () => {
    const pick = (value: number) => stepFor(policies.stepScaleIn, value)?.scalingAdjustment;
    expect([pick(0.29), pick(0.225), pick(0.2249), pick(0.075), pick(0.07), pick(0)]).toEqual([-60, -60, -70, -80, -90, -90]);
  });
});
