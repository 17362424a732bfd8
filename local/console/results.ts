/**
 * Result events ("Image Generation Succeeded" / "Failed"), newest first. Every one of them is sent
 * by an execution, so they are read where the Step Functions API records them: the Notify state's
 * PutEvents entry with the EventId EventBridge returned, or — for a failure — the Fail state's
 * error and cause, which the contract makes equal to the published code and message. EventBridge
 * itself offers no API that lists a bus's past events (an archive can only be replayed), so this
 * works unchanged against a real account, at no extra resource.
 */
import { GetExecutionHistoryCommand, ListExecutionsCommand, type SFNClient } from '@aws-sdk/client-sfn';
import { inParallel } from '../concurrency';
import { executionFacts, type ResultEvent } from './history';

export interface ResultsPage {
  readonly events: readonly ResultEvent[];
  readonly nextToken?: string;
}

export async function resultEvents(deps: { readonly sfn: SFNClient; readonly stateMachineArn: string }, nextToken?: string, pageSize = 25): Promise<ResultsPage> {
  const page = await deps.sfn.send(new ListExecutionsCommand({ stateMachineArn: deps.stateMachineArn, maxResults: pageSize, ...(nextToken ? { nextToken } : {}) }));
  const items = (page.executions ?? []).filter((e) => e.status !== 'RUNNING');
  const found: (ResultEvent | undefined)[] = new Array(items.length);
  await inParallel(items.length, 8, async (i) => {
    const arn = items[i]?.executionArn;
    if (!arn) return;
    const history = await deps.sfn.send(new GetExecutionHistoryCommand({ executionArn: arn, maxResults: 1000, reverseOrder: false }));
    found[i] = executionFacts(arn, history.events ?? []).result;
  });
  const events = found.filter((e): e is ResultEvent => e !== undefined).sort((a, b) => b.time.getTime() - a.time.getTime());
  return { events, ...(page.nextToken ? { nextToken: page.nextToken } : {}) };
}
