import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { ARRIVALS_METRIC } from '../../topology/imagegen-topology';
import type { Topology } from '../../topology/topology';
import type { InfraConfig } from '../config';
import type { RenderedResources } from '../rendered-resources';

export interface ObservabilityProps {
  readonly stack: RenderedResources;
  readonly topology: Topology;
  readonly config: InfraConfig;
}

/** Minutes with backlog and no instances before it is an incident (scale-from-zero plus a cold start take ~7). */
export const BACKLOG_WITHOUT_CAPACITY_ALARM_MINUTES = 15;
/** Failed executions per 5 minutes that page: an occasional invalid request is the producer's problem. */
export const FAILED_EXECUTIONS_THRESHOLD = 5;

const MINUTE = Duration.minutes(1);

/** One dashboard for the pipeline and the alarms an operator acts on. */
export class Observability extends Construct {
  public readonly dashboard: cloudwatch.Dashboard;
  public readonly alarms: cloudwatch.Alarm[] = [];
  /** The failed-executions alarm of each state machine, by state machine name: the pipeline is hurting. */
  public readonly failedExecutionAlarms = new Map<string, cloudwatch.Alarm>();

  constructor(scope: Construct, id: string, props: ObservabilityProps) {
    super(scope, id);
    const { stack, topology, config } = props;
    const alarmAction = config.alarmTopicArn
      ? new actions.SnsAction(sns.Topic.fromTopicArn(this, 'AlarmTopic', config.alarmTopicArn))
      : undefined;
    const alarm = (id: string, props: cloudwatch.AlarmProps) => {
      const a = new cloudwatch.Alarm(this, id, props);
      if (alarmAction) {
        a.addAlarmAction(alarmAction);
        a.addOkAction(alarmAction);
      }
      this.alarms.push(a);
      return a;
    };

    const ns = topology.endpoints[0]?.scaling.targetTracking.namespace;
    // Powertools adds a `service` dimension per task; SEARCH sums across them.
    const custom = (metricName: string, endpointName: string | undefined, stat: string, label: string) =>
      new cloudwatch.MathExpression({
        expression: `SUM(SEARCH('Namespace="${ns}" MetricName="${metricName}"${endpointName ? ` EndpointName="${endpointName}"` : ''}', '${stat}', 60))`,
        label,
        period: MINUTE,
        usingMetrics: {},
      });

    const requestWidgets: cloudwatch.IWidget[] = [];
    const latencyMetrics: cloudwatch.IMetric[] = [];
    const failureMetrics: cloudwatch.IMetric[] = [];
    for (const [name, sm] of stack.stateMachines) {
      requestWidgets.push(
        new cloudwatch.GraphWidget({
          title: `Requests — ${name}`,
          width: 12,
          left: [
            sm.metricStarted({ period: MINUTE, label: 'started' }),
            sm.metricSucceeded({ period: MINUTE, label: 'succeeded' }),
            sm.metricFailed({ period: MINUTE, label: 'failed' }),
            sm.metricTimedOut({ period: MINUTE, label: 'timed out' }),
          ],
        }),
      );
      latencyMetrics.push(
        sm.metricTime({ statistic: 'p50', period: MINUTE, label: `${name} p50 (ms)` }),
        sm.metricTime({ statistic: 'p95', period: MINUTE, label: `${name} p95 (ms)` }),
      );
      failureMetrics.push(sm.metricFailed({ period: MINUTE, label: `${name} executions failed` }));
      const failed = alarm(`FailedExecutions-${name}`, {
        alarmName: `${name}-failed-executions`,
        alarmDescription: `More than ${FAILED_EXECUTIONS_THRESHOLD - 1} executions of ${name} failed in 5 minutes (see the failures-by-code widget)`,
        metric: sm.metricFailed({ period: Duration.minutes(5), statistic: 'Sum' }),
        threshold: FAILED_EXECUTIONS_THRESHOLD,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      this.failedExecutionAlarms.set(name, failed);
    }

    const endpointWidgets: cloudwatch.IWidget[] = [];
    for (const ep of topology.endpoints) {
      const tt = ep.scaling.targetTracking;
      const sagemaker = (metricName: string, statistic: string, label: string, variant = false) =>
        new cloudwatch.Metric({
          namespace: 'AWS/SageMaker',
          metricName,
          dimensionsMap: variant ? { EndpointName: ep.name, VariantName: ep.variantName } : { EndpointName: ep.name },
          statistic,
          period: MINUTE,
          label,
        });
      const hits = custom('CacheHits', ep.name, 'Sum', 'hits');
      const misses = custom('CacheMisses', ep.name, 'Sum', 'misses');
      endpointWidgets.push(
        new cloudwatch.GraphWidget({
          title: `Cache hit ratio — ${ep.name}`,
          width: 12,
          left: [
            new cloudwatch.MathExpression({
              expression: 'IF(hits + misses > 0, hits / (hits + misses), 0)',
              usingMetrics: { hits, misses },
              label: 'hit ratio',
              period: MINUTE,
            }),
          ],
          leftYAxis: { min: 0, max: 1 },
          right: [custom('Requests', ep.name, 'Sum', 'requests')],
        }),
        new cloudwatch.GraphWidget({
          title: `Utilization and instances — ${ep.name}`,
          width: 12,
          left: [
            new cloudwatch.Metric({
              namespace: tt.namespace,
              metricName: tt.metricName,
              dimensionsMap: { EndpointName: ep.name },
              statistic: 'Average',
              period: MINUTE,
              label: 'utilization',
            }),
          ],
          leftAnnotations: [{ value: tt.targetValue, label: 'target' }],
          right: [
            // The utilization input, by exactly the dimension set the publisher reads.
            new cloudwatch.Metric({
              namespace: tt.namespace,
              metricName: ARRIVALS_METRIC,
              dimensionsMap: { EndpointName: ep.name },
              statistic: 'Sum',
              period: MINUTE,
              label: 'inferences started',
            }),
            // Async endpoints publish no instance count; one CPU sample per instance per minute is one.
            new cloudwatch.Metric({
              namespace: '/aws/sagemaker/Endpoints',
              metricName: 'CPUUtilization',
              dimensionsMap: { EndpointName: ep.name, VariantName: ep.variantName },
              statistic: 'SampleCount',
              period: MINUTE,
              label: 'instances',
            }),
          ],
        }),
        new cloudwatch.GraphWidget({
          title: `Backlog — ${ep.name}`,
          width: 12,
          left: [
            sagemaker('ApproximateBacklogSize', 'Maximum', 'backlog'),
            sagemaker('HasBacklogWithoutCapacity', 'Maximum', 'backlog without capacity'),
          ],
          right: [sagemaker('ApproximateAgeOfOldestRequest', 'Maximum', 'oldest request (s)')],
        }),
      );
      latencyMetrics.push(
        custom('InferenceTime', undefined, 'p50', 'inference p50 (ms)'),
        custom('InferenceTime', undefined, 'p95', 'inference p95 (ms)'),
      );
      failureMetrics.push(
        sagemaker('InvocationFailures', 'Sum', `${ep.name} invocation failures`, true),
        custom('InferenceFailures', undefined, 'Sum', 'inference failures'),
        custom('PostProcessingFailures', undefined, 'Sum', 'post-processing failures'),
      );
      alarm(`BacklogWithoutCapacity-${ep.name}`, {
        alarmName: `${ep.name}-backlog-without-capacity-too-long`,
        alarmDescription: `${ep.name} has had queued requests and no instances for ${BACKLOG_WITHOUT_CAPACITY_ALARM_MINUTES} minutes: scale-from-zero is not working or capacity is unavailable`,
        metric: new cloudwatch.Metric({
          namespace: 'AWS/SageMaker',
          metricName: 'HasBacklogWithoutCapacity',
          dimensionsMap: { EndpointName: ep.name },
          statistic: 'Maximum',
          period: MINUTE,
        }),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: BACKLOG_WITHOUT_CAPACITY_ALARM_MINUTES,
        datapointsToAlarm: BACKLOG_WITHOUT_CAPACITY_ALARM_MINUTES,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    }

    for (const [name, topic] of stack.topics) {
      alarm(`NotificationsFailed-${name}`, {
        alarmName: `${name}-notifications-failed`,
        alarmDescription: `SNS could not deliver a notification of ${name}: a waiting execution may only end at its timeout (check the subscription DLQ)`,
        metric: topic.metricNumberOfNotificationsFailed({ period: Duration.minutes(5), statistic: 'Sum' }),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    }

    for (const [queueName, queue] of stack.deadLetterQueues) {
      alarm(`DlqDepth-${queueName}`, {
        alarmName: `${queueName}-not-empty`,
        alarmDescription: `Messages are waiting in a dead-letter queue (${queueName}): inspect and redrive them`,
        metric: queue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: 'Maximum' }),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    }

    const failureLogGroups = [...stack.functions.values()].map((f) => f.logGroup.logGroupName);
    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: `${Stack.of(this).stackName}-pipeline`,
      defaultInterval: Duration.hours(3),
      widgets: [
        requestWidgets,
        endpointWidgets.slice(0, 2),
        [
          ...endpointWidgets.slice(2),
          new cloudwatch.GraphWidget({ title: 'Latency p50 / p95', width: 12, left: latencyMetrics }),
        ],
        [
          new cloudwatch.GraphWidget({ title: 'Failures', width: 12, left: failureMetrics }),
          // The failure report logs each contract error code; counting the log lines needs no extra metric.
          new cloudwatch.LogQueryWidget({
            title: 'Failures by error code',
            width: 12,
            logGroupNames: failureLogGroups,
            view: cloudwatch.LogQueryVisualizationType.STACKEDAREA,
            queryLines: ['filter ispresent(code) and message = "reported failure"', 'stats count(*) by code, bin(1m)'],
          }),
        ],
        [new cloudwatch.AlarmStatusWidget({ title: 'Alarms', width: 24, alarms: this.alarms })],
      ],
    });
  }
}
