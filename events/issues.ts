import type { z } from 'zod';

/** `detail.renditions[2].width` from a zod issue path (prefixed by `root`). */
export function fieldPath(root: string, path: readonly PropertyKey[]): string {
  let out = root;
  for (const key of path) out += typeof key === 'number' ? `[${key}]` : `.${String(key)}`;
  return out;
}

/** Short rendering of a rejected value for an error message. */
export function shown(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = typeof value === 'string' ? JSON.stringify(value) : JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/**
 * One sentence per issue, each naming the field: the schemas' messages are predicates
 * ("must be an integer from 1 to 100 (got 250)"), this adds the subject.
 */
export function describeIssues(error: z.ZodError, root: string): string[] {
  return error.issues.map((issue) => {
    if (issue.code === 'unrecognized_keys') {
      const where = fieldPath(root, issue.path);
      return issue.keys.length === 1
        ? `${where} has an unknown field "${issue.keys[0]}" (unknown fields are rejected)`
        : `${where} has unknown fields ${issue.keys.map((k) => `"${k}"`).join(', ')} (unknown fields are rejected)`;
    }
    return `${fieldPath(root, issue.path)} ${issue.message}`;
  });
}
