import { Duration } from 'aws-cdk-lib';
import * as appscaling from 'aws-cdk-lib/aws-applicationautoscaling';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import type { EndpointSpec } from '../../workflows/topology';

export interface EndpointScalingProps {
  readonly spec: EndpointSpec;
  /** The endpoint resource; the scalable target must wait for it. */
  readonly endpoint: Construct;
}

/**
 * Application Auto Scaling for an async endpoint variant, down to zero instances:
 * target tracking on the published utilization metric, a step policy on
 * `HasBacklogWithoutCapacity` (target tracking cannot scale out from zero), scheduled actions.
 */
export class EndpointScaling extends Construct {
  public readonly target: appscaling.CfnScalableTarget;
  public readonly targetTracking: appscaling.CfnScalingPolicy;
  public readonly scaleFromZero: appscaling.CfnScalingPolicy;
  public readonly backlogWithoutCapacityAlarm: cloudwatch.Alarm;

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

    const sz = scaling.scaleFromZero;
    this.scaleFromZero = new appscaling.CfnScalingPolicy(this, 'ScaleFromZero', {
      policyName: `${spec.name}-scale-from-zero`,
      policyType: 'StepScaling',
      scalingTargetId: this.target.ref,
      stepScalingPolicyConfiguration: {
        adjustmentType: 'ChangeInCapacity',
        cooldown: sz.cooldownSeconds,
        metricAggregationType: 'Average',
        stepAdjustments: [{ metricIntervalLowerBound: 0, scalingAdjustment: sz.adjustment }],
      },
    });

    this.backlogWithoutCapacityAlarm = new cloudwatch.Alarm(this, 'BacklogWithoutCapacity', {
      alarmName: `${spec.name}-has-backlog-without-capacity`,
      alarmDescription: `Requests wait for ${spec.name} while it has no instances: adds ${sz.adjustment} instance(s)`,
      metric: new cloudwatch.Metric({
        namespace: 'AWS/SageMaker',
        metricName: 'HasBacklogWithoutCapacity',
        dimensionsMap: { EndpointName: spec.name },
        statistic: 'Average',
        period: Duration.seconds(sz.periodSeconds),
      }),
      threshold: sz.threshold,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: sz.evaluationPeriods,
      datapointsToAlarm: sz.evaluationPeriods,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    const policyArn = this.scaleFromZero.ref;
    this.backlogWithoutCapacityAlarm.addAlarmAction({ bind: () => ({ alarmActionArn: policyArn }) });
  }
}
