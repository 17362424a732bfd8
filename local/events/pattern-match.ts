/**
 * A compiled event pattern's conditions and how an event satisfies them: keys AND together, a
 * leaf's tests OR together over the field's leaf values, a nested condition over any one of the
 * objects at that position. Compilation is in pattern.ts.
 */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export type LeafTest = (value: Json) => boolean;

export interface LeafCondition {
  readonly kind: 'leaf';
  readonly tests: readonly LeafTest[];
  /** `true`/`false` for `{"exists": …}` entries; they are evaluated on presence, not on values. */
  readonly exists: readonly boolean[];
}

export interface ObjectCondition {
  readonly kind: 'object';
  readonly fields: readonly (readonly [string, LeafCondition | ObjectCondition])[];
  readonly or: readonly ObjectCondition[][];
}

export function matchObject(condition: ObjectCondition, node: JsonObject): boolean {
  for (const [key, field] of condition.fields) {
    const value = Object.prototype.hasOwnProperty.call(node, key) ? node[key] : undefined;
    if (!matchField(field, value)) return false;
  }
  return condition.or.every((branches) => branches.some((branch) => matchObject(branch, node)));
}

function matchField(condition: LeafCondition | ObjectCondition, value: Json | undefined): boolean {
  if (condition.kind === 'object') {
    const nodes = objectNodes(value);
    return nodes.length === 0 ? matchObject(condition, {}) : nodes.some((n) => matchObject(condition, n));
  }
  const leaves = leafValues(value);
  if (condition.exists.some((wanted) => wanted === leaves.length > 0)) return true;
  return leaves.some((leaf) => condition.tests.some((test) => test(leaf)));
}

/** Scalars (incl. null) at this position; arrays are flattened, objects contribute nothing. */
function leafValues(value: Json | undefined): Json[] {
  if (value === undefined) return [];
  if (Array.isArray(value)) return value.flatMap((v) => leafValues(v));
  if (isObject(value)) return [];
  return [value];
}

function objectNodes(value: Json | undefined): JsonObject[] {
  if (value === undefined) return [];
  if (Array.isArray(value)) return value.flatMap((v) => objectNodes(v));
  return isObject(value) ? [value] : [];
}

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
