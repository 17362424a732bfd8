/**
 * One asynchronous invocation, as the endpoint runs it: read the input (inline or from S3), POST it
 * to the model container's `/invocations`, write the response (or the error) object and publish
 * AWS's notification JSON to the success or error topic. Model errors are not retried, as on AWS.
 * Fault rules can fail the model (`model-error`) or lose the request (`lose`).
 */
import type { FaultInjector } from '../chaos/injector';
import type { Clock } from '../clock';
import type { ObjectStorePort, TopicPort } from '../ports';
import type { S3Object } from './invoke-request';
import type { AsyncEndpoint, Invocation } from './models';
import { completedNotification, failedNotification, failureReasons, type InferenceResultInput } from './notification';

export interface InvocationRunnerOptions {
  readonly region: string;
  readonly clock: Clock;
  readonly objects: ObjectStorePort;
  readonly topics: TopicPort;
  readonly log: (line: string) => void;
  /** True once the service is closing: nothing more is written or published. */
  readonly closed: () => boolean;
  /** `model-error` and `lose` faults, decided per inference (local/chaos). */
  readonly faults?: FaultInjector;
}

export const s3Uri = (o: S3Object): string => `s3://${o.bucket}/${o.key}`;

const jsonMessage = (reason: string): Buffer => Buffer.from(JSON.stringify({ message: reason }));

/** What a model server's 500 looks like (the Hugging Face inference toolkit's error body). */
const INJECTED_MODEL_ERROR = Buffer.from(JSON.stringify({ code: 500, type: 'InternalServerException', message: 'injected fault: the model server failed' }));

export class InvocationRunner {
  constructor(private readonly options: InvocationRunnerOptions) {}

  async process(endpoint: AsyncEndpoint, invocation: Invocation, abort: AbortController): Promise<void> {
    const { request } = invocation;
    const { clock, objects } = this.options;
    let body: Buffer;
    if (request.input.kind === 'inline') body = request.input.body;
    else {
      const object = await objects.getObject(request.input.object.bucket, request.input.object.key).catch(() => undefined);
      if (this.options.closed()) return;
      if (!object) {
        endpoint.window.downloadFailures++;
        const reason = failureReasons.inputDownload(request.input.location);
        return this.fail(endpoint, invocation, reason, jsonMessage(reason), 'application/json');
      }
      body = object.body;
    }

    const fault = this.options.faults?.active ? this.options.faults.inference(endpoint.config.name, invocation.inferenceId) : undefined;
    // A lost request ends here: no output, no notification, and nothing left for a restart to run.
    if (fault === 'lose') return;

    const timeoutSeconds = request.invocationTimeoutSeconds;
    let timedOut = false;
    const cancelTimeout = clock.schedule(timeoutSeconds * 1000, () => {
      timedOut = true;
      abort.abort(new Error(`invocation timeout of ${timeoutSeconds} s`));
    });
    const headers: Record<string, string> = {};
    if (request.contentType !== undefined) headers['content-type'] = request.contentType;
    if (request.accept !== undefined) headers.accept = request.accept;
    if (request.customAttributes !== undefined) headers['x-amzn-sagemaker-custom-attributes'] = request.customAttributes;
    // On the endpoint's clock, so a model paced by a test clock reports the latency it was paced at.
    const started = clock.now();
    let response: { status: number; contentType: string; body: Buffer };
    try {
      const reply = await fetch(new URL('invocations', endpoint.config.modelUrl.replace(/\/?$/, '/')), { method: 'POST', headers, body, signal: abort.signal });
      response = {
        status: reply.status,
        contentType: reply.headers.get('content-type') ?? 'application/octet-stream',
        body: Buffer.from(await reply.arrayBuffer()),
      };
    } catch (error) {
      if (this.options.closed()) return;
      const reason = timedOut
        ? failureReasons.invocationTimeout(timeoutSeconds)
        : failureReasons.modelUnreachable(error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error));
      return this.fail(endpoint, invocation, reason, jsonMessage(reason), 'application/json');
    } finally {
      cancelTimeout();
    }
    if (this.options.closed()) return;
    endpoint.window.modelLatencyMicros.push(Math.max(1, Math.round((clock.now() - started) * 1000)));
    // The model ran its course and then failed, as a Neuron runtime error surfaces: the server answers 500.
    if (fault === 'model-error') response = { status: 500, contentType: 'application/json', body: INJECTED_MODEL_ERROR };

    if (response.status < 200 || response.status > 299) {
      const reason =
        response.status >= 500
          ? failureReasons.modelServerError(response.status)
          : failureReasons.modelClientError(response.status, response.body.toString('utf8').slice(0, 512));
      return this.fail(endpoint, invocation, reason, response.body, response.contentType);
    }
    try {
      await objects.putObject(invocation.output.bucket, invocation.output.key, response.body, response.contentType);
    } catch {
      endpoint.window.uploadFailures++;
      const reason = failureReasons.responseUpload(s3Uri(invocation.output));
      return this.fail(endpoint, invocation, reason, jsonMessage(reason), 'application/json');
    }
    endpoint.processed++;
    endpoint.window.processed++;
    const message = completedNotification(this.resultInput(endpoint, invocation), { contentType: response.contentType, outputLocation: s3Uri(invocation.output) });
    await this.notify(endpoint, endpoint.config.successTopicArn, JSON.stringify(message));
  }

  /** A request that waited longer than its RequestTTLSeconds: it never reaches the model. */
  expired(endpoint: AsyncEndpoint, invocation: Invocation): Promise<void> {
    const reason = failureReasons.expired(invocation.request.requestTtlSeconds);
    return this.fail(endpoint, invocation, reason, jsonMessage(reason), 'application/json');
  }

  /** Writes the failure object and publishes the error notification. */
  async fail(endpoint: AsyncEndpoint, invocation: Invocation, reason: string, body: Buffer, contentType: string): Promise<void> {
    endpoint.failed++;
    endpoint.window.failures++;
    this.options.log(`sagemaker: ${endpoint.config.name} inference ${invocation.inferenceId} failed: ${reason}`);
    try {
      await this.options.objects.putObject(invocation.failure.bucket, invocation.failure.key, body, contentType);
    } catch (error) {
      endpoint.window.uploadFailures++;
      this.options.log(`sagemaker: could not write ${s3Uri(invocation.failure)}: ${String(error)}`);
    }
    const message = failedNotification(this.resultInput(endpoint, invocation), reason, s3Uri(invocation.failure));
    await this.notify(endpoint, endpoint.config.errorTopicArn, JSON.stringify(message));
  }

  /** Publishes to a topic of the endpoint; an empty ARN means the topic is not configured. */
  async notify(endpoint: AsyncEndpoint, topicArn: string, message: string): Promise<void> {
    if (topicArn === '' || this.options.closed()) return;
    try {
      await this.options.topics.publish(topicArn, message);
    } catch (error) {
      endpoint.window.notificationFailures++;
      this.options.log(`sagemaker: could not publish to ${topicArn}: ${String(error)}`);
    }
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
}
