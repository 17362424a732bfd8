/**
 * An invocation a fault rule picked (local/chaos) ends as Lambda reports the real thing, without
 * running the handler: `crash` at once, as a runtime that died (`Runtime.ExitError`, a native module's
 * segmentation fault); `timeout` after the function's whole timeout on the local cloud's clock, as
 * `Sandbox.Timedout`. The caller sees a function error either way: a synchronous one returns it, an
 * asynchronous one is retried.
 */
import type { Clock } from '../clock';
import type { InvocationFault } from '../chaos/injector';
import type { InvocationOutcome } from './function-pool';
import type { LambdaFunctionConfig } from './models';

export function injectedOutcome(fault: InvocationFault, config: LambdaFunctionConfig, requestId: string, clock: Clock): Promise<InvocationOutcome> {
  if (fault === 'crash') {
    const error = { errorType: 'Runtime.ExitError', errorMessage: `RequestId: ${requestId} Error: Runtime exited with error: signal: segmentation fault`, trace: [] };
    return Promise.resolve({ payload: JSON.stringify(error), error, durationMs: 0 });
  }
  const timeoutMs = config.timeoutSeconds * 1000;
  const error = { errorType: 'Sandbox.Timedout', errorMessage: `RequestId: ${requestId} Error: Task timed out after ${config.timeoutSeconds.toFixed(2)} seconds`, trace: [] };
  return new Promise((resolve) => clock.schedule(timeoutMs, () => resolve({ payload: JSON.stringify(error), error, durationMs: timeoutMs })));
}
