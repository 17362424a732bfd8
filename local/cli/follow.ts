/**
 * Following requests to their end through the Step Functions API: each PutEvents entry's EventId
 * is the `id` of the event that becomes the execution's input, so executions are matched to the
 * requests that caused them without any side channel.
 */
import {
  DescribeExecutionCommand,
  ListExecutionsCommand,
  type DescribeExecutionCommandOutput,
  type ExecutionListItem,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import { inParallel } from '../concurrency';
import type { Progress } from './progress';

export interface FinishedExecution {
  readonly arn: string;
  readonly status: string;
  readonly output?: string;
  readonly error?: string;
  readonly cause?: string;
  readonly startMs: number;
  readonly stopMs: number;
}

/**
 * Polls Step Functions until every sent event's execution has ended, matching them by event id.
 * While executions are running it polls only the (short) RUNNING list, and lists and describes
 * finished executions about once a second, so following a large batch costs the cloud little.
 */
export async function followExecutions(
  sfn: SFNClient,
  stateMachineArn: string,
  since: Date,
  eventIds: readonly (string | undefined)[],
  timeoutMs: number,
  progress?: Progress,
): Promise<Map<string, FinishedExecution>> {
  const wanted = new Set(eventIds.filter((id): id is string => id !== undefined));
  const finished = new Map<string, FinishedExecution>();
  const seen = new Set<string>();
  const deadline = Date.now() + timeoutMs;
  let lastFullScan = 0;
  while (finished.size < wanted.size) {
    if (Date.now() > deadline) throw new Error(`gave up after ${timeoutMs / 1000} s: ${wanted.size - finished.size} requests still running`);
    const running = (await listSince(sfn, stateMachineArn, since, 'RUNNING')).length;
    if (running === 0 || Date.now() - lastFullScan >= 1000) {
      lastFullScan = Date.now();
      const ended = (await listSince(sfn, stateMachineArn, since)).filter(
        (item) => !seen.has(item.executionArn ?? '') && item.status !== 'RUNNING' && item.status !== 'PENDING_REDRIVE',
      );
      await describeAll(sfn, ended, async (item, described) => {
        seen.add(item.executionArn ?? '');
        const eventId = eventIdOf(described.input);
        if (!eventId || !wanted.has(eventId)) return;
        finished.set(eventId, {
          arn: item.executionArn ?? '',
          status: described.status ?? 'FAILED',
          ...(described.output === undefined ? {} : { output: described.output }),
          ...(described.error === undefined ? {} : { error: described.error }),
          ...(described.cause === undefined ? {} : { cause: described.cause }),
          startMs: described.startDate?.getTime() ?? 0,
          stopMs: described.stopDate?.getTime() ?? 0,
        });
        progress?.update(finished.size, described.status === 'SUCCEEDED' ? 'ok' : 'failed');
      });
    }
    if (finished.size < wanted.size) await new Promise((r) => setTimeout(r, 200));
  }
  return finished;
}

async function describeAll(
  sfn: SFNClient,
  items: readonly ExecutionListItem[],
  use: (item: ExecutionListItem, described: DescribeExecutionCommandOutput) => Promise<void>,
): Promise<void> {
  await inParallel(items.length, 8, async (i) => {
    const item = items[i] as ExecutionListItem;
    await use(item, await sfn.send(new DescribeExecutionCommand({ executionArn: item.executionArn })));
  });
}

/** Executions started since `since`; the API lists newest first, so paging stops at older ones. */
async function listSince(sfn: SFNClient, stateMachineArn: string, since: Date, statusFilter?: 'RUNNING'): Promise<ExecutionListItem[]> {
  const items: ExecutionListItem[] = [];
  let nextToken: string | undefined;
  do {
    const page = await sfn.send(
      new ListExecutionsCommand({ stateMachineArn, maxResults: 1000, ...(statusFilter ? { statusFilter } : {}), ...(nextToken ? { nextToken } : {}) }),
    );
    const recent = (page.executions ?? []).filter((item) => (item.startDate?.getTime() ?? 0) >= since.getTime());
    items.push(...recent);
    nextToken = recent.length === (page.executions ?? []).length ? page.nextToken : undefined;
  } while (nextToken);
  return items;
}

function eventIdOf(input: string | undefined): string | undefined {
  try {
    const parsed = JSON.parse(input ?? '') as { id?: unknown };
    return typeof parsed.id === 'string' ? parsed.id : undefined;
  } catch {
    return undefined;
  }
}

