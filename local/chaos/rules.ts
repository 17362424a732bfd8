/**
 * Fault rules: the document `--faults FILE` and `POST /_imagegen/chaos/faults` take, validated as a
 * whole before any of it applies. API faults (`error`) are shaped like LocalStack's chaos API rules;
 * delivery faults (`action`) act on messages, invocations and inferences:
 *
 *   { "seed": 7, "rules": [
 *     { "service": "s3", "operation": "GetObject", "probability": 0.02, "error": { "statusCode": 500, "code": "InternalError" } },
 *     { "service": "sns", "action": "drop", "probability": 0.05 } ] }
 */

/** Services the local cloud emulates, by the names rules use, and the operations each answers. */
export type ServiceCatalogue = Readonly<Record<string, readonly string[]>>;

/** The delivery faults each service can suffer, and the field that narrows them. */
export const DELIVERY_ACTIONS = {
  sns: { actions: ['drop', 'duplicate', 'delay'], narrowedBy: 'topic' },
  events: { actions: ['drop', 'duplicate', 'delay'], narrowedBy: 'rule' },
  lambda: { actions: ['crash', 'timeout'], narrowedBy: 'function' },
  sagemaker: { actions: ['model-error', 'lose'], narrowedBy: 'endpoint' },
} as const;

export type DeliveryService = keyof typeof DELIVERY_ACTIONS;
export type DeliveryAction = (typeof DELIVERY_ACTIONS)[DeliveryService]['actions'][number];
type NarrowingField = (typeof DELIVERY_ACTIONS)[DeliveryService]['narrowedBy'];

export interface ApiError {
  /** 400–599. */
  readonly statusCode: number;
  /** The exception name the caller's SDK raises, e.g. `InternalError`. */
  readonly code: string;
  readonly message?: string;
}

export interface FaultRule {
  readonly service: string;
  /** Only with `error`: the operation it hits (every operation when absent). */
  readonly operation?: string;
  /** 0–1, drawn per call or delivery. @default 1 */
  readonly probability: number;
  readonly error?: ApiError;
  readonly action?: DeliveryAction;
  /** Only with `action: "delay"`: how long the message is held, 1 ms – 15 minutes. */
  readonly delayMs?: number;
  readonly topic?: string;
  readonly rule?: string;
  readonly function?: string;
  readonly endpoint?: string;
}

export interface FaultPlan {
  readonly seed: number;
  readonly rules: readonly FaultRule[];
}

/** A fault document that cannot apply; the message names the field and the bad value. */
export class FaultRuleError extends Error {
  override readonly name = 'FaultRuleError';
}

const MAX_RULES = 100;
const MAX_DELAY_MS = 15 * 60 * 1000;
const ERROR_CODE = /^[A-Za-z][A-Za-z0-9.]{0,127}$/;
const TOP_FIELDS = new Set(['seed', 'rules']);
const RULE_FIELDS = new Set(['service', 'operation', 'probability', 'error', 'action', 'delayMs', 'topic', 'rule', 'function', 'endpoint']);
const ERROR_FIELDS = new Set(['statusCode', 'code', 'message']);
const NARROWING_FIELDS: readonly NarrowingField[] = ['topic', 'rule', 'function', 'endpoint'];

/**
 * Validates a whole fault document against the services of this local cloud. Throws
 * `FaultRuleError` at the first problem; a seed is chosen (`chooseSeed`) when the document has none.
 */
export function parseFaultPlan(document: unknown, services: ServiceCatalogue, chooseSeed: () => number): FaultPlan {
  const top = object(document, 'the fault document', TOP_FIELDS);
  const seed = top.seed === undefined ? chooseSeed() : integer(top.seed, 'seed', 0, 4_294_967_295);
  if (!Array.isArray(top.rules)) throw new FaultRuleError(`rules: must be an array of rules, got ${show(top.rules)}`);
  if (top.rules.length > MAX_RULES) throw new FaultRuleError(`rules: at most ${MAX_RULES} rules, got ${top.rules.length}`);
  return { seed, rules: top.rules.map((rule: unknown, i) => parseRule(rule, `rules[${i}]`, services)) };
}

function parseRule(value: unknown, at: string, services: ServiceCatalogue): FaultRule {
  const raw = object(value, at, RULE_FIELDS);
  if (typeof raw.service !== 'string' || !Object.hasOwn(services, raw.service)) {
    throw new FaultRuleError(`${at}.service: ${show(raw.service)} is not a service of the local cloud (one of ${Object.keys(services).sort().join(', ')})`);
  }
  const service = raw.service;
  const probability = raw.probability === undefined ? 1 : fraction(raw.probability, `${at}.probability`);
  if ((raw.error === undefined) === (raw.action === undefined)) {
    throw new FaultRuleError(`${at}: a rule has either "error" (an API fault) or "action" (a delivery fault), ${raw.error === undefined ? 'not neither' : 'not both'}`);
  }
  if (raw.error !== undefined) {
    for (const field of ['delayMs', ...NARROWING_FIELDS] as const) {
      if (raw[field] !== undefined) throw new FaultRuleError(`${at}.${field}: only a delivery fault ("action") takes it; an API fault is narrowed by "operation"`);
    }
    const operations = services[service] ?? [];
    if (raw.operation !== undefined && (typeof raw.operation !== 'string' || !operations.includes(raw.operation))) {
      throw new FaultRuleError(`${at}.operation: ${show(raw.operation)} is not an operation ${service} answers here (one of ${operations.join(', ')})`);
    }
    return { service, ...(raw.operation === undefined ? {} : { operation: raw.operation as string }), probability, error: apiError(raw.error, `${at}.error`) };
  }
  if (raw.operation !== undefined) throw new FaultRuleError(`${at}.operation: only an API fault ("error") is narrowed by operation`);
  const delivery = Object.hasOwn(DELIVERY_ACTIONS, service) ? DELIVERY_ACTIONS[service as DeliveryService] : undefined;
  if (!delivery) throw new FaultRuleError(`${at}.action: ${service} has no delivery faults, only API faults ("error")`);
  const actions: readonly string[] = delivery.actions;
  if (typeof raw.action !== 'string' || !actions.includes(raw.action)) {
    throw new FaultRuleError(`${at}.action: ${show(raw.action)} is not a fault of ${service} (one of ${actions.join(', ')})`);
  }
  const action = raw.action as DeliveryAction;
  for (const field of NARROWING_FIELDS) {
    if (raw[field] === undefined) continue;
    if (field !== delivery.narrowedBy) throw new FaultRuleError(`${at}.${field}: ${service} rules are narrowed by "${delivery.narrowedBy}", not "${field}"`);
    if (typeof raw[field] !== 'string' || raw[field] === '') throw new FaultRuleError(`${at}.${field}: must be a non-empty name, got ${show(raw[field])}`);
  }
  if ((action === 'delay') !== (raw.delayMs !== undefined)) {
    throw new FaultRuleError(action === 'delay' ? `${at}.delayMs: a delay needs delayMs (1–${MAX_DELAY_MS} ms)` : `${at}.delayMs: only the "delay" action takes it`);
  }
  const narrowing = delivery.narrowedBy;
  return {
    service,
    probability,
    action,
    ...(raw.delayMs === undefined ? {} : { delayMs: integer(raw.delayMs, `${at}.delayMs`, 1, MAX_DELAY_MS) }),
    ...(raw[narrowing] === undefined ? {} : { [narrowing]: raw[narrowing] as string }),
  };
}

function apiError(value: unknown, at: string): ApiError {
  const raw = object(value, at, ERROR_FIELDS);
  const statusCode = integer(raw.statusCode, `${at}.statusCode`, 400, 599);
  if (typeof raw.code !== 'string' || !ERROR_CODE.test(raw.code)) {
    throw new FaultRuleError(`${at}.code: must be an exception name such as "InternalError" (letters, digits, dots), got ${show(raw.code)}`);
  }
  if (raw.message !== undefined && (typeof raw.message !== 'string' || raw.message.length > 1000)) {
    throw new FaultRuleError(`${at}.message: must be a string of at most 1000 characters, got ${show(raw.message)}`);
  }
  return { statusCode, code: raw.code, ...(raw.message === undefined ? {} : { message: raw.message as string }) };
}

function object(value: unknown, at: string, fields: ReadonlySet<string>): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new FaultRuleError(`${at}: must be a JSON object, got ${show(value)}`);
  const unknown = Object.keys(value).find((key) => !fields.has(key));
  if (unknown !== undefined) throw new FaultRuleError(`${at}.${unknown}: unknown field (known: ${[...fields].join(', ')})`);
  return value as Record<string, unknown>;
}

function integer(value: unknown, at: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new FaultRuleError(`${at}: must be an integer from ${min} to ${max}, got ${show(value)}`);
  }
  return value;
}

function fraction(value: unknown, at: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 1) {
    throw new FaultRuleError(`${at}: must be a number from 0 to 1, got ${show(value)}`);
  }
  return value;
}

function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
