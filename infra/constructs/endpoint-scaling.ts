import { Duration } from 'aws-cdk-lib';
import * as appscaling from 'aws-cdk-lib/aws-applicationautoscaling';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import { SCALE_FROM_ZERO_EXPRESSION, STEP_SCALE_OUT_EXPRESSION, stepScaleInExpression, type EndpointSpec } from '../../workflows/topology';

export interface EndpointScalingProps {
  readonly spec: EndpointSpec;
  /** The endpoint resource; the scalable target must wait for it. */
  readonly endpoint: Construct;
}

/**
 * Application Auto Scaling for an async endpoint variant, down to zero instances: target tracking
 * on the published utilization metric; a step policy out of zero keyed on the backlog that built up
 * with no instance (target tracking cannot scale out from zero); step scale-out and scale-in policies
 * that act on fewer datapoints far from the target; scheduled actions.
 */
export class EndpointScaling extends Construct {
  public readonly target: appscaling.CfnScalableTarget;
  public readonly targetTracking: appscaling.CfnScalingPolicy;
  public readonly scaleFromZero: appscaling.CfnScalingPolicy;
  public readonly backlogWithoutCapacityAlarm: cloudwatch.Alarm;
  public readonly stepScaleOut: appscaling.CfnScalingPolicy;
  public readonly highUtilizationAlarm: cloudwatch.Alarm;
  public readonly stepScaleIn: appscaling.CfnScalingPolicy;
  public readonly lowUtilizationAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: EndpointScalingProps) {
    super(scope, id);
    const { spec } = props;
    const { scaling } = spec;

    // No RoleARN: Application Auto Scaling uses its SageMaker service-linked role.
    this.target = new appscaling.CfnScalableTarget(this, 'Target', {
      serviceNamespace: 'sagemaker',
      resourceId: `endpoint/${spec.name}/variant/${spec.variantName}`,
      scalableDimension: 'sagemaker:variant:DesiredInstanceCount',
      minCapacity: scaling.minCapacity,
      maxCapacity: scaling.maxCapacity,
      ...(scaling.scheduledActions.length > 0 && {
        scheduledActions: scaling.scheduledActions.map((a) => ({
          scheduledActionName: a.name,
          schedule: a.schedule,
          timezone: a.timezone,
          scalableTargetAction: { minCapacity: a.minCapacity, maxCapacity: a.maxCapacity },
        })),
      }),
    });
    this.target.node.addDependency(props.endpoint);

    const tt = scaling.targetTracking;
    this.targetTracking = new appscaling.CfnScalingPolicy(this, 'Utilization', {
      policyName: `${spec.name}-utilization`,
      policyType: 'TargetTrackingScaling',
      scalingTargetId: this.target.ref,
      targetTrackingScalingPolicyConfiguration: {
        targetValue: tt.targetValue,
        scaleOutCooldown: tt.scaleOutCooldownSeconds,
        scaleInCooldown: tt.scaleInCooldownSeconds,
        // The metric-math form (the L2 accepts only a plain metric); the missing minutes of an idle
        // endpoint count as zero utilization so scale-in is not blocked by INSUFFICIENT_DATA.
        customizedMetricSpecification: {
          metrics: [
            {
              id: 'utilization',
              metricStat: {
                metric: {
                  namespace: tt.namespace,
                  metricName: tt.metricName,
                  dimensions: [{ name: 'EndpointName', value: spec.name }],
                },
                stat: 'Average',
              },
              returnData: false,
            },
            { id: 'filled', expression: 'FILL(utilization, 0)', label: 'Utilization (missing = 0)', returnData: true },
          ],
        },
      },
    });

    const endpointDimension = { EndpointName: spec.name };
    const sz = scaling.scaleFromZero;
    // AWS step bounds are relative to the alarm threshold; each step runs up to the next one's bound.
    this.scaleFromZero = new appscaling.CfnScalingPolicy(this, 'ScaleFromZero', {
      policyName: `${spec.name}-scale-from-zero`,
      policyType: 'StepScaling',
      scalingTargetId: this.target.ref,
      stepScalingPolicyConfiguration: {
        adjustmentType: 'ChangeInCapacity',
        cooldown: sz.cooldownSeconds,
        metricAggregationType: 'Average',
        stepAdjustments: sz.steps.map((step, i) => {
          const next = sz.steps[i + 1];
          return {
            metricIntervalLowerBound: step.backlogAtLeast - sz.threshold,
            ...(next && { metricIntervalUpperBound: next.backlogAtLeast - sz.threshold }),
            scalingAdjustment: step.adjustment,
          };
        }),
      },
    });

    const period = Duration.seconds(sz.periodSeconds);
    this.backlogWithoutCapacityAlarm = new cloudwatch.Alarm(this, 'BacklogWithoutCapacity', {
      alarmName: `${spec.name}-has-backlog-without-capacity`,
      alarmDescription: `Requests wait for ${spec.name} while it has no instances: adds ${sz.steps.map((st) => `${st.adjustment} at a backlog ≥ ${st.backlogAtLeast}`).join(', ')}`,
      metric: new cloudwatch.MathExpression({
        expression: SCALE_FROM_ZERO_EXPRESSION,
        usingMetrics: {
          hbwc: new cloudwatch.Metric({ namespace: 'AWS/SageMaker', metricName: 'HasBacklogWithoutCapacity', dimensionsMap: endpointDimension, statistic: 'Average', period }),
          backlog: new cloudwatch.Metric({ namespace: 'AWS/SageMaker', metricName: 'ApproximateBacklogSize', dimensionsMap: endpointDimension, statistic: 'Maximum', period }),
        },
        label: 'Backlog while no instance serves',
        period,
      }),
      threshold: sz.threshold,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: sz.evaluationPeriods,
      datapointsToAlarm: sz.evaluationPeriods,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    const fromZeroArn = this.scaleFromZero.ref;
    this.backlogWithoutCapacityAlarm.addAlarmAction({ bind: () => ({ alarmActionArn: fromZeroArn }) });

    // Beside target tracking (whose scale-out waits for 3 high datapoints), a step policy that acts on
    // the first datapoint far above target.
    const so = scaling.stepScaleOut;
    this.stepScaleOut = new appscaling.CfnScalingPolicy(this, 'StepScaleOut', {
      policyName: `${spec.name}-step-scale-out`,
      policyType: 'StepScaling',
      scalingTargetId: this.target.ref,
      stepScalingPolicyConfiguration: {
        adjustmentType: 'PercentChangeInCapacity',
        cooldown: so.cooldownSeconds,
        metricAggregationType: 'Average',
        stepAdjustments: so.steps.map((step, i) => {
          const next = so.steps[i + 1];
          return {
            metricIntervalLowerBound: roundBound(step.utilizationAtLeast - so.threshold),
            ...(next && { metricIntervalUpperBound: roundBound(next.utilizationAtLeast - so.threshold) }),
            scalingAdjustment: step.percentChange,
          };
        }),
      },
    });
    const soPeriod = Duration.seconds(so.periodSeconds);
    this.highUtilizationAlarm = new cloudwatch.Alarm(this, 'HighUtilization', {
      alarmName: `${spec.name}-high-utilization`,
      alarmDescription: `${spec.name} is far above its utilization target: adds ${so.steps.map((st) => `${st.percentChange} % from ${st.utilizationAtLeast}`).join(', ')}`,
      metric: new cloudwatch.MathExpression({
        expression: STEP_SCALE_OUT_EXPRESSION,
        usingMetrics: {
          utilization: new cloudwatch.Metric({ namespace: tt.namespace, metricName: tt.metricName, dimensionsMap: endpointDimension, statistic: 'Average', period: soPeriod }),
        },
        label: 'Utilization (missing = 0)',
        period: soPeriod,
      }),
      threshold: so.threshold,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: so.evaluationPeriods,
      datapointsToAlarm: so.evaluationPeriods,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    const scaleOutArn = this.stepScaleOut.ref;
    this.highUtilizationAlarm.addAlarmAction({ bind: () => ({ alarmActionArn: scaleOutArn }) });

    // Beside target tracking (whose scale-in waits for 15 low datapoints), a step policy that scales in
    // once the work is done; AWS does not block it while target tracking waits.
    const si = scaling.stepScaleIn;
    this.stepScaleIn = new appscaling.CfnScalingPolicy(this, 'StepScaleIn', {
      policyName: `${spec.name}-step-scale-in`,
      policyType: 'StepScaling',
      scalingTargetId: this.target.ref,
      stepScalingPolicyConfiguration: {
        adjustmentType: 'PercentChangeInCapacity',
        cooldown: si.cooldownSeconds,
        metricAggregationType: 'Average',
        stepAdjustments: si.steps.map((step, i) => {
          const next = si.steps[i + 1];
          return {
            metricIntervalUpperBound: roundBound(step.utilizationBelow - si.threshold),
            ...(next && { metricIntervalLowerBound: roundBound(next.utilizationBelow - si.threshold) }),
            scalingAdjustment: step.percentChange,
          };
        }),
      },
    });
    const siPeriod = Duration.seconds(si.periodSeconds);
    this.lowUtilizationAlarm = new cloudwatch.Alarm(this, 'LowUtilization', {
      alarmName: `${spec.name}-low-utilization`,
      alarmDescription: `${spec.name} is well below its utilization target with ≥ ${si.instancesAtLeast} instances: removes ${si.steps.map((st) => `${-st.percentChange} % below ${st.utilizationBelow}`).join(', ')}`,
      metric: new cloudwatch.MathExpression({
        expression: stepScaleInExpression(si),
        usingMetrics: {
          utilization: new cloudwatch.Metric({ namespace: tt.namespace, metricName: tt.metricName, dimensionsMap: endpointDimension, statistic: 'Average', period: siPeriod }),
          instances: new cloudwatch.Metric({
            namespace: '/aws/sagemaker/Endpoints',
            metricName: 'CPUUtilization',
            dimensionsMap: { ...endpointDimension, VariantName: spec.variantName },
            statistic: 'SampleCount',
            period: siPeriod,
          }),
        },
        label: 'Utilization while scale-in by steps may act',
        period: siPeriod,
      }),
      threshold: si.threshold,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: si.evaluationPeriods,
      datapointsToAlarm: si.evaluationPeriods,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    const scaleInArn = this.stepScaleIn.ref;
    this.lowUtilizationAlarm.addAlarmAction({ bind: () => ({ alarmActionArn: scaleInArn }) });
  }
}

/** Step bounds as written in the template: no floating-point dust such as -0.07500000000000001. */
function roundBound(value: number): number {
  return Number(value.toFixed(6));
}
