/**
 * In-memory S3, DynamoDB (DocumentClient), Step Functions callbacks, SageMaker async and
 * EventBridge behind the real SDK clients (aws-sdk-client-mock), so the task cores run unchanged.
 * The DynamoDB fake evaluates exactly the expression forms the tasks use and rejects any other.
 */
import { randomUUID } from 'node:crypto';
import { GetObjectCommand, HeadObjectCommand, NotFound, NoSuchKey, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SendTaskFailureCommand, SendTaskSuccessCommand, SFNClient, TaskTimedOut } from '@aws-sdk/client-sfn';
import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { InvokeEndpointAsyncCommand, SageMakerRuntimeClient, type InvokeEndpointAsyncCommandInput } from '@aws-sdk/client-sagemaker-runtime';
import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';

type Item = Record<string, unknown>;
type Values = Record<string, unknown> | undefined;
type Names = Record<string, string> | undefined;

export interface StoredObject {
  readonly body: Buffer;
  readonly contentType?: string;
  readonly metadata?: Record<string, string>;
}

export interface TokenWaiter {
  resolve(output: unknown): void;
  reject(error: { error: string; cause: string }): void;
}

const meta = { $metadata: {} };

export class FakeCloud {
  readonly objects = new Map<string, StoredObject>();
  readonly items = new Map<string, Item>();
  /** Open task tokens; a callback on a missing one fails with TaskTimedOut, as Step Functions does. */
  readonly tokens = new Map<string, TokenWaiter>();
  readonly invocations: InvokeEndpointAsyncCommandInput[] = [];
  readonly published: PutEventsRequestEntry[] = [];
  readonly callbacks: { token: string; kind: 'success' | 'failure'; closed: boolean }[] = [];

  readonly s3 = new S3Client({ region: 'us-east-1' });
  readonly sfn = new SFNClient({ region: 'us-east-1' });
  readonly ddb = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
  readonly sagemaker = new SageMakerRuntimeClient({ region: 'us-east-1' });
  readonly events = new EventBridgeClient({ region: 'us-east-1' });

  readonly s3Mock = mockClient(this.s3);
  readonly sfnMock = mockClient(this.sfn);
  readonly ddbMock = mockClient(this.ddb);
  readonly sagemakerMock = mockClient(this.sagemaker);
  readonly eventsMock = mockClient(this.events);

  constructor(readonly bucket = 'imagegen-images') {
    this.install();
  }

  /** Re-installs the fakes (after a test has overridden one behaviour). */
  install(): void {
    this.s3Mock.reset();
    this.sfnMock.reset();
    this.ddbMock.reset();
    this.sagemakerMock.reset();
    this.eventsMock.reset();

    this.s3Mock.on(PutObjectCommand).callsFake(async (input: { Bucket: string; Key: string; Body: unknown; ContentType?: string; Metadata?: Record<string, string> }) => {
      const body = typeof input.Body === 'string' ? Buffer.from(input.Body) : Buffer.from(input.Body as Uint8Array);
      this.objects.set(`${input.Bucket}/${input.Key}`, {
        body,
        ...(input.ContentType ? { contentType: input.ContentType } : {}),
        ...(input.Metadata ? { metadata: input.Metadata } : {}),
      });
      return { ETag: '"etag"' };
    });
    this.s3Mock.on(HeadObjectCommand).callsFake(async (input: { Bucket: string; Key: string }) => {
      const o = this.objects.get(`${input.Bucket}/${input.Key}`);
      if (!o) throw new NotFound({ message: 'Not Found', $metadata: { httpStatusCode: 404 } });
      return { ContentLength: o.body.length, ContentType: o.contentType, Metadata: o.metadata ?? {} };
    });
    this.s3Mock.on(GetObjectCommand).callsFake(async (input: { Bucket: string; Key: string }) => {
      const o = this.objects.get(`${input.Bucket}/${input.Key}`);
      if (!o) throw new NoSuchKey({ message: 'The specified key does not exist.', $metadata: { httpStatusCode: 404 } });
      return { ContentLength: o.body.length, Body: { transformToByteArray: async () => new Uint8Array(o.body) } };
    });

    this.sfnMock.on(SendTaskSuccessCommand).callsFake(async (input: { taskToken: string; output: string }) => {
      const waiter = this.tokens.get(input.taskToken);
      this.callbacks.push({ token: input.taskToken, kind: 'success', closed: !waiter });
      if (!waiter) throw new TaskTimedOut({ message: 'Task Timed Out', $metadata: { httpStatusCode: 400 } });
      this.tokens.delete(input.taskToken);
      waiter.resolve(JSON.parse(input.output));
      return {};
    });
    this.sfnMock.on(SendTaskFailureCommand).callsFake(async (input: { taskToken: string; error?: string; cause?: string }) => {
      const waiter = this.tokens.get(input.taskToken);
      this.callbacks.push({ token: input.taskToken, kind: 'failure', closed: !waiter });
      if (!waiter) throw new TaskTimedOut({ message: 'Task Timed Out', $metadata: { httpStatusCode: 400 } });
      this.tokens.delete(input.taskToken);
      waiter.reject({ error: input.error ?? '', cause: input.cause ?? '' });
      return {};
    });

    this.sagemakerMock.on(InvokeEndpointAsyncCommand).callsFake(async (input: InvokeEndpointAsyncCommandInput) => {
      this.invocations.push(input);
      const id = randomUUID();
      return {
        InferenceId: input.InferenceId ?? id,
        OutputLocation: `s3://${this.bucket}/async-output/${id}.out`,
        FailureLocation: `s3://${this.bucket}/async-failures/${id}-error.out`,
      };
    });

    this.eventsMock.on(PutEventsCommand).callsFake(async (input: { Entries: PutEventsRequestEntry[] }) => {
      this.published.push(...input.Entries);
      return { FailedEntryCount: 0, Entries: input.Entries.map(() => ({ EventId: randomUUID() })) };
    });

    this.ddbMock.on(PutCommand).callsFake(async (input: { Item: Item; ConditionExpression?: string; ExpressionAttributeValues?: Values; ExpressionAttributeNames?: Names }) => {
      const key = itemKey(input.Item);
      this.check(this.items.get(key), input.ConditionExpression, input.ExpressionAttributeValues, input.ExpressionAttributeNames);
      this.items.set(key, structuredClone(input.Item));
      return meta;
    });
    this.ddbMock.on(GetCommand).callsFake(async (input: { Key: Item }) => {
      const item = this.items.get(itemKey(input.Key));
      return item ? { Item: structuredClone(item) } : {};
    });
    this.ddbMock.on(DeleteCommand).callsFake(async (input: { Key: Item; ConditionExpression?: string; ExpressionAttributeValues?: Values; ExpressionAttributeNames?: Names }) => {
      const key = itemKey(input.Key);
      this.check(this.items.get(key), input.ConditionExpression, input.ExpressionAttributeValues, input.ExpressionAttributeNames);
      this.items.delete(key);
      return meta;
    });
    this.ddbMock.on(UpdateCommand).callsFake(
      async (input: { Key: Item; UpdateExpression: string; ConditionExpression?: string; ExpressionAttributeValues?: Values; ExpressionAttributeNames?: Names }) => {
        const key = itemKey(input.Key);
        const current = this.items.get(key);
        this.check(current, input.ConditionExpression, input.ExpressionAttributeValues, input.ExpressionAttributeNames);
        this.items.set(key, applyUpdate({ ...(current ?? input.Key) }, input.UpdateExpression, input.ExpressionAttributeValues, input.ExpressionAttributeNames));
        return meta;
      },
    );
    this.ddbMock.on(QueryCommand).callsFake(
      async (input: { KeyConditionExpression: string; ExpressionAttributeValues: Record<string, unknown>; Limit?: number; ExclusiveStartKey?: Item }) => {
        const match = /^pk = (:\w+) AND (?:begins_with\(sk, (:\w+)\)|sk < (:\w+))$/.exec(input.KeyConditionExpression);
        if (!match?.[1] || !(match[2] ?? match[3])) throw new Error(`fake DynamoDB: unsupported KeyConditionExpression ${input.KeyConditionExpression}`);
        const pk = input.ExpressionAttributeValues[match[1]];
        const inRange = match[2]
          ? (sk: string) => sk.startsWith(String(input.ExpressionAttributeValues[match[2]!]))
          : (sk: string) => sk < String(input.ExpressionAttributeValues[match[3]!]);
        const after = input.ExclusiveStartKey ? String(input.ExclusiveStartKey.sk) : undefined;
        const all = [...this.items.values()]
          .filter((i) => i.pk === pk && inRange(String(i.sk)) && (after === undefined || String(i.sk) > after))
          .sort((a, b) => (String(a.sk) < String(b.sk) ? -1 : 1));
        // As DynamoDB pages: at most Limit items, and a LastEvaluatedKey whenever the page is full.
        const Items = (input.Limit === undefined ? all : all.slice(0, input.Limit)).map((i) => structuredClone(i));
        const last = Items.at(-1);
        const full = input.Limit !== undefined && Items.length === input.Limit && last !== undefined;
        return { Items, Count: Items.length, ...(full ? { LastEvaluatedKey: { pk: last.pk, sk: last.sk } } : {}) };
      },
    );
  }

  private check(item: Item | undefined, expression: string | undefined, values: Values, names: Names): void {
    if (expression && !evaluate(item, expression, values ?? {}, names ?? {})) {
      throw new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: { httpStatusCode: 400 } });
    }
  }

  /** A task token the fake Step Functions will accept; resolves with the SendTaskSuccess output. */
  openToken(token: string): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.tokens.set(token, { resolve, reject: (e) => reject(Object.assign(new Error(e.cause), { name: e.error })) });
    });
  }

  object(key: string): StoredObject | undefined {
    return this.objects.get(`${this.bucket}/${key}`);
  }

  putObject(uri: string, body: Buffer | string): void {
    const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri);
    if (!m) throw new Error(`bad uri ${uri}`);
    this.objects.set(`${m[1]}/${m[2]}`, { body: Buffer.from(body) });
  }

  item(pk: string, sk: string): Item | undefined {
    return this.items.get(`${pk}\u0000${sk}`);
  }
}

const itemKey = (i: Item) => `${String(i.pk)}\u0000${String(i.sk)}`;

function attr(name: string, names: Record<string, string>): string {
  return name.startsWith('#') ? (names[name] ?? name) : name;
}

/** `term OR term …` of `term AND term …`, each term `attribute_not_exists(a)` or `a = :v` or `a < :v`. */
function evaluate(item: Item | undefined, expression: string, values: Record<string, unknown>, names: Record<string, string>): boolean {
  return expression.split(' OR ').some((conjunction) => conjunction.split(' AND ').every((term) => evaluateTerm(item, term, values, names)));
}

function evaluateTerm(item: Item | undefined, term: string, values: Record<string, unknown>, names: Record<string, string>): boolean {
  const t = term.trim();
  const notExists = /^attribute_not_exists\(([#\w]+)\)$/.exec(t);
  if (notExists?.[1]) return item?.[attr(notExists[1], names)] === undefined;
  const cmp = /^([#\w]+) (=|<) (:\w+)$/.exec(t);
  if (cmp?.[1] && cmp[3]) {
    const left = item?.[attr(cmp[1], names)];
    const right = values[cmp[3]];
    if (left === undefined) return false;
    return cmp[2] === '=' ? left === right : (left as number) < (right as number);
  }
  throw new Error(`fake DynamoDB: unsupported condition term "${t}"`);
}

/** `SET a = :v, b = if_not_exists(b, :z) + :one`. */
function applyUpdate(item: Item, expression: string, values: Values, names: Names): Item {
  const body = expression.replace(/^SET\s+/, '');
  for (const assignment of body.split(/,\s*(?![^()]*\))/)) {
    const [lhs, rhs] = assignment.split(/\s*=\s*/, 2) as [string, string];
    const target = attr(lhs.trim(), names ?? {});
    const ine = /^if_not_exists\(([#\w]+),\s*(:\w+)\)\s*\+\s*(:\w+)$/.exec(rhs.trim());
    if (ine?.[1] && ine[2] && ine[3]) {
      const base = item[attr(ine[1], names ?? {})] ?? values?.[ine[2]];
      item[target] = (base as number) + (values?.[ine[3]] as number);
    } else if (/^:\w+$/.test(rhs.trim())) {
      item[target] = values?.[rhs.trim()];
    } else {
      throw new Error(`fake DynamoDB: unsupported update "${assignment}"`);
    }
  }
  return item;
}
