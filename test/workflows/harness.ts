/** Deps for the task cores over a TestCloud, plus builders for model output and SNS events. */
import sharp from 'sharp';
import type { SNSEvent } from 'aws-lambda';
import { defaultConfig } from '../../topology/imagegen-topology';
import type { ResolveDeps } from '../../tasks/resolve/resolve';
import type { CompleteDeps } from '../../tasks/complete/complete';
import type { SettleConfig } from '../../tasks/shared/config';
import type { SettleDeps } from '../../tasks/shared/settle';
import type { ReportFailureDeps } from '../../tasks/report-failure/report-failure';
import type { LogSink, MetricsSink } from '../../tasks/shared/observability';
import type { RecordedClients } from './recorded-clients';
import type { TestCloud } from './test-cloud';

export const silentLogger: LogSink = { info: () => undefined, warn: () => undefined, error: () => undefined };

type LogLevel = keyof LogSink;

/** A logger that keeps each line (level, message, context) for a test to read. */
export class LogRecorder {
  readonly lines: { level: LogLevel; message: string; context?: Record<string, unknown> }[] = [];
  private readonly keep = (level: LogLevel) => (message: string, context?: Record<string, unknown>) => void this.lines.push({ level, message, ...(context && { context }) });
  readonly sink = { info: this.keep('info'), warn: this.keep('warn'), error: this.keep('error') } as unknown as LogSink;
  levels(): string[] {
    return this.lines.map((l) => l.level);
  }
}

export class MetricsRecorder implements MetricsSink {
  readonly metrics: { name: string; value: number }[] = [];
  readonly dimensions: Record<string, string> = {};
  addMetric(name: string, _unit: unknown, value: number): void {
    this.metrics.push({ name, value });
  }
  addDimension(name: string, value: string): void {
    this.dimensions[name] = value;
  }
  count(name: string): number {
    return this.metrics.filter((m) => m.name === name).reduce((a, m) => a + m.value, 0);
  }
}

export class TestClock {
  constructor(public ms = Date.parse('2026-01-01T12:00:10Z')) {}
  now(): number {
    return this.ms;
  }
  advance(ms: number): void {
    this.ms += ms;
  }
}

export const settleConfig: SettleConfig = {
  bucket: defaultConfig.bucketName,
  tableName: defaultConfig.tableName,
  endpointName: defaultConfig.endpointName,
  requestTtlSeconds: defaultConfig.requestTtlSeconds,
  invocationTimeoutSeconds: defaultConfig.invocationTimeoutSeconds,
  inferenceRetries: defaultConfig.inferenceRetries,
  reconcileAfterSeconds: defaultConfig.reconcileAfterSeconds,
};

export const resolveConfig = {
  ...settleConfig,
  modelId: defaultConfig.modelId,
  supportedSizes: defaultConfig.supportedSizes,
};

/** InferenceIds as the tasks make them (UUID-like, unique), numbered for readable failures. */
function idGenerator(prefix: string): () => string {
  let n = 0;
  return () => `${prefix}-${++n}-${Math.random().toString(16).slice(2, 10)}`;
}

export function resolveDeps(cloud: TestCloud, clock: TestClock, metrics = new MetricsRecorder(), scalingMetrics = new MetricsRecorder()): ResolveDeps {
  return {
    s3: cloud.s3,
    sfn: cloud.sfn,
    ddb: cloud.ddb,
    sagemaker: cloud.sagemaker,
    config: resolveConfig,
    clock,
    logger: silentLogger,
    metrics,
    scalingMetrics,
    newId: idGenerator('inference'),
  };
}

export function settleDeps(
  cloud: TestCloud,
  clock: TestClock,
  metrics = new MetricsRecorder(),
  config: Partial<SettleConfig> = {},
  scalingMetrics = new MetricsRecorder(),
): SettleDeps {
  return {
    s3: cloud.s3,
    sfn: cloud.sfn,
    ddb: cloud.ddb,
    sagemaker: cloud.sagemaker,
    config: { ...settleConfig, ...config },
    clock,
    logger: silentLogger,
    metrics,
    scalingMetrics,
    newId: idGenerator('retry'),
  };
}

export const completeDeps: (cloud: TestCloud, clock: TestClock, metrics?: MetricsRecorder, config?: Partial<SettleConfig>) => CompleteDeps = settleDeps;

export function reportDeps(cloud: Pick<RecordedClients, 'events'>, clock: TestClock, metrics = new MetricsRecorder()): ReportFailureDeps {
  return { events: cloud.events, config: { eventBusName: 'arn:aws:events:us-east-1:000000000000:event-bus/imagegen' }, clock, logger: silentLogger, metrics };
}

let cachedPng: Buffer | undefined;
/** A 1024×1024 PNG, as the SDXL container returns it (base64 inside JSON). */
export async function modelPng(): Promise<Buffer> {
  cachedPng ??= await sharp({ create: { width: 1024, height: 1024, channels: 3, background: { r: 200, g: 80, b: 40 } } })
    .png({ compressionLevel: 1 })
    .toBuffer();
  return cachedPng;
}

export async function modelOutput(): Promise<string> {
  return JSON.stringify({ generated_images: [(await modelPng()).toString('base64')] });
}

export function snsEvent(message: object, topic = 'imagegen-inference-succeeded'): SNSEvent {
  return {
    Records: [
      {
        EventSource: 'aws:sns',
        EventVersion: '1.0',
        EventSubscriptionArn: `arn:aws:sns:us-east-1:000000000000:${topic}:1710c1a3-6cdd-45c6-8524-a0e269b91585`,
        Sns: {
          Type: 'Notification',
          MessageId: 'c9cafd57-db5c-5f85-9c8f-a1b1e8b5a527',
          TopicArn: `arn:aws:sns:us-east-1:000000000000:${topic}`,
          Subject: null as unknown as string,
          Message: JSON.stringify(message),
          Timestamp: '2026-01-01T12:00:20.000Z',
          SignatureVersion: '1',
          Signature: 'EXAMPLE',
          SigningCertUrl: 'https://sns.us-east-1.amazonaws.com/SimpleNotificationService-example.pem',
          UnsubscribeUrl: 'https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe',
          MessageAttributes: {},
        },
      },
    ],
  };
}

export function successNotification(inferenceId: string, outputLocation: string, inputLocation = 's3://imagegen-images/inputs/x.json'): object {
  return {
    awsRegion: 'us-east-1',
    eventTime: '2026-01-01T12:00:19.712Z',
    receivedTime: '2026-01-01T12:00:10.000Z',
    invocationStatus: 'Completed',
    requestParameters: { contentType: 'application/json', endpointName: 'imagegen-sdxl', inputLocation },
    responseParameters: { contentType: 'application/json', outputLocation },
    inferenceId,
    eventVersion: '1.0',
    eventSource: 'aws:sagemaker',
    eventName: 'InferenceResult',
  };
}

export function errorNotification(inferenceId: string, failureReason: string, extra: object = {}): object {
  return {
    awsRegion: 'us-east-1',
    eventTime: '2026-01-01T12:00:19.712Z',
    receivedTime: '2026-01-01T12:00:10.000Z',
    invocationStatus: 'Failed',
    failureReason,
    requestParameters: { endpointName: 'imagegen-sdxl', inputLocation: 's3://imagegen-images/inputs/x.json' },
    inferenceId,
    eventVersion: '1.0',
    eventSource: 'aws:sagemaker',
    eventName: 'InferenceResult',
    ...extra,
  };
}

/** Runs the model for the last invocation: writes its output where the endpoint said it would. */
export async function finishLastInference(cloud: TestCloud): Promise<{ inferenceId: string; outputLocation: string }> {
  const inv = cloud.invocations.at(-1);
  if (!inv?.InferenceId) throw new Error('no inference was started');
  const item = await cloud.item(`inference#${inv.InferenceId}`, 'inference');
  const outputLocation = String(item?.outputLocation);
  await cloud.putObject(outputLocation, await modelOutput());
  return { inferenceId: inv.InferenceId, outputLocation };
}
