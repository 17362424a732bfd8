/**
 * Scaling bench: the three policies (and imagegen with a scheduled pre-warm where the launch time is
 * known, and with a 300 s drain horizon) on the built-in shapes → p95, SLO attainment and cost per image, plus charts in outDir.
 */
import { relative } from 'node:path';
import { defaultSimulationConfig, warmStart } from '../local/cli/simulate';
import { writeCharts } from '../local/simulate/charts';
import { simulate } from '../local/simulate/engine';
import { loadPolicy, withScheduledActions, type PolicySpec } from '../local/simulate/policies';
import { generateShape, SHAPES, type Shape } from '../local/simulate/trace';

const SEED = 1;

/** Pre-warm for the shapes whose peak time is known: min N from start-up + 60 s before it to its end. */
function prewarm(shape: Shape, startup: number): PolicySpec['scheduledActions'] | undefined {
  // 300 req/s × 9.7 s ÷ 12 per instance ÷ 0.9 busy ≈ 270 instances.
  if (shape === 'spike') return [{ name: 'launch', atSecond: 1800 - startup - 60, minCapacity: 270, maxCapacity: 300 }, { name: 'launch-end', atSecond: 1800 + 420, minCapacity: 0, maxCapacity: 10 }];
  if (shape === 'burst-from-zero') return [{ name: 'launch', atSecond: 600 - startup - 60, minCapacity: 90, maxCapacity: 300 }, { name: 'launch-end', atSecond: 1200, minCapacity: 0, maxCapacity: 300 }];
  return undefined;
}

export async function benchScaling(outDir: string): Promise<{ markdown: string; json: unknown }> {
  const rows: Record<string, unknown>[] = [];
  for (const shape of SHAPES) {
    const trace = generateShape(shape, { seed: SEED, ...(shape === 'diurnal' ? { peak: 20 } : {}) });
    const base = defaultSimulationConfig({ seed: SEED });
    const config = { ...base, initialInstances: warmStart(trace, base) };
    const policies = ['seed', 'backlog', 'imagegen'].map((p) => loadPolicy(p));
    const warm = prewarm(shape, config.startupSeconds);
    if (warm) policies.push(withScheduledActions(loadPolicy('imagegen'), warm, '+prewarm'));
    // The drain-horizon trade-off: less capacity asked for a backlog (cheaper) but a slower catch-up.
    const imagegen = loadPolicy('imagegen');
    if (imagegen.targetTracking) policies.push({ ...imagegen, name: 'imagegen drain 300 s', targetTracking: { ...imagegen.targetTracking, drainSeconds: 300 } });
    for (const policy of policies) {
      const started = Date.now();
      const r = simulate(trace, policy, config);
      await writeCharts(r, outDir, `${shape}-${policy.name.replace(/\W+/g, '-')}`, `${shape} / ${policy.name}`);
      rows.push({
        shape,
        policy: policy.name,
        requests: r.requests,
        completed: r.completed,
        expired: r.expired,
        p50_s: r.p50_s,
        p95_s: r.p95_s,
        p99_s: r.p99_s,
        slo_attainment: r.slo_attainment,
        instance_hours: r.instance_hours,
        peak_instances: r.peak_instances,
        cost_per_image_usd: r.cost_per_image_usd,
        wall_ms: Date.now() - started,
      });
    }
  }
  const n = (v: unknown, digits: number) => (typeof v === 'number' ? v.toFixed(digits) : 'n/a');
  const markdown = [
    `Scaling policies (simulated; ml.inf2.48xlarge at $${defaultSimulationConfig().pricePerHour}/h, 9.7 s/image, 12 per instance, 300 s start-up, max 300, seed ${SEED}; charts in ${relative(process.cwd(), outDir) || "."})`,
    '',
    '| shape | policy | requests | expired | p95 (s) | SLO ≤ 10 s | instance-h | peak | $ per image |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r['shape']} | ${r['policy']} | ${r['requests']} | ${r['expired']} | ${n(r['p95_s'], 1)} | ${n(typeof r['slo_attainment'] === 'number' ? r['slo_attainment'] * 100 : undefined, 1)} % | ${n(r['instance_hours'], 1)} | ${r['peak_instances']} | ${n(r['cost_per_image_usd'], 6)} |`),
  ].join('\n');
  return { markdown, json: { seed: SEED, rows } };
}

if (require.main === module) {
  const out = process.argv[2] ?? 'out/bench/scaling';
  const started = Date.now();
  benchScaling(out).then(
    ({ markdown }) => process.stdout.write(`${markdown}\n\n(${((Date.now() - started) / 1000).toFixed(1)} s)\n`),
    (error: unknown) => {
      process.stderr.write(`${String(error)}\n`);
      process.exit(1);
    },
  );
}
