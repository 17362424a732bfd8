/**
 * The EventBridge event pattern language: validation (PutRule / TestEventPattern reject a bad
 * pattern with `InvalidEventPatternException`) and matching against an event.
 *
 * Semantics follow the EventBridge user guide ("Event patterns", "Content filtering", "Comparison
 * operators", "Arrays in event patterns", "Matching null values and empty strings"):
 * - keys AND together, the values of a leaf array OR together;
 * - a leaf matches an array-valued event field when any element matches;
 * - nested pattern objects must line up with nested event objects; when the event holds an array
 *   of objects, one element has to satisfy the whole sub-pattern (fields are not mixed across
 *   elements);
 * - comparison operators only act on leaf values (a field holding an object or an empty array has
 *   no leaf values, so `exists: true` fails and `exists: false` holds);
 * - only `exists: false` can match a field that is absent.
 */
import { AwsServiceError } from '../edge/errors';
import { parseIp } from './ip-address';
import { isObject, matchObject, type Json, type JsonObject, type LeafCondition, type LeafTest, type ObjectCondition } from './pattern-match';

export { parseIp } from './ip-address';

const REASON_PREFIX = 'Event pattern is not valid. Reason: ';
/** The documented maximum length of an `EventPattern`. */
export const MAX_EVENT_PATTERN_LENGTH = 4096;

export function invalidPattern(reason: string): AwsServiceError {
  return new AwsServiceError('InvalidEventPatternException', `${REASON_PREFIX}${reason}`);
}

/** A validated pattern, ready to match many events. */
export interface CompiledPattern {
  readonly source: string;
  readonly root: ObjectCondition;
}

/** Parses and validates a pattern given as JSON text or as an already-parsed object. */
export function compilePattern(pattern: string | object): CompiledPattern {
  let text: string;
  let parsed: unknown;
  if (typeof pattern === 'string') {
    text = pattern;
    try {
      parsed = JSON.parse(pattern);
    } catch {
      throw invalidPattern('Filter is not valid JSON');
    }
  } else {
    parsed = pattern;
    text = JSON.stringify(pattern);
  }
  if (!isObject(parsed)) throw invalidPattern('Filter is not an object');
  return { source: text, root: compileObject(parsed, '') };
}

/** Whether `event` (the full envelope, `detail` as an object) matches. */
export function matchesPattern(pattern: CompiledPattern, event: unknown): boolean {
  return matchObject(pattern.root, isObject(event as Json) ? (event as JsonObject) : {});
}

/** Convenience: compile and match in one call. */
export function eventMatchesPattern(pattern: string | object, event: unknown): boolean {
  return matchesPattern(compilePattern(pattern), event);
}

function compileObject(pattern: JsonObject, path: string): ObjectCondition {
  const fields: [string, LeafCondition | ObjectCondition][] = [];
  const or: ObjectCondition[][] = [];
  for (const [key, value] of Object.entries(pattern)) {
    const fieldPath = path ? `${path}.${key}` : key;
    if (key === '$or') {
      if (!Array.isArray(value) || value.length === 0 || !value.every(isObject)) {
        throw invalidPattern(`"$or" must be a non-empty array of objects (at ${fieldPath})`);
      }
      or.push(value.map((branch) => compileObject(branch as JsonObject, path)));
    } else if (Array.isArray(value)) {
      if (value.length === 0) throw invalidPattern(`Empty arrays are not allowed (at "${fieldPath}")`);
      fields.push([key, compileLeaf(value, fieldPath)]);
    } else if (isObject(value)) {
      fields.push([key, compileObject(value, fieldPath)]);
    } else {
      throw invalidPattern(`"${fieldPath}" must be an object or an array`);
    }
  }
  return { kind: 'object', fields, or };
}

function compileLeaf(values: Json[], path: string): LeafCondition {
  const tests: LeafTest[] = [];
  const exists: boolean[] = [];
  for (const value of values) {
    if (value === null || typeof value === 'string' || typeof value === 'boolean') {
      tests.push((v) => v === value);
    } else if (typeof value === 'number') {
      tests.push((v) => typeof v === 'number' && v === value);
    } else if (Array.isArray(value)) {
      throw invalidPattern(`Match value must be String, number, true, false, or null (at "${path}")`);
    } else {
      const entries = Object.entries(value);
      if (entries.length !== 1) throw invalidPattern(`Only one key allowed in match expression (at "${path}")`);
      const [operator, operand] = entries[0] as [string, Json];
      if (operator === 'exists') {
        if (typeof operand !== 'boolean') {
          throw invalidPattern(`exists match pattern must be either true or false. (at "${path}")`);
        }
        exists.push(operand);
      } else {
        tests.push(compileOperator(operator, operand, path));
      }
    }
  }
  return { kind: 'leaf', tests, exists };
}

function compileOperator(operator: string, operand: Json, path: string): LeafTest {
  switch (operator) {
    case 'prefix':
    case 'suffix': {
      const test = operator === 'prefix' ? startsWith : endsWith;
      if (typeof operand === 'string') return (v) => typeof v === 'string' && test(v, operand);
      if (isObject(operand)) {
        const ignoreCase = ignoreCaseOperand(operand, operator, path);
        return (v) => typeof v === 'string' && test(v.toLowerCase(), ignoreCase);
      }
      throw invalidPattern(`${operator} match pattern must be a string (at "${path}")`);
    }
    case 'equals-ignore-case': {
      if (typeof operand !== 'string') {
        throw invalidPattern(`equals-ignore-case match pattern must be a string (at "${path}")`);
      }
      const lowered = operand.toLowerCase();
      return (v) => typeof v === 'string' && v.toLowerCase() === lowered;
    }
    case 'wildcard': {
      if (typeof operand !== 'string') throw invalidPattern(`wildcard match pattern must be a string (at "${path}")`);
      const regex = wildcardRegex(operand, path);
      return (v) => typeof v === 'string' && regex.test(v);
    }
    case 'numeric':
      return compileNumeric(operand, path);
    case 'cidr':
      return compileCidr(operand, path);
    case 'anything-but':
      return compileAnythingBut(operand, path);
    default:
      throw invalidPattern(`Unrecognized match type ${operator} (at "${path}")`);
  }
}

function ignoreCaseOperand(operand: JsonObject, operator: string, path: string): string {
  const entries = Object.entries(operand);
  const [inner, value] = (entries[0] ?? []) as [string | undefined, Json | undefined];
  if (entries.length !== 1 || inner !== 'equals-ignore-case') {
    throw invalidPattern(`Unsupported ${operator} pattern: ${inner ?? '{}'} (at "${path}")`);
  }
  if (typeof value !== 'string') {
    throw invalidPattern(`${operator}/equals-ignore-case match pattern must be a string (at "${path}")`);
  }
  return value.toLowerCase();
}

function compileAnythingBut(operand: Json, path: string): LeafTest {
  if (typeof operand === 'string' || typeof operand === 'number') return (v) => v !== operand;
  if (Array.isArray(operand)) {
    if (operand.length === 0) throw invalidPattern(`Empty arrays are not allowed (at "${path}" anything-but)`);
    const allStrings = operand.every((o) => typeof o === 'string');
    const allNumbers = operand.every((o) => typeof o === 'number');
    if (!allStrings && !allNumbers) {
      throw invalidPattern(`Inside anything-but list, start|null|boolean is not supported. (at "${path}")`);
    }
    const excluded = new Set<Json>(operand);
    return (v) => !excluded.has(v);
  }
  if (isObject(operand)) {
    const entries = Object.entries(operand);
    if (entries.length !== 1) throw invalidPattern(`Only one key allowed in match expression (at "${path}" anything-but)`);
    const [inner, value] = entries[0] as [string, Json];
    if (!['prefix', 'suffix', 'equals-ignore-case', 'wildcard'].includes(inner)) {
      throw invalidPattern(`Unsupported anything-but pattern: ${inner} (at "${path}")`);
    }
    const list = typeof value === 'string' ? [value] : Array.isArray(value) && value.length > 0 && value.every((x) => typeof x === 'string') ? (value as string[]) : undefined;
    if (!list) {
      throw invalidPattern(`Value of anything-but/${inner} must be a string or a non-empty array of strings (at "${path}")`);
    }
    switch (inner) {
      case 'prefix':
      case 'suffix': {
        if (list.some((s) => s === '')) throw invalidPattern(`Null prefix/suffix not allowed (at "${path}")`);
        const test = inner === 'prefix' ? startsWith : endsWith;
        return (v) => typeof v !== 'string' || !list.some((s) => test(v, s));
      }
      case 'equals-ignore-case': {
        const lowered = new Set(list.map((s) => s.toLowerCase()));
        return (v) => typeof v !== 'string' || !lowered.has(v.toLowerCase());
      }
      case 'wildcard': {
        const regexes = list.map((s) => wildcardRegex(s, path));
        return (v) => typeof v !== 'string' || !regexes.some((r) => r.test(v));
      }
      default:
        throw invalidPattern(`Unsupported anything-but pattern: ${inner} (at "${path}")`);
    }
  }
  throw invalidPattern(`Value of anything-but must be an array or single string/number value. (at "${path}")`);
}

const NUMERIC_OPERATORS = new Set(['=', '<', '<=', '>', '>=']);

function compileNumeric(operand: Json, path: string): LeafTest {
  if (!Array.isArray(operand)) throw invalidPattern(`Value of numeric must be an array. (at "${path}")`);
  if (operand.length !== 2 && operand.length !== 4) {
    throw invalidPattern(`numeric expects one comparison [op, n] or a range [">"|">=", n, "<"|"<=", m] (at "${path}")`);
  }
  const comparisons: [string, number][] = [];
  for (let i = 0; i < operand.length; i += 2) {
    const op = operand[i];
    const bound = operand[i + 1];
    if (typeof op !== 'string' || !NUMERIC_OPERATORS.has(op)) {
      throw invalidPattern(`Unrecognized numeric range operator: ${JSON.stringify(op)} (at "${path}")`);
    }
    if (typeof bound !== 'number') {
      throw invalidPattern(`Value of ${op === '=' ? 'equals' : op} must be numeric (at "${path}")`);
    }
    comparisons.push([op, bound]);
  }
  const [first, second] = comparisons;
  if (second && first) {
    // A two-comparison range is a lower bound followed by an upper bound.
    if (first[0] !== '>' && first[0] !== '>=') throw invalidPattern(`Too many elements in numeric expression (at "${path}")`);
    if (second[0] !== '<' && second[0] !== '<=') {
      throw invalidPattern(`Bad numeric range operator: ${second[0]} (at "${path}")`);
    }
    if (second[1] <= first[1]) throw invalidPattern(`Bottom must be less than top (at "${path}")`);
  }
  return (v) => typeof v === 'number' && comparisons.every(([op, bound]) => compare(v, op, bound));
}

function compare(value: number, op: string, bound: number): boolean {
  switch (op) {
    case '=':
      return value === bound;
    case '<':
      return value < bound;
    case '<=':
      return value <= bound;
    case '>':
      return value > bound;
    default:
      return value >= bound;
  }
}

function compileCidr(operand: Json, path: string): LeafTest {
  if (typeof operand !== 'string') throw invalidPattern(`cidr match pattern must be a string (at "${path}")`);
  const slash = operand.split('/');
  if (slash.length !== 2) throw invalidPattern(`Malformed CIDR, one '/' required (at "${path}")`);
  const [address, maskText] = slash as [string, string];
  if (!/^\d+$/.test(maskText)) throw invalidPattern(`Malformed CIDR, mask bits must be an integer (at "${path}")`);
  const parsed = parseIp(address);
  if (!parsed) throw invalidPattern(`Nonstandard IP address: ${address} (at "${path}")`);
  const mask = Number(maskText);
  if (mask > parsed.bits) throw invalidPattern(`Malformed CIDR, mask bits must be ≤ ${parsed.bits} (at "${path}")`);
  const shift = BigInt(parsed.bits - mask);
  const network = parsed.value >> shift;
  return (v) => {
    if (typeof v !== 'string') return false;
    const ip = parseIp(v);
    return ip !== undefined && ip.bits === parsed.bits && ip.value >> shift === network;
  };
}

/** `*` matches any run of characters; `\*` is a literal star and `\\` a literal backslash. */
function wildcardRegex(pattern: string, path: string): RegExp {
  let source = '';
  let previousWasStar = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '\\') {
      const next = pattern[i + 1];
      if (next !== '*' && next !== '\\') throw invalidPattern(`Invalid escape character at pos ${i} (at "${path}")`);
      source += escapeRegex(next);
      i++;
      previousWasStar = false;
    } else if (c === '*') {
      if (previousWasStar) throw invalidPattern(`Consecutive wildcard characters at pos ${i} (at "${path}")`);
      source += '[\\s\\S]*';
      previousWasStar = true;
    } else {
      source += escapeRegex(c);
      previousWasStar = false;
    }
  }
  return new RegExp(`^${source}$`);
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function startsWith(value: string, prefix: string): boolean {
  return value.startsWith(prefix);
}

function endsWith(value: string, suffix: string): boolean {
  return value.endsWith(suffix);
}
