import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { METRIC_NAMESPACE } from '../../topology/imagegen-topology';

export { MetricUnit };
export type Unit = (typeof MetricUnit)[keyof typeof MetricUnit];

/** Logger and metrics for one task; service name and namespace come from the Powertools variables. */
export function createObservability(serviceName: string): { logger: Logger; metrics: Metrics } {
  return {
    logger: new Logger({ serviceName }),
    metrics: new Metrics({ serviceName, namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? METRIC_NAMESPACE }),
  };
}

/** The slice of Powertools Metrics the cores use, so tests can pass a recorder. */
export interface MetricsSink {
  addMetric(name: string, unit: Unit, value: number): unknown;
  addDimension(name: string, value: string): unknown;
}

/** The slice of the Powertools Logger the cores use. */
export type LogSink = Pick<Logger, 'info' | 'warn' | 'error'>;
