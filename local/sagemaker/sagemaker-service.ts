/**
 * An emulated SageMaker asynchronous endpoint. Runtime (`InvokeEndpointAsync`, rest-json) and the
 * control-plane operations Application Auto Scaling needs (JSON 1.1, `SageMaker.*`) share the
 * signing name `sagemaker`; the `X-Amz-Target` header tells them apart.
 *
 * Each endpoint has a queue served by in-service instances × MaxConcurrentInvocationsPerInstance
 * workers. A worker reads the input from S3, POSTs it to the model container's `/invocations`,
 * writes the response (or error) object and publishes AWS's notification JSON to the success or
 * error topic. Model errors are not retried, as on AWS. Every minute of Clock time the endpoint's
 * CloudWatch metrics are published, zeros included.
 */
import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock';
import { AwsServiceError } from '../edge/errors';
import { jsonService } from '../edge/json-protocol';
import type { EdgeRequest, EdgeResponse, ServiceHandler } from '../edge/types';
import type { EndpointCapacityPort, MetricDatum, MetricsPort, ObjectStorePort, TopicPort } from '../ports';
import { parseAsyncInvoke, validationError, type AsyncInvokeRequest, type S3Object } from './invoke-request';
import { completedNotification, failedNotification, failureReasons, type InferenceResultInput } from './notification';

export interface AsyncEndpointConfig {
  readonly name: string;
  readonly variantName: string;
  /** Base URL of a container serving `GET /ping` and `POST /invocations`. */
  readonly modelUrl: string;
  readonly initialInstanceCount: number;
  readonly maxConcurrentInvocationsPerInstance: number;
  /** Clock seconds between a scale-up and the new instance taking work. */
  readonly instanceStartupSeconds: number;
  /** S3OutputPath as bucket and key prefix. */
  readonly output: { readonly bucket: string; readonly prefix: string };
  /** S3FailurePath as bucket and key prefix. */
  readonly failure: { readonly bucket: string; readonly prefix: string };
  /** Empty string: no success notification, as when NotificationConfig.SuccessTopic is unset. */
  readonly successTopicArn: string;
  /** Empty string: no error notification. */
  readonly errorTopicArn: string;
}

export interface SageMakerServiceOptions {
  readonly region: string;
  readonly account: string;
  readonly clock: Clock;
  readonly endpoints: readonly AsyncEndpointConfig[];
  readonly objects: ObjectStorePort;
  readonly topics: TopicPort;
  readonly metrics: MetricsPort;
  readonly log?: (line: string) => void;
}

export interface EndpointStats {
  readonly queued: number;
  readonly inFlight: number;
  /** Inferences completed successfully since start. */
  readonly processed: number;
  /** Inferences that failed (model error, timeout, download/upload failure, expiry) since start. */
  readonly failed: number;
  readonly instances: { readonly inService: number; readonly pending: number; readonly desired: number };
}

export const METRICS_PERIOD_MS = 60_000;
export const SAGEMAKER_NAMESPACE = 'AWS/SageMaker';
export const INSTANCE_NAMESPACE = '/aws/sagemaker/Endpoints';

interface Instance {
  readonly id: number;
  state: 'pending' | 'inService';
  busy: number;
  /** Scaled in while busy: takes no new work and leaves when idle. */
  draining: boolean;
  cancelStartup?: () => void;
}

interface Invocation {
  readonly request: AsyncInvokeRequest;
  readonly inferenceId: string;
  readonly receivedAt: number;
  readonly output: S3Object;
  readonly failure: S3Object;
  cancelTtl?: () => void;
}

interface Window {
  invocations: number;
  processed: number;
  failures: number;
  expired: number;
  downloadFailures: number;
  uploadFailures: number;
  notificationFailures: number;
  modelLatencyMicros: number[];
}

const emptyWindow = (): Window => ({
  invocations: 0,
  processed: 0,
  failures: 0,
  expired: 0,
  downloadFailures: 0,
  uploadFailures: 0,
  notificationFailures: 0,
  modelLatencyMicros: [],
});

const s3Uri = (o: S3Object): string => `s3://${o.bucket}/${o.key}`;

function joinKey(...parts: string[]): string {
  return parts
    .filter((p) => p !== '')
    .map((p, i, all) => (i < all.length - 1 && !p.endsWith('/') ? `${p}/` : p))
    .join('');
}

class AsyncEndpoint {
  readonly queue: Invocation[] = [];
  readonly instances: Instance[] = [];
  readonly running = new Map<Invocation, { abort: AbortController; done: Promise<void> }>();
  readonly createdAt: number;
  modifiedAt: number;
  desired: number;
  processed = 0;
  failed = 0;
  window = emptyWindow();
  private nextInstanceId = 1;

  constructor(
    readonly config: AsyncEndpointConfig,
    private readonly service: SageMakerService,
    private readonly clock: Clock,
  ) {
    this.createdAt = clock.now();
    this.modifiedAt = this.createdAt;
    this.desired = config.initialInstanceCount;
    // The endpoint exists already InService at its initial count, as after CreateEndpoint.
    for (let i = 0; i < config.initialInstanceCount; i++) {
      this.instances.push({ id: this.nextInstanceId++, state: 'inService', busy: 0, draining: false });
    }
  }

  get inService(): number {
    return this.instances.filter((i) => i.state === 'inService').length;
  }

  get pending(): number {
    return this.instances.filter((i) => i.state === 'pending').length;
  }

  get status(): 'InService' | 'Updating' {
    return this.instances.some((i) => i.state === 'pending' || i.draining) ? 'Updating' : 'InService';
  }

  setDesired(desired: number): void {
    this.desired = desired;
    this.modifiedAt = this.clock.now();
    const active = (): Instance[] => this.instances.filter((i) => !i.draining);
    // Reuse instances that are still draining before starting new ones.
    for (const instance of this.instances) {
      if (active().length >= desired) break;
      if (instance.draining) instance.draining = false;
    }
    while (active().length < desired) {
      const instance: Instance = { id: this.nextInstanceId++, state: 'pending', busy: 0, draining: false };
      instance.cancelStartup = this.clock.schedule(this.config.instanceStartupSeconds * 1000, () => {
        instance.state = 'inService';
        delete instance.cancelStartup;
        this.service.log(`sagemaker: ${this.config.name} instance ${instance.id} InService`);
        this.pump();
      });
      this.instances.push(instance);
    }
    // Scale in: pending instances first (newest first), then the least busy in-service ones.
    const surplus = active().length - desired;
    const victims = active()
      .sort((a, b) => (a.state === b.state ? 0 : a.state === 'pending' ? -1 : 1) || a.busy - b.busy || b.id - a.id)
      .slice(0, Math.max(0, surplus));
    for (const instance of victims) {
      instance.cancelStartup?.();
      instance.draining = true;
      this.releaseIfIdle(instance);
    }
    this.pump();
  }

  private releaseIfIdle(instance: Instance): void {
    if (instance.draining && instance.busy === 0) {
      this.instances.splice(this.instances.indexOf(instance), 1);
    }
  }

  enqueue(invocation: Invocation): void {
    this.window.invocations++;
    this.queue.push(invocation);
    invocation.cancelTtl = this.clock.schedule(invocation.request.requestTtlSeconds * 1000, () => this.expire(invocation));
    this.pump();
  }

  private expire(invocation: Invocation): void {
    const index = this.queue.indexOf(invocation);
    if (index < 0) return;
    this.queue.splice(index, 1);
    this.window.expired++;
    const reason = failureReasons.expired(invocation.request.requestTtlSeconds);
    const done = this.service.fail(this, invocation, reason, Buffer.from(JSON.stringify({ message: reason })), 'application/json');
    this.service.track(done);
  }

  pump(): void {
    while (this.queue.length > 0 && !this.service.closed) {
      const free = this.instances
        .filter((i) => i.state === 'inService' && !i.draining && i.busy < this.config.maxConcurrentInvocationsPerInstance)
        .sort((a, b) => a.busy - b.busy || a.id - b.id)[0];
      if (!free) return;
      const invocation = this.queue.shift() as Invocation;
      invocation.cancelTtl?.();
      free.busy++;
      const abort = new AbortController();
      const done = this.service
        .process(this, invocation, abort)
        .catch((error: unknown) => this.service.log(`sagemaker: ${this.config.name} ${invocation.inferenceId}: ${String(error)}`))
        .finally(() => {
          this.running.delete(invocation);
          free.busy--;
          this.releaseIfIdle(free);
          this.pump();
        });
      this.running.set(invocation, { abort, done });
    }
  }

  /** Oldest request waiting or being processed; the backlog counts both, as AWS's does. */
  oldestAgeSeconds(now: number): number {
    const times = [...this.queue, ...this.running.keys()].map((i) => i.receivedAt);
    return times.length === 0 ? 0 : (now - Math.min(...times)) / 1000;
  }
}

export class SageMakerService implements EndpointCapacityPort {
  readonly handler: ServiceHandler;
  private isClosed = false;
  private readonly endpoints = new Map<string, AsyncEndpoint>();
  private readonly background = new Set<Promise<void>>();
  private cancelMetrics: (() => void) | undefined;

  constructor(private readonly options: SageMakerServiceOptions) {
    for (const config of options.endpoints) {
      if (!Number.isInteger(config.maxConcurrentInvocationsPerInstance) || config.maxConcurrentInvocationsPerInstance < 1 || config.maxConcurrentInvocationsPerInstance > 1000) {
        throw new RangeError(`endpoint ${config.name}: maxConcurrentInvocationsPerInstance must be an integer 1-1000`);
      }
      if (!Number.isInteger(config.initialInstanceCount) || config.initialInstanceCount < 0) {
        throw new RangeError(`endpoint ${config.name}: initialInstanceCount must be a non-negative integer`);
      }
      this.endpoints.set(config.name, new AsyncEndpoint(config, this, options.clock));
    }
    const controlPlane = jsonService({
      name: 'sagemaker',
      signingNames: ['sagemaker'],
      targetPrefix: 'SageMaker',
      version: '1.1',
      operations: {
        DescribeEndpoint: (input) => this.describeEndpoint(input),
        ListEndpoints: (input) => this.listEndpoints(input),
        UpdateEndpointWeightsAndCapacities: (input) => this.updateWeightsAndCapacities(input),
      },
    });
    this.handler = {
      name: 'sagemaker',
      signingNames: ['sagemaker'],
      handle: (request) => (request.headers['x-amz-target'] !== undefined ? controlPlane.handle(request) : this.runtime(request)),
    };
  }

  /** Starts the per-minute metrics. */
  start(): void {
    if (this.cancelMetrics || this.closed) return;
    const tick = (): void => {
      this.publishMetrics();
      this.cancelMetrics = this.options.clock.schedule(METRICS_PERIOD_MS, tick);
    };
    this.cancelMetrics = this.options.clock.schedule(METRICS_PERIOD_MS, tick);
  }

  /** Stops metrics and timers, aborts in-flight invocations (they publish nothing) and waits for them. */
  async close(): Promise<void> {
    this.isClosed = true;
    this.cancelMetrics?.();
    this.cancelMetrics = undefined;
    const pending: Promise<void>[] = [...this.background];
    for (const endpoint of this.endpoints.values()) {
      for (const instance of endpoint.instances) instance.cancelStartup?.();
      for (const invocation of endpoint.queue) invocation.cancelTtl?.();
      endpoint.queue.length = 0;
      for (const { abort, done } of endpoint.running.values()) {
        abort.abort(new Error('endpoint closed'));
        pending.push(done);
      }
    }
    await Promise.allSettled(pending);
  }

  getCapacity(endpointName: string, variantName: string): { current: number; desired: number } {
    const endpoint = this.variant(endpointName, variantName);
    return { current: endpoint.inService, desired: endpoint.desired };
  }

  setDesiredInstanceCount(endpointName: string, variantName: string, desired: number): void {
    const endpoint = this.variant(endpointName, variantName);
    if (!Number.isInteger(desired) || desired < 0) {
      throw new AwsServiceError('ValidationException', `DesiredInstanceCount must be an integer greater than or equal to 0, got ${desired}.`);
    }
    endpoint.setDesired(desired);
  }

  stats(endpointName: string): EndpointStats {
    const endpoint = this.endpoint(endpointName);
    return {
      queued: endpoint.queue.length,
      inFlight: endpoint.running.size,
      processed: endpoint.processed,
      failed: endpoint.failed,
      instances: { inService: endpoint.inService, pending: endpoint.pending, desired: endpoint.desired },
    };
  }

  /** True once `close()` has begun: nothing more is run, written or published. */
  get closed(): boolean {
    return this.isClosed;
  }

  /** @internal */
  log(line: string): void {
    this.options.log?.(line);
  }

  /** @internal Keeps background work (queue expiry) awaited by `close()`. */
  track(work: Promise<void>): void {
    const tracked = work
      .catch((error: unknown) => this.log(`sagemaker: ${String(error)}`))
      .finally(() => this.background.delete(tracked));
    this.background.add(tracked);
  }

  private endpointArn(name: string): string {
    // SageMaker ARNs carry the resource name in lower case.
    return `arn:aws:sagemaker:${this.options.region}:${this.options.account}:endpoint/${name.toLowerCase()}`;
  }

  private endpoint(name: string): AsyncEndpoint {
    const endpoint = this.endpoints.get(name);
    if (!endpoint) throw new AwsServiceError('ValidationException', `Could not find endpoint "${this.endpointArn(name)}".`);
    return endpoint;
  }

  private variant(endpointName: string, variantName: string): AsyncEndpoint {
    const endpoint = this.endpoint(endpointName);
    if (endpoint.config.variantName !== variantName) {
      throw new AwsServiceError('ValidationException', `The variant(s) "[${variantName}]" is/are not present in the endpoint "${endpointName}".`);
    }
    return endpoint;
  }

  // ---- runtime (rest-json) ----

  private async runtime(request: EdgeRequest): Promise<EdgeResponse> {
    try {
      const match = /^\/endpoints\/([^/]+)\/(async-invocations|invocations|invocations-response-stream)$/.exec(request.rawPath);
      if (!match?.[1] || request.method !== 'POST') {
        throw new AwsServiceError('UnknownOperationException', `SageMaker Runtime has no operation ${request.method} ${request.rawPath}`, 404);
      }
      const name = decodePathLabel(match[1]);
      if (match[2] !== 'async-invocations') {
        this.knownEndpoint(name);
        throw validationError(`Endpoint ${name} of account ${this.options.account} is an asynchronous endpoint and does not support ${match[2] === 'invocations' ? 'InvokeEndpoint' : 'InvokeEndpointWithResponseStream'}. Use InvokeEndpointAsync.`);
      }
      return this.invokeAsync(request, name);
    } catch (error) {
      if (!(error instanceof AwsServiceError)) throw error;
      return {
        status: error.status,
        headers: { 'content-type': 'application/json', 'x-amzn-errortype': error.code },
        body: JSON.stringify({ message: error.message }),
      };
    }
  }

  private knownEndpoint(name: string): AsyncEndpoint {
    const endpoint = this.endpoints.get(name);
    if (!endpoint) throw validationError(`Endpoint ${name} of account ${this.options.account} not found.`);
    return endpoint;
  }

  private invokeAsync(request: EdgeRequest, name: string): EdgeResponse {
    const parsed = parseAsyncInvoke(request, name);
    const endpoint = this.knownEndpoint(name);
    const { output, failure } = endpoint.config;
    // The object name is a fresh UUID, not the inference id (as observed on AWS).
    const id = randomUUID();
    const invocation: Invocation = {
      request: parsed,
      inferenceId: parsed.inferenceId ?? randomUUID(),
      receivedAt: this.options.clock.now(),
      output: { bucket: output.bucket, key: joinKey(output.prefix, parsed.outputPathExtension ?? '', parsed.filename ?? `${id}.out`) },
      failure: { bucket: failure.bucket, key: joinKey(failure.prefix, parsed.outputPathExtension ?? '', `${id}-error.out`) },
    };
    endpoint.enqueue(invocation);
    return {
      status: 202,
      headers: {
        'content-type': 'application/json',
        'x-amzn-sagemaker-outputlocation': s3Uri(invocation.output),
        'x-amzn-sagemaker-failurelocation': s3Uri(invocation.failure),
      },
      body: JSON.stringify({ InferenceId: invocation.inferenceId }),
    };
  }

  // ---- processing ----

  /** @internal One invocation, from input download to notification. */
  async process(endpoint: AsyncEndpoint, invocation: Invocation, abort: AbortController): Promise<void> {
    const { request } = invocation;
    let body: Buffer;
    if (request.input.kind === 'inline') body = request.input.body;
    else {
      const object = await this.options.objects.getObject(request.input.object.bucket, request.input.object.key).catch(() => undefined);
      if (this.closed) return;
      if (!object) {
        endpoint.window.downloadFailures++;
        const reason = failureReasons.inputDownload(request.input.location);
        return this.fail(endpoint, invocation, reason, Buffer.from(JSON.stringify({ message: reason })), 'application/json');
      }
      body = object.body;
    }

    const timeoutSeconds = request.invocationTimeoutSeconds;
    let timedOut = false;
    const cancelTimeout = this.options.clock.schedule(timeoutSeconds * 1000, () => {
      timedOut = true;
      abort.abort(new Error(`invocation timeout of ${timeoutSeconds} s`));
    });
    const headers: Record<string, string> = {};
    if (request.contentType !== undefined) headers['content-type'] = request.contentType;
    if (request.accept !== undefined) headers.accept = request.accept;
    if (request.customAttributes !== undefined) headers['x-amzn-sagemaker-custom-attributes'] = request.customAttributes;
    const started = performance.now();
    let response: { status: number; contentType: string; body: Buffer };
    try {
      const reply = await fetch(new URL('invocations', endpoint.config.modelUrl.replace(/\/?$/, '/')), {
        method: 'POST',
        headers,
        body,
        signal: abort.signal,
      });
      response = {
        status: reply.status,
        contentType: reply.headers.get('content-type') ?? 'application/octet-stream',
        body: Buffer.from(await reply.arrayBuffer()),
      };
    } catch (error) {
      if (this.closed) return;
      const reason = timedOut
        ? failureReasons.invocationTimeout(timeoutSeconds)
        : failureReasons.modelUnreachable(error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error));
      return this.fail(endpoint, invocation, reason, Buffer.from(JSON.stringify({ message: reason })), 'application/json');
    } finally {
      cancelTimeout();
    }
    if (this.closed) return;
    endpoint.window.modelLatencyMicros.push(Math.round((performance.now() - started) * 1000));

    if (response.status < 200 || response.status > 299) {
      const reason =
        response.status >= 500
          ? failureReasons.modelServerError(response.status)
          : failureReasons.modelClientError(response.status, response.body.toString('utf8').slice(0, 512));
      return this.fail(endpoint, invocation, reason, response.body, response.contentType);
    }
    try {
      await this.options.objects.putObject(invocation.output.bucket, invocation.output.key, response.body, response.contentType);
    } catch {
      endpoint.window.uploadFailures++;
      const reason = failureReasons.responseUpload(s3Uri(invocation.output));
      return this.fail(endpoint, invocation, reason, Buffer.from(JSON.stringify({ message: reason })), 'application/json');
    }
    endpoint.processed++;
    endpoint.window.processed++;
    const message = completedNotification(this.resultInput(endpoint, invocation), {
      contentType: response.contentType,
      outputLocation: s3Uri(invocation.output),
    });
    await this.notify(endpoint, endpoint.config.successTopicArn, JSON.stringify(message));
  }

  /** @internal Writes the failure object and publishes the error notification. */
  async fail(endpoint: AsyncEndpoint, invocation: Invocation, reason: string, body: Buffer, contentType: string): Promise<void> {
    endpoint.failed++;
    endpoint.window.failures++;
    this.log(`sagemaker: ${endpoint.config.name} inference ${invocation.inferenceId} failed: ${reason}`);
    try {
      await this.options.objects.putObject(invocation.failure.bucket, invocation.failure.key, body, contentType);
    } catch (error) {
      endpoint.window.uploadFailures++;
      this.log(`sagemaker: could not write ${s3Uri(invocation.failure)}: ${String(error)}`);
    }
    const message = failedNotification(this.resultInput(endpoint, invocation), reason, s3Uri(invocation.failure));
    await this.notify(endpoint, endpoint.config.errorTopicArn, JSON.stringify(message));
  }

  private resultInput(endpoint: AsyncEndpoint, invocation: Invocation): InferenceResultInput {
    const { request } = invocation;
    return {
      region: this.options.region,
      eventTime: this.options.clock.now(),
      receivedTime: invocation.receivedAt,
      endpointName: endpoint.config.name,
      inferenceId: invocation.inferenceId,
      ...(request.contentType !== undefined ? { contentType: request.contentType } : {}),
      ...(request.accept !== undefined ? { accept: request.accept } : {}),
      ...(request.input.kind === 'location' ? { inputLocation: request.input.location } : {}),
    };
  }

  private async notify(endpoint: AsyncEndpoint, topicArn: string, message: string): Promise<void> {
    if (topicArn === '' || this.closed) return;
    try {
      await this.options.topics.publish(topicArn, message);
    } catch (error) {
      endpoint.window.notificationFailures++;
      this.log(`sagemaker: could not publish to ${topicArn}: ${String(error)}`);
    }
  }

  // ---- metrics ----

  /** Publishes one period's metrics for every endpoint and starts a new period. */
  publishMetrics(): void {
    const now = this.options.clock.now();
    for (const endpoint of this.endpoints.values()) {
      const { name, variantName, maxConcurrentInvocationsPerInstance } = endpoint.config;
      const w = endpoint.window;
      endpoint.window = emptyWindow();
      const backlog = endpoint.queue.length + endpoint.running.size;
      const inService = endpoint.inService;
      const byEndpoint = { EndpointName: name };
      const byVariant = { EndpointName: name, VariantName: variantName };
      const datum = (metricName: string, dimensions: Record<string, string>, value: number, unit: string): MetricDatum => ({
        metricName,
        dimensions,
        value,
        unit,
        timestamp: now,
      });
      this.options.metrics.putMetricData(SAGEMAKER_NAMESPACE, [
        datum('ApproximateBacklogSize', byEndpoint, backlog, 'Count'),
        // With no instances the per-instance backlog is the whole backlog (AWS divides by at least one).
        datum('ApproximateBacklogSizePerInstance', byEndpoint, backlog / Math.max(1, inService), 'Count'),
        datum('ApproximateAgeOfOldestRequest', byEndpoint, endpoint.oldestAgeSeconds(now), 'Seconds'),
        datum('HasBacklogWithoutCapacity', byEndpoint, backlog > 0 && inService === 0 ? 1 : 0, 'Count'),
        datum('Invocations', byVariant, w.invocations, 'Count'),
        datum('InvocationsProcessed', byVariant, w.processed, 'Count'),
        // AWS's metric table spells it with three s's; it is UNVERIFIED which name CloudWatch carries.
        datum('InvocationsProcesssed', byVariant, w.processed, 'Count'),
        datum('InvocationFailures', byVariant, w.failures, 'Count'),
        datum('ExpiredRequests', byVariant, w.expired, 'Count'),
        datum('RequestDownloadFailures', byVariant, w.downloadFailures, 'Count'),
        datum('ResponseUploadFailures', byVariant, w.uploadFailures, 'Count'),
        datum('NotificationFailures', byVariant, w.notificationFailures, 'Count'),
        // A latency of zero would be a false sample, so ModelLatency is only sent for real invocations.
        ...w.modelLatencyMicros.map((us) => datum('ModelLatency', byVariant, us, 'Microseconds')),
      ]);
      // One CPU sample per in-service instance, so SampleCount over a minute is the instance count.
      const cpu = endpoint.instances
        .filter((i) => i.state === 'inService')
        .map((i) => datum('CPUUtilization', byVariant, (100 * i.busy) / maxConcurrentInvocationsPerInstance, 'Percent'));
      if (cpu.length > 0) this.options.metrics.putMetricData(INSTANCE_NAMESPACE, cpu);
    }
  }

  // ---- control plane (JSON 1.1) ----

  private describeEndpoint(input: Record<string, unknown>): unknown {
    const endpoint = this.endpoint(requiredString(input, 'EndpointName'));
    const { config } = endpoint;
    return {
      EndpointName: config.name,
      EndpointArn: this.endpointArn(config.name),
      EndpointConfigName: config.name,
      ProductionVariants: [
        {
          VariantName: config.variantName,
          CurrentWeight: 1,
          DesiredWeight: 1,
          CurrentInstanceCount: endpoint.inService,
          DesiredInstanceCount: endpoint.desired,
        },
      ],
      EndpointStatus: endpoint.status,
      CreationTime: endpoint.createdAt / 1000,
      LastModifiedTime: endpoint.modifiedAt / 1000,
      AsyncInferenceConfig: {
        ClientConfig: { MaxConcurrentInvocationsPerInstance: config.maxConcurrentInvocationsPerInstance },
        OutputConfig: {
          S3OutputPath: `s3://${config.output.bucket}/${config.output.prefix}`,
          S3FailurePath: `s3://${config.failure.bucket}/${config.failure.prefix}`,
          NotificationConfig: {
            ...(config.successTopicArn ? { SuccessTopic: config.successTopicArn } : {}),
            ...(config.errorTopicArn ? { ErrorTopic: config.errorTopicArn } : {}),
          },
        },
      },
    };
  }

  private listEndpoints(input: Record<string, unknown>): unknown {
    const nameContains = optionalString(input, 'NameContains');
    const status = optionalString(input, 'StatusEquals');
    const maxResults = input.MaxResults ?? 10;
    if (typeof maxResults !== 'number' || !Number.isInteger(maxResults) || maxResults < 1 || maxResults > 100) {
      throw new AwsServiceError('ValidationException', `1 validation error detected: Value '${String(maxResults)}' at 'maxResults' failed to satisfy constraint: Member must have value between 1 and 100`);
    }
    const start = Number(optionalString(input, 'NextToken') ?? '0');
    const matching = [...this.endpoints.values()]
      .filter((e) => nameContains === undefined || e.config.name.toLowerCase().includes(nameContains.toLowerCase()))
      .filter((e) => status === undefined || e.status === status)
      .sort((a, b) => b.createdAt - a.createdAt || a.config.name.localeCompare(b.config.name));
    const page = matching.slice(start, start + maxResults);
    return {
      Endpoints: page.map((e) => ({
        EndpointName: e.config.name,
        EndpointArn: this.endpointArn(e.config.name),
        CreationTime: e.createdAt / 1000,
        LastModifiedTime: e.modifiedAt / 1000,
        EndpointStatus: e.status,
      })),
      ...(start + maxResults < matching.length ? { NextToken: String(start + maxResults) } : {}),
    };
  }

  private updateWeightsAndCapacities(input: Record<string, unknown>): unknown {
    const name = requiredString(input, 'EndpointName');
    const endpoint = this.endpoint(name);
    const updates = input.DesiredWeightsAndCapacities;
    if (!Array.isArray(updates) || updates.length === 0) {
      throw new AwsServiceError('ValidationException', "1 validation error detected: Value at 'desiredWeightsAndCapacities' failed to satisfy constraint: Member must have length greater than or equal to 1");
    }
    // Validate every entry before applying any, so a bad request changes nothing.
    const changes = updates.map((update: unknown) => {
      const entry = (typeof update === 'object' && update !== null ? update : {}) as Record<string, unknown>;
      const variantName = requiredString(entry, 'VariantName');
      this.variant(name, variantName);
      const count = entry.DesiredInstanceCount;
      if (count !== undefined && (typeof count !== 'number' || !Number.isInteger(count) || count < 0)) {
        throw new AwsServiceError('ValidationException', `1 validation error detected: Value '${String(count)}' at 'desiredWeightsAndCapacities.1.member.desiredInstanceCount' failed to satisfy constraint: Member must have value greater than or equal to 0`);
      }
      return { variantName, count };
    });
    for (const { variantName, count } of changes) {
      if (typeof count === 'number') this.setDesiredInstanceCount(name, variantName, count);
    }
    return { EndpointArn: this.endpointArn(endpoint.config.name) };
  }
}

function decodePathLabel(label: string): string {
  try {
    return decodeURIComponent(label);
  } catch {
    throw validationError(`The endpoint name in the path is not valid percent-encoding: ${label}`);
  }
}

function requiredString(input: Record<string, unknown>, field: string): string {
  const value = input[field];
  if (typeof value !== 'string' || value === '') {
    throw new AwsServiceError('ValidationException', `1 validation error detected: Value null at '${field[0]?.toLowerCase()}${field.slice(1)}' failed to satisfy constraint: Member must not be null`);
  }
  return value;
}

function optionalString(input: Record<string, unknown>, field: string): string | undefined {
  const value = input[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new AwsServiceError('ValidationException', `${field} must be a string`);
  return value;
}
