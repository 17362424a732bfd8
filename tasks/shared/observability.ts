import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { METRIC_NAMESPACE } from '../../topology/imagegen-topology';

export { MetricUnit };
export type Unit = (typeof MetricUnit)[keyof typeof MetricUnit];

/**
 * Logger and metrics for one task; service name and namespace come from the Powertools variables.
 * `metrics` carry Powertools' default `service` dimension (dashboards sum across it); `scalingMetrics`
 * carry only the dimensions the task adds, because a CloudWatch query matches a dimension set exactly
 * and the utilization publisher asks for `{EndpointName}`.
 */
export function createObservability(serviceName: string): { logger: Logger; metrics: Metrics; scalingMetrics: Metrics } {
  const namespace = process.env.POWERTOOLS_METRICS_NAMESPACE ?? METRIC_NAMESPACE;
  const scalingMetrics = new Metrics({ serviceName, namespace });
  scalingMetrics.clearDefaultDimensions();
  return { logger: new Logger({ serviceName }), metrics: new Metrics({ serviceName, namespace }), scalingMetrics };
}

/** Flushes metrics that may hold nothing this invocation (Powertools warns on an empty flush). */
export function publishIfAny(metrics: Metrics): void {
  if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
}

/** The slice of Powertools Metrics the cores use, so tests can pass a recorder. */
export interface MetricsSink {
  addMetric(name: string, unit: Unit, value: number): unknown;
  addDimension(name: string, value: string): unknown;
}

/** The slice of the Powertools Logger the cores use. */
export type LogSink = Pick<Logger, 'info' | 'warn' | 'error'>;
