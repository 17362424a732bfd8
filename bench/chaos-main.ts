/**
 * `npm run chaos`: requests through the local cloud under fault rules — the default matrix, then SNS
 * dropping 5 % of notifications alone — written to bench/results/chaos.md and chaos.json.
 *
 *   npm run chaos                          1,000 requests per run
 *   npm run chaos -- --requests 200        fewer (or more)
 *   npm run chaos -- --faults FILE         one run under FILE's rules instead
 */
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { chaosMarkdown, CHAOS_RUN_CONFIG, DEFAULT_MATRIX, runChaos, SNS_DROP_ONLY, type ChaosRunOptions, type ChaosRunResult } from './chaos';

const RESULTS = join(__dirname, 'results');

/** The default runs: the recovery issue's matrix, then dropped notifications alone (every request must succeed). */
export const CHAOS_RUNS: readonly Pick<ChaosRunOptions, 'label' | 'faults'>[] = [
  { label: 'Default matrix: model errors 10 %, dropped notifications 5 %, duplicated notifications 20 %, S3 5xx 2 %, DynamoDB throttling 2 %, Complete crashes 5 %', faults: DEFAULT_MATRIX },
  { label: 'Dropped notifications 5 % alone', faults: SNS_DROP_ONLY },
];

export async function chaosBench(requests: number, runs: readonly Pick<ChaosRunOptions, 'label' | 'faults'>[]): Promise<{ markdown: string; results: ChaosRunResult[] }> {
  const results: ChaosRunResult[] = [];
  for (const run of runs) {
    process.stderr.write(`chaos: ${run.label}, ${requests} requests…\n`);
    results.push(await runChaos({ ...run, requests, log: (line) => process.stderr.write(`${line}\n`) }));
  }
  const c = CHAOS_RUN_CONFIG;
  const markdown = [
    '## Requests under faults (`npm run chaos`)',
    '',
    `${new Date().toISOString()} · ${cpus().length} × ${cpus()[0]?.model ?? 'unknown'} · Node ${process.version}. Stand-in model 50 ms per image; RequestTTLSeconds ${c.requestTtlSeconds}, InvocationTimeoutSeconds ${c.invocationTimeoutSeconds}, the reconciler looks ${c.reconcileAfterSeconds} s after an attempt starts (every minute, as deployed), ${c.inferenceRetries} retries of a transient inference failure; 70 % distinct images, 30 % repeats under new requestIds.`,
    '',
    ...results.flatMap(chaosMarkdown),
  ].join('\n');
  return { markdown, results };
}

async function main(argv: readonly string[]): Promise<void> {
  const { values } = parseArgs({ args: [...argv], options: { requests: { type: 'string' }, faults: { type: 'string' } } });
  const requests = values.requests === undefined ? 1000 : Number(values.requests);
  if (!Number.isInteger(requests) || requests < 1 || requests > 100_000) throw new Error(`--requests must be an integer from 1 to 100000 (got "${values.requests}")`);
  const runs = values.faults ? [{ label: `rules from ${values.faults}`, faults: JSON.parse(readFileSync(values.faults, 'utf8')) as ChaosRunOptions['faults'] }] : CHAOS_RUNS;
  const { markdown, results } = await chaosBench(requests, runs);
  await mkdir(RESULTS, { recursive: true });
  await writeFile(join(RESULTS, 'chaos.json'), `${JSON.stringify({ date: new Date().toISOString(), config: CHAOS_RUN_CONFIG, results }, null, 2)}\n`);
  await writeFile(join(RESULTS, 'chaos.md'), `${markdown}\n`);
  process.stdout.write(`${markdown}\n`);
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`chaos failed: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  });
}
