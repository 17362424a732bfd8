/**
 * The Application Auto Scaling wire API (AWS JSON 1.1, `AnyScaleFrontendService.*`) over the local
 * targets: describe targets, policies, activities and scheduled actions; register a target; put a
 * scheduled action. Errors are AWS's (ValidationException, ObjectNotFoundException).
 */
import type { Clock } from '../clock';
import { AwsServiceError } from '../edge/errors';
import { jsonService } from '../edge/json-protocol';
import type { ServiceHandler } from '../edge/types';
import { SCALABLE_DIMENSION as DIMENSION, stepPolicies } from '../../topology/scaling-policies';
import { type Target, type TargetScaling } from './models';
import { parseActionSchedule } from './schedule';
import type { AutoScalingStore } from './store';

type Raw = Record<string, unknown>;

export interface ProviderDeps {
  readonly clock: Clock;
  readonly region: string;
  readonly account: string;
  readonly store: AutoScalingStore;
  readonly scaling: Pick<TargetScaling, 'capacityOf' | 'change'>;
}

export class AutoScalingProvider {
  readonly handler: ServiceHandler;

  constructor(private readonly deps: ProviderDeps) {
    this.handler = jsonService({
      name: 'application-autoscaling',
      signingNames: ['application-autoscaling'],
      targetPrefix: 'AnyScaleFrontendService',
      version: '1.1',
      operations: {
        DescribeScalableTargets: (input) => this.describeScalableTargets(input),
        DescribeScalingPolicies: (input) => this.describeScalingPolicies(input),
        DescribeScalingActivities: (input) => this.describeScalingActivities(input),
        DescribeScheduledActions: (input) => this.describeScheduledActions(input),
        PutScheduledAction: (input) => this.putScheduledAction(input),
        RegisterScalableTarget: (input) => this.registerScalableTarget(input),
      },
    });
  }

  private select(input: Raw): Target[] {
    if (input['ServiceNamespace'] !== 'sagemaker') {
      throw new AwsServiceError('ValidationException', `ServiceNamespace must be "sagemaker" here (got ${JSON.stringify(input['ServiceNamespace'])})`);
    }
    const dimension = input['ScalableDimension'];
    if (dimension !== undefined && dimension !== DIMENSION) throw new AwsServiceError('ValidationException', `ScalableDimension must be ${DIMENSION}`);
    const ids = input['ResourceIds'] ?? (input['ResourceId'] === undefined ? undefined : [input['ResourceId']]);
    if (ids !== undefined && !Array.isArray(ids)) throw new AwsServiceError('ValidationException', 'ResourceIds must be a list');
    return [...this.deps.store.targets.values()].filter((t) => ids === undefined || (ids as unknown[]).includes(t.resourceId));
  }

  private target(input: Raw): Target {
    const [target] = this.select({ ...input, ResourceIds: undefined });
    const id = input['ResourceId'];
    if (typeof id !== 'string') throw new AwsServiceError('ValidationException', 'ResourceId is required');
    if (input['ScalableDimension'] !== DIMENSION) throw new AwsServiceError('ValidationException', `ScalableDimension must be ${DIMENSION}`);
    const found = this.deps.store.targets.get(id);
    if (!found || !target) throw new AwsServiceError('ObjectNotFoundException', `No scalable target registered for service namespace: sagemaker, resource ID: ${id}, scalable dimension: ${DIMENSION}`);
    return found;
  }

  private arn(kind: string, rest: string): string {
    return `arn:aws:autoscaling:${this.deps.region}:${this.deps.account}:${kind}:${rest}`;
  }

  private describeScalableTargets(input: Raw): unknown {
    return {
      ScalableTargets: this.select(input).map((t) => ({
        ServiceNamespace: 'sagemaker',
        ResourceId: t.resourceId,
        ScalableDimension: DIMENSION,
        MinCapacity: t.min,
        MaxCapacity: t.max,
        RoleARN: `arn:aws:iam::${this.deps.account}:role/aws-service-role/sagemaker.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint`,
        CreationTime: t.created / 1000,
        SuspendedState: { DynamicScalingInSuspended: false, DynamicScalingOutSuspended: false, ScheduledScalingSuspended: false },
        ScalableTargetARN: this.arn('scalable-target', t.resourceId),
      })),
    };
  }

  private describeScalingPolicies(input: Raw): unknown {
    return {
      ScalingPolicies: this.select(input).flatMap((t) => {
        const { targetTracking: tt } = t.policies;
        const common = { ServiceNamespace: 'sagemaker', ResourceId: t.resourceId, ScalableDimension: DIMENSION, CreationTime: t.created / 1000 };
        const alarmRef = (name: string) => ({ AlarmName: name, AlarmARN: `arn:aws:cloudwatch:${this.deps.region}:${this.deps.account}:alarm:${name}` });
        const policyArn = (name: string) => this.arn('scalingPolicy', `${t.resourceId}:policyName/${name}`);
        return [
          {
            ...common,
            PolicyName: tt.policyName,
            PolicyARN: policyArn(tt.policyName),
            PolicyType: tt.policyType,
            TargetTrackingScalingPolicyConfiguration: {
              TargetValue: tt.targetValue,
              ScaleOutCooldown: tt.scaleOutCooldownSeconds,
              ScaleInCooldown: tt.scaleInCooldownSeconds,
              CustomizedMetricSpecification: {
                MetricName: tt.metric.metricName,
                Namespace: tt.metric.namespace,
                Dimensions: tt.metric.dimensions.map((d) => ({ Name: d.name, Value: d.value })),
                Statistic: tt.metric.stat,
              },
            },
            Alarms: [alarmRef(`TargetTracking-${t.resourceId}-AlarmHigh`), alarmRef(`TargetTracking-${t.resourceId}-AlarmLow`)],
          },
          ...stepPolicies(t.policies).map((policy) => ({
            ...common,
            PolicyName: policy.policyName,
            PolicyARN: policyArn(policy.policyName),
            PolicyType: policy.policyType,
            StepScalingPolicyConfiguration: {
              AdjustmentType: policy.adjustmentType,
              Cooldown: policy.cooldownSeconds,
              MetricAggregationType: policy.metricAggregationType,
              StepAdjustments: policy.stepAdjustments.map((step) => ({
                ...(step.lowerBound === undefined ? {} : { MetricIntervalLowerBound: step.lowerBound }),
                ...(step.upperBound === undefined ? {} : { MetricIntervalUpperBound: step.upperBound }),
                ScalingAdjustment: step.scalingAdjustment,
              })),
            },
            Alarms: [alarmRef(policy.alarm.name)],
          })),
        ];
      }),
    };
  }

  private describeScalingActivities(input: Raw): unknown {
    const ids = new Set(this.select(input).map((t) => t.resourceId));
    return { ScalingActivities: this.deps.store.scalingActivities().filter((a) => ids.has(a.ResourceId)) };
  }

  private describeScheduledActions(input: Raw): unknown {
    const names = input['ScheduledActionNames'];
    return {
      ScheduledActions: this.select(input).flatMap((t) =>
        [...t.scheduled.values()]
          .filter((a) => !Array.isArray(names) || names.includes(a.name))
          .map((a) => ({
            ScheduledActionName: a.name,
            ScheduledActionARN: this.arn('scheduledAction', `${t.resourceId}:scheduledActionName/${a.name}`),
            ServiceNamespace: 'sagemaker',
            Schedule: a.schedule,
            Timezone: a.timezone,
            ResourceId: t.resourceId,
            ScalableDimension: DIMENSION,
            ScalableTargetAction: { ...(a.min === undefined ? {} : { MinCapacity: a.min }), ...(a.max === undefined ? {} : { MaxCapacity: a.max }) },
            CreationTime: a.created / 1000,
          })),
      ),
    };
  }

  private putScheduledAction(input: Raw): unknown {
    const target = this.target(input);
    const name = input['ScheduledActionName'];
    if (typeof name !== 'string' || name.length < 1 || name.length > 256 || /[:/|]/.test(name)) {
      throw new AwsServiceError('ValidationException', 'ScheduledActionName must be 1-256 characters without ":", "/" or "|"');
    }
    const existing = target.scheduled.get(name);
    const schedule = input['Schedule'] ?? existing?.schedule;
    if (typeof schedule !== 'string') throw new AwsServiceError('ValidationException', 'Schedule is required for a new scheduled action');
    const timezone = typeof input['Timezone'] === 'string' ? input['Timezone'] : (existing?.timezone ?? 'UTC');
    const action = (input['ScalableTargetAction'] ?? {}) as Raw;
    const min = capacityField(action, 'MinCapacity') ?? existing?.min;
    const max = capacityField(action, 'MaxCapacity') ?? existing?.max;
    if (min !== undefined && max !== undefined && min > max) throw new AwsServiceError('ValidationException', `ScalableTargetAction.MinCapacity (${min}) must be ≤ MaxCapacity (${max})`);
    const now = this.deps.clock.now();
    target.scheduled.set(name, { name, schedule, timezone, min, max, created: now, parsed: parseActionSchedule(schedule, timezone, now) });
    return {};
  }

  private registerScalableTarget(input: Raw): unknown {
    const target = this.target(input);
    const min = capacityField(input, 'MinCapacity') ?? target.min;
    const max = capacityField(input, 'MaxCapacity') ?? target.max;
    if (min > max) throw new AwsServiceError('ValidationException', `MinCapacity (${min}) must be ≤ MaxCapacity (${max})`);
    target.min = min;
    target.max = max;
    const { desired } = this.deps.scaling.capacityOf(target);
    this.deps.scaling.change(target, desired, desired, `RegisterScalableTarget set min ${min}, max ${max}`);
    return { ScalableTargetARN: this.arn('scalable-target', target.resourceId) };
  }
}

function capacityField(input: Raw, field: string): number | undefined {
  const value = input[field];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) throw new AwsServiceError('ValidationException', `${field} must be an integer ≥ 0`);
  return value;
}
