/**
 * AWS Query protocol: `POST /` with an `application/x-www-form-urlencoded` body (or a GET query
 * string) carrying `Action`, `Version` and flattened members (`A.member.1.B`, `A.entry.1.Name`);
 * responses are XML `<{Action}Response>` documents. Used by SNS and by older CloudWatch clients.
 */
import { randomUUID } from 'node:crypto';
import { escapeXml } from '../shared/xml';
import { AwsServiceError } from './errors';
import type { EdgeRequest, EdgeResponse, ServiceHandler } from './types';

/** Parses a form body or query string into a flat map; a repeated key keeps its last value. */
export function parseQueryString(text: string | Buffer): Map<string, string> {
  const params = new Map<string, string>();
  for (const [key, value] of new URLSearchParams(Buffer.isBuffer(text) ? text.toString('utf8') : text)) params.set(key, value);
  return params;
}

/** Whether a request is a Query-protocol call: a form body, or `Action` in the query string. */
export function isQueryRequest(request: EdgeRequest): boolean {
  const contentType = request.headers['content-type'];
  if (typeof contentType === 'string' && contentType.toLowerCase().startsWith('application/x-www-form-urlencoded')) return true;
  return request.query.has('Action');
}

/** The request's parameters: the query string, overlaid by the form body. */
export function queryParams(request: EdgeRequest): Map<string, string> {
  const params = new Map<string, string>();
  for (const [key, value] of request.query) params.set(key, value);
  if (request.body.length > 0) for (const [key, value] of parseQueryString(request.body)) params.set(key, value);
  return params;
}

/**
 * A view of the flat parameter map at one structure prefix. `list`/`map` return views of their
 * elements, so nested shapes read as `input.list('MetricData')[0].list('Dimensions')[1].get('Name')`.
 */
export class QueryInput {
  constructor(
    readonly params: ReadonlyMap<string, string>,
    readonly prefix = '',
  ) {}

  /** The full flattened key of a member of this structure. */
  key(name: string): string {
    return this.prefix ? `${this.prefix}.${name}` : name;
  }

  get(name: string): string | undefined {
    return this.params.get(this.key(name));
  }

  /** Whether the member is present, as a scalar or as any nested key. */
  has(name: string): boolean {
    const key = this.key(name);
    if (this.params.has(key)) return true;
    for (const k of this.params.keys()) if (k.startsWith(`${key}.`)) return true;
    return false;
  }

  /** A nested structure member. */
  child(name: string): QueryInput {
    return new QueryInput(this.params, this.key(name));
  }

  /**
   * Elements of a list member (`Name.member.N`, N from 1), in index order. An empty value for the
   * list itself (`Name=`) is the wire form of an empty list.
   */
  list(name: string, memberName = 'member'): QueryInput[] {
    return this.indices(`${this.key(name)}.${memberName}.`).map((i) => new QueryInput(this.params, `${this.key(name)}.${memberName}.${i}`));
  }

  /** Scalar elements of a list member. */
  listValues(name: string, memberName = 'member'): string[] {
    return this.list(name, memberName).map((element) => this.params.get(element.prefix) ?? '');
  }

  /**
   * Entries of a map member (`Name.entry.N.<keyName>` / `Name.entry.N.<valueName>`). SNS uses
   * `Name`/`Value` for message attributes and `key`/`value` for topic attributes.
   */
  map(name: string, options: { entryName?: string; keyName?: string; valueName?: string } = {}): { key: string; value: QueryInput }[] {
    const keyName = options.keyName ?? 'key';
    const valueName = options.valueName ?? 'value';
    return this.list(name, options.entryName ?? 'entry').map((entry) => ({ key: entry.get(keyName) ?? '', value: entry.child(valueName) }));
  }

  /** The scalar value at this view's own prefix (for list elements that are strings). */
  value(): string | undefined {
    return this.params.get(this.prefix);
  }

  private indices(listPrefix: string): number[] {
    const found = new Set<number>();
    for (const key of this.params.keys()) {
      if (!key.startsWith(listPrefix)) continue;
      const rest = key.slice(listPrefix.length);
      const digits = /^(\d+)(?:\.|$)/.exec(rest)?.[1];
      if (digits) found.add(Number(digits));
    }
    return [...found].sort((a, b) => a - b);
  }
}


const LIST = Symbol('queryList');
const MAP = Symbol('queryMap');

export interface XmlList {
  readonly [LIST]: true;
  readonly items: readonly unknown[];
  readonly memberName: string;
}

export interface XmlMap {
  readonly [MAP]: true;
  readonly entries: readonly (readonly [string, unknown])[];
  readonly keyName: string;
  readonly valueName: string;
}

/** A list whose elements are named other than `member`. */
export function xmlList(items: readonly unknown[], memberName: string): XmlList {
  return { [LIST]: true, items, memberName };
}

/** A map rendered as `<entry><key>…</key><value>…</value></entry>` (names configurable). */
export function xmlMap(record: Readonly<Record<string, unknown>>, options: { keyName?: string; valueName?: string } = {}): XmlMap {
  return { [MAP]: true, entries: Object.entries(record), keyName: options.keyName ?? 'key', valueName: options.valueName ?? 'value' };
}

function isXmlList(value: object): value is XmlList {
  return LIST in value;
}

function isXmlMap(value: object): value is XmlMap {
  return MAP in value;
}

/** Text form of a scalar: Dates as ISO-8601 UTC, numbers in JavaScript's shortest round-trip form. */
function scalarText(value: unknown): string {
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return 'NaN';
    if (!Number.isFinite(value)) return value > 0 ? 'Infinity' : '-Infinity';
    return String(value);
  }
  return String(value);
}

/**
 * Renders the content of an element from a plain value: objects become child elements (keys in
 * insertion order, undefined/null members omitted), arrays become `<member>` children.
 */
export function toXml(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (Array.isArray(value)) return value.map((item) => element('member', item)).join('');
  if (value instanceof Date || typeof value !== 'object') return escapeXml(scalarText(value));
  if (isXmlList(value)) return value.items.map((item) => element(value.memberName, item)).join('');
  if (isXmlMap(value)) {
    return value.entries.map(([k, v]) => `<entry>${element(value.keyName, k)}${element(value.valueName, v)}</entry>`).join('');
  }
  return Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined && v !== null)
    .map(([k, v]) => element(k, v))
    .join('');
}

function element(name: string, value: unknown): string {
  return `<${name}>${toXml(value)}</${name}>`;
}

/** The body of a successful Query response. A `result` of undefined omits `<{Action}Result>`. */
export function queryResponseXml(action: string, xmlns: string, result: unknown, requestId: string): string {
  const resultXml = result === undefined ? '' : element(`${action}Result`, result);
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="${escapeXml(xmlns)}">${resultXml}` +
    `<ResponseMetadata><RequestId>${escapeXml(requestId)}</RequestId></ResponseMetadata></${action}Response>`
  );
}

/** The body of a Query error: `Code` is the error's Query code when it has one. */
export function queryErrorXml(error: AwsServiceError, xmlns: string, requestId: string): string {
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse xmlns="${escapeXml(xmlns)}"><Error><Type>${error.fault}</Type>` +
    `<Code>${escapeXml(error.queryCode ?? error.code)}</Code><Message>${escapeXml(error.message)}</Message></Error>` +
    `<RequestId>${escapeXml(requestId)}</RequestId></ErrorResponse>`
  );
}

export function queryResponse(action: string, xmlns: string, result: unknown, requestId: string = randomUUID()): EdgeResponse {
  return { status: 200, headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId }, body: queryResponseXml(action, xmlns, result, requestId) };
}

export function queryErrorResponse(error: AwsServiceError, xmlns: string, requestId: string = randomUUID()): EdgeResponse {
  return { status: error.status, headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId }, body: queryErrorXml(error, xmlns, requestId) };
}

/** An operation gets the request's parameters and returns the `<{Action}Result>` content. */
export type QueryOperation = (input: QueryInput, request: EdgeRequest) => Promise<unknown> | unknown;

export interface QueryServiceOptions {
  readonly name: string;
  readonly signingNames: readonly string[];
  /** e.g. `http://sns.amazonaws.com/doc/2010-03-31/`. */
  readonly xmlns: string;
  readonly operations: Readonly<Record<string, QueryOperation>>;
}

/** Handles one Query request: dispatch on `Action`, render the result or the `AwsServiceError`. */
export async function handleQueryRequest(request: EdgeRequest, options: Pick<QueryServiceOptions, 'name' | 'xmlns' | 'operations'>): Promise<EdgeResponse> {
  const requestId = randomUUID();
  const input = new QueryInput(queryParams(request));
  const action = input.get('Action');
  try {
    if (!action) throw new AwsServiceError('MissingAction', 'the request must contain the parameter Action', 400, 'MissingAction');
    const operation = Object.hasOwn(options.operations, action) ? options.operations[action] : undefined;
    if (!operation) throw new AwsServiceError('InvalidAction', `${options.name} does not emulate the action ${action}`, 400, 'InvalidAction');
    return queryResponse(action, options.xmlns, await operation(input, request), requestId);
  } catch (error) {
    if (error instanceof AwsServiceError) return queryErrorResponse(error, options.xmlns, requestId);
    throw error;
  }
}

/** The `Action` a Query request names, if it is one of `operations`. */
export function queryOperation(request: EdgeRequest, operations: Readonly<Record<string, QueryOperation>>): string | undefined {
  const action = queryParams(request).get('Action');
  return action !== undefined && Object.hasOwn(operations, action) ? action : undefined;
}

export function queryService(options: QueryServiceOptions): ServiceHandler {
  return {
    name: options.name,
    signingNames: options.signingNames,
    handle: (request) => handleQueryRequest(request, options),
    api: {
      operations: Object.keys(options.operations),
      operationOf: (request) => queryOperation(request, options.operations),
      errorResponse: (error) => queryErrorResponse(error, options.xmlns),
    },
  };
}
