/**
 * `npm run bench`: measures the local cloud and the pipeline, and writes the results to
 * bench/results/latest.json and bench/results/latest.md. Ratios are measured side by side in one
 * run, because absolute numbers on a shared 2-core machine are noisy.
 *
 *   npm run bench                 everything
 *   npm run bench -- edge         one section (edge | pipeline | scaling | scaling-live | crash | chaos)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalCloud } from '../local/cloud';
import { chaosBench, CHAOS_RUNS } from './chaos-main';
import type { ChaosRunResult } from './chaos';
import { runCrashBurst, type CrashBurstResult } from './crash';
import { benchEdge, type EdgeResults } from './edge';
import { benchPipeline, type PipelineResults } from './pipeline';
import { benchReady, type ReadyResults } from './ready';
import { round } from './stats';
import { benchScaling } from './scaling';
import { benchScalingLive, type LiveComparison } from './scaling-live';

const RESULTS = join(__dirname, 'results');

interface Results {
  date: string;
  machine: { cpus: number; cpuModel: string; node: string };
  edge?: EdgeResults;
  pipeline?: PipelineResults;
  scaling?: { markdown: string; json: unknown };
  scalingLive?: LiveComparison;
  crash?: { burst: CrashBurstResult; inferenceMs: number; ready: ReadyResults };
  chaos?: { markdown: string; results: ChaosRunResult[] };
}

async function main(sections: readonly string[]): Promise<void> {
  const want = (name: string) => sections.length === 0 || sections.includes(name);
  // A partial run (`npm run bench -- edge`) keeps the other sections of the previous results.
  const previous = sections.length === 0 ? {} : await readPrevious();
  const results: Results = {
    ...previous,
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', node: process.version },
  };
  if (want('edge')) {
    process.stderr.write('bench: edge throughput…\n');
    const dataDir = mkdtempSync(join(tmpdir(), 'imagegen-bench-edge-'));
    const cloud = await LocalCloud.start({ port: 0, dataDir });
    try {
      results.edge = await benchEdge(cloud);
    } finally {
      await cloud.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }
  if (want('pipeline')) {
    process.stderr.write('bench: pipeline (miss throughput, cache hits, orchestration latency)…\n');
    results.pipeline = await benchPipeline();
  }
  await mkdir(RESULTS, { recursive: true });
  if (want('scaling')) {
    process.stderr.write('bench: scaling policies on the built-in traffic shapes…\n');
    results.scaling = await benchScaling(join(RESULTS, 'charts'));
  }
  if (want('scaling-live')) {
    process.stderr.write('bench: simulator vs the live local autoscaler, one short trace in real time (≈ 14 min)…\n');
    results.scalingLive = await benchScalingLive();
  }
  if (want('crash')) {
    process.stderr.write('bench: kill -9 at five moments of a 1,000-request burst, then ready on 10,000 executions (≈ 5 min)…\n');
    results.crash = await benchCrash();
  }
  if (want('chaos')) {
    process.stderr.write('bench: 1,000 requests under the default fault matrix, then under dropped notifications alone (≈ 8 min)…\n');
    results.chaos = await chaosBench(1000, CHAOS_RUNS);
  }
  await writeFile(join(RESULTS, 'latest.json'), `${JSON.stringify(results, null, 2)}\n`);
  await writeFile(join(RESULTS, 'latest.md'), markdown(results));
  process.stdout.write(markdown(results));
}

async function benchCrash(): Promise<NonNullable<Results['crash']>> {
  const inferenceMs = 1500;
  const dataDir = mkdtempSync(join(tmpdir(), 'imagegen-bench-crash-'));
  try {
    const burst = await runCrashBurst({
      requests: 1000,
      dataDir,
      inferenceMs,
      finishTimeoutMs: 300_000,
      log: (line) => process.stderr.write(`${line}\n`),
      kills: [
        { label: 'while events are being accepted (30 % accepted)', at: (p) => p.accepted >= p.total * 0.3 },
        { label: 'once the burst is accepted, executions starting', at: (p) => p.accepted >= p.total },
        { label: 'while inferences are queued (10 % succeeded)', at: (p) => p.succeeded >= p.total * 0.1 },
        { label: 'while notifications are in flight (30 % succeeded)', at: (p) => p.succeeded >= p.total * 0.3 },
        { label: 'near the end (70 % succeeded)', at: (p) => p.succeeded >= p.total * 0.7 },
      ],
    });
    return { burst, inferenceMs, ready: await benchReady(10_000, 3) };
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function readPrevious(): Promise<Partial<Results>> {
  try {
    return JSON.parse(await readFile(join(RESULTS, 'latest.json'), 'utf8')) as Partial<Results>;
  } catch {
    return {};
  }
}

function markdown(r: Results): string {
  const lines = [`# imagegen benchmarks`, '', `${r.date} · ${r.machine.cpus} × ${r.machine.cpuModel} · Node ${r.machine.node}`, ''];
  if (r.edge) {
    const e = r.edge;
    lines.push(
      '## Local cloud edge',
      '',
      '| measure | value |',
      '|---|---|',
      `| PutEvents calls/s (10 entries each) | ${e.putEventsCallsPerSecond} (${e.putEventsEntriesPerSecond} entries/s) |`,
      `| S3 PutObject 1 MB/s | ${e.s3PutObject1MbPerSecond} |`,
      `| trivial StartExecution → SUCCEEDED/s via the API | ${e.trivialExecutionsApiPerSecond} |`,
      `| … aws-local-stepfunctions called directly | ${e.trivialExecutionsDirectPerSecond} |`,
      `| API path ÷ direct (goal ≥ 0.5) | ${e.apiToDirectRatio} |`,
      '',
    );
  }
  if (r.pipeline) {
    const { missThroughput: m, cacheHits: h, orchestrationLatency: o } = r.pipeline;
    lines.push(
      '## Pipeline (PutEvents → execution end)',
      '',
      '| measure | value | goal |',
      '|---|---|---|',
      `| (a) miss path: ${m.requests} distinct images/s through the pipeline | ${m.pipelinePerSecond} | |`,
      `| … bare image work (stand-in render + post-process), ${m.bareConcurrency ?? '?'} at a time (the pipeline's post-processing environments) | ${m.barePerSecond} | |`,
      `| … ratio | ${m.ratio} | ${m.goal} |`,
      `| (b) cache hits: ${h.requests} requests, per second | ${h.perSecond} | ≥ 500/s |`,
      `| … latency p50 / p99 | ${h.p50Ms} / ${h.p99Ms} ms | p99 ≤ 100 ms |`,
      `| … one at a time (${r.pipeline.cacheHitAlone.requests} requests), latency p50 / p99 | ${r.pipeline.cacheHitAlone.p50Ms} / ${r.pipeline.cacheHitAlone.p99Ms} ms | |`,
      `| (c) orchestration latency beyond the model time (${o.modelMs} ms, the stand-in's render included) + post-process, p50 / p99 | ${o.p50Ms} / ${o.p99Ms} ms | ${o.goal} |`,
      '',
    );
  }
  if (r.scaling) lines.push('## Scaling policies (simulated; charts in bench/results/charts/)', '', r.scaling.markdown, '');
  if (r.scalingLive) {
    const l = r.scalingLive;
    const p = l.parameters;
    lines.push(
      '## Simulator ⇔ live local autoscaler',
      '',
      `Trace ${l.trace}; stand-in ${p['inferenceSeconds']} s per image, ${p['concurrencyPerInstance']} per instance, ${p['startupSeconds']} s start-up, ${p['initialInstances']} → max ${p['maxInstances']} instances; SageMaker metrics readable ${p['metricsLagSeconds']} s after their minute, the publisher ${p['evaluationOffsetSeconds']} s into each minute and the autoscaler ${p['alarmDelaySeconds']} s after it; billed over ${p['liveSeconds']} s.`,
      '',
      '| | requests | completed | instance-minutes | p95 (s) | peak |',
      '|---|---:|---:|---:|---:|---:|',
      `| live (local cloud) | ${l.live.requests} | ${l.live.succeeded} | ${l.live.instanceMinutes} | ${l.live.p95S?.toFixed(1) ?? 'n/a'} | ${l.live.peak} |`,
      `| simulated | ${l.simulated.requests} | ${l.simulated.completed} | ${l.simulated.instanceMinutes} | ${l.simulated.p95S?.toFixed(1) ?? 'n/a'} | ${l.simulated.peak} |`,
      `| live ÷ simulated | | | ${l.instanceMinutesRatio} | ${l.p95Ratio ?? 'n/a'} | |`,
      '',
      `Live publisher inputs over the run: ${l.liveInputs.arrivalsDatapoints} datapoints of ImageGen InferencesStarted (its arrivals), ${l.liveInputs.backlogDatapoints} of ApproximateBacklogSize; UtilizationRate at most ${l.liveInputs.utilizationMax ?? 'n/a'} live, ${l.liveInputs.simulatedUtilizationMax ?? 'n/a'} simulated.`,
      '',
      `Goal: ${l.goal}. Live decisions: ${l.live.decisions.map((d) => d.replace(/^autoscaling: /, '')).join('; ') || 'none'}. Simulated: ${l.simulated.decisions.join('; ') || 'none'}.`,
      '',
    );
  }
  if (r.crash) lines.push(...crashMarkdown(r.crash));
  if (r.chaos) lines.push(r.chaos.markdown, '');
  return `${lines.join('\n')}\n`;
}

function crashMarkdown({ burst: b, inferenceMs, ready }: NonNullable<Results['crash']>): string[] {
  return [
    '## kill -9 during a burst (`imagegen serve` in a child process, SIGKILL, restart on the same data directory)',
    '',
    `${b.requests} requests (${b.distinctImages} distinct images, ${b.requests - b.requestIds} duplicate deliveries, the rest repeats under new requestIds), stand-in ${inferenceMs} ms per image, 1 instance × 12.`,
    '',
    '| kill | at | accepted | succeeded | restart ready |',
    '|---|---:|---:|---:|---:|',
    ...b.kills.map((k) => `| ${k.label} | ${round(k.atMs / 1000)} s | ${k.progress.accepted} | ${k.progress.succeeded} | ${k.restartReadyMs} ms |`),
    '',
    '| measure | value | goal |',
    '|---|---|---|',
    `| requests (requestIds) that ended SUCCEEDED | ${b.requestsSucceeded} / ${b.requestIds} | all |`,
    `| executions SUCCEEDED / RUNNING / failed (of ${b.executions.total}; a redelivered event starts one more) | ${b.executions.succeeded} / ${b.executions.running} / ${b.executions.failed} | 0 RUNNING, 0 failed |`,
    `| accepted events without an execution | ${b.acceptedEventsWithoutExecution} | 0 |`,
    `| inferences (distinct InferenceIds with output) | ${b.inferences} | ${b.distinctImages} |`,
    `| … output objects (a request run again after a restart under its InferenceId) | ${b.outputObjects} | |`,
    `| from the last restart to the last execution's end | ${b.secondsToFinishAfterLastRestart} s | ≤ 300 s |`,
    `| \`serve\` ready on ${ready.executions} executions (reported / from spawn), median of ${ready.starts} | ${ready.reportedMs.median} / ${ready.wallMs.median} ms (max ${ready.reportedMs.max} / ${ready.wallMs.max}) | ${ready.goal} |`,
    '',
  ];
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
