/**
 * Executions through the Step Functions API: a page of the list (ListExecutions with its NextToken,
 * never everything), counts per status, one execution in full, and the console's three actions.
 */
import {
  DescribeExecutionCommand,
  DescribeStateMachineCommand,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  RedriveExecutionCommand,
  StartExecutionCommand,
  StopExecutionCommand,
  type DescribeExecutionCommandOutput,
  type ExecutionListItem,
  type ExecutionStatus,
  type HistoryEvent,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import { inParallel } from '../concurrency';
import { executionFacts, type CacheOutcome, type ExecutionFacts } from './history';

export const STATUSES = ['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED', 'PENDING_REDRIVE'] as const satisfies readonly ExecutionStatus[];

export interface ExecutionRow {
  readonly arn: string;
  readonly name: string;
  readonly status: string;
  readonly startDate: Date;
  readonly stopDate?: Date;
  readonly redriveCount: number;
  readonly requestId?: string;
  readonly cache?: CacheOutcome;
}

export interface ListQuery {
  readonly status?: ExecutionStatus;
  /** Rows whose requestId contains this text. */
  readonly requestId?: string;
  readonly nextToken?: string;
}

export interface ListPage {
  readonly rows: readonly ExecutionRow[];
  readonly nextToken?: string;
  /** Executions looked at to fill the page (more than its rows when filtering by requestId). */
  readonly scanned: number;
}

export interface ExecutionDeps {
  readonly sfn: SFNClient;
  readonly stateMachineArn: string;
}

export const PAGE_SIZE = 25;
/** A requestId search reads at most this many executions per page, then offers to go on. */
export const SEARCH_BUDGET = 1000;
/** History calls in flight while filling one page. */
const HISTORY_CONCURRENCY = 8;

export class ConsoleInputError extends Error {
  override readonly name = 'ConsoleInputError';
}

export function parseStatus(text: string | null): ExecutionStatus | undefined {
  if (text === null || text === '') return undefined;
  if (!(STATUSES as readonly string[]).includes(text)) throw new ConsoleInputError(`status must be one of ${STATUSES.join(', ')} (got "${text}")`);
  return text as ExecutionStatus;
}

export async function listExecutions(deps: ExecutionDeps, query: ListQuery): Promise<ListPage> {
  const rows: ExecutionRow[] = [];
  let nextToken = query.nextToken;
  let scanned = 0;
  do {
    const page = await deps.sfn.send(
      new ListExecutionsCommand({
        stateMachineArn: deps.stateMachineArn,
        maxResults: query.requestId ? 100 : PAGE_SIZE,
        ...(query.status ? { statusFilter: query.status } : {}),
        ...(nextToken ? { nextToken } : {}),
      }),
    );
    const items = page.executions ?? [];
    scanned += items.length;
    const enriched = await enrich(deps.sfn, items);
    rows.push(...(query.requestId ? enriched.filter((r) => r.requestId?.includes(query.requestId ?? '')) : enriched));
    nextToken = page.nextToken;
  } while (query.requestId && nextToken && rows.length < PAGE_SIZE && scanned < SEARCH_BUDGET);
  return { rows, ...(nextToken ? { nextToken } : {}), scanned };
}

/** Each row's request and cache outcome, from its history (one call per row, a few in flight). */
async function enrich(sfn: SFNClient, items: readonly ExecutionListItem[]): Promise<ExecutionRow[]> {
  const rows: ExecutionRow[] = new Array(items.length);
  await inParallel(items.length, HISTORY_CONCURRENCY, async (i) => {
    const item = items[i];
    if (!item?.executionArn) return;
    const history = await sfn.send(new GetExecutionHistoryCommand({ executionArn: item.executionArn, maxResults: 1000 }));
    const facts = executionFacts(item.executionArn, history.events ?? []);
    rows[i] = {
      arn: item.executionArn,
      name: item.name ?? '',
      status: item.status ?? 'RUNNING',
      startDate: item.startDate ?? new Date(0),
      ...(item.stopDate ? { stopDate: item.stopDate } : {}),
      redriveCount: item.redriveCount ?? 0,
      ...(facts.requestId === undefined ? {} : { requestId: facts.requestId }),
      ...(facts.cache === undefined ? {} : { cache: facts.cache }),
    };
  });
  return rows.filter((r) => r !== undefined);
}

export type StatusCounts = Readonly<Record<string, number>>;

/** Counts per status, paging through every execution's summary (1,000 a call). */
export async function statusCounts(deps: ExecutionDeps): Promise<StatusCounts> {
  const counts: Record<string, number> = Object.fromEntries(STATUSES.map((s) => [s, 0]));
  let nextToken: string | undefined;
  do {
    const page = await deps.sfn.send(new ListExecutionsCommand({ stateMachineArn: deps.stateMachineArn, maxResults: 1000, ...(nextToken ? { nextToken } : {}) }));
    for (const e of page.executions ?? []) if (e.status) counts[e.status] = (counts[e.status] ?? 0) + 1;
    nextToken = page.nextToken;
  } while (nextToken);
  return counts;
}

export interface ExecutionDetail {
  readonly description: DescribeExecutionCommandOutput;
  readonly events: readonly HistoryEvent[];
  readonly facts: ExecutionFacts;
  readonly definition: string;
}

export async function executionDetail(deps: ExecutionDeps, executionArn: string): Promise<ExecutionDetail> {
  const [description, events, machine] = await Promise.all([
    deps.sfn.send(new DescribeExecutionCommand({ executionArn })),
    fullHistory(deps.sfn, executionArn),
    deps.sfn.send(new DescribeStateMachineCommand({ stateMachineArn: deps.stateMachineArn })),
  ]);
  return { description, events, facts: executionFacts(executionArn, events), definition: machine.definition ?? '{}' };
}

async function fullHistory(sfn: SFNClient, executionArn: string): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  let nextToken: string | undefined;
  do {
    const page = await sfn.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 1000, ...(nextToken ? { nextToken } : {}) }));
    events.push(...(page.events ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return events;
}

/** A new execution with the same input, as the AWS console's "New execution" from an old one. */
export async function replay(deps: ExecutionDeps, executionArn: string): Promise<string> {
  const { input, stateMachineArn } = await deps.sfn.send(new DescribeExecutionCommand({ executionArn }));
  const started = await deps.sfn.send(new StartExecutionCommand({ stateMachineArn: stateMachineArn ?? deps.stateMachineArn, input: input ?? '{}' }));
  if (!started.executionArn) throw new Error('StartExecution returned no executionArn');
  return started.executionArn;
}

export async function redrive(deps: ExecutionDeps, executionArn: string): Promise<void> {
  await deps.sfn.send(new RedriveExecutionCommand({ executionArn }));
}

export async function stop(deps: ExecutionDeps, executionArn: string): Promise<void> {
  await deps.sfn.send(new StopExecutionCommand({ executionArn, error: 'Console.Stopped', cause: 'stopped from the imagegen operator console' }));
}
