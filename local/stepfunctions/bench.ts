/**
 * Throughput of trivial (one Pass state) executions: through the whole API path (AWS SDK → edge
 * HTTP → service → interpreter, awaited to SUCCEEDED) versus the interpreter called directly.
 * The gap is what the emulator's API, history and bookkeeping cost per execution.
 */
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { systemClock } from '../clock';
import { inParallel } from '../concurrency';
import { EdgeServer } from '../edge/server';
import type { EventBusPort, LambdaPort } from '../ports';
import { runDirect } from './asl-runtime';
import { StepFunctionsService } from './sfn-service';

const DEFINITION = JSON.stringify({ StartAt: 'P', States: { P: { Type: 'Pass', Result: { ok: true }, End: true } } });
const CONCURRENCY = 16;

const noLambda: LambdaPort = {
  invoke: () => Promise.reject(new Error('the benchmark machine has no Task states')),
  invokeAsync: () => undefined,
};
const noEvents: EventBusPort = { putEvents: () => Promise.reject(new Error('the benchmark machine has no Task states')) };

export async function measureTrivialExecutions(n: number): Promise<{ apiPathPerSecond: number; directPerSecond: number }> {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`n must be a positive integer, got ${n}`);
  const service = new StepFunctionsService({
    region: 'us-east-1',
    account: '000000000000',
    clock: systemClock,
    stateMachines: [{ name: 'bench-pass', definition: DEFINITION, type: 'STANDARD' }],
    lambda: noLambda,
    events: noEvents,
  });
  service.start();
  const edge = new EdgeServer({ services: [service.handler], port: 0, region: 'us-east-1' });
  const sfn = new SFNClient({ endpoint: await edge.listen(), region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  const stateMachineArn = 'arn:aws:states:us-east-1:000000000000:stateMachine:bench-pass';
  try {
    // Warm both paths (connection, JIT) before timing.
    await runDirect(DEFINITION, {});
    const warm = await sfn.send(new StartExecutionCommand({ stateMachineArn, input: '{}' }));
    await service.waitForExecution(warm.executionArn!, 10_000);

    let started = performance.now();
    await inParallel(n, CONCURRENCY, async (i) => {
      const out = await sfn.send(new StartExecutionCommand({ stateMachineArn, name: `bench-${i}`, input: JSON.stringify({ i }) }));
      const done = await service.waitForExecution(out.executionArn!, 10_000);
      if (done.status !== 'SUCCEEDED') throw new Error(`execution bench-${i} ended ${done.status}`);
    });
    const apiSeconds = (performance.now() - started) / 1000;

    started = performance.now();
    await inParallel(n, CONCURRENCY, async (i) => {
      await runDirect(DEFINITION, { i });
    });
    const directSeconds = (performance.now() - started) / 1000;
    return { apiPathPerSecond: n / apiSeconds, directPerSecond: n / directSeconds };
  } finally {
    sfn.destroy();
    await edge.close();
    service.close();
  }
}
