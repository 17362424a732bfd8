/**
 * Following requests to their end through the Step Functions API: each PutEvents entry's EventId
 * is the `id` of the event that becomes the execution's input, so executions are matched to the
 * requests that caused them without any side channel.
 */
import { DescribeExecutionCommand, ListExecutionsCommand, type ExecutionListItem, type SFNClient } from '@aws-sdk/client-sfn';
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

/** Polls Step Functions until every sent event's execution has ended, matching them by event id. */
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
  while (finished.size < wanted.size) {
    if (Date.now() > deadline) throw new Error(`gave up after ${timeoutMs / 1000} s: ${wanted.size - finished.size} requests still running`);
    for (const item of await listSince(sfn, stateMachineArn, since)) {
      if (seen.has(item.executionArn ?? '') || item.status === 'RUNNING' || item.status === 'PENDING_REDRIVE') continue;
      const described = await sfn.send(new DescribeExecutionCommand({ executionArn: item.executionArn }));
      seen.add(item.executionArn ?? '');
      const eventId = eventIdOf(described.input);
      if (!eventId || !wanted.has(eventId)) continue;
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
    }
    if (finished.size < wanted.size) await new Promise((r) => setTimeout(r, 200));
  }
  return finished;
}

async function listSince(sfn: SFNClient, stateMachineArn: string, since: Date): Promise<ExecutionListItem[]> {
  const items: ExecutionListItem[] = [];
  let nextToken: string | undefined;
  do {
    const page = await sfn.send(new ListExecutionsCommand({ stateMachineArn, maxResults: 1000, ...(nextToken ? { nextToken } : {}) }));
    for (const item of page.executions ?? []) if ((item.startDate?.getTime() ?? 0) >= since.getTime()) items.push(item);
    nextToken = page.nextToken;
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

