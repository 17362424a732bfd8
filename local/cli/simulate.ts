/** `imagegen simulate`: a scaling policy against a traffic trace → latency, SLO attainment, cost. */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { defaultConfig } from '../../topology/imagegen-topology';
import { instancePricePerHour, PRICES } from '../cost/prices';
import { writeCharts } from '../simulate/charts';
import { simulate, type SimulationConfig, type SimulationResult } from '../simulate/engine';
import { SimulationInputError } from '../simulate/errors';
import { loadPolicy, withScheduledActions, type PolicySpec } from '../simulate/policies';
import { generateShape, parseTraceCsv, SHAPE_DEFAULTS, SHAPES, type Shape, type Trace } from '../simulate/trace';
import { number } from './options';
import { DEFAULT_METRICS_LAG_SECONDS } from '../sagemaker/metrics';
import { ALARM_EVALUATION_DELAY_SECONDS } from '../autoscaling/autoscaling-service';

/**
 * The default objective is twice the image time: a request is on time when it waited no longer than
 * its own inference takes. One image time alone is missed by the inference's own spread (±5 %), so
 * every policy would score alike; twice it separates "served by the next free slot" from "queued
 * behind a scaling lag".
 */
export const SLO_IMAGE_MULTIPLE = 2;

/** Mid-minute: AWS documents neither when a rate(1 minute) schedule fires nor when alarms evaluate. */
export const DEFAULT_EVALUATION_OFFSET_SECONDS = 30;

const HELP = `usage: imagegen simulate (--trace FILE | --shape SHAPE) [--policy NAME[,NAME…]] [options]

  --trace FILE                 CSV with header "second,requests"
  --shape SHAPE                ${SHAPES.map((s) => `${s} (${SHAPE_DEFAULTS[s].describe})`).join('\n                               ')}
  --policy NAME[,NAME…]        seed | backlog | imagegen | FILE.json (custom policy); default all three built-ins
  --json                       print JSON instead of the table (one object for one policy, else {"results": […]})
  --out DIR                    write <policy>-latency.png and <policy>-instances.png per policy
  --seed N                     random seed (default 1): same seed, same result
  --duration SECONDS           shape length (default per shape)
  --peak N                     shape peak, requests/s (default per shape)
  --instance-type TYPE         default ${defaultConfig.instanceType}
  --price-per-hour USD         default from local/cost/prices.json (${PRICES.asOf})
  --seconds-per-image S        mean inference time (default ${defaultConfig.inferenceSeconds})
  --concurrency-per-instance N default ${defaultConfig.maxConcurrentInvocationsPerInstance}
  --startup-seconds S          instance start-up (default ${defaultConfig.instanceStartupSeconds})
  --cache-hit-ratio P          0..1 (default 0)
  --ttl-seconds S              request TTL in the endpoint queue (default ${defaultConfig.requestTtlSeconds})
  --initial-instances N        default: sized for the first minute at 0.75 (0 when idle)
  --max-instances N            default 300 (the topology's ${defaultConfig.maxInstances} cannot serve a campaign spike)
  --metrics-lag-seconds S      a closed minute's SageMaker metrics become readable this much later (default ${DEFAULT_METRICS_LAG_SECONDS})
  --evaluation-offset-seconds S  where in each minute publish-utilization runs (default ${DEFAULT_EVALUATION_OFFSET_SECONDS})
  --alarm-delay-seconds S      the alarms are evaluated this long after it, under 60 (default ${ALARM_EVALUATION_DELAY_SECONDS}, as the local autoscaler)
  --slo-seconds S              latency objective, arrival → result (default ${SLO_IMAGE_MULTIPLE} × the seconds per image)
  --prewarm FROM:TO:N[:M]      scheduled actions: min N from second FROM; at TO min 0, max M`;

const spec = {
  trace: { type: 'string' },
  shape: { type: 'string' },
  policy: { type: 'string' },
  json: { type: 'boolean' },
  out: { type: 'string' },
  seed: { type: 'string' },
  duration: { type: 'string' },
  peak: { type: 'string' },
  'instance-type': { type: 'string' },
  'price-per-hour': { type: 'string' },
  'seconds-per-image': { type: 'string' },
  'concurrency-per-instance': { type: 'string' },
  'startup-seconds': { type: 'string' },
  'cache-hit-ratio': { type: 'string' },
  'ttl-seconds': { type: 'string' },
  'initial-instances': { type: 'string' },
  'max-instances': { type: 'string' },
  'metrics-lag-seconds': { type: 'string' },
  'evaluation-offset-seconds': { type: 'string' },
  'alarm-delay-seconds': { type: 'string' },
  'slo-seconds': { type: 'string' },
  prewarm: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export const DEFAULT_MAX_INSTANCES = 300;

/** What `simulate` compares when no --policy is given. */
export const DEFAULT_POLICIES = ['seed', 'backlog', 'imagegen'] as const;

/** The simulator's defaults: the topology's endpoint, the price table, a campaign-sized maximum. */
export function defaultSimulationConfig(overrides: Partial<SimulationConfig> = {}): SimulationConfig {
  const instanceType = overrides.instanceType ?? defaultConfig.instanceType;
  const price = overrides.pricePerHour ?? instancePricePerHour(instanceType);
  if (price === undefined) throw new SimulationInputError(`no price for ${instanceType} in local/cost/prices.json: pass --price-per-hour`);
  return {
    instanceType,
    pricePerHour: price,
    secondsPerImage: defaultConfig.inferenceSeconds,
    inferenceSpread: 0.05,
    concurrencyPerInstance: defaultConfig.maxConcurrentInvocationsPerInstance,
    startupSeconds: defaultConfig.instanceStartupSeconds,
    cacheHitRatio: 0,
    hitLatencySeconds: 0.5,
    ttlSeconds: defaultConfig.requestTtlSeconds,
    initialInstances: 1,
    minCapacity: defaultConfig.minInstances,
    maxCapacity: DEFAULT_MAX_INSTANCES,
    metricsLagSeconds: DEFAULT_METRICS_LAG_SECONDS,
    evaluationOffsetSeconds: DEFAULT_EVALUATION_OFFSET_SECONDS,
    alarmDelaySeconds: ALARM_EVALUATION_DELAY_SECONDS,
    sloSeconds: SLO_IMAGE_MULTIPLE * (overrides.secondsPerImage ?? defaultConfig.inferenceSeconds),
    seed: 1,
    warmHistory: true,
    ...overrides,
  };
}

/** `FROM:TO:N[:M]`: min N from second FROM; at TO min 0 and max M (default: the maximum), which scales in at once. */
export function parsePrewarm(text: string, maxCapacity = DEFAULT_MAX_INSTANCES): PolicySpec['scheduledActions'] {
  const match = /^(\d+):(\d+):(\d+)(?::(\d+))?$/.exec(text);
  if (!match) throw new SimulationInputError(`--prewarm must be FROM:TO:N[:M] in seconds and instances (got "${text}")`);
  const [from, to, n] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const after = match[4] === undefined ? maxCapacity : Number(match[4]);
  if (to <= from) throw new SimulationInputError(`--prewarm: TO (${to}) must be after FROM (${from})`);
  if (n > maxCapacity) throw new SimulationInputError(`--prewarm: N (${n}) must be ≤ the maximum (${maxCapacity})`);
  return [
    { name: 'prewarm', atSecond: from, minCapacity: n, maxCapacity },
    { name: 'prewarm-end', atSecond: to, minCapacity: 0, maxCapacity: after },
  ];
}

/** Instances sized for the trace's first minute at the 0.75 target: the endpoint starts warm, not cold. */
export function warmStart(trace: Trace, config: Pick<SimulationConfig, 'cacheHitRatio' | 'secondsPerImage' | 'concurrencyPerInstance'>): number {
  const first = trace.slice(0, 60);
  const rate = first.reduce((a, b) => a + b, 0) / Math.max(1, first.length);
  return Math.ceil((rate * (1 - config.cacheHitRatio) * config.secondsPerImage) / config.concurrencyPerInstance / 0.75);
}

/** The summary `--json` prints. */
export function summary(result: SimulationResult, config: SimulationConfig): Record<string, unknown> {
  const { decisions, periods: _periods, timeline: _timeline, arrivals: _arrivals, latencies: _latencies, waits: _waits, ...rest } = result;
  return {
    ...rest,
    instance_type: config.instanceType,
    price_per_hour_usd: config.pricePerHour,
    decisions: decisions.map((d) => ({ at_s: Math.round(d.at), from: d.from, to: d.to, reason: d.reason })),
  };
}

export async function runSimulate(argv: readonly string[]): Promise<number> {
  const { values } = parseArgs({ args: [...argv], options: spec, allowPositionals: false });
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  try {
    if ((values.trace === undefined) === (values.shape === undefined)) throw new SimulationInputError('give exactly one of --trace FILE or --shape SHAPE');
    const seed = values.seed === undefined ? 1 : number('--seed', values.seed, 0, 2 ** 32 - 1);
    let trace: Trace;
    let shape: Shape | undefined;
    if (values.trace !== undefined) {
      let text: string;
      try {
        text = readFileSync(values.trace, 'utf8');
      } catch (error) {
        throw new SimulationInputError(`--trace ${values.trace}: cannot read (${(error as Error).message})`);
      }
      trace = parseTraceCsv(text, values.trace);
    } else {
      if (!(SHAPES as readonly string[]).includes(values.shape as string)) throw new SimulationInputError(`--shape must be one of ${SHAPES.join(', ')} (got "${values.shape}")`);
      shape = values.shape as Shape;
      trace = generateShape(shape, {
        seed,
        ...(values.duration === undefined ? {} : { durationSeconds: number('--duration', values.duration, 60, 7 * 86400) }),
        ...(values.peak === undefined ? {} : { peak: number('--peak', values.peak, 0, 100_000) }),
      });
    }
    const num = (flag: keyof typeof values, min: number, max: number): number | undefined => {
      const text = values[flag];
      return typeof text === 'string' ? number(`--${flag}`, text, min, max) : undefined;
    };
    const overrides: Partial<SimulationConfig> = { seed };
    const set = <K extends keyof SimulationConfig>(key: K, value: SimulationConfig[K] | undefined) => {
      if (value !== undefined) (overrides as Record<string, unknown>)[key] = value;
    };
    set('instanceType', values['instance-type']);
    set('pricePerHour', num('price-per-hour', 0, 1000));
    set('secondsPerImage', num('seconds-per-image', 0.01, 3600));
    set('concurrencyPerInstance', num('concurrency-per-instance', 1, 1000));
    set('startupSeconds', num('startup-seconds', 0, 3600));
    set('cacheHitRatio', num('cache-hit-ratio', 0, 1));
    set('ttlSeconds', num('ttl-seconds', 60, 21600));
    set('initialInstances', num('initial-instances', 0, 10_000));
    set('maxCapacity', num('max-instances', 0, 10_000));
    set('metricsLagSeconds', num('metrics-lag-seconds', 0, 600));
    set('evaluationOffsetSeconds', num('evaluation-offset-seconds', 0, 59.999));
    set('alarmDelaySeconds', num('alarm-delay-seconds', 0, 59.999));
    set('sloSeconds', num('slo-seconds', 0.001, 86_400));
    const sized = defaultSimulationConfig(overrides);
    const config = overrides.initialInstances === undefined ? { ...sized, initialInstances: warmStart(trace, sized) } : sized;
    const names = (values.policy ?? DEFAULT_POLICIES.join(',')).split(',').map((n) => n.trim());
    if (names.some((n) => n === '')) throw new SimulationInputError(`--policy must name policies separated by commas (got "${values.policy}")`);
    const prewarm = values.prewarm === undefined ? undefined : parsePrewarm(values.prewarm, config.maxCapacity);
    const policies = names.map((n) => (prewarm ? withScheduledActions(loadPolicy(n), prewarm, '+prewarm') : loadPolicy(n)));
    const runs: { result: SimulationResult; charts: string[] }[] = [];
    for (const policy of policies) {
      const result = simulate(trace, policy, config);
      runs.push({ result, charts: values.out === undefined ? [] : await writeCharts(result, values.out, policy.name) });
    }
    if (values.json) {
      const documents = runs.map(({ result, charts }) => ({ ...summary(result, config), ...(charts.length ? { charts } : {}) }));
      process.stdout.write(`${JSON.stringify(documents.length === 1 ? documents[0] : { results: documents })}\n`);
    } else {
      const results = runs.map((r) => r.result);
      const details = results.length === 1 ? `${formatResult(results[0] as SimulationResult, config)}\n\n` : '';
      process.stdout.write(`${details}${formatTable(results, config)}\n${runs.flatMap((r) => r.charts).map((c) => `chart: ${c}\n`).join('')}`);
    }
    return 0;
  } catch (error) {
    if (error instanceof SimulationInputError || (error instanceof Error && error.message.startsWith('--'))) {
      process.stderr.write(`imagegen simulate: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
}

const fmtSeconds = (v: number) => Number(v.toFixed(2)).toString();
const seconds = (v: number | null) => (v === null ? 'n/a' : `${v.toFixed(1)} s`);

export function formatResult(r: SimulationResult, config: SimulationConfig): string {
  return [
    `policy ${r.policy} on ${config.instanceType} at $${config.pricePerHour}/h`,
    `  requests ${r.requests}  completed ${r.completed} (hits ${r.hits})  expired ${r.expired}`,
    `  latency p50 ${seconds(r.p50_s)}  p95 ${seconds(r.p95_s)}  p99 ${seconds(r.p99_s)}  SLO ≤ ${fmtSeconds(r.slo_seconds)} s: ${(100 * r.slo_attainment).toFixed(1)} %`,
    `  queue wait p50 ${seconds(r.wait_p50_s)}  p95 ${seconds(r.wait_p95_s)}  p99 ${seconds(r.wait_p99_s)}`,
    `  instance-hours ${r.instance_hours.toFixed(2)}  cost $${r.cost_usd.toFixed(2)}  per image ${r.cost_per_image_usd === null ? 'n/a (nothing completed)' : `$${r.cost_per_image_usd.toFixed(6)}`}`,
    `  peak instances ${r.peak_instances}, ${r.scaling_actions} scaling actions`,
  ].join('\n');
}

/** One row per policy: latency and queue-wait percentiles, the SLO share, capacity and cost. */
export function formatTable(results: readonly SimulationResult[], config: SimulationConfig): string {
  const slo = fmtSeconds(results[0]?.slo_seconds ?? config.sloSeconds);
  const cell = (v: number | null, digits = 1) => (v === null ? 'n/a' : v.toFixed(digits));
  return [
    `${config.instanceType} at $${config.pricePerHour}/h; latency = arrival → result, wait = arrival → an instance takes the request (inferences only)`,
    `| policy | requests | completed | expired | p50 (s) | p95 (s) | p99 (s) | wait p50 (s) | wait p95 (s) | wait p99 (s) | SLO ≤ ${slo} s | instance-h | peak | $ per image |`,
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...results.map(
      (r) =>
        `| ${r.policy} | ${r.requests} | ${r.completed} | ${r.expired} | ${cell(r.p50_s)} | ${cell(r.p95_s)} | ${cell(r.p99_s)} | ${cell(r.wait_p50_s)} | ${cell(r.wait_p95_s)} | ${cell(r.wait_p99_s)} | ${(100 * r.slo_attainment).toFixed(1)} % | ${r.instance_hours.toFixed(1)} | ${r.peak_instances} | ${cell(r.cost_per_image_usd, 6)} |`,
    ),
  ].join('\n');
}
