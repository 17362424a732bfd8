import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { ManualClock } from '../../../local/clock';
import { EdgeServer } from '../../../local/edge/server';
import type { MetricDatum, MetricsPort, ObjectStorePort, TopicPort } from '../../../local/ports';
import { SageMakerService, type AsyncEndpointConfig } from '../../../local/sagemaker/sagemaker-service';
import type { LocalDatabase } from '../../../local/shared/database';

export const REGION = 'us-east-1';
export const ACCOUNT = '000000000000';
export const ENDPOINT = 'imagegen-sdxl';
export const SUCCESS_TOPIC = `arn:aws:sns:${REGION}:${ACCOUNT}:imagegen-inference-success`;
export const ERROR_TOPIC = `arn:aws:sns:${REGION}:${ACCOUNT}:imagegen-inference-error`;

export class MemoryObjects implements ObjectStorePort {
  readonly objects = new Map<string, { body: Buffer; contentType: string }>();
  async getObject(bucket: string, key: string): Promise<{ body: Buffer; contentType: string } | undefined> {
    return this.objects.get(`${bucket}/${key}`);
  }
  async putObject(bucket: string, key: string, body: Buffer, contentType: string): Promise<void> {
    this.objects.set(`${bucket}/${key}`, { body, contentType });
  }
  at(uri: string): { body: Buffer; contentType: string } | undefined {
    return this.objects.get(uri.replace(/^s3:\/\//, ''));
  }
}

export class MemoryTopics implements TopicPort {
  readonly messages: { topicArn: string; message: string }[] = [];
  async publish(topicArn: string, message: string): Promise<{ messageId: string }> {
    this.messages.push({ topicArn, message });
    return { messageId: String(this.messages.length) };
  }
  /** The inference results, without the TestNotifications sent on creation and capacity changes. */
  get results(): { topicArn: string; message: string }[] {
    return this.messages.filter((m) => (JSON.parse(m.message) as { eventName?: string }).eventName === 'InferenceResult');
  }
  get tests(): { topicArn: string; message: string }[] {
    return this.messages.filter((m) => (JSON.parse(m.message) as { eventName?: string }).eventName === 'TestNotification');
  }
}

export class MemoryMetrics implements MetricsPort {
  readonly batches: { namespace: string; data: readonly MetricDatum[] }[] = [];
  putMetricData(namespace: string, data: readonly MetricDatum[]): void {
    this.batches.push({ namespace, data });
  }
  find(namespace: string, metricName: string): MetricDatum[] {
    return this.batches.filter((b) => b.namespace === namespace).flatMap((b) => b.data.filter((d) => d.metricName === metricName));
  }
}

export interface Harness {
  readonly clock: ManualClock;
  readonly service: SageMakerService;
  readonly edge: EdgeServer;
  readonly url: string;
  readonly client: SageMakerRuntimeClient;
  readonly objects: MemoryObjects;
  readonly topics: MemoryTopics;
  readonly metrics: MemoryMetrics;
  close(): Promise<void>;
}

/** `metricsLagSeconds` defaults to 0 here: most tests look at what a minute holds, not when it lands. */
export async function startHarness(
  modelUrl: string,
  endpoint: Partial<AsyncEndpointConfig> = {},
  metricsLagSeconds: number | 'service default' = 0,
  kept: { readonly database?: LocalDatabase; readonly clock?: ManualClock } = {},
): Promise<Harness> {
  const clock = kept.clock ?? new ManualClock();
  const objects = new MemoryObjects();
  const topics = new MemoryTopics();
  const metrics = new MemoryMetrics();
  const service = new SageMakerService({
    region: REGION,
    account: ACCOUNT,
    clock,
    objects,
    topics,
    metrics,
    ...(metricsLagSeconds === 'service default' ? {} : { metricsLagSeconds }),
    ...(kept.database ? { database: kept.database } : {}),
    endpoints: [
      {
        name: ENDPOINT,
        variantName: 'AllTraffic',
        modelUrl,
        initialInstanceCount: 1,
        maxConcurrentInvocationsPerInstance: 1,
        instanceStartupSeconds: 300,
        output: { bucket: 'imagegen-images', prefix: 'async-output/' },
        failure: { bucket: 'imagegen-images', prefix: 'async-failures/' },
        successTopicArn: SUCCESS_TOPIC,
        errorTopicArn: ERROR_TOPIC,
        ...endpoint,
      },
    ],
  });
  const edge = new EdgeServer({ services: [service.handler], port: 0, region: REGION });
  const url = await edge.listen();
  const client = new SageMakerRuntimeClient({ endpoint: url, region: REGION, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  return {
    clock,
    service,
    edge,
    url,
    client,
    objects,
    topics,
    metrics,
    async close() {
      client.destroy();
      await service.close();
      await edge.close();
    },
  };
}

/** Polls (real time) until `predicate` holds; the model container runs on real time. */
export async function waitFor(predicate: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** A signed-looking JSON 1.1 control-plane call (the edge routes on the credential scope only). */
export async function controlPlane(url: string, operation: string, body: unknown): Promise<{ status: number; headers: Headers; json: Record<string, unknown> }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': `SageMaker.${operation}`,
      authorization: `AWS4-HMAC-SHA256 Credential=test/20260101/${REGION}/sagemaker/aws4_request, SignedHeaders=host, Signature=0`,
    },
    body: JSON.stringify(body),
  });
  return { status: response.status, headers: response.headers, json: (await response.json()) as Record<string, unknown> };
}

export interface FakeContainer {
  readonly url: string;
  readonly requests: { headers: IncomingHttpHeaders; body: Buffer }[];
  active: number;
  maxActive: number;
  close(): Promise<void>;
}

/** A scriptable model container: `reply` decides each response (sent once `after` settles); `undefined` never answers. */
export async function fakeContainer(
  reply: (body: Buffer) => { status: number; contentType: string; body: string; delayMs?: number; after?: Promise<void> } | undefined,
): Promise<FakeContainer> {
  const container: FakeContainer = { url: '', requests: [], active: 0, maxActive: 0, close: async () => undefined };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      container.requests.push({ headers: req.headers, body });
      const answer = reply(body);
      if (!answer) return;
      container.active++;
      container.maxActive = Math.max(container.maxActive, container.active);
      const respond = (): void => {
        container.active--;
        res.writeHead(answer.status, { 'content-type': answer.contentType });
        res.end(answer.body);
      };
      void (answer.after ?? Promise.resolve()).then(() => setTimeout(respond, answer.delayMs ?? 0));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return Object.assign(container, {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  });
}
