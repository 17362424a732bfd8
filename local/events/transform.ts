/**
 * What a target receives: the whole event, a constant `Input`, the part at `InputPath`, or an
 * `InputTransformer` rendering (InputPathsMap variables substituted into InputTemplate).
 */
import { AwsServiceError } from '../edge/errors';

export interface TargetInputSpec {
  readonly Input?: string;
  readonly InputPath?: string;
  readonly InputTransformer?: { readonly InputPathsMap?: Readonly<Record<string, string>>; readonly InputTemplate: string };
}

export interface RuleContext {
  readonly ruleArn: string;
  readonly ruleName: string;
  /** Epoch ms the event was received. */
  readonly ingestionTime: number;
}

const PATH_SEGMENT = /^(?:\.([^.[\]]+)|\[(\d+)\]|\['([^']*)'\]|\["([^"]*)"\])/;

/** Validates a JSONPath of the form EventBridge accepts (`$`, `$.a.b`, `$.a[0]`, `$['a-b']`). */
export function parseJsonPath(path: string, field: string): (string | number)[] {
  if (!path.startsWith('$')) throw new AwsServiceError('ValidationException', `${field} "${path}" is not a valid JSONPath: it must start with "$"`);
  const segments: (string | number)[] = [];
  let rest = path.slice(1);
  while (rest.length > 0) {
    const match = PATH_SEGMENT.exec(rest);
    if (!match) throw new AwsServiceError('ValidationException', `${field} "${path}" is not a valid JSONPath near "${rest}"`);
    const [whole, dotted, index, single, double] = match;
    segments.push(index !== undefined ? Number(index) : (dotted ?? single ?? double ?? ''));
    rest = rest.slice(whole.length);
  }
  return segments;
}

export function evaluateJsonPath(document: unknown, path: string): unknown {
  let node: unknown = document;
  for (const segment of parseJsonPath(path, 'path')) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string | number, unknown>)[segment];
  }
  return node;
}

const VARIABLE_NAME = /^[A-Za-z0-9_.-]+$/;
const RESERVED_PREFIX = 'aws.events.';

/** PutTargets-time checks of a transformer (names, paths, template size). */
export function validateInputTransformer(transformer: TargetInputSpec['InputTransformer'], targetId: string): void {
  if (!transformer) return;
  if (typeof transformer.InputTemplate !== 'string' || transformer.InputTemplate.length < 1 || transformer.InputTemplate.length > 8192) {
    throw new AwsServiceError('ValidationException', `InputTransformer.InputTemplate of target ${targetId} must be 1–8192 characters`);
  }
  const map = transformer.InputPathsMap ?? {};
  const names = Object.keys(map);
  if (names.length > 100) throw new AwsServiceError('ValidationException', `InputTransformer.InputPathsMap of target ${targetId} has ${names.length} entries; at most 100 are allowed`);
  for (const name of names) {
    if (!VARIABLE_NAME.test(name)) throw new AwsServiceError('ValidationException', `InputPathsMap key "${name}" of target ${targetId} may only contain letters, digits, '_', '-' and '.'`);
    if (name.startsWith(RESERVED_PREFIX)) throw new AwsServiceError('ValidationException', `InputPathsMap key "${name}" of target ${targetId} uses the reserved prefix "${RESERVED_PREFIX}"`);
    parseJsonPath(map[name] as string, `InputPathsMap["${name}"]`);
  }
}

/** The text delivered to a target for `event`. */
export function renderTargetInput(target: TargetInputSpec, event: Record<string, unknown>, context: RuleContext): string {
  if (target.Input !== undefined) return target.Input;
  if (target.InputPath !== undefined) return JSON.stringify(evaluateJsonPath(event, target.InputPath) ?? null);
  if (target.InputTransformer) return renderTemplate(target.InputTransformer, event, context);
  return JSON.stringify(event);
}

/**
 * `<name>` placeholders are replaced by the value at the mapped path. Outside a JSON string the
 * value's JSON is inserted (strings keep their quotes); inside a string the raw text is inserted,
 * escaped so the string stays valid JSON. A path absent from the event gives an empty value.
 */
export function renderTemplate(
  transformer: NonNullable<TargetInputSpec['InputTransformer']>,
  event: Record<string, unknown>,
  context: RuleContext,
): string {
  const values = new Map<string, unknown>();
  for (const [name, path] of Object.entries(transformer.InputPathsMap ?? {})) values.set(name, evaluateJsonPath(event, path));
  const { detail: _detail, 'detail-type': detailType, ...envelope } = event;
  const predefined: Record<string, unknown> = {
    'aws.events.rule-arn': context.ruleArn,
    'aws.events.rule-name': context.ruleName,
    'aws.events.event.ingestion-time': new Date(context.ingestionTime).toISOString(),
    'aws.events.event': { ...envelope, detailType },
    'aws.events.event.json': event,
  };
  const template = transformer.InputTemplate;
  let out = '';
  let inString = false;
  for (let i = 0; i < template.length; i++) {
    const c = template[i] as string;
    if (c === '<') {
      const close = template.indexOf('>', i + 1);
      const name = close > i ? template.slice(i + 1, close) : '';
      const known = values.has(name) || name in predefined;
      if (known) {
        const value = values.has(name) ? values.get(name) : predefined[name];
        out += inString ? insideString(value) : outsideString(value);
        i = close;
        continue;
      }
    }
    if (c === '\\' && inString) {
      out += c + (template[i + 1] ?? '');
      i++;
      continue;
    }
    if (c === '"') inString = !inString;
    out += c;
  }
  return out;
}

function outsideString(value: unknown): string {
  if (value === undefined) return '';
  return JSON.stringify(value);
}

function insideString(value: unknown): string {
  if (value === undefined) return '';
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return JSON.stringify(text).slice(1, -1);
}
