/**
 * Discrete-event simulation of an async endpoint under a scaling policy: requests arrive (trace),
 * hit the cache or queue FIFO, expire after the request TTL, run on instances (start-up delay,
 * concurrency per instance, inference time around the mean). Each minute closes into the endpoint's
 * metrics, which the alarms read late, as the stack produces them (signal.ts), and the policy changes
 * the desired count within cooldowns and [min, max]. While instances start or drain (the endpoint is
 * Updating) no other scaling activity can run, as on SageMaker. Instances are billed from launch
 * until terminated (a scaled-in busy instance finishes its in-flight work first).
 */
import { PolicyController } from './controller';
import { SimulationInputError } from './errors';
import { EventHeap } from './heap';
import type { PolicySpec } from './policies';
import { Prng } from './prng';
import { integrateTimeline, percentile, sortedDefined, type CapacityPoint, type PeriodRecord, type ScalingDecision, type SimulationResult } from './results';
import { MetricSignal, PERIOD_SECONDS, type MinuteRecord } from './signal';
import type { Trace } from './trace';

export type { CapacityPoint, PeriodRecord, ScalingDecision, SimulationResult } from './results';
export { integrateTimeline, percentile } from './results';
export { stepFor } from './controller';

export { PERIOD_SECONDS } from './signal';

export interface SimulationConfig {
  readonly instanceType: string;
  readonly pricePerHour: number;
  /** Mean inference time per image. */
  readonly secondsPerImage: number;
  /** Standard deviation of the inference time, as a fraction of the mean. */
  readonly inferenceSpread: number;
  readonly concurrencyPerInstance: number;
  readonly startupSeconds: number;
  readonly cacheHitRatio: number;
  /** Latency of a cache hit (workflow start to result event). */
  readonly hitLatencySeconds: number;
  /** SageMaker RequestTTLSeconds: a request still queued after this long expires. */
  readonly ttlSeconds: number;
  readonly initialInstances: number;
  /** Bounds when the policy sets none. */
  readonly minCapacity: number;
  readonly maxCapacity: number;
  /** How long after a minute closes the endpoint's SageMaker metrics become readable. */
  readonly metricsLagSeconds: number;
  /** Where in each minute publish-utilization runs (seconds after the whole minute). */
  readonly evaluationOffsetSeconds: number;
  /**
   * How long after publish-utilization's run the alarms are evaluated (under a minute): they read
   * its datapoint in the same minute, where a longer delay that wraps past the next run does not.
   */
  readonly alarmDelaySeconds: number;
  readonly sloSeconds: number;
  readonly seed: number;
  /**
   * With initial instances: they were already serving the first minute's rate before the trace
   * began, so the first minutes' metrics describe that (not an idle endpoint) until real ones land.
   */
  readonly warmHistory: boolean;
}

interface Instance {
  readonly id: number;
  state: 'pending' | 'inService' | 'draining' | 'terminated';
  busy: number;
}

type SimEvent =
  | { at: number; seq: number; kind: 'second'; second: number }
  | { at: number; seq: number; kind: 'arrival'; request: number }
  | { at: number; seq: number; kind: 'complete'; instance: Instance; request: number; started: number }
  | { at: number; seq: number; kind: 'ready'; instance: Instance }
  | { at: number; seq: number; kind: 'periodEnd'; period: number }
  | { at: number; seq: number; kind: 'publish'; minute: number }
  | { at: number; seq: number; kind: 'alarms' }
  | { at: number; seq: number; kind: 'scheduled'; action: PolicySpec['scheduledActions'][number] };

type EventInit = SimEvent extends infer E ? (E extends SimEvent ? Omit<E, 'seq'> : never) : never;

export function validateConfig(config: SimulationConfig): void {
  const check = (field: keyof SimulationConfig, min: number, max: number, integer = false) => {
    const value = config[field] as number;
    if (!Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
      throw new SimulationInputError(`${field} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max} (got ${value})`);
    }
  };
  check('pricePerHour', 0, 1000);
  check('secondsPerImage', 0.01, 3600);
  check('inferenceSpread', 0, 1);
  check('concurrencyPerInstance', 1, 1000, true);
  check('startupSeconds', 0, 3600);
  check('cacheHitRatio', 0, 1);
  check('hitLatencySeconds', 0, 60);
  check('ttlSeconds', 60, 21600);
  check('initialInstances', 0, 10_000, true);
  check('minCapacity', 0, 10_000, true);
  check('maxCapacity', 0, 10_000, true);
  check('metricsLagSeconds', 0, 600);
  check('evaluationOffsetSeconds', 0, 59.999);
  check('alarmDelaySeconds', 0, 59.999);
  check('sloSeconds', 0.001, 86_400);
  check('seed', 0, 2 ** 32 - 1, true);
  if (typeof config.warmHistory !== 'boolean') throw new SimulationInputError(`warmHistory must be true or false (got ${String(config.warmHistory)})`);
}

export function simulate(trace: Trace, policy: PolicySpec, config: SimulationConfig): SimulationResult {
  validateConfig(config);
  const rng = new Prng(config.seed);
  const totalRequests = trace.reduce((a, b) => a + b, 0);
  const arrivals = new Float64Array(totalRequests);
  const latencies = new Float64Array(totalRequests).fill(NaN);
  const waits = new Float64Array(totalRequests).fill(NaN);
  const heap = new EventHeap<SimEvent>();
  let seq = 0;
  const push = (event: EventInit) => heap.push({ ...event, seq: seq++ } as SimEvent);

  let minCapacity = policy.minCapacity ?? config.minCapacity;
  let maxCapacity = policy.maxCapacity ?? config.maxCapacity;
  const clamp = (n: number) => Math.min(maxCapacity, Math.max(minCapacity, n));

  // Queue of request ids (FIFO; the TTL is uniform, so the oldest always expires first).
  const queue = new Int32Array(totalRequests);
  let qHead = 0;
  let qTail = 0;
  let nextRequest = 0;
  let inFlight = 0;
  let completed = 0;
  let hits = 0;
  let expired = 0;

  const instances: Instance[] = [];
  const free = new Set<Instance>();
  let desired = 0;
  let billed = 0;
  let inService = 0;
  const timeline: CapacityPoint[] = [];
  let now = 0;
  const record = () => {
    const last = timeline[timeline.length - 1];
    const point = { at: now, billed, inService, desired };
    if (last && last.at === now) timeline[timeline.length - 1] = point;
    else if (!last || last.billed !== billed || last.inService !== inService || last.desired !== desired) timeline.push(point);
  };

  // Per-period accumulators.
  const periods: PeriodRecord[] = [];
  const signal = new MetricSignal(policy, config, priorMinute(trace, config));
  // Scaled in while busy: no new work, still in service for DescribeEndpoint and CPUUtilization.
  let draining = 0;
  let acc = { arrivals: 0, inferences: 0, latencySum: 0, busySeconds: 0, slotSeconds: 0, billedSeconds: 0 };
  let lastT = 0;
  const integrate = (t: number) => {
    const dt = t - lastT;
    if (dt > 0) {
      acc.busySeconds += inFlight * dt;
      acc.slotSeconds += inService * config.concurrencyPerInstance * dt;
      acc.billedSeconds += billed * dt;
      lastT = t;
    }
  };

  const decisions: ScalingDecision[] = [];
  const controller = new PolicyController(policy);

  const setDesired = (target: number, reason: string) => {
    const next = clamp(target);
    if (next === desired) return desired;
    decisions.push({ at: now, from: desired, to: next, reason });
    if (next > desired) {
      for (let i = desired; i < next; i++) {
        const instance: Instance = { id: instances.length, state: 'pending', busy: 0 };
        instances.push(instance);
        billed++;
        push({ at: now + config.startupSeconds, kind: 'ready', instance });
      }
    } else {
      let remove = desired - next;
      // Pending instances go first (newest first), then idle ones, then the least busy drain.
      const active = instances.filter((i) => i.state === 'pending' || i.state === 'inService');
      active.sort((a, b) => rank(a) - rank(b) || b.id - a.id);
      for (const instance of active) {
        if (remove-- <= 0) break;
        if (instance.state === 'inService') {
          inService--;
          free.delete(instance);
        }
        if (instance.busy === 0) {
          instance.state = 'terminated';
          billed--;
        } else {
          // Only an instance in service can be busy.
          instance.state = 'draining';
          draining++;
        }
      }
    }
    desired = next;
    record();
    return desired;
  };

  const expire = () => {
    while (qHead < qTail) {
      const id = queue[qHead] as number;
      if (now - (arrivals[id] as number) < config.ttlSeconds) break;
      qHead++;
      expired++;
    }
  };

  const dispatch = () => {
    expire();
    while (qHead < qTail && free.size > 0) {
      const instance = free.values().next().value as Instance;
      const id = queue[qHead++] as number;
      instance.busy++;
      inFlight++;
      waits[id] = now - (arrivals[id] as number);
      if (instance.busy >= config.concurrencyPerInstance) free.delete(instance);
      const duration = Math.max(config.secondsPerImage * 0.25, config.secondsPerImage * (1 + config.inferenceSpread * rng.normal()));
      push({ at: now + duration, kind: 'complete', instance, request: id, started: now });
    }
  };

  let inferencesArrived = 0;

  desired = 0;
  record();
  setDesired(config.initialInstances, 'initial instance count');
  for (const instance of instances) {
    instance.state = 'inService';
    inService++;
    free.add(instance);
  }
  decisions.length = 0;
  record();
  const traceEnd = trace.length;
  for (const action of policy.scheduledActions) if (action.atSecond < traceEnd) push({ at: action.atSecond, kind: 'scheduled', action });
  push({ at: 0, kind: 'second', second: 0 });
  // A minute closes before the publisher or the alarms at the same instant read it, and the
  // publisher runs before alarms at the same instant.
  push({ at: PERIOD_SECONDS, kind: 'periodEnd', period: 0 });
  push({ at: config.evaluationOffsetSeconds, kind: 'publish', minute: 0 });
  push({ at: config.evaluationOffsetSeconds + config.alarmDelaySeconds, kind: 'alarms' });

  const done = () => now >= traceEnd && qHead >= qTail && inFlight === 0;
  for (let event = heap.pop(); event; event = heap.pop()) {
    integrate(event.at);
    now = event.at;
    switch (event.kind) {
      case 'second': {
        const count = trace[event.second] ?? 0;
        const times: number[] = [];
        for (let i = 0; i < count; i++) times.push(event.second + rng.next());
        times.sort((a, b) => a - b);
        for (const at of times) {
          const id = nextRequest++;
          arrivals[id] = at;
          push({ at, kind: 'arrival', request: id });
        }
        if (event.second + 1 < traceEnd) push({ at: event.second + 1, kind: 'second', second: event.second + 1 });
        break;
      }
      case 'arrival':
        acc.arrivals++;
        if (rng.next() < config.cacheHitRatio) {
          hits++;
          completed++;
          latencies[event.request] = config.hitLatencySeconds;
        } else {
          inferencesArrived++;
          queue[qTail++] = event.request;
          dispatch();
        }
        break;
      case 'complete': {
        const { instance } = event;
        instance.busy--;
        inFlight--;
        completed++;
        acc.inferences++;
        acc.latencySum += now - event.started;
        latencies[event.request] = now - (arrivals[event.request] as number);
        if (instance.state === 'draining' && instance.busy === 0) {
          instance.state = 'terminated';
          billed--;
          draining--;
          record();
        } else if (instance.state === 'inService') free.add(instance);
        dispatch();
        break;
      }
      case 'ready':
        if (event.instance.state !== 'pending') break;
        event.instance.state = 'inService';
        inService++;
        free.add(event.instance);
        record();
        dispatch();
        break;
      case 'periodEnd': {
        expire();
        const backlog = qTail - qHead + inFlight;
        signal.closeMinute({ arrivals: inferencesArrived, backlog, instances: inService + draining, latencySeconds: acc.inferences > 0 ? acc.latencySum / acc.inferences : undefined });
        periods.push({
          start: event.period * PERIOD_SECONDS,
          arrivals: acc.arrivals,
          inferences: acc.inferences,
          backlog,
          inService,
          billed: acc.billedSeconds / PERIOD_SECONDS,
          busyShare: acc.slotSeconds > 0 ? acc.busySeconds / acc.slotSeconds : undefined,
          metric: undefined,
        });
        acc = { arrivals: 0, inferences: 0, latencySum: 0, busySeconds: 0, slotSeconds: 0, billedSeconds: 0 };
        inferencesArrived = 0;
        if (!done()) push({ at: now + PERIOD_SECONDS, kind: 'periodEnd', period: event.period + 1 });
        break;
      }
      case 'publish':
        signal.publish(event.minute, now, inService + draining, desired);
        if (!done()) push({ at: now + PERIOD_SECONDS, kind: 'publish', minute: event.minute + 1 });
        break;
      case 'alarms':
        controller.evaluate({ now, desired, updating: inService + draining !== desired, ...signal.view(now) }, setDesired);
        if (!done()) push({ at: now + PERIOD_SECONDS, kind: 'alarms' });
        break;
      case 'scheduled': {
        const { action } = event;
        minCapacity = action.minCapacity;
        maxCapacity = action.maxCapacity;
        const before = desired;
        setDesired(desired, `scheduled action ${action.name} (min ${action.minCapacity}, max ${action.maxCapacity})`);
        if (desired > before) controller.scaledOut(now, before);
        break;
      }
    }
  }
  // Billing stops when the simulation ends; the last partial period is already integrated.
  const end = Math.max(now, traceEnd);
  integrate(end);
  now = end;
  record();
  // A minute's datapoint is published minutes after it closes: attach each once the run is over.
  const charted = periods.map((p, i) => ({ ...p, metric: signal.metricAt(i) }));

  const delivered = sortedDefined(latencies);
  const waited = sortedDefined(waits);
  const instanceHours = integrateTimeline(timeline, end) / 3600;
  const cost = instanceHours * config.pricePerHour;
  let onTime = 0;
  for (const v of delivered) if (v <= config.sloSeconds) onTime++;
  return {
    policy: policy.name,
    requests: totalRequests,
    completed,
    hits,
    expired,
    p50_s: percentile(delivered, 0.5),
    p95_s: percentile(delivered, 0.95),
    p99_s: percentile(delivered, 0.99),
    wait_p50_s: percentile(waited, 0.5),
    wait_p95_s: percentile(waited, 0.95),
    wait_p99_s: percentile(waited, 0.99),
    slo_seconds: config.sloSeconds,
    slo_attainment: totalRequests === 0 ? 1 : onTime / totalRequests,
    instance_hours: instanceHours,
    cost_usd: cost,
    cost_per_image_usd: completed === 0 ? null : cost / completed,
    peak_instances: Math.max(...timeline.map((p) => p.billed)),
    scaling_actions: decisions.length,
    duration_s: end,
    decisions,
    periods: charted,
    timeline,
    arrivals,
    latencies,
    waits,
  };
}

/** The steady minute before the trace of a warm endpoint: the first minute's inferences, all in flight. */
function priorMinute(trace: Trace, config: SimulationConfig): MinuteRecord | undefined {
  if (!config.warmHistory || config.initialInstances === 0) return undefined;
  const arrivals = trace.slice(0, PERIOD_SECONDS).reduce((a, b) => a + b, 0) * (1 - config.cacheHitRatio);
  const inFlight = Math.min((arrivals / PERIOD_SECONDS) * config.secondsPerImage, config.initialInstances * config.concurrencyPerInstance);
  return { arrivals: Math.round(arrivals), backlog: Math.round(inFlight), instances: config.initialInstances, latencySeconds: config.secondsPerImage };
}

function rank(instance: Instance): number {
  if (instance.state === 'pending') return -1;
  return instance.busy;
}
