/**
 * Core of the scheduled publish-utilization task: every minute, publish `UtilizationRate` for the
 * endpoint with an explicit value (zeros included), so an idle endpoint still has datapoints.
 *
 * SageMaker's per-minute metrics land in CloudWatch minutes after their period, so the minute that
 * just closed usually has no datapoint yet. The publisher therefore evaluates the latest minute
 * whose endpoint metrics have landed (ApproximateBacklogSize is published every minute, zeros
 * included) and reads the arrivals and latency of that same minute. The instance counts come from
 * DescribeEndpoint, which is authoritative and never late: a missing CPU sample is not zero instances.
 * The capacity is the desired count's (utilization.ts says why); with a forecast configured, the
 * arrivals are the evaluated minute's plus the recent rise carried forward (forecast.ts).
 *
 * The datapoint is stamped with the minute it describes, a closed period, so the alarms read it as
 * soon as it is published instead of after the minute the task runs in has closed (a minute sooner).
 * The minutes after it have no datapoint yet: the alarms read the most recent real datapoints and
 * never fill those with zeros (docs/scaling.md). When no minute has landed in the lookback there is
 * nothing to describe, and nothing is published: a zero would read as an idle endpoint.
 */
import { GetMetricDataCommand, PutMetricDataCommand, type CloudWatchClient, type MetricDataQuery, type MetricDataResult } from '@aws-sdk/client-cloudwatch';
import { DescribeEndpointCommand, type SageMakerClient } from '@aws-sdk/client-sagemaker';
import { forecastArrivals, type ForecastOptions } from './forecast';
import { computeUtilization, type Utilization } from './utilization';

export interface PublishUtilizationConfig {
  readonly endpointName: string;
  readonly variantName: string;
  readonly namespace: string;
  readonly metricName: string;
  /** Inferences the endpoint accepted, in `namespace` with the dimension `EndpointName` only. */
  readonly arrivalsMetric: string;
  readonly concurrencyPerInstance: number;
  /** Fallback seconds per image when the endpoint reported no ModelLatency in the window. */
  readonly inferenceSeconds: number;
  readonly periodSeconds: number;
  /** Seconds over which the waiting backlog counts as demand. @default DEFAULT_DRAIN_SECONDS (one period) */
  readonly drainSeconds?: number;
  /** Periods searched back for the latest minute whose endpoint metrics have landed. @default DEFAULT_LOOKBACK_PERIODS */
  readonly lookbackPeriods?: number;
  /** Carry the recent rise in arrivals forward. @default none: the evaluated minute's arrivals */
  readonly forecast?: ForecastOptions;
}

export interface PublishUtilizationDeps {
  readonly cloudwatch: Pick<CloudWatchClient, 'send'>;
  readonly sagemaker: Pick<SageMakerClient, 'send'>;
  /** The scheduled time being published (EventBridge sets the event's `time` to it). */
  readonly now: () => Date;
}

export interface PublishedUtilization extends Utilization {
  readonly published: true;
  readonly instances: number;
  readonly desiredInstances: number;
  /** The evaluated minute's InferencesStarted. */
  readonly arrivals: number;
  /** The arrivals the demand counts: `arrivals` plus the rise carried forward (equal without a forecast). */
  readonly forecastArrivals: number;
  readonly backlog: number;
  readonly inferenceSeconds: number;
  /** The minute the inputs describe, and the published datapoint's time. */
  readonly evaluatedMinute: string;
}

/** The endpoint reported no minute in the lookback (e.g. just created): nothing was published. */
export interface NothingPublished {
  readonly published: false;
  readonly instances: number;
  readonly reason: string;
}

export type PublishResult = PublishedUtilization | NothingPublished;

export class EndpointVariantError extends Error {
  override readonly name = 'EndpointVariantError';
}

/** Enough to outlast SageMaker's metric delay several times over. */
export const DEFAULT_LOOKBACK_PERIODS = 10;

export async function publishUtilization(config: PublishUtilizationConfig, deps: PublishUtilizationDeps): Promise<PublishResult> {
  const periodMs = config.periodSeconds * 1000;
  const lookback = config.lookbackPeriods ?? DEFAULT_LOOKBACK_PERIODS;
  const end = new Date(Math.floor(deps.now().getTime() / periodMs) * periodMs);
  const start = new Date(end.getTime() - lookback * periodMs);
  const [{ instances, desiredInstances }, series] = await Promise.all([instanceCounts(config, deps), readSeries(config, deps, start, end)]);

  const evaluated = [...series.backlog.keys()].sort((a, b) => b - a)[0];
  if (evaluated === undefined) return { published: false, instances, reason: `no ApproximateBacklogSize for ${config.endpointName} in the last ${lookback} minutes` };
  const latencyMicros = series.latency.get(evaluated) ?? latestAtOrBefore(series.latency, evaluated);
  const arrivals = series.arrivals.get(evaluated) ?? 0;
  const inputs = {
    instances,
    desiredInstances,
    arrivals,
    forecastArrivals: config.forecast ? forecastArrivals(describedArrivals(series, evaluated, periodMs), config.forecast).arrivals : arrivals,
    backlog: series.backlog.get(evaluated) ?? 0,
    inferenceSeconds: latencyMicros && latencyMicros > 0 ? latencyMicros / 1e6 : config.inferenceSeconds,
  };
  const utilization = computeUtilization({
    ...inputs,
    arrivals: inputs.forecastArrivals,
    concurrencyPerInstance: config.concurrencyPerInstance,
    periodSeconds: config.periodSeconds,
    ...(config.drainSeconds === undefined ? {} : { drainSeconds: config.drainSeconds }),
  });
  await deps.cloudwatch.send(
    new PutMetricDataCommand({
      Namespace: config.namespace,
      MetricData: [
        {
          MetricName: config.metricName,
          Dimensions: [{ Name: 'EndpointName', Value: config.endpointName }],
          Timestamp: new Date(evaluated),
          Value: utilization.value,
          Unit: 'None',
          StorageResolution: 60,
        },
      ],
    }),
  );
  return { published: true, ...utilization, ...inputs, evaluatedMinute: new Date(evaluated).toISOString() };
}

/** The time a scheduled event was scheduled for; the clock when invoked by hand without one. */
export function scheduledTime(event: { readonly time?: unknown } | undefined, clock: () => Date = () => new Date()): Date {
  const time = typeof event?.time === 'string' ? Date.parse(event.time) : Number.NaN;
  return Number.isFinite(time) ? new Date(time) : clock();
}

async function instanceCounts(config: PublishUtilizationConfig, deps: PublishUtilizationDeps): Promise<{ instances: number; desiredInstances: number }> {
  const described = await deps.sagemaker.send(new DescribeEndpointCommand({ EndpointName: config.endpointName }));
  const variant = described.ProductionVariants?.find((v) => v.VariantName === config.variantName);
  if (!variant) throw new EndpointVariantError(`endpoint ${config.endpointName} has no production variant ${config.variantName} (VARIANT_NAME)`);
  // Absent while the variant is being created: nothing serves yet.
  const instances = variant.CurrentInstanceCount ?? 0;
  return { instances, desiredInstances: variant.DesiredInstanceCount ?? instances };
}

/**
 * The arrivals of the consecutive minutes up to `evaluated` that the endpoint described (each has an
 * ApproximateBacklogSize, published every minute); a described minute without InferencesStarted had
 * none. Oldest first.
 */
function describedArrivals(series: Series, evaluated: number, periodMs: number): number[] {
  const minutes: number[] = [];
  for (let t = evaluated; series.backlog.has(t); t -= periodMs) minutes.unshift(series.arrivals.get(t) ?? 0);
  return minutes;
}

interface Series {
  readonly backlog: Map<number, number>;
  readonly arrivals: Map<number, number>;
  readonly latency: Map<number, number>;
}

async function readSeries(config: PublishUtilizationConfig, deps: PublishUtilizationDeps, start: Date, end: Date): Promise<Series> {
  const endpoint = [{ Name: 'EndpointName', Value: config.endpointName }];
  const variant = [...endpoint, { Name: 'VariantName', Value: config.variantName }];
  const stat = (id: keyof Series, namespace: string, metricName: string, dimensions: typeof endpoint, statName: string): MetricDataQuery => ({
    Id: id,
    MetricStat: { Metric: { Namespace: namespace, MetricName: metricName, Dimensions: dimensions }, Period: config.periodSeconds, Stat: statName },
    ReturnData: true,
  });
  const queries = [
    // The backlog that stayed all minute: what arrived and was served within it is in the arrivals.
    stat('backlog', 'AWS/SageMaker', 'ApproximateBacklogSize', endpoint, 'Minimum'),
    stat('arrivals', config.namespace, config.arrivalsMetric, endpoint, 'Sum'),
    stat('latency', 'AWS/SageMaker', 'ModelLatency', variant, 'Average'),
  ];
  const series: Series = { backlog: new Map(), arrivals: new Map(), latency: new Map() };
  let nextToken: string | undefined;
  do {
    const page = await deps.cloudwatch.send(new GetMetricDataCommand({ StartTime: start, EndTime: end, MetricDataQueries: queries, ...(nextToken ? { NextToken: nextToken } : {}) }));
    for (const result of page.MetricDataResults ?? []) addPoints(series, result);
    nextToken = page.NextToken;
  } while (nextToken);
  return series;
}

function addPoints(series: Series, result: MetricDataResult): void {
  const target = series[result.Id as keyof Series] as Map<number, number> | undefined;
  if (!target) return;
  (result.Timestamps ?? []).forEach((t, i) => {
    const value = result.Values?.[i];
    if (value !== undefined) target.set(t.getTime(), value);
  });
}

function latestAtOrBefore(points: Map<number, number>, time: number): number | undefined {
  const times = [...points.keys()].filter((t) => t <= time).sort((a, b) => b - a);
  return times[0] === undefined ? undefined : points.get(times[0]);
}
