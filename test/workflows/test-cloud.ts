/**
 * The task cores' AWS in this process: the local cloud's own DynamoDB (dynalite in its worker
 * thread, the topology's table) and S3 (behind an edge on a free port), reached by real SDK clients
 * built as tasks/shared/clients.ts builds them — so a condition expression, a Query page, a
 * conditional write or a 404 is answered by the code `npm start` runs. The table is reached at
 * dynalite's own port, as the local cloud's functions reach it. The cores themselves run here, not
 * in the local cloud's Lambda workers: `npm run mutate` switches a mutant on in this process only.
 *
 * Start once per test file (`TestCloud.start()` in beforeAll, `close()` in afterAll) and `reset()`
 * before each test. The test reads and writes state through its own clients, so `sent` holds only
 * what the task cores sent.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteObjectsCommand, GetObjectCommand, ListObjectsV2Command, NoSuchKey, PutObjectCommand, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ManualClock } from '../../local/clock';
import { DynamoDbService } from '../../local/dynamodb/dynamodb-service';
import { EdgeServer } from '../../local/edge/server';
import { S3Service } from '../../local/s3/s3-service';
import { defaultConfig, imagegenTopology } from '../../topology/imagegen-topology';
import { RecordedClients } from './recorded-clients';

export type Item = Record<string, unknown>;

export interface StoredObject {
  readonly body: Buffer;
  readonly contentType?: string;
  readonly metadata: Record<string, string>;
}

/** One command a task core sent to S3 or DynamoDB, by SDK command name (lib-dynamodb's for the table). */
export interface SentCommand {
  readonly service: 's3' | 'dynamodb';
  readonly name: string;
  readonly input: Record<string, unknown>;
}

const REGION = 'us-east-1';
const TABLE = defaultConfig.tableName;
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

export class TestCloud extends RecordedClients {
  /** What the task cores sent to S3 and DynamoDB since the last reset, in order. */
  readonly sent: SentCommand[] = [];
  readonly s3: S3Client;
  readonly ddb: DynamoDBDocumentClient;
  private readonly reader: { s3: S3Client; ddb: DynamoDBDocumentClient };
  private readonly hooks = new Map<string, (input: Record<string, unknown>) => Promise<void>>();

  private constructor(
    private readonly root: string,
    private readonly dynamodb: DynamoDbService,
    private readonly edge: EdgeServer,
    url: string,
  ) {
    super();
    this.s3 = this.recorded(s3Client(url), 's3');
    this.ddb = this.recorded(documentClient(dynamodb.directUrl), 'dynamodb');
    this.reader = { s3: s3Client(url), ddb: documentClient(dynamodb.directUrl) };
  }

  static async start(): Promise<TestCloud> {
    const root = mkdtempSync(join(tmpdir(), 'imagegen-test-cloud-'));
    // A clock that never moves: the TTL sweep would delete items stamped in the tests' 2026-01-01.
    const dynamodb = await DynamoDbService.start({ dataDir: root, tables: imagegenTopology().tables, clock: new ManualClock() });
    const s3 = new S3Service({ dataDir: root, region: REGION, buckets: imagegenTopology().buckets.map((b) => b.name) });
    const edge = new EdgeServer({ services: [s3.handler], port: 0, region: REGION });
    return new TestCloud(root, dynamodb, edge, await edge.listen());
  }

  async close(): Promise<void> {
    for (const client of [this.s3, this.ddb, this.reader.s3, this.reader.ddb]) client.destroy();
    await this.edge.close();
    await this.dynamodb.close();
    rmSync(this.root, { recursive: true, force: true });
  }

  /** An empty table and bucket, no recorded calls or hooks, the recorded clients' answers re-installed. */
  async reset(): Promise<void> {
    this.install();
    this.sent.length = 0;
    this.hooks.clear();
    await Promise.all([this.emptyTable(), this.emptyBucket()]);
  }

  private async emptyTable(): Promise<void> {
    const keys = (await this.items()).map((i) => ({ DeleteRequest: { Key: { pk: i.pk, sk: i.sk } } }));
    for (let i = 0; i < keys.length; i += 25) {
      const out = await this.reader.ddb.send(new BatchWriteCommand({ RequestItems: { [TABLE]: keys.slice(i, i + 25) } }));
      if (Object.keys(out.UnprocessedItems ?? {}).length) throw new Error('the table was not emptied: unprocessed deletes');
    }
  }

  private async emptyBucket(): Promise<void> {
    let token: string | undefined;
    do {
      const page = await this.reader.s3.send(new ListObjectsV2Command({ Bucket: this.bucket, ...(token ? { ContinuationToken: token } : {}) }));
      const objects = (page.Contents ?? []).map((o) => ({ Key: o.Key! }));
      if (objects.length) {
        const out = await this.reader.s3.send(new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: objects, Quiet: true } }));
        if (out.Errors?.length) throw new Error(`the bucket was not emptied: ${out.Errors[0]?.Code} on ${out.Errors[0]?.Key}`);
      }
      token = page.NextContinuationToken;
    } while (token);
  }

  /** Runs `hook` after each `name` command a task core sends has been answered, before the core sees the answer. */
  afterSend(name: string, hook: (input: Record<string, unknown>) => Promise<void>): void {
    this.hooks.set(name, hook);
  }

  /** The commands the task cores sent, named `name` (all of them without it). */
  calls(name?: string): SentCommand[] {
    return this.sent.filter((c) => name === undefined || c.name === name);
  }

  /** Every command sent through any of the cores' clients, by name. */
  override commandNames(): string[] {
    return [...this.sent.map((c) => c.name), ...super.commandNames()];
  }

  async item(pk: string, sk: string): Promise<Item | undefined> {
    return (await this.reader.ddb.send(new GetCommand({ TableName: TABLE, Key: { pk, sk }, ConsistentRead: true }))).Item;
  }

  /** A partition's items, in sort-key order. */
  async partition(pk: string): Promise<Item[]> {
    const items: Item[] = [];
    let start: Item | undefined;
    do {
      const page = await this.reader.ddb.send(
        new QueryCommand({ TableName: TABLE, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': pk }, ConsistentRead: true, ...(start ? { ExclusiveStartKey: start } : {}) }),
      );
      items.push(...(page.Items ?? []));
      start = page.LastEvaluatedKey;
    } while (start);
    return items;
  }

  /** Every item in the table. */
  async items(): Promise<Item[]> {
    const items: Item[] = [];
    let start: Item | undefined;
    do {
      const page = await this.reader.ddb.send(new ScanCommand({ TableName: TABLE, ConsistentRead: true, ...(start ? { ExclusiveStartKey: start } : {}) }));
      items.push(...(page.Items ?? []));
      start = page.LastEvaluatedKey;
    } while (start);
    return items;
  }

  async putItem(item: Item): Promise<void> {
    await this.reader.ddb.send(new PutCommand({ TableName: TABLE, Item: item }));
  }

  /** Sets `set`'s attributes and removes `remove`'s on an existing item (as another writer would). */
  async updateItem(pk: string, sk: string, set: Item, remove: readonly string[] = []): Promise<void> {
    const names: Record<string, string> = {};
    const values: Item = {};
    const sets = Object.entries(set).map(([name, value], i) => {
      names[`#s${i}`] = name;
      values[`:s${i}`] = value;
      return `#s${i} = :s${i}`;
    });
    const removes = remove.map((name, i) => {
      names[`#r${i}`] = name;
      return `#r${i}`;
    });
    const expression = [sets.length ? `SET ${sets.join(', ')}` : '', removes.length ? `REMOVE ${removes.join(', ')}` : ''].filter(Boolean).join(' ');
    await this.reader.ddb.send(
      new UpdateCommand({
        TableName: TABLE,
        Key: { pk, sk },
        UpdateExpression: expression,
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeNames: names,
        ...(Object.keys(values).length ? { ExpressionAttributeValues: values } : {}),
      }),
    );
  }

  async deleteItem(pk: string, sk: string): Promise<void> {
    await this.reader.ddb.send(new DeleteCommand({ TableName: TABLE, Key: { pk, sk } }));
  }

  /** The object under `key` in the images bucket, or undefined when S3 answers NoSuchKey. */
  async object(key: string): Promise<StoredObject | undefined> {
    try {
      const out = await this.reader.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return { body: Buffer.from(await out.Body!.transformToByteArray()), ...(out.ContentType ? { contentType: out.ContentType } : {}), metadata: out.Metadata ?? {} };
    } catch (error) {
      if (error instanceof NoSuchKey) return undefined;
      throw error;
    }
  }

  async putObject(uri: string, body: Buffer | string, metadata?: Record<string, string>): Promise<void> {
    const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri);
    if (!m) throw new Error(`not an s3:// URI: ${uri}`);
    await this.reader.s3.send(new PutObjectCommand({ Bucket: m[1], Key: m[2], Body: body, ...(metadata ? { Metadata: metadata } : {}) }));
  }

  /** Records each command `client` sends, then runs its hook once the service has answered. */
  private recorded<C extends S3Client | DynamoDBDocumentClient>(client: C, service: SentCommand['service']): C {
    const send = client.send.bind(client) as (command: { input: object }, ...options: unknown[]) => Promise<unknown>;
    const hooks = this.hooks;
    const sent = this.sent;
    const recording = async (command: { input: object }, ...options: unknown[]) => {
      const name = command.constructor.name;
      sent.push({ service, name, input: command.input as Record<string, unknown> });
      try {
        return await send(command, ...options);
      } finally {
        await hooks.get(name)?.(command.input as Record<string, unknown>);
      }
    };
    Object.assign(client, { send: recording });
    return client;
  }
}

/** As tasks/shared/clients.ts builds the S3 client for a local endpoint. */
function s3Client(endpoint: string): S3Client {
  const config: S3ClientConfig = {
    endpoint,
    region: REGION,
    credentials,
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  };
  return new S3Client(config);
}

/** As tasks/shared/clients.ts builds the DocumentClient. */
function documentClient(endpoint: string): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint, region: REGION, credentials }), { marshallOptions: { removeUndefinedValues: true } });
}
