/** The executions waiting for an image (`waiter#` items under its `image#` partition). */
import { DeleteCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { WAITER_PREFIX, isConditionFailure, leaseKey, type WaiterItem } from './coordination';

interface TableDeps {
  readonly ddb: Pick<DynamoDBDocumentClient, 'send'>;
  readonly config: { readonly tableName: string };
}

export async function queryWaiters(cacheKey: string, deps: TableDeps): Promise<WaiterItem[]> {
  const waiters: WaiterItem[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await deps.ddb.send(
      new QueryCommand({
        TableName: deps.config.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :w)',
        ExpressionAttributeValues: { ':pk': leaseKey(cacheKey).pk, ':w': WAITER_PREFIX },
        ConsistentRead: true,
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    waiters.push(...((page.Items ?? []) as WaiterItem[]));
    start = page.LastEvaluatedKey;
  } while (start);
  return waiters;
}

/** Deletes a waiter unless a newer attempt of the same execution replaced its token. */
export async function deleteWaiter(waiter: WaiterItem, deps: TableDeps): Promise<void> {
  await deps.ddb
    .send(
      new DeleteCommand({
        TableName: deps.config.tableName,
        Key: { pk: waiter.pk, sk: waiter.sk },
        ConditionExpression: 'taskToken = :t',
        ExpressionAttributeValues: { ':t': waiter.taskToken },
      }),
    )
    .catch((e: unknown) => {
      if (!isConditionFailure(e)) throw e;
    });
}
