/**
 * `npx tsx bench/console.ts [N]`: the operator console with N executions (default 10,000) — how long
 * each page takes to render through the Step Functions API. Executions run a two-Pass-state stand-in
 * of the workflow, so N of them exist in seconds. Writes bench/results/console.md and .json.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { imagegenTopology } from '../topology/imagegen-topology';
import { LocalCloud } from '../local/cloud';
import { inParallel } from '../local/concurrency';
import { percentile } from './stats';

const RESULTS = join(__dirname, 'results');
const RUNS = 7;

async function main(count: number): Promise<void> {
  const topology = imagegenTopology();
  const machine = topology.stateMachines[0];
  if (!machine) throw new Error('no state machine in the topology');
  const dataDir = mkdtempSync(join(tmpdir(), 'imagegen-bench-console-'));
  const cloud = await LocalCloud.start({ port: 0, dataDir, topology: { ...topology, stateMachines: [{ ...machine, definitionFile: 'bench/fixtures/console-pass.asl.json', substitutions: {} }] } });
  try {
    const sfn = new SFNClient({ endpoint: cloud.url, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
    const stateMachineArn = `arn:aws:states:us-east-1:000000000000:stateMachine:${machine.name}`;
    const started = Date.now();
    let firstArn = '';
    await inParallel(count, 16, async (i) => {
      const input = JSON.stringify({ detail: { requestId: `bench-${String(i).padStart(5, '0')}`, prompt: 'p' } });
      const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn, input }));
      if (i === 0) firstArn = executionArn ?? '';
    });
    process.stderr.write(`bench: ${count} executions started in ${Date.now() - started} ms\n`);
    await new Promise((r) => setTimeout(r, 3000));
    const pages: [string, string][] = [
      ['executions, first page (25 rows) and counts', ''],
      ['executions filtered by status', '?status=SUCCEEDED'],
      ['requestId search for the oldest (stops after 1,000 scanned)', '?requestId=bench-00000'],
      ['one execution', `executions/${encodeURIComponent(firstArn)}`],
      ['result events, newest 25', 'events'],
      ['endpoint', 'endpoint'],
    ];
    const rows: { page: string; p50Ms: number; maxMs: number; bytes: number }[] = [];
    for (const [name, path] of pages) {
      const times: number[] = [];
      let bytes = 0;
      for (let run = 0; run < RUNS; run++) {
        // Each run past the counts' 2 s cache, so every sample pays for the count.
        await new Promise((r) => setTimeout(r, 2100));
        const t = performance.now();
        const response = await fetch(`${cloud.consoleUrl}${path}`);
        bytes = (await response.arrayBuffer()).byteLength;
        if (!response.ok) throw new Error(`${name}: ${response.status}`);
        times.push(performance.now() - t);
      }
      rows.push({ page: name, p50Ms: Math.round(percentile(times, 50)), maxMs: Math.round(Math.max(...times)), bytes });
      process.stderr.write(`bench: ${name}: p50 ${Math.round(percentile(times, 50))} ms\n`);
    }
    sfn.destroy();
    await mkdir(RESULTS, { recursive: true });
    const result = { date: new Date().toISOString(), executions: count, runs: RUNS, pages: rows };
    const md = [`# Operator console with ${count.toLocaleString('en-US')} executions`, '', `${result.date}, ${RUNS} loads per page (server time to the full HTML, counts recomputed each load).`, '', '| page | p50 | max | HTML bytes |', '|---|---|---|---|', ...rows.map((r) => `| ${r.page} | ${r.p50Ms} ms | ${r.maxMs} ms | ${r.bytes} |`), ''].join('\n');
    await writeFile(join(RESULTS, 'console.json'), `${JSON.stringify(result, null, 2)}\n`);
    await writeFile(join(RESULTS, 'console.md'), md);
    process.stdout.write(md);
  } finally {
    await cloud.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main(Number(process.argv[2] ?? 10_000)).catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
