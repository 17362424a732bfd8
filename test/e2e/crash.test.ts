/**
 * kill -9 in the middle of a burst, as a laptop that sleeps or an out-of-memory kill would do it:
 * `imagegen serve` in a child process, a burst of requests through PutEvents with the real SDK,
 * SIGKILL while events are being accepted, while inferences are queued and while notifications are
 * in flight, a restart on the same data directory after each. What the local cloud acknowledged
 * must survive: every accepted request ends SUCCEEDED, nothing is left RUNNING, and the endpoint ran
 * one inference per distinct image. The full measurement (1,000 requests, five kills) is
 * `npm run bench -- crash`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCrashBurst, type CrashBurstResult } from '../../bench/crash';

jest.setTimeout(420_000);

describe('the local cloud killed with SIGKILL during a burst', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'imagegen-crash-'));
  let result: CrashBurstResult;
  const log: string[] = [];

  beforeAll(async () => {
    result = await runCrashBurst({
      requests: 100,
      dataDir,
      inferenceMs: 200,
      finishTimeoutMs: 240_000,
      log: (line) => log.push(line),
      kills: [
        { label: 'while events are being accepted', at: (p) => p.accepted >= p.total * 0.3 },
        { label: 'while inferences are queued', at: (p) => p.accepted === p.total && p.succeeded >= p.total * 0.05 },
        { label: 'while notifications are in flight', at: (p) => p.succeeded >= p.total * 0.4 },
      ],
    });
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('was killed at each moment: mid-acceptance, with inferences queued, with notifications in flight', () => {
    expect(result.kills.map((k) => k.label)).toHaveLength(3);
    const [accepting, queued, notifying] = result.kills;
    expect(accepting?.progress.accepted).toBeLessThan(result.requests);
    expect(queued?.progress.succeeded).toBeLessThan(result.requests * 0.4);
    expect(notifying?.progress.succeeded).toBeLessThan(result.requests);
  });

  it('ends every accepted request SUCCEEDED and leaves no execution RUNNING', () => {
    expect(result.acceptedEventsWithoutExecution).toBe(0);
    expect(result.executions).toMatchObject({ running: 0, failed: 0 });
    expect(result.executions.succeeded).toBe(result.executions.total);
    // Every requestId (a duplicate delivery shares its original's), each of its executions SUCCEEDED.
    expect(result.requestIds).toBe(95);
    expect(result.requestsSucceeded).toBe(result.requestIds);
  });

  it('runs one inference per distinct image: a request run again after a restart counts once', () => {
    expect(result.distinctImages).toBe(70);
    expect(result.inferences).toBe(70);
    expect(result.inferenceFailures).toBe(0);
  });
});
