import {
  ConditionalCheckFailedException,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  ListTablesCommand,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../../local/clock';
import { DEFAULT_TTL_DELETION_LAG_MS, DynamoDbService } from '../../../local/dynamodb/dynamodb-service';
import { EdgeServer } from '../../../local/edge/server';
import type { TableSpec } from '../../../topology/topology';

const TABLE = 'imagegen-coordination';
const tables: TableSpec[] = [{ name: TABLE, partitionKey: 'pk', sortKey: 'sk', ttlAttribute: 'expiresAt' }];

describe('DynamoDbService through the edge', () => {
  let dataDir: string;
  let clock: ManualClock;
  let service: DynamoDbService;
  let edge: EdgeServer;
  let raw: DynamoDBClient;
  let doc: DynamoDBDocumentClient;

  async function boot(): Promise<void> {
    service = await DynamoDbService.start({ dataDir, tables, clock, ttlSweepIntervalMs: 60_000 });
    edge = new EdgeServer({ services: [service.handler], port: 0, region: 'us-east-1' });
    const url = await edge.listen();
    raw = new DynamoDBClient({ endpoint: url, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    doc = DynamoDBDocumentClient.from(raw);
  }

  async function shutdown(): Promise<void> {
    raw.destroy();
    await edge.close();
    await service.close();
  }

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'dynamodb-service-'));
    clock = new ManualClock();
    await boot();
  });

  afterAll(async () => {
    await shutdown();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('creates the topology table on demand with pk/sk string keys, PAY_PER_REQUEST, under <dataDir>/dynamodb', async () => {
    expect((await raw.send(new ListTablesCommand({}))).TableNames).toEqual([TABLE]);
    const { Table } = await raw.send(new DescribeTableCommand({ TableName: TABLE }));
    expect(Table).toMatchObject({
      TableStatus: 'ACTIVE',
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      BillingModeSummary: { BillingMode: 'PAY_PER_REQUEST' },
    });
    expect(existsSync(join(dataDir, 'dynamodb'))).toBe(true);
  });

  it('raises ConditionalCheckFailedException when a conditional put finds the item', async () => {
    const claim = { pk: 'request#r1', sk: 'claim', contentHash: 'h1' };
    await doc.send(new PutCommand({ TableName: TABLE, Item: claim, ConditionExpression: 'attribute_not_exists(pk)' }));
    const second = doc.send(new PutCommand({ TableName: TABLE, Item: { ...claim, contentHash: 'h2' }, ConditionExpression: 'attribute_not_exists(pk)' }));
    await expect(second).rejects.toBeInstanceOf(ConditionalCheckFailedException);
    await expect(second).rejects.toMatchObject({ name: 'ConditionalCheckFailedException' });
    expect((await doc.send(new GetCommand({ TableName: TABLE, Key: { pk: 'request#r1', sk: 'claim' } }))).Item).toEqual(claim);
  });

  it('queries a partition by sort-key prefix, in sort-key order', async () => {
    for (const sk of ['waiter#b', 'lease', 'waiter#a']) {
      await doc.send(new PutCommand({ TableName: TABLE, Item: { pk: 'image#k1', sk, n: 1 } }));
    }
    const result = await doc.send(
      new QueryCommand({
        TableName: TABLE,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :w)',
        ExpressionAttributeValues: { ':pk': 'image#k1', ':w': 'waiter#' },
        ConsistentRead: true,
      }),
    );
    expect(result.Items?.map((i) => i.sk)).toEqual(['waiter#a', 'waiter#b']);
  });

  it('reports TTL enabled on the topology attribute and validates UpdateTimeToLive', async () => {
    const described = await raw.send(new DescribeTimeToLiveCommand({ TableName: TABLE }));
    expect(described.TimeToLiveDescription).toEqual({ TimeToLiveStatus: 'ENABLED', AttributeName: 'expiresAt' });
    await expect(
      raw.send(new UpdateTimeToLiveCommand({ TableName: TABLE, TimeToLiveSpecification: { Enabled: true, AttributeName: 'other' } })),
    ).rejects.toMatchObject({ name: 'ValidationException', message: 'TimeToLive is already enabled' });
    await expect(raw.send(new DescribeTimeToLiveCommand({ TableName: 'no-such-table' }))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  });

  it('deletes an expired item only after the deletion lag, keeping future and non-numeric ones', async () => {
    const nowSeconds = Math.floor(clock.now() / 1000);
    const lagSeconds = DEFAULT_TTL_DELETION_LAG_MS / 1000;
    await doc.send(new PutCommand({ TableName: TABLE, Item: { pk: 'ttl', sk: 'past', expiresAt: nowSeconds - lagSeconds - 1 } }));
    await doc.send(new PutCommand({ TableName: TABLE, Item: { pk: 'ttl', sk: 'future', expiresAt: nowSeconds + 30 } }));
    await doc.send(new PutCommand({ TableName: TABLE, Item: { pk: 'ttl', sk: 'text', expiresAt: '0' } }));
    // Milliseconds by mistake: DynamoDB reads it as far in the future and keeps the item.
    await doc.send(new PutCommand({ TableName: TABLE, Item: { pk: 'ttl', sk: 'millis', expiresAt: clock.now() } }));
    // More than five years in the past: DynamoDB's TTL process ignores it.
    await doc.send(new PutCommand({ TableName: TABLE, Item: { pk: 'ttl', sk: 'ancient', expiresAt: nowSeconds - 6 * 365 * 86400 } }));
    expect(await service.sweepExpiredItems()).toBe(1);
    const left = await doc.send(new QueryCommand({ TableName: TABLE, KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': 'ttl' } }));
    expect(left.Items?.map((i) => i.sk).sort()).toEqual(['ancient', 'future', 'millis', 'text']);

    // Expired, but not for long: reads and conditions still see it, sweep after sweep (every 60 s here).
    await clock.advance(3600_000);
    await service.sweepExpiredItems();
    expect((await doc.send(new GetCommand({ TableName: TABLE, Key: { pk: 'ttl', sk: 'future' } }))).Item).toMatchObject({ expiresAt: nowSeconds + 30 });
    await expect(
      doc.send(new PutCommand({ TableName: TABLE, Item: { pk: 'ttl', sk: 'future' }, ConditionExpression: 'attribute_not_exists(pk)' })),
    ).rejects.toMatchObject({ name: 'ConditionalCheckFailedException' });

    // Past the lag, the next periodic sweep on the service clock deletes it.
    await clock.advance(DEFAULT_TTL_DELETION_LAG_MS);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await clock.advance(60_000);
    for (let i = 0; i < 100; i++) {
      const item = await doc.send(new GetCommand({ TableName: TABLE, Key: { pk: 'ttl', sk: 'future' } }));
      if (!item.Item) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect((await doc.send(new GetCommand({ TableName: TABLE, Key: { pk: 'ttl', sk: 'future' } }))).Item).toBeUndefined();
  });

  it('keeps items and TTL settings across a restart on the same data directory', async () => {
    await doc.send(new PutCommand({ TableName: TABLE, Item: { pk: 'persist', sk: 'me', value: 42 } }));
    await doc.send(new DeleteCommand({ TableName: TABLE, Key: { pk: 'request#r1', sk: 'claim' } }));
    await raw.send(new UpdateTimeToLiveCommand({ TableName: TABLE, TimeToLiveSpecification: { Enabled: false, AttributeName: 'expiresAt' } }));
    await shutdown();
    await boot();
    expect((await doc.send(new GetCommand({ TableName: TABLE, Key: { pk: 'persist', sk: 'me' } }))).Item).toEqual({ pk: 'persist', sk: 'me', value: 42 });
    expect((await doc.send(new GetCommand({ TableName: TABLE, Key: { pk: 'request#r1', sk: 'claim' } }))).Item).toBeUndefined();
    const described = await raw.send(new DescribeTimeToLiveCommand({ TableName: TABLE }));
    expect(described.TimeToLiveDescription).toEqual({ TimeToLiveStatus: 'DISABLED' });
  });
});
