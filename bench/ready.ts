/**
 * How long `imagegen serve` takes to print `ready` on a data directory that already holds many
 * executions. The directory is seeded through the Step Functions store with executions shaped as
 * the pipeline leaves them (a cache miss's thirteen history events, its request and result), then
 * serve is started on it a few times in a child process.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalDatabase } from '../local/shared/database';
import { appendHistory, close, newExecution, stateMachineArn } from '../local/stepfunctions/models';
import { SqliteExecutionStore } from '../local/stepfunctions/store';
import { freePort } from '../local/shared/ports';
import { ServeProcess } from './crash';
import { percentile, round } from './stats';

export interface ReadyResults {
  readonly executions: number;
  readonly starts: number;
  /** The time serve reports in its ready line (from start of LocalCloud.start). */
  readonly reportedMs: { readonly median: number; readonly max: number };
  /** From spawning the process to its ready line (Node, tsx and all). */
  readonly wallMs: { readonly median: number; readonly max: number };
  readonly goal: string;
}

const PARTITION = { region: 'us-east-1', account: '000000000000' };

/** Writes `count` finished executions into `<dataDir>/local-cloud.db`. */
export function seedExecutions(dataDir: string, count: number): void {
  const database = LocalDatabase.open(dataDir);
  try {
    const store = new SqliteExecutionStore(database);
    const machine = { name: 'imagegen-request', arn: stateMachineArn('imagegen-request', PARTITION) };
    const start = Date.now() - count * 1000;
    database.transaction(() => {
      for (let i = 0; i < count; i++) store.save(pipelineExecution(machine, i, start + i * 1000));
    });
  } finally {
    database.close();
  }
}

function pipelineExecution(machine: { name: string; arn: string }, i: number, at: number) {
  const detail = { requestId: `seed-${i}`, prompt: `a seeded picture number ${i}, watercolour, soft light`, renditions: [{ width: 512, format: 'webp' }] };
  const event = { version: '0', id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, 'detail-type': 'Image Generation Requested', source: 'seed', account: PARTITION.account, time: new Date(at).toISOString(), region: PARTITION.region, resources: [], detail };
  const input = JSON.stringify(event);
  const result = JSON.stringify({
    ...detail,
    cacheKey: 'f'.repeat(64),
    cacheHit: false,
    image: { bucket: 'imagegen-images', key: `images/${'f'.repeat(64)}/original.png`, format: 'png', width: 1024, height: 1024, bytes: 812_345 },
    renditions: [{ bucket: 'imagegen-images', key: `images/${'f'.repeat(64)}/512w.webp`, format: 'webp', width: 512, height: 512, bytes: 40_321 }],
    timings: { receivedAt: new Date(at).toISOString(), completedAt: new Date(at + 900).toISOString(), totalMs: 900, inferenceMs: 700 },
  });
  const record = newExecution(machine, `seed-${i}`, input, at, PARTITION);
  const steps: [string, string?, Record<string, unknown>?][] = [
    ['ExecutionStarted', 'executionStartedEventDetails', { input, inputDetails: { truncated: false } }],
    ['TaskStateEntered', 'stateEnteredEventDetails', { name: 'Resolve', input }],
    ['TaskScheduled', 'taskScheduledEventDetails', { resourceType: 'lambda', resource: 'invoke.waitForTaskToken', parameters: input }],
    ['TaskStarted', 'taskStartedEventDetails', { resourceType: 'lambda', resource: 'invoke.waitForTaskToken' }],
    ['TaskSubmitted', 'taskSubmittedEventDetails', { resourceType: 'lambda', resource: 'invoke.waitForTaskToken', output: '{"Payload":{"outcome":"started"}}' }],
    ['TaskSucceeded', 'taskSucceededEventDetails', { resourceType: 'lambda', resource: 'invoke.waitForTaskToken', output: result }],
    ['TaskStateExited', 'stateExitedEventDetails', { name: 'Resolve', output: result }],
    ['TaskStateEntered', 'stateEnteredEventDetails', { name: 'Notify', input: result }],
    ['TaskScheduled', 'taskScheduledEventDetails', { resourceType: 'events', resource: 'putEvents', parameters: result }],
    ['TaskStarted', 'taskStartedEventDetails', { resourceType: 'events', resource: 'putEvents' }],
    ['TaskSucceeded', 'taskSucceededEventDetails', { resourceType: 'events', resource: 'putEvents', output: '{"Entries":[{"EventId":"x"}],"FailedEntryCount":0}' }],
    ['TaskStateExited', 'stateExitedEventDetails', { name: 'Notify', output: result }],
  ];
  steps.forEach(([type, key, details], n) => appendHistory(record, at + n * 50, type, key, details));
  close(record, 'SUCCEEDED', at + 900, { output: result });
  appendHistory(record, at + 900, 'ExecutionSucceeded', 'executionSucceededEventDetails', { output: result });
  return record;
}

export async function benchReady(executions = 10_000, starts = 3): Promise<ReadyResults> {
  const dataDir = mkdtempSync(join(tmpdir(), 'imagegen-bench-ready-'));
  try {
    seedExecutions(dataDir, executions);
    const reported: number[] = [];
    const wall: number[] = [];
    for (let i = 0; i < starts; i++) {
      const serve = new ServeProcess(await freePort(), dataDir);
      const spawned = Date.now();
      await serve.start();
      wall.push(Date.now() - spawned);
      reported.push(Number(/ready on \S+ in (\d+) ms/.exec(serve.log())?.[1] ?? NaN));
      await serve.stop();
    }
    return {
      executions,
      starts,
      reportedMs: { median: round(percentile(reported, 50), 0), max: Math.max(...reported) },
      wallMs: { median: round(percentile(wall, 50), 0), max: Math.max(...wall) },
      goal: 'ready in < 3 s',
    };
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}
