/**
 * The endpoint as its APIs describe it: SageMaker DescribeEndpoint (instances), CloudWatch
 * GetMetricData (backlog, published utilization), Application Auto Scaling (scaling decisions,
 * scheduled actions), and the coordination table (inferences in flight and who waits on each).
 */
import { DescribeScalingActivitiesCommand, DescribeScheduledActionsCommand, type ApplicationAutoScalingClient, type ScheduledAction } from '@aws-sdk/client-application-auto-scaling';
import { GetMetricDataCommand, type CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DescribeEndpointCommand, type SageMakerClient } from '@aws-sdk/client-sagemaker';
import { QueryCommand, ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { WAITER_PREFIX, type LeaseItem, type WaiterItem } from '../../tasks/shared/coordination';
import type { ConsoleTarget } from './target';

export interface EndpointDeps {
  readonly cloudwatch: CloudWatchClient;
  readonly autoscaling: ApplicationAutoScalingClient;
  readonly sagemaker: SageMakerClient;
  readonly dynamodb: DynamoDBDocumentClient;
  readonly target: ConsoleTarget;
  readonly now: () => number;
}

/** Epoch seconds and values, the shape uPlot draws. */
export interface Series {
  readonly label: string;
  readonly times: readonly number[];
  readonly values: readonly number[];
}

export interface ScalingDecision {
  readonly time: Date;
  readonly desired?: number;
  readonly description: string;
  readonly cause: string;
  readonly status: string;
}

export interface InFlight {
  readonly cacheKey: string;
  readonly inferenceId: string;
  readonly attempt: number;
  readonly expiresAt: Date;
  readonly waiters: readonly { readonly executionArn: string; readonly requestId: string; readonly receivedAt: string }[];
}

export interface EndpointView {
  readonly name: string;
  readonly status: string;
  readonly currentInstances: number;
  readonly desiredInstances: number;
  readonly backlog: Series;
  readonly utilization: Series;
  readonly instances: Series;
  readonly decisions: readonly ScalingDecision[];
  readonly scheduled: readonly ScheduledAction[];
  readonly inFlight: readonly InFlight[];
  /** The charts' window, epoch seconds. */
  readonly window: { readonly from: number; readonly to: number };
}

export const CHART_MINUTES = 60;
/** Coordination items read per page when looking for leases; a real table holds one claim per request. */
const SCAN_PAGE = 500;
const SCAN_BUDGET = 5000;

export async function endpointView(deps: EndpointDeps): Promise<EndpointView> {
  const { target } = deps;
  const [endpoint, metrics, decisions, scheduled, inFlight] = await Promise.all([
    deps.sagemaker.send(new DescribeEndpointCommand({ EndpointName: target.endpointName })),
    endpointMetrics(deps),
    scalingDecisions(deps),
    deps.autoscaling.send(new DescribeScheduledActionsCommand({ ServiceNamespace: 'sagemaker', ResourceId: target.scalableResourceId })),
    inferencesInFlight(deps),
  ]);
  const variant = endpoint.ProductionVariants?.find((v) => v.VariantName === target.variantName) ?? endpoint.ProductionVariants?.[0];
  const current = variant?.CurrentInstanceCount ?? 0;
  return {
    name: target.endpointName,
    status: endpoint.EndpointStatus ?? 'unknown',
    currentInstances: current,
    desiredInstances: variant?.DesiredInstanceCount ?? current,
    ...metrics,
    instances: instanceSeries(decisions, current, deps.now()),
    window: { from: Math.round(deps.now() / 1000) - CHART_MINUTES * 60, to: Math.round(deps.now() / 1000) },
    decisions,
    scheduled: scheduled.ScheduledActions ?? [],
    inFlight,
  };
}

async function endpointMetrics(deps: EndpointDeps): Promise<{ backlog: Series; utilization: Series }> {
  const end = Math.ceil(deps.now() / 60_000) * 60_000;
  const dimensions = [{ Name: 'EndpointName', Value: deps.target.endpointName }];
  const result = await deps.cloudwatch.send(
    new GetMetricDataCommand({
      StartTime: new Date(end - CHART_MINUTES * 60_000),
      EndTime: new Date(end),
      ScanBy: 'TimestampAscending',
      MetricDataQueries: [
        { Id: 'backlog', Label: 'ApproximateBacklogSize', MetricStat: { Metric: { Namespace: 'AWS/SageMaker', MetricName: 'ApproximateBacklogSize', Dimensions: dimensions }, Period: 60, Stat: 'Average' } },
        {
          Id: 'utilization',
          Label: deps.target.utilization.metricName,
          MetricStat: { Metric: { Namespace: deps.target.utilization.namespace, MetricName: deps.target.utilization.metricName, Dimensions: dimensions }, Period: 60, Stat: 'Average' },
        },
      ],
    }),
  );
  const series = (id: string): Series => {
    const r = result.MetricDataResults?.find((m) => m.Id === id);
    return { label: r?.Label ?? id, times: (r?.Timestamps ?? []).map((t) => Math.round(t.getTime() / 1000)), values: r?.Values ?? [] };
  };
  return { backlog: series('backlog'), utilization: series('utilization') };
}

const DESIRED = /desired (?:instance )?count to (\d+)/i;

async function scalingDecisions(deps: EndpointDeps): Promise<ScalingDecision[]> {
  const out = await deps.autoscaling.send(
    new DescribeScalingActivitiesCommand({ ServiceNamespace: 'sagemaker', ResourceId: deps.target.scalableResourceId, ScalableDimension: 'sagemaker:variant:DesiredInstanceCount', MaxResults: 50 }),
  );
  return (out.ScalingActivities ?? []).map((a) => {
    const desired = DESIRED.exec(a.Description ?? '')?.[1];
    return {
      time: a.StartTime ?? new Date(0),
      ...(desired === undefined ? {} : { desired: Number(desired) }),
      description: a.Description ?? '',
      cause: a.Cause ?? '',
      status: a.StatusCode ?? '',
    };
  });
}

/** Desired instances over time: each scaling decision's count, held until the next, up to now. */
function instanceSeries(decisions: readonly ScalingDecision[], current: number, nowMs: number): Series {
  const points = decisions.filter((d) => d.desired !== undefined).sort((a, b) => a.time.getTime() - b.time.getTime());
  const times = points.map((d) => Math.round(d.time.getTime() / 1000));
  const values = points.map((d) => d.desired ?? 0);
  // With no decision in the window the count has held all along.
  if (points.length === 0) {
    times.push(Math.round(nowMs / 1000) - CHART_MINUTES * 60);
    values.push(current);
  }
  times.push(Math.round(nowMs / 1000));
  values.push(current);
  return { label: 'instances', times, values };
}

/** Leases still in flight and the executions waiting on each image (docs/design.md, coordination table). */
async function inferencesInFlight(deps: EndpointDeps): Promise<InFlight[]> {
  const leases: LeaseItem[] = [];
  let startKey: Record<string, unknown> | undefined;
  let scanned = 0;
  do {
    const page = await deps.dynamodb.send(
      new ScanCommand({
        TableName: deps.target.tableName,
        Limit: SCAN_PAGE,
        FilterExpression: 'sk = :lease AND #status = :inflight',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':lease': 'lease', ':inflight': 'inflight' },
        ...(startKey ? { ExclusiveStartKey: startKey } : {}),
      }),
    );
    leases.push(...((page.Items ?? []) as LeaseItem[]));
    scanned += page.ScannedCount ?? 0;
    startKey = page.LastEvaluatedKey;
  } while (startKey && scanned < SCAN_BUDGET);
  const nowSeconds = deps.now() / 1000;
  return Promise.all(
    leases
      .filter((l) => l.expiresAt > nowSeconds)
      .map(async (lease) => {
        const waiters = await deps.dynamodb.send(
          new QueryCommand({
            TableName: deps.target.tableName,
            KeyConditionExpression: 'pk = :pk AND begins_with(sk, :waiter)',
            ExpressionAttributeValues: { ':pk': lease.pk, ':waiter': WAITER_PREFIX },
            ProjectionExpression: 'executionArn, requestId, receivedAt',
          }),
        );
        return {
          cacheKey: lease.pk.replace(/^image#/, ''),
          inferenceId: lease.inferenceId,
          attempt: lease.attempt,
          expiresAt: new Date(lease.expiresAt * 1000),
          waiters: ((waiters.Items ?? []) as Pick<WaiterItem, 'executionArn' | 'requestId' | 'receivedAt'>[]).map((w) => ({
            executionArn: w.executionArn,
            requestId: w.requestId,
            receivedAt: w.receivedAt,
          })),
        };
      }),
  );
}
