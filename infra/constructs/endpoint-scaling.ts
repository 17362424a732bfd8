import { Duration } from 'aws-cdk-lib';
import * as appscaling from 'aws-cdk-lib/aws-applicationautoscaling';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import { endpointScalingPolicies, SCALABLE_DIMENSION, type AlarmDescription, type StepScalingPolicy } from '../../topology/scaling-policies';
import type { EndpointSpec } from '../../topology/topology';

export interface EndpointScalingProps {
  readonly spec: EndpointSpec;
  /** The endpoint resource; the scalable target must wait for it. */
  readonly endpoint: Construct;
}

const COMPARISON: Record<AlarmDescription['comparisonOperator'], cloudwatch.ComparisonOperator> = {
  GreaterThanOrEqualToThreshold: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
  LessThanThreshold: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
};
const MISSING_DATA: Record<AlarmDescription['treatMissingData'], cloudwatch.TreatMissingData> = {
  notBreaching: cloudwatch.TreatMissingData.NOT_BREACHING,
};

/**
 * Application Auto Scaling for an async endpoint variant, down to zero instances: target tracking
 * on the published utilization metric; a step policy out of zero keyed on the backlog that built up
 * with no instance (target tracking cannot scale out from zero); step scale-out and scale-in policies
 * that act on fewer datapoints far from the target; scheduled actions. The policies and alarms are
 * those of workflows/scaling-policies.ts, rendered here.
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
    const policies = endpointScalingPolicies(spec);

    // No RoleARN: Application Auto Scaling uses its SageMaker service-linked role.
    this.target = new appscaling.CfnScalableTarget(this, 'Target', {
      serviceNamespace: 'sagemaker',
      resourceId: policies.resourceId,
      scalableDimension: SCALABLE_DIMENSION,
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

    const tt = policies.targetTracking;
    this.targetTracking = new appscaling.CfnScalingPolicy(this, 'Utilization', {
      policyName: tt.policyName,
      policyType: tt.policyType,
      scalingTargetId: this.target.ref,
      targetTrackingScalingPolicyConfiguration: {
        targetValue: tt.targetValue,
        scaleOutCooldown: tt.scaleOutCooldownSeconds,
        scaleInCooldown: tt.scaleInCooldownSeconds,
        // The published metric itself: no FILL, so a minute not yet published is no datapoint.
        customizedMetricSpecification: {
          namespace: tt.metric.namespace,
          metricName: tt.metric.metricName,
          dimensions: tt.metric.dimensions.map((d) => ({ name: d.name, value: d.value })),
          statistic: tt.metric.stat,
        },
      },
    });

    // Beside target tracking (which cannot leave zero, waits for 3 high datapoints to scale out and
    // for 15 low ones to scale in), step policies that act on fewer datapoints.
    this.scaleFromZero = this.stepPolicy('ScaleFromZero', policies.scaleFromZero);
    this.backlogWithoutCapacityAlarm = this.alarm('BacklogWithoutCapacity', policies.scaleFromZero.alarm, this.scaleFromZero);
    this.stepScaleOut = this.stepPolicy('StepScaleOut', policies.stepScaleOut);
    this.highUtilizationAlarm = this.alarm('HighUtilization', policies.stepScaleOut.alarm, this.stepScaleOut);
    this.stepScaleIn = this.stepPolicy('StepScaleIn', policies.stepScaleIn);
    this.lowUtilizationAlarm = this.alarm('LowUtilization', policies.stepScaleIn.alarm, this.stepScaleIn);
  }

  private stepPolicy(id: string, policy: StepScalingPolicy): appscaling.CfnScalingPolicy {
    return new appscaling.CfnScalingPolicy(this, id, {
      policyName: policy.policyName,
      policyType: policy.policyType,
      scalingTargetId: this.target.ref,
      stepScalingPolicyConfiguration: {
        adjustmentType: policy.adjustmentType,
        cooldown: policy.cooldownSeconds,
        metricAggregationType: policy.metricAggregationType,
        stepAdjustments: policy.stepAdjustments.map((step) => ({
          ...(step.lowerBound !== undefined && { metricIntervalLowerBound: step.lowerBound }),
          ...(step.upperBound !== undefined && { metricIntervalUpperBound: step.upperBound }),
          scalingAdjustment: step.scalingAdjustment,
        })),
      },
    });
  }

  /** The alarm on its metric, or as CloudWatch metric math (its expression id is the L2's own), acting on `policy`. */
  private alarm(id: string, alarm: AlarmDescription, policy: appscaling.CfnScalingPolicy): cloudwatch.Alarm {
    const period = Duration.seconds(alarm.periodSeconds);
    const metrics = alarm.metrics.map(
      (m) =>
        [
          m.id,
          new cloudwatch.Metric({
            namespace: m.namespace,
            metricName: m.metricName,
            dimensionsMap: Object.fromEntries(m.dimensions.map((d) => [d.name, d.value])),
            statistic: m.stat,
            period: Duration.seconds(m.periodSeconds ?? alarm.periodSeconds),
          }),
        ] as const,
    );
    const { expression } = alarm;
    const created = new cloudwatch.Alarm(this, id, {
      alarmName: alarm.name,
      alarmDescription: alarm.description,
      metric: expression
        ? new cloudwatch.MathExpression({ expression: expression.expression, usingMetrics: Object.fromEntries(metrics), label: expression.label, period })
        : onlyMetric(alarm, metrics),
      threshold: alarm.threshold,
      comparisonOperator: COMPARISON[alarm.comparisonOperator],
      evaluationPeriods: alarm.evaluationPeriods,
      datapointsToAlarm: alarm.datapointsToAlarm,
      treatMissingData: MISSING_DATA[alarm.treatMissingData],
    });
    const policyArn = policy.ref;
    created.addAlarmAction({ bind: () => ({ alarmActionArn: policyArn }) });
    return created;
  }
}

function onlyMetric(alarm: AlarmDescription, metrics: readonly (readonly [string, cloudwatch.Metric])[]): cloudwatch.Metric {
  const [only, ...rest] = metrics;
  if (!only || rest.length > 0) throw new Error(`alarm ${alarm.name} has no expression, so it must read exactly one metric (it has ${metrics.length})`);
  return only[1];
}
