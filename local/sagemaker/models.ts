/**
 * The domain of an emulated asynchronous endpoint: its instances (starting, in service, draining),
 * its queue, the invocations running on it, and the counters of the metrics minute under way.
 */
import type { Clock } from '../clock';
import type { AsyncInvokeRequest, S3Object } from './invoke-request';

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

export interface Instance {
  readonly id: number;
  state: 'pending' | 'inService';
  busy: number;
  /** Scaled in while busy: takes no new work and leaves when idle. */
  draining: boolean;
  cancelStartup?: () => void;
}

export interface Invocation {
  /** The name of its output objects, chosen when it was accepted: the key it is kept under. */
  readonly id: string;
  readonly request: AsyncInvokeRequest;
  readonly inferenceId: string;
  readonly receivedAt: number;
  readonly output: S3Object;
  readonly failure: S3Object;
  cancelTtl?: () => void;
}

/** What happened on the endpoint during one metrics minute. */
export interface MetricsWindow {
  processed: number;
  failures: number;
  expired: number;
  downloadFailures: number;
  uploadFailures: number;
  notificationFailures: number;
  modelLatencyMicros: number[];
}

export const emptyWindow = (): MetricsWindow => ({
  processed: 0,
  failures: 0,
  expired: 0,
  downloadFailures: 0,
  uploadFailures: 0,
  notificationFailures: 0,
  modelLatencyMicros: [],
});

/** What an endpoint needs from the service that runs it. */
export interface EndpointHost {
  /** True once the service is closing: nothing more is started. */
  closed(): boolean;
  log(line: string): void;
  /** Runs one invocation on an instance slot, from input download to notification. */
  process(endpoint: AsyncEndpoint, invocation: Invocation, abort: AbortController): Promise<void>;
  /** A request that waited past its RequestTTLSeconds: fails it without running it. */
  expire(endpoint: AsyncEndpoint, invocation: Invocation): void;
}

export class AsyncEndpoint {
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
    private readonly host: EndpointHost,
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
        this.host.log(`sagemaker: ${this.config.name} instance ${instance.id} InService`);
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

  /** Queues a request; its RequestTTLSeconds count from when it was received (before a restart, too). */
  enqueue(invocation: Invocation): void {
    const ttlLeft = invocation.receivedAt + invocation.request.requestTtlSeconds * 1000 - this.clock.now();
    if (ttlLeft <= 0) return this.expire(invocation);
    this.queue.push(invocation);
    invocation.cancelTtl = this.clock.schedule(ttlLeft, () => {
      const index = this.queue.indexOf(invocation);
      if (index < 0) return;
      this.queue.splice(index, 1);
      this.expire(invocation);
    });
    this.pump();
  }

  private expire(invocation: Invocation): void {
    this.window.expired++;
    this.host.expire(this, invocation);
  }

  /** Starts queued invocations on free instance slots, least busy instance first. */
  pump(): void {
    while (this.queue.length > 0 && !this.host.closed()) {
      const free = this.instances
        .filter((i) => i.state === 'inService' && !i.draining && i.busy < this.config.maxConcurrentInvocationsPerInstance)
        .sort((a, b) => a.busy - b.busy || a.id - b.id)[0];
      if (!free) return;
      const invocation = this.queue.shift() as Invocation;
      invocation.cancelTtl?.();
      free.busy++;
      const abort = new AbortController();
      const done = this.host
        .process(this, invocation, abort)
        .catch((error: unknown) => this.host.log(`sagemaker: ${this.config.name} ${invocation.inferenceId}: ${String(error)}`))
        .finally(() => {
          this.running.delete(invocation);
          free.busy--;
          this.releaseIfIdle(free);
          this.pump();
        });
      this.running.set(invocation, { abort, done });
    }
  }

  /** Requests waiting or being processed: AWS's ApproximateBacklogSize counts both. */
  get backlog(): number {
    return this.queue.length + this.running.size;
  }

  /** Age of the oldest request waiting or being processed. */
  oldestAgeSeconds(now: number): number {
    const times = [...this.queue, ...this.running.keys()].map((i) => i.receivedAt);
    return times.length === 0 ? 0 : (now - Math.min(...times)) / 1000;
  }

  /** Cancels timers and aborts running invocations; resolves the list of work to wait for. */
  stop(reason: Error): Promise<void>[] {
    for (const instance of this.instances) instance.cancelStartup?.();
    for (const invocation of this.queue) invocation.cancelTtl?.();
    this.queue.length = 0;
    const pending: Promise<void>[] = [];
    for (const { abort, done } of this.running.values()) {
      abort.abort(reason);
      pending.push(done);
    }
    return pending;
  }

  private releaseIfIdle(instance: Instance): void {
    if (instance.draining && instance.busy === 0) {
      this.instances.splice(this.instances.indexOf(instance), 1);
    }
  }
}
