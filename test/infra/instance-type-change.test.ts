/**
 * Changing the endpoint's instance type on a deployed stack. SageMaker refuses an UpdateEndpoint that
 * changes the instance type of a variant registered with Application Auto Scaling, and CloudFormation
 * deletes removed resources only after updating the others: a deployment that changes the instance
 * type must start from a template without the scalable target. The runbook (docs/operations.md) takes
 * three deployments; each is synthesized here and each transition checked against that rule.
 */
import { synthesize, type Synthesized } from './synth';

type Template = Synthesized['json'];

const ofType = (t: Template, type: string) => Object.values(t.Resources).filter((r) => r.Type === type);
const instanceType = (t: Template): unknown => {
  const [config] = ofType(t, 'AWS::SageMaker::EndpointConfig');
  return (config?.Properties?.ProductionVariants as { InstanceType: string }[] | undefined)?.[0]?.InstanceType;
};
const registered = (t: Template) => ofType(t, 'AWS::ApplicationAutoScaling::ScalableTarget').length > 0;

/** Why deploying `after` over `before` would fail on AWS; empty when it is safe. */
function problems(before: Template, after: Template): string[] {
  if (instanceType(before) === instanceType(after) || !registered(before)) return [];
  return [`${String(instanceType(before))} → ${String(instanceType(after))} while the variant is registered with Application Auto Scaling`];
}

describe('changing the instance type (docs/operations.md)', () => {
  let deployed: Template;
  let scalingOff: Template;
  let newTypeScalingOff: Template;
  let newType: Template;

  beforeAll(() => {
    deployed = synthesize().json;
    scalingOff = synthesize({ 'imagegen:autoScaling': 'false' }).json;
    newTypeScalingOff = synthesize({ 'imagegen:autoScaling': 'false', 'imagegen:instanceType': 'ml.inf2.24xlarge' }).json;
    newType = synthesize({ 'imagegen:instanceType': 'ml.inf2.24xlarge' }).json;
  }, 240_000);

  it('is refused in one deployment, with or without removing the scaling in the same one', () => {
    expect(problems(deployed, newType)).toEqual(['ml.inf2.48xlarge → ml.inf2.24xlarge while the variant is registered with Application Auto Scaling']);
    expect(problems(deployed, newTypeScalingOff)).toHaveLength(1);
  });

  it('step 1 deregisters the variant and changes nothing else of the endpoint', () => {
    expect(problems(deployed, scalingOff)).toEqual([]);
    expect(registered(scalingOff)).toBe(false);
    expect(ofType(scalingOff, 'AWS::ApplicationAutoScaling::ScalingPolicy')).toEqual([]);
    expect(ofType(scalingOff, 'AWS::SageMaker::EndpointConfig')).toEqual(ofType(deployed, 'AWS::SageMaker::EndpointConfig'));
    expect(ofType(scalingOff, 'AWS::SageMaker::Model')).toEqual(ofType(deployed, 'AWS::SageMaker::Model'));
    // The scaling alarms go with their policies; the operator's alarms stay.
    const alarmNames = (t: Template) => ofType(t, 'AWS::CloudWatch::Alarm').map((a) => a.Properties?.AlarmName);
    expect(alarmNames(scalingOff)).not.toContain('imagegen-sdxl-has-backlog-without-capacity');
    expect(alarmNames(scalingOff)).toContain('imagegen-sdxl-backlog-without-capacity-too-long');
  });

  it('step 2 changes the instance type, and the derived concurrency with it, on the unregistered variant', () => {
    expect(problems(scalingOff, newTypeScalingOff)).toEqual([]);
    expect(instanceType(newTypeScalingOff)).toBe('ml.inf2.24xlarge');
    const [config] = ofType(newTypeScalingOff, 'AWS::SageMaker::EndpointConfig');
    expect(config?.Properties?.AsyncInferenceConfig).toMatchObject({ ClientConfig: { MaxConcurrentInvocationsPerInstance: 6 } });
    const [model] = ofType(newTypeScalingOff, 'AWS::SageMaker::Model');
    expect(model?.Properties?.PrimaryContainer).toMatchObject({ Environment: { SAGEMAKER_MODEL_SERVER_WORKERS: '6' } });
  });

  it('step 3 registers the variant again with the same policies, sized for the new type', () => {
    expect(problems(newTypeScalingOff, newType)).toEqual([]);
    const policyNames = (t: Template) => ofType(t, 'AWS::ApplicationAutoScaling::ScalingPolicy').map((p) => p.Properties?.PolicyName).sort();
    expect(policyNames(newType)).toEqual(policyNames(deployed));
    expect(ofType(newType, 'AWS::ApplicationAutoScaling::ScalableTarget')).toEqual(ofType(deployed, 'AWS::ApplicationAutoScaling::ScalableTarget'));
  });
});
