/**
 * The endpoint's Application Auto Scaling policies and their CloudWatch alarms, derived once from its
 * ScalingSpec as plain data: the CDK construct renders them into the template, the local autoscaler
 * evaluates them and answers DescribeScalingPolicies with them, the simulator runs them.
 */
import { SCALE_FROM_ZERO_EXPRESSION, stepScaleInExpression, type EndpointSpec } from './topology';

export const SCALABLE_DIMENSION = 'sagemaker:variant:DesiredInstanceCount';

export interface MetricDimension {
  readonly name: string;
  readonly value: string;
}

/** A metric read by statistic; target tracking's carry no period (Application Auto Scaling picks it). */
export interface MetricStatQuery {
  readonly id: string;
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: readonly MetricDimension[];
  readonly stat: string;
  readonly periodSeconds?: number;
}

export interface ExpressionQuery {
  readonly id: string;
  readonly expression: string;
  readonly label: string;
}

export type ComparisonOperator = 'GreaterThanOrEqualToThreshold' | 'LessThanThreshold';

export interface AlarmDescription {
  readonly name: string;
  readonly description: string;
  /** Inputs of the expression, not returned themselves; without an expression, the one metric the alarm reads. */
  readonly metrics: readonly MetricStatQuery[];
  /** The one returned series the alarm compares with its threshold; absent when it reads its metric directly. */
  readonly expression?: ExpressionQuery;
  readonly periodSeconds: number;
  readonly threshold: number;
  readonly comparisonOperator: ComparisonOperator;
  readonly evaluationPeriods: number;
  readonly datapointsToAlarm: number;
  readonly treatMissingData: 'notBreaching';
}

/** AWS StepAdjustment: bounds relative to the alarm threshold. */
export interface StepAdjustment {
  readonly lowerBound?: number;
  readonly upperBound?: number;
  readonly scalingAdjustment: number;
  /** The alarm value at which this step starts, on its threshold side (absolute, unrounded). */
  readonly startsAt: number;
}

export interface StepScalingPolicy {
  readonly policyName: string;
  readonly policyType: 'StepScaling';
  readonly adjustmentType: 'ChangeInCapacity' | 'PercentChangeInCapacity';
  readonly cooldownSeconds: number;
  readonly metricAggregationType: 'Average' | 'Maximum';
  readonly stepAdjustments: readonly StepAdjustment[];
  readonly alarm: AlarmDescription;
}

export interface TargetTrackingPolicy {
  readonly policyName: string;
  readonly policyType: 'TargetTrackingScaling';
  readonly targetValue: number;
  readonly scaleOutCooldownSeconds: number;
  readonly scaleInCooldownSeconds: number;
  /**
   * The published metric itself, no metric math: its alarms evaluate the most recent real
   * datapoints, where `FILL(…, 0)` would read the minutes not yet published as idle.
   */
  readonly metric: MetricStatQuery;
}

export interface EndpointScalingPolicies {
  readonly resourceId: string;
  readonly targetTracking: TargetTrackingPolicy;
  readonly scaleFromZero: StepScalingPolicy;
  readonly stepScaleOut: StepScalingPolicy;
  readonly stepScaleIn: StepScalingPolicy;
}

type ScalingEndpoint = Pick<EndpointSpec, 'name' | 'variantName' | 'scaling'>;

export function endpointResourceId(endpoint: Pick<EndpointSpec, 'name' | 'variantName'>): string {
  return `endpoint/${endpoint.name}/variant/${endpoint.variantName}`;
}

export function endpointScalingPolicies(endpoint: ScalingEndpoint): EndpointScalingPolicies {
  const { name, scaling } = endpoint;
  const tt = scaling.targetTracking;
  const sz = scaling.scaleFromZero;
  const so = scaling.stepScaleOut;
  const si = scaling.stepScaleIn;
  const endpointDimension: MetricDimension[] = [{ name: 'EndpointName', value: name }];
  const utilization = (periodSeconds?: number): MetricStatQuery => ({
    id: 'utilization',
    namespace: tt.namespace,
    metricName: tt.metricName,
    dimensions: endpointDimension,
    stat: 'Average',
    ...(periodSeconds !== undefined && { periodSeconds }),
  });
  // Each step policy's alarm is evaluated at the policy's own threshold, periods and window.
  const stepPolicy = (
    suffix: string,
    adjustmentType: StepScalingPolicy['adjustmentType'],
    spec: { readonly threshold: number; readonly evaluationPeriods: number; readonly periodSeconds: number; readonly cooldownSeconds: number; readonly metricAggregationType?: 'Average' | 'Maximum' },
    steps: readonly StepInput[],
    alarm: Pick<AlarmDescription, 'name' | 'description' | 'metrics' | 'expression' | 'comparisonOperator'>,
  ): StepScalingPolicy => ({
    policyName: `${name}-${suffix}`,
    policyType: 'StepScaling',
    adjustmentType,
    cooldownSeconds: spec.cooldownSeconds,
    metricAggregationType: spec.metricAggregationType ?? 'Average',
    stepAdjustments: stepsFrom(spec.threshold, alarm.comparisonOperator === 'LessThanThreshold' ? 'below' : 'above', steps),
    alarm: {
      ...alarm,
      periodSeconds: spec.periodSeconds,
      threshold: spec.threshold,
      evaluationPeriods: spec.evaluationPeriods,
      // Every datapoint must breach; the minutes an idle endpoint publishes nothing do not.
      datapointsToAlarm: spec.evaluationPeriods,
      treatMissingData: 'notBreaching',
    },
  });

  return {
    resourceId: endpointResourceId(endpoint),
    targetTracking: {
      policyName: `${name}-utilization`,
      policyType: 'TargetTrackingScaling',
      targetValue: tt.targetValue,
      scaleOutCooldownSeconds: tt.scaleOutCooldownSeconds,
      scaleInCooldownSeconds: tt.scaleInCooldownSeconds,
      metric: utilization(),
    },
    scaleFromZero: stepPolicy(
      'scale-from-zero',
      'ChangeInCapacity',
      sz,
      sz.steps.map((s) => ({ at: s.backlogAtLeast, adjustment: s.adjustment })),
      {
        name: `${name}-has-backlog-without-capacity`,
        description: `Requests wait for ${name} while it has no instances: adds ${sz.steps.map((st) => `${st.adjustment} at a backlog ≥ ${st.backlogAtLeast}`).join(', ')}`,
        metrics: [
          { id: 'hbwc', namespace: 'AWS/SageMaker', metricName: 'HasBacklogWithoutCapacity', dimensions: endpointDimension, stat: 'Average', periodSeconds: sz.periodSeconds },
          { id: 'backlog', namespace: 'AWS/SageMaker', metricName: 'ApproximateBacklogSize', dimensions: endpointDimension, stat: 'Maximum', periodSeconds: sz.periodSeconds },
        ],
        expression: { id: 'fromZero', expression: SCALE_FROM_ZERO_EXPRESSION, label: 'Backlog while no instance serves' },
        comparisonOperator: 'GreaterThanOrEqualToThreshold',
      },
    ),
    stepScaleOut: stepPolicy(
      'step-scale-out',
      'PercentChangeInCapacity',
      so,
      so.steps.map((s) => ({ at: s.utilizationAtLeast, adjustment: s.percentChange })),
      {
        name: `${name}-high-utilization`,
        description: `${name} is far above its utilization target: adds ${so.steps.map((st) => `${st.percentChange} % from ${st.utilizationAtLeast}`).join(', ')}`,
        // The published metric itself: a minute not yet published is no datapoint, not a low one.
        metrics: [utilization(so.periodSeconds)],
        comparisonOperator: 'GreaterThanOrEqualToThreshold',
      },
    ),
    stepScaleIn: stepPolicy(
      'step-scale-in',
      'PercentChangeInCapacity',
      si,
      si.steps.map((s) => ({ at: s.utilizationBelow, adjustment: s.percentChange })),
      {
        name: `${name}-low-utilization`,
        description: `${name} is well below its utilization target with ≥ ${si.instancesAtLeast} instances: removes ${si.steps.map((st) => `${-st.percentChange} % below ${st.utilizationBelow}`).join(', ')}`,
        metrics: [
          utilization(si.periodSeconds),
          {
            id: 'instances',
            namespace: '/aws/sagemaker/Endpoints',
            metricName: 'CPUUtilization',
            dimensions: [...endpointDimension, { name: 'VariantName', value: endpoint.variantName }],
            stat: 'SampleCount',
            periodSeconds: si.periodSeconds,
          },
        ],
        expression: { id: 'lowUtilization', expression: stepScaleInExpression(si), label: 'Utilization while scale-in by steps may act' },
        comparisonOperator: 'LessThanThreshold',
      },
    ),
  };
}

/** The three step policies, in the order the local autoscaler tries them. */
export function stepPolicies(policies: EndpointScalingPolicies): readonly StepScalingPolicy[] {
  return [policies.scaleFromZero, policies.stepScaleOut, policies.stepScaleIn];
}

/**
 * The step a breaching alarm value falls in: the last whose start the value reaches (≥ above the
 * threshold, < below it).
 */
export function stepFor(policy: StepScalingPolicy, value: number): StepAdjustment | undefined {
  const below = policy.alarm.comparisonOperator === 'LessThanThreshold';
  let step = policy.stepAdjustments[0];
  for (const s of policy.stepAdjustments) if (below ? value < s.startsAt : value >= s.startsAt) step = s;
  return step;
}

interface StepInput {
  readonly at: number;
  readonly adjustment: number;
}

/**
 * Steps on one side of the threshold: each runs from its own bound (nearest the threshold) to the
 * next one's, the last is open-ended.
 */
function stepsFrom(threshold: number, side: 'above' | 'below', steps: readonly StepInput[]): StepAdjustment[] {
  return steps.map((step, i) => {
    const next = steps[i + 1];
    const near = roundBound(step.at - threshold);
    const far = next === undefined ? undefined : roundBound(next.at - threshold);
    const [lowerBound, upperBound] = side === 'above' ? [near, far] : [far, near];
    return {
      ...(lowerBound !== undefined && { lowerBound }),
      ...(upperBound !== undefined && { upperBound }),
      scalingAdjustment: step.adjustment,
      startsAt: step.at,
    };
  });
}

/** Bounds as AWS is given them: no floating-point dust such as -0.07500000000000001. */
function roundBound(value: number): number {
  return Number(value.toFixed(6));
}
