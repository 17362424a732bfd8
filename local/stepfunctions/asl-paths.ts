/** Paths in ASL documents: Reference Paths, and the Context paths the runtime makes live per state. */
import type { JsonValue } from './asl-runtime';

type JsonObject = { [key: string]: JsonValue };

/** Keys whose values are whole nested state machines (Map iterators, Parallel branches). */
export const NESTED_MACHINE_KEYS = new Set(['Iterator', 'ItemProcessor', 'Branches']);

/** Evaluates a Reference Path (`$.a.b[0]['c d']`) against `input`; undefined when absent. */
export function referencePath(input: JsonValue, path: string): JsonValue | undefined {
  if (!path.startsWith('$')) return undefined;
  const tokens = path.slice(1).match(/\.[^.[\]]+|\[\d+\]|\['[^']*'\]|\["[^"]*"\]/g) ?? [];
  if (tokens.join('') !== path.slice(1)) return undefined;
  let current: JsonValue | undefined = input;
  for (const token of tokens) {
    if (current === null || typeof current !== 'object' || current === undefined) return undefined;
    const key = token.startsWith('.') ? token.slice(1) : token.startsWith('[') && /^\[\d+\]$/.test(token) ? Number(token.slice(1, -1)) : token.slice(2, -2);
    current = Array.isArray(current) ? (typeof key === 'number' ? current[key] : undefined) : (current as JsonObject)[String(key)];
  }
  return current;
}

/** Points `$$.Execution` and `$$.State` in a state's paths at the live per-run and per-state Context members. */
export function rewriteContextPaths(value: unknown, stateKey: string, key = ''): unknown {
  if (typeof value === 'string') {
    if (!(key.endsWith('.$') || key.endsWith('Path') || key === 'Variable')) return value;
    return value.replace(/\$\$\.Execution\b/g, '$$$$.__execution').replace(/\$\$\.State\b/g, `$$$$.${stateKey}`);
  }
  if (Array.isArray(value)) return value.map((v) => rewriteContextPaths(v, stateKey, key));
  if (isObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = NESTED_MACHINE_KEYS.has(k) ? v : rewriteContextPaths(v, stateKey, k);
    return out;
  }
  return value;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
