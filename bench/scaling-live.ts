/**
 * Simulator ⇔ live: one short trace through the local cloud (the real autoscaler, the scheduled
 * publish-utilization function, the emulated endpoint with a short start-up and the stand-in model)
 * and through the simulator with the same parameters; instance-minutes and p95 latency side by side.
 * It runs in real time (the functions and the stand-in read the wall clock): ≈ 14 minutes. The trace
 * starts on a whole minute, as the simulator's minutes do, and the simulator evaluates at the same
 * second of each minute as the live autoscaler, whose schedule starts with the local cloud.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { SFNClient } from '@aws-sdk/client-sfn';
import { defaultSimulationConfig } from '../local/cli/simulate';
import { followExecutions } from '../local/cli/follow';
import { LocalCloud } from '../local/cloud';
import { simulate } from '../local/simulate/engine';
import { loadPolicy } from '../local/simulate/policies';
import { Prng } from '../local/simulate/prng';
import { integrateTimeline, percentile } from '../local/simulate/results';
import { DEFAULT_METRICS_LAG_SECONDS } from '../local/sagemaker/metrics';
import { ARRIVALS_METRIC } from '../topology/imagegen-topology';

export interface LiveComparison {
  readonly trace: string;
  readonly parameters: Record<string, number>;
  readonly live: { requests: number; succeeded: number; instanceMinutes: number; p95S: number | null; peak: number; decisions: string[] };
  readonly simulated: { requests: number; completed: number; instanceMinutes: number; p95S: number | null; peak: number; decisions: string[] };
  readonly instanceMinutesRatio: number;
  readonly p95Ratio: number | null;
  readonly goal: string;
  /** What the live publisher's inputs held over the run, so a gap is named rather than guessed. */
  readonly liveInputs: { arrivalsDatapoints: number; backlogDatapoints: number; utilizationMax: number | null; simulatedUtilizationMax: number | null };
}

const INFERENCE_MS = 6000;
const STARTUP_SECONDS = 60;
/** Requests per second: quiet, a 6-minute rise that needs more instances, quiet again, then nothing. */
const SHAPE: readonly [seconds: number, rate: number][] = [
  [90, 0.5],
  [300, 4],
  [120, 0.5],
];
/** Both sides are billed over the trace and this long after it. */
const TAIL_SECONDS = 240;

export async function benchScalingLive(seed = 1): Promise<LiveComparison> {
  const rng = new Prng(seed);
  const trace = SHAPE.flatMap(([seconds, rate]) => Array.from({ length: seconds }, () => rng.poisson(rate)));
  const dataDir = mkdtempSync(join(tmpdir(), 'imagegen-bench-scaling-'));
  const log: string[] = [];
  const cloud = await LocalCloud.start({ port: 0, dataDir, standIn: { inferenceMs: INFERENCE_MS }, instanceStartupSeconds: STARTUP_SECONDS, log: (line) => log.push(line) });
  // The publisher's schedule runs every minute from the cloud's start, at this second of each minute;
  // the autoscaler evaluates ALARM_EVALUATION_DELAY_SECONDS after it (the simulator's default delay).
  const evaluationOffsetSeconds = (Date.now() % 60_000) / 1000;
  const config = { endpoint: cloud.url, region: cloud.partition.region, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };
  const events = new EventBridgeClient(config);
  const sfn = new SFNClient(config);
  const endpoint = cloud.topology.endpoints[0]!;
  const capacity = () => cloud.services.sagemaker.getCapacity(endpoint.name, endpoint.variantName);
  const initial = capacity().desired;
  // Instances that exist (starting, in service or draining) are billed.
  const billedNow = () => {
    const { inService, pending } = cloud.services.sagemaker.stats(endpoint.name).instances;
    return inService + pending;
  };
  try {
    await new Promise((r) => setTimeout(r, 60_000 - (Date.now() % 60_000)));
    const started = Date.now();
    const since = new Date(started - 1000);
    const sent: { eventId: string; at: number }[] = [];
    let instanceSeconds = 0;
    let peak = initial;
    // One tick a second: that second's requests go out spread over it; the billed count is sampled.
    const end = trace.length;
    for (let second = 0; ; second++) {
      const due = started + second * 1000;
      await new Promise((r) => setTimeout(r, Math.max(0, due - Date.now())));
      const billed = billedNow();
      instanceSeconds += billed;
      peak = Math.max(peak, billed);
      if (second < end) {
        const count = trace[second] ?? 0;
        for (let i = 0; i < count; i++) {
          const at = Date.now();
          const result = await events.send(
            new PutEventsCommand({ Entries: [{ EventBusName: 'imagegen', Source: 'bench', DetailType: 'Image Generation Requested', Detail: JSON.stringify({ requestId: `live-${seed}-${second}-${i}`, prompt: `scaling bench ${second} ${i}`, seed: second * 100 + i }) }] }),
          );
          const eventId = result.Entries?.[0]?.EventId;
          if (eventId) sent.push({ eventId, at });
        }
      }
      if (second + 1 >= end + TAIL_SECONDS) break;
    }
    const finished = await followExecutions(sfn, `arn:aws:states:${cloud.partition.region}:${cloud.partition.account}:stateMachine:imagegen-request`, since, sent.map((s) => s.eventId), 120_000);
    const latencies = sent
      .map((s) => ({ s, f: finished.get(s.eventId) }))
      .filter(({ f }) => f?.status === 'SUCCEEDED')
      .map(({ s, f }) => (f!.stopMs - s.at) / 1000)
      .sort((a, b) => a - b);
    const liveSeconds = Math.round((Date.now() - started) / 1000);
    const series = (namespace: string, metricName: string, stat: string) =>
      cloud.services.cloudwatch.getMetricData([{ Id: 'm', MetricStat: { Metric: { Namespace: namespace, MetricName: metricName, Dimensions: [{ Name: 'EndpointName', Value: endpoint.name }] }, Period: 60, Stat: stat } }], started - 60_000, Date.now() + 60_000)
        .MetricDataResults[0]?.Values ?? [];
    const utilization = series('ImageGen', 'UtilizationRate', 'Maximum');
    const liveInputs = {
      arrivalsDatapoints: series('ImageGen', ARRIVALS_METRIC, 'Sum').length,
      backlogDatapoints: series('AWS/SageMaker', 'ApproximateBacklogSize', 'Maximum').length,
      utilizationMax: utilization.length ? round(Math.max(...utilization)) : null,
      simulatedUtilizationMax: null as number | null,
    };

    const simConfig = defaultSimulationConfig({
      secondsPerImage: INFERENCE_MS / 1000,
      inferenceSpread: 0,
      startupSeconds: STARTUP_SECONDS,
      concurrencyPerInstance: endpoint.maxConcurrentInvocationsPerInstance,
      initialInstances: initial,
      minCapacity: endpoint.scaling.minCapacity,
      maxCapacity: endpoint.scaling.maxCapacity,
      metricsLagSeconds: DEFAULT_METRICS_LAG_SECONDS,
      evaluationOffsetSeconds: Math.min(59.999, (evaluationOffsetSeconds - (started % 60_000) / 1000 + 60) % 60),
      // The live cloud starts with no history: its publisher reads nothing until a minute lands.
      warmHistory: false,
      seed,
    });
    const sim = simulate(trace, loadPolicy('imagegen'), simConfig);
    const simulatedUtilization = sim.periods.map((p) => p.metric).filter((v): v is number => v !== undefined);
    liveInputs.simulatedUtilizationMax = simulatedUtilization.length ? round(Math.max(...simulatedUtilization)) : null;
    // The simulation ends when its work is done; its last capacity holds until the same window closes.
    const simMinutes = integrateTimeline(sim.timeline.filter((p) => p.at < end + TAIL_SECONDS), end + TAIL_SECONDS) / 60;
    const live = {
      requests: sent.length,
      succeeded: latencies.length,
      instanceMinutes: round(instanceSeconds / 60),
      p95S: percentile(Float64Array.from(latencies), 0.95),
      peak,
      decisions: log.filter((l) => l.startsWith('autoscaling:')),
    };
    const simulated = {
      requests: sim.requests,
      completed: sim.completed,
      instanceMinutes: round(simMinutes),
      p95S: sim.p95_s,
      peak: sim.peak_instances,
      decisions: sim.decisions.map((d) => `${Math.round(d.at)} s ${d.from} → ${d.to} (${d.reason})`),
    };
    return {
      trace: SHAPE.map(([s, r]) => `${s} s at ${r}/s`).join(', '),
      parameters: {
        inferenceSeconds: INFERENCE_MS / 1000,
        startupSeconds: STARTUP_SECONDS,
        concurrencyPerInstance: endpoint.maxConcurrentInvocationsPerInstance,
        maxInstances: endpoint.scaling.maxCapacity,
        initialInstances: initial,
        metricsLagSeconds: simConfig.metricsLagSeconds,
        evaluationOffsetSeconds: round(simConfig.evaluationOffsetSeconds),
        alarmDelaySeconds: simConfig.alarmDelaySeconds,
        liveSeconds,
      },
      live,
      simulated,
      instanceMinutesRatio: round(live.instanceMinutes / Math.max(1e-9, simulated.instanceMinutes)),
      p95Ratio: live.p95S === null || simulated.p95S === null ? null : round(live.p95S / simulated.p95S),
      goal: 'instance-minutes and p95 within 15 % (ratio 0.85–1.15)',
      liveInputs,
    };
  } finally {
    events.destroy();
    sfn.destroy();
    await cloud.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function round(v: number): number {
  return Math.round(v * 1000) / 1000;
}

if (require.main === module) {
  benchScalingLive().then(
    (r) => process.stdout.write(`${JSON.stringify(r, null, 2)}\n`),
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
      process.exit(1);
    },
  );
}
