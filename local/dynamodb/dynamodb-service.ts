/**
 * DynamoDB emulator: dynalite (LevelDB under `<dataDir>/dynamodb`) on an ephemeral loopback port,
 * in a worker thread of its own (so its work runs beside the edge's, not on its event loop), with
 * requests forwarded to it unchanged. dynalite has no Time to Live, so this layer answers
 * `UpdateTimeToLive`/`DescribeTimeToLive` itself (state in `<dataDir>/dynamodb-ttl.json`) and
 * deletes expired items in the background, as DynamoDB's TTL process does: late. DynamoDB deletes
 * expired items "within a few days"; until then reads, queries and conditions still see them. The
 * emulator keeps them at least `ttlDeletionLagMs` (two days by default), so code that relies on
 * deletion fails here first.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { FaultInjector } from '../chaos/injector';
import { systemClock, type Clock } from '../clock';
import { AwsServiceError } from '../edge/errors';
import { jsonErrorResponse, jsonResponse } from '../edge/json-protocol';
import type { EdgeRequest, EdgeResponse, ServiceHandler } from '../edge/types';
import { writeFileDurably } from '../shared/durable-file';
import type { TableSpec } from '../../topology/topology';
import { DYNALITE_WORKER, INTERNAL_HEADER, workerFaults, type FromWorker, type ToWorker } from './worker';

export interface DynamoDbServiceOptions {
  readonly dataDir: string;
  /** Tables created (PAY_PER_REQUEST, string keys) when missing, with TTL enabled on `ttlAttribute`. */
  readonly tables: readonly TableSpec[];
  /** @default systemClock */
  readonly clock?: Clock;
  /** How often the background process looks for items to delete. @default 30000 */
  readonly ttlSweepIntervalMs?: number;
  /** How long an item stays after its TTL time before it is deleted. @default DEFAULT_TTL_DELETION_LAG_MS */
  readonly ttlDeletionLagMs?: number;
  /** API fault rules for `dynamodb`, applied to every caller, the functions' direct calls included. */
  readonly faults?: FaultInjector;
}

/** The operations answered: dynalite's, and the Time to Live pair this layer answers itself. */
export const DYNAMODB_OPERATIONS = [
  'BatchGetItem',
  'BatchWriteItem',
  'CreateTable',
  'DeleteItem',
  'DeleteTable',
  'DescribeTable',
  'DescribeTimeToLive',
  'GetItem',
  'ListTables',
  'ListTagsOfResource',
  'PutItem',
  'Query',
  'Scan',
  'TagResource',
  'UntagResource',
  'UpdateItem',
  'UpdateTable',
  'UpdateTimeToLive',
] as const;

/** Two days: AWS promises deletion only "within a few days" of expiry, and never at the moment of it. */
export const DEFAULT_TTL_DELETION_LAG_MS = 2 * 24 * 3600 * 1000;

/** Kept after TTL is disabled too, so a restart does not re-enable the topology's default. */
interface TtlSetting {
  readonly attributeName: string;
  readonly enabled: boolean;
}

type AttributeValue = Record<string, unknown>;
type Item = Record<string, AttributeValue>;

const TARGET_PREFIX = 'DynamoDB_20120810';
const FIVE_YEARS_SECONDS = 5 * 365 * 24 * 3600;
const ERROR_PREFIX = 'com.amazonaws.dynamodb.v20120810#';
/** dynalite checks that a SigV4 header is present; it never verifies the signature. */
const INTERNAL_AUTH = 'AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0';

export class DynamoDbService {
  readonly handler: ServiceHandler;
  private readonly agent = new Agent({ keepAlive: true });
  private readonly ttlFile: string;
  private readonly clock: Clock;
  private cancelSweep: (() => void) | undefined;
  private sweeping: Promise<number> | undefined;
  private ttlWrites: Promise<void> = Promise.resolve();
  private closed = false;

  private constructor(
    private readonly worker: Worker,
    /** dynalite's own loopback port: a client may also talk to it directly (`directUrl`). */
    private readonly port: number,
    private readonly options: DynamoDbServiceOptions,
    private readonly ttl: Map<string, TtlSetting>,
  ) {
    this.clock = options.clock ?? systemClock;
    this.ttlFile = join(options.dataDir, 'dynamodb-ttl.json');
    this.handler = {
      name: 'dynamodb',
      signingNames: ['dynamodb'],
      handle: (request) => this.handle(request),
    };
  }

  /** dynalite itself, without the edge: for the local cloud's own Lambdas (UpdateTimeToLive is not served there). */
  get directUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  static async start(options: DynamoDbServiceOptions): Promise<DynamoDbService> {
    const path = join(options.dataDir, 'dynamodb');
    mkdirSync(path, { recursive: true });
    const worker = new Worker(DYNALITE_WORKER, { eval: true, workerData: { path, dynalite: createRequire(__filename).resolve('dynalite') } });
    const port = await new Promise<number>((resolve, reject) => {
      worker.once('error', reject);
      worker.once('message', (message: FromWorker) => ('port' in message ? resolve(message.port) : reject(new Error(`dynalite did not start: ${'error' in message ? message.error : 'no port'}`))));
    });
    const faults = options.faults;
    if (faults) {
      const send = (message: ToWorker) => worker.postMessage(message);
      faults.onReplace((plan) => send({ kind: 'faults', faults: workerFaults(plan) }));
      worker.on('message', (message: FromWorker) => {
        if ('fired' in message) faults.record(message.fired, `answered dynamodb ${message.operation} with an injected error`);
      });
    }
    const ttlFile = join(options.dataDir, 'dynamodb-ttl.json');
    const saved = existsSync(ttlFile) ? (JSON.parse(readFileSync(ttlFile, 'utf8')) as Record<string, TtlSetting>) : {};
    const service = new DynamoDbService(worker, port, options, new Map(Object.entries(saved)));
    try {
      await service.createTopologyTables();
    } catch (error) {
      await service.close();
      throw error;
    }
    service.scheduleSweep();
    return service;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.cancelSweep?.();
    await this.sweeping?.catch(() => undefined);
    this.agent.destroy();
    await new Promise<void>((resolve) => {
      this.worker.on('message', (message: FromWorker) => 'closed' in message && resolve());
      this.worker.postMessage({ kind: 'close' } satisfies ToWorker);
    });
    await this.worker.terminate();
  }

  /** Deletes every item whose TTL attribute (epoch seconds) passed more than the deletion lag ago; returns how many. */
  async sweepExpiredItems(): Promise<number> {
    if (this.sweeping) return this.sweeping;
    this.sweeping = this.sweep().finally(() => {
      this.sweeping = undefined;
    });
    return this.sweeping;
  }

  private async handle(request: EdgeRequest): Promise<EdgeResponse> {
    const target = request.headers['x-amz-target'];
    if (target === `${TARGET_PREFIX}.UpdateTimeToLive` || target === `${TARGET_PREFIX}.DescribeTimeToLive`) {
      const fault = this.options.faults?.active ? this.options.faults.apiError('dynamodb', target.split('.')[1]) : undefined;
      if (fault) return jsonErrorResponse(fault, { version: '1.0', errorTypePrefix: ERROR_PREFIX });
      try {
        const input = parseJson(request.body);
        const output = target.endsWith('UpdateTimeToLive') ? await this.updateTimeToLive(input) : await this.describeTimeToLive(input);
        return jsonResponse(output, '1.0');
      } catch (error) {
        if (error instanceof AwsServiceError) return jsonErrorResponse(error, { version: '1.0', errorTypePrefix: ERROR_PREFIX });
        throw error;
      }
    }
    const { [INTERNAL_HEADER]: _internal, ...headers } = request.headers;
    return this.forward({ ...request, headers });
  }

  private forward(request: EdgeRequest): Promise<EdgeResponse> {
    const headers = { ...request.headers };
    delete headers.host;
    delete headers.connection;
    headers['content-length'] = String(request.body.length);
    const search = request.query.toString();
    return new Promise((resolve, reject) => {
      const outgoing = httpRequest(
        { host: '127.0.0.1', port: this.port, method: request.method, path: `${request.rawPath}${search ? `?${search}` : ''}`, headers, agent: this.agent },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('error', reject);
          response.on('end', () => {
            const out: Record<string, string> = {};
            for (const [name, value] of Object.entries(response.headers)) {
              if (value === undefined || name === 'connection' || name === 'keep-alive' || name === 'transfer-encoding') continue;
              out[name] = Array.isArray(value) ? value.join(', ') : value;
            }
            resolve({ status: response.statusCode ?? 500, headers: out, body: Buffer.concat(chunks) });
          });
        },
      );
      outgoing.on('error', reject);
      outgoing.end(request.body);
    });
  }

  /** Calls dynalite directly; a DynamoDB error comes back as an `AwsServiceError`. */
  private async call<T>(operation: string, input: unknown): Promise<T> {
    const body = Buffer.from(JSON.stringify(input));
    const response = await this.forward({
      method: 'POST',
      rawPath: '/',
      query: new URLSearchParams(),
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': `${TARGET_PREFIX}.${operation}`,
        'x-amz-date': '20260101T000000Z',
        authorization: INTERNAL_AUTH,
        [INTERNAL_HEADER]: '1',
      },
      body,
      signingName: 'dynamodb',
      region: 'us-east-1',
    });
    const parsed = JSON.parse(String(response.body)) as Record<string, unknown>;
    if (response.status !== 200) {
      const type = String(parsed.__type ?? 'InternalServerError').split('#').pop() ?? 'InternalServerError';
      throw new AwsServiceError(type, String(parsed.message ?? parsed.Message ?? `${operation} failed`), response.status);
    }
    return parsed as T;
  }

  private async updateTimeToLive(input: Record<string, unknown>): Promise<unknown> {
    const tableName = requireString(input, 'TableName');
    const spec = input.TimeToLiveSpecification as { Enabled?: unknown; AttributeName?: unknown } | undefined;
    if (!spec || typeof spec.Enabled !== 'boolean' || typeof spec.AttributeName !== 'string' || spec.AttributeName === '') {
      throw new AwsServiceError('ValidationException', 'TimeToLiveSpecification requires Enabled (boolean) and AttributeName (non-empty string)');
    }
    await this.describeTable(tableName);
    const current = this.ttl.get(tableName);
    if (spec.Enabled) {
      if (current?.enabled) throw new AwsServiceError('ValidationException', 'TimeToLive is already enabled');
      this.ttl.set(tableName, { attributeName: spec.AttributeName, enabled: true });
    } else {
      if (!current?.enabled) throw new AwsServiceError('ValidationException', 'TimeToLive is already disabled');
      if (current.attributeName !== spec.AttributeName) {
        throw new AwsServiceError('ValidationException', `TimeToLive is enabled on attribute ${current.attributeName}, not ${spec.AttributeName}`);
      }
      this.ttl.set(tableName, { attributeName: current.attributeName, enabled: false });
    }
    await this.saveTtl();
    return { TimeToLiveSpecification: { Enabled: spec.Enabled, AttributeName: spec.AttributeName } };
  }

  private async describeTimeToLive(input: Record<string, unknown>): Promise<unknown> {
    const tableName = requireString(input, 'TableName');
    await this.describeTable(tableName);
    const current = this.ttl.get(tableName);
    return {
      TimeToLiveDescription: current?.enabled ? { TimeToLiveStatus: 'ENABLED', AttributeName: current.attributeName } : { TimeToLiveStatus: 'DISABLED' },
    };
  }

  private async describeTable(tableName: string): Promise<{ KeySchema: { AttributeName: string }[]; TableStatus: string }> {
    const { Table } = await this.call<{ Table: { KeySchema: { AttributeName: string }[]; TableStatus: string } }>('DescribeTable', { TableName: tableName });
    return Table;
  }

  private async createTopologyTables(): Promise<void> {
    for (const table of this.options.tables) {
      try {
        await this.describeTable(table.name);
      } catch (error) {
        if (!(error instanceof AwsServiceError) || error.code !== 'ResourceNotFoundException') throw error;
        const keys = [table.partitionKey, ...(table.sortKey ? [table.sortKey] : [])];
        await this.call('CreateTable', {
          TableName: table.name,
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: keys.map((name) => ({ AttributeName: name, AttributeType: 'S' })),
          KeySchema: keys.map((name, i) => ({ AttributeName: name, KeyType: i === 0 ? 'HASH' : 'RANGE' })),
        });
      }
      // createTableMs is 0, but the status flips on a timer: wait for ACTIVE before serving.
      for (let i = 0; i < 100 && (await this.describeTable(table.name)).TableStatus !== 'ACTIVE'; i++) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      if (table.ttlAttribute && !this.ttl.has(table.name)) this.ttl.set(table.name, { attributeName: table.ttlAttribute, enabled: true });
    }
    await this.saveTtl();
  }

  /** Writes the TTL settings durably before UpdateTimeToLive answers; writes are queued, each with the settings of its moment. */
  private saveTtl(): Promise<void> {
    const document = JSON.stringify(Object.fromEntries(this.ttl));
    const write = this.ttlWrites.catch(() => undefined).then(() => writeFileDurably(this.ttlFile, document));
    this.ttlWrites = write;
    return write;
  }

  private scheduleSweep(): void {
    if (this.closed) return;
    this.cancelSweep = this.clock.schedule(this.options.ttlSweepIntervalMs ?? 30_000, () => {
      void this.sweepExpiredItems()
        .catch(() => 0)
        .finally(() => this.scheduleSweep());
    });
  }

  private async sweep(): Promise<number> {
    const nowSeconds = Math.floor(this.clock.now() / 1000);
    const deleteBefore = Math.floor((this.clock.now() - (this.options.ttlDeletionLagMs ?? DEFAULT_TTL_DELETION_LAG_MS)) / 1000);
    let deleted = 0;
    for (const [tableName, setting] of this.ttl) {
      if (!setting.enabled) continue;
      let table;
      try {
        table = await this.describeTable(tableName);
      } catch {
        continue; // the table was deleted since TTL was enabled
      }
      const keyNames = table.KeySchema.map((k) => k.AttributeName);
      let startKey: Item | undefined;
      do {
        // Only Number attributes expire (a comparison with another type is false), and DynamoDB
        // ignores expiry times more than five years in the past.
        const page: { Items?: Item[]; LastEvaluatedKey?: Item } = await this.call('Scan', {
          TableName: tableName,
          FilterExpression: '#ttl < :now AND #ttl >= :floor',
          ExpressionAttributeNames: { '#ttl': setting.attributeName },
          ExpressionAttributeValues: { ':now': { N: String(deleteBefore) }, ':floor': { N: String(nowSeconds - FIVE_YEARS_SECONDS) } },
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        });
        for (const item of page.Items ?? []) {
          const expiry = item[setting.attributeName];
          try {
            // Conditional, so an item rewritten with a new expiry since the scan survives.
            await this.call('DeleteItem', {
              TableName: tableName,
              Key: Object.fromEntries(keyNames.map((name) => [name, item[name]])),
              ConditionExpression: '#ttl = :seen',
              ExpressionAttributeNames: { '#ttl': setting.attributeName },
              ExpressionAttributeValues: { ':seen': expiry },
            });
            deleted++;
          } catch (error) {
            if (!(error instanceof AwsServiceError) || error.code !== 'ConditionalCheckFailedException') throw error;
          }
        }
        startKey = page.LastEvaluatedKey;
      } while (startKey);
    }
    return deleted;
  }
}

function parseJson(body: Buffer): Record<string, unknown> {
  try {
    const value: unknown = body.length ? JSON.parse(body.toString('utf8')) : {};
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new AwsServiceError('SerializationException', 'request body is not a JSON object');
}

function requireString(input: Record<string, unknown>, field: string): string {
  const value = input[field];
  if (typeof value !== 'string' || value.length < 1 || value.length > 255) {
    throw new AwsServiceError('ValidationException', `1 validation error detected: Value at '${field}' failed to satisfy constraint: Member must have length between 1 and 255`);
  }
  return value;
}
