/**
 * An emulated SageMaker asynchronous endpoint service: the endpoints of the topology (models.ts),
 * their wire operations (provider.ts), the invocations they run (processing.ts) and the metrics they
 * publish every whole minute of the clock, late (metrics.ts).
 *
 * Each endpoint has a queue served by in-service instances × MaxConcurrentInvocationsPerInstance
 * slots. As on AWS, a TestNotification goes to both notification topics when the endpoint is created
 * (each start of the local cloud counts as a deployment) and after every capacity change.
 *
 * An accepted request is in the store (store.ts) before the 202 and until its notification is
 * published; a restart runs every request still there again, queued or in flight when the previous
 * process stopped, under its InferenceId and with its output and failure keys.
 */
import type { FaultInjector } from '../chaos/injector';
import type { Clock } from '../clock';
import { AwsServiceError } from '../edge/errors';
import type { ServiceHandler } from '../edge/types';
import type { EndpointCapacityPort, MetricsPort, ObjectStorePort, TopicPort } from '../ports';
import { LocalDatabase } from '../shared/database';
import { closeMinute, DEFAULT_METRICS_LAG_SECONDS, METRICS_PERIOD_MS, nextMinute } from './metrics';
import { AsyncEndpoint, type AsyncEndpointConfig, type EndpointHost, type Invocation } from './models';
import { testNotification } from './notification';
import { InvocationRunner } from './processing';
import { sagemakerHandler, type SageMakerDomain } from './provider';
import { SqliteEndpointStore, type EndpointStore } from './store';

export type { AsyncEndpointConfig } from './models';
export { INSTANCE_NAMESPACE, METRICS_PERIOD_MS, SAGEMAKER_NAMESPACE } from './metrics';

export interface SageMakerServiceOptions {
  readonly region: string;
  readonly account: string;
  readonly clock: Clock;
  readonly endpoints: readonly AsyncEndpointConfig[];
  readonly objects: ObjectStorePort;
  readonly topics: TopicPort;
  readonly metrics: MetricsPort;
  /** Seconds after a minute closes before its datapoints are readable. @default DEFAULT_METRICS_LAG_SECONDS */
  readonly metricsLagSeconds?: number;
  readonly log?: (line: string) => void;
  /** Where accepted requests are kept until their notification. @default a private in-memory database */
  readonly database?: LocalDatabase;
  /** `model-error` and `lose` faults on each inference. */
  readonly faults?: FaultInjector;
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

export class SageMakerService implements EndpointCapacityPort {
  readonly handler: ServiceHandler;
  private isClosed = false;
  private started = false;
  private readonly endpoints = new Map<string, AsyncEndpoint>();
  private readonly background = new Set<Promise<void>>();
  private readonly timers = new Set<() => void>();
  private readonly runner: InvocationRunner;
  private readonly store: EndpointStore;
  private readonly resumable = new Map<AsyncEndpoint, readonly Invocation[]>();

  constructor(private readonly options: SageMakerServiceOptions) {
    this.store = new SqliteEndpointStore(options.database ?? LocalDatabase.open(undefined));
    const lag = options.metricsLagSeconds ?? DEFAULT_METRICS_LAG_SECONDS;
    if (!Number.isFinite(lag) || lag < 0) throw new RangeError(`metricsLagSeconds must be a number ≥ 0, got ${lag}`);
    this.runner = new InvocationRunner({
      region: options.region,
      clock: options.clock,
      objects: options.objects,
      topics: options.topics,
      log: (line) => this.log(line),
      closed: () => this.isClosed,
      ...(options.faults ? { faults: options.faults } : {}),
    });
    const host: EndpointHost = {
      closed: () => this.isClosed,
      log: (line) => this.log(line),
      // Finished once its notification is out; work cut short by close() stays owed for the next start.
      process: (endpoint, invocation, abort) => this.runner.process(endpoint, invocation, abort).then(() => this.finish(invocation)),
      expire: (endpoint, invocation) => this.track(this.runner.expired(endpoint, invocation).then(() => this.finish(invocation))),
    };
    for (const config of options.endpoints) {
      if (!Number.isInteger(config.maxConcurrentInvocationsPerInstance) || config.maxConcurrentInvocationsPerInstance < 1 || config.maxConcurrentInvocationsPerInstance > 1000) {
        throw new RangeError(`endpoint ${config.name}: maxConcurrentInvocationsPerInstance must be an integer 1-1000`);
      }
      if (!Number.isInteger(config.initialInstanceCount) || config.initialInstanceCount < 0) {
        throw new RangeError(`endpoint ${config.name}: initialInstanceCount must be a non-negative integer`);
      }
      const endpoint = new AsyncEndpoint(config, host, options.clock);
      this.endpoints.set(config.name, endpoint);
      // What the previous process left, read before anything new is accepted.
      this.resumable.set(endpoint, this.store.pending(config.name));
    }
    const domain: SageMakerDomain = {
      account: options.account,
      now: () => options.clock.now(),
      endpointArn: (name) => this.endpointArn(name),
      endpoints: () => [...this.endpoints.values()].sort((a, b) => b.createdAt - a.createdAt || a.config.name.localeCompare(b.config.name)),
      endpoint: (name) => this.endpoint(name),
      variant: (endpointName, variantName) => this.variant(endpointName, variantName),
      setDesiredInstanceCount: (endpointName, variantName, desired) => this.setDesiredInstanceCount(endpointName, variantName, desired),
      accept: (endpoint, invocation) => {
        this.store.accept(invocation);
        endpoint.enqueue(invocation);
      },
    };
    this.handler = sagemakerHandler(domain);
  }

  /**
   * The endpoints come up as after CreateEndpoint: test notifications, the requests the previous
   * process accepted and did not finish queued again, then a metrics minute every whole minute.
   */
  start(): void {
    if (this.started || this.isClosed) return;
    this.started = true;
    for (const endpoint of this.endpoints.values()) {
      this.sendTestNotifications(endpoint);
      const pending = this.resumable.get(endpoint) ?? [];
      if (pending.length > 0) this.log(`sagemaker: ${endpoint.config.name} resumes ${pending.length} accepted request(s)`);
      for (const invocation of pending) endpoint.enqueue(invocation);
    }
    const lagMs = (this.options.metricsLagSeconds ?? DEFAULT_METRICS_LAG_SECONDS) * 1000;
    const tick = (minuteEnd: number): void => {
      for (const endpoint of this.endpoints.values()) {
        const batches = closeMinute(endpoint, minuteEnd);
        this.later(lagMs, () => {
          for (const { namespace, data } of batches) this.options.metrics.putMetricData(namespace, data);
        });
      }
      this.later(minuteEnd + METRICS_PERIOD_MS - this.options.clock.now(), () => tick(minuteEnd + METRICS_PERIOD_MS));
    };
    const first = nextMinute(this.options.clock.now());
    this.later(first - this.options.clock.now(), () => tick(first));
  }

  /** Stops metrics and timers, aborts in-flight invocations (they publish nothing) and waits for them. */
  async close(): Promise<void> {
    this.isClosed = true;
    for (const cancel of this.timers) cancel();
    this.timers.clear();
    const pending: Promise<void>[] = [...this.background];
    for (const endpoint of this.endpoints.values()) pending.push(...endpoint.stop(new Error('endpoint closed')));
    await Promise.allSettled(pending);
  }

  getCapacity(endpointName: string, variantName: string): { current: number; desired: number } {
    const endpoint = this.variant(endpointName, variantName);
    return { current: endpoint.inService, desired: endpoint.desired };
  }

  /** UpdateEndpointWeightsAndCapacities, as Application Auto Scaling calls it: SageMaker then sends a TestNotification. */
  setDesiredInstanceCount(endpointName: string, variantName: string, desired: number): void {
    const endpoint = this.variant(endpointName, variantName);
    if (!Number.isInteger(desired) || desired < 0) {
      throw new AwsServiceError('ValidationException', `DesiredInstanceCount must be an integer greater than or equal to 0, got ${desired}.`);
    }
    endpoint.setDesired(desired);
    this.sendTestNotifications(endpoint);
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

  private finish(invocation: Invocation): void {
    if (!this.isClosed) this.store.finish(invocation);
  }

  private log(line: string): void {
    this.options.log?.(line);
  }

  /** Keeps background work (queue expiry, notifications) awaited by `close()`. */
  private track(work: Promise<void>): void {
    const tracked = work.catch((error: unknown) => this.log(`sagemaker: ${String(error)}`)).finally(() => this.background.delete(tracked));
    this.background.add(tracked);
  }

  private later(ms: number, fn: () => void): void {
    if (this.isClosed) return;
    if (ms <= 0) return fn();
    const cancel = this.options.clock.schedule(ms, () => {
      this.timers.delete(cancel);
      fn();
    });
    this.timers.add(cancel);
  }

  private sendTestNotifications(endpoint: AsyncEndpoint): void {
    const message = JSON.stringify(testNotification());
    for (const topicArn of new Set([endpoint.config.successTopicArn, endpoint.config.errorTopicArn])) {
      this.track(this.runner.notify(endpoint, topicArn, message));
    }
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
}

export type { Invocation };
