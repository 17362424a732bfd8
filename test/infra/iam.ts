import type { Synthesized } from './synth';

export interface Statement {
  readonly Effect: 'Allow' | 'Deny';
  readonly Action: string | string[];
  readonly Resource: unknown;
  readonly Condition?: Record<string, Record<string, unknown>>;
}

/** Renders intrinsic functions as text: `{Fn::GetAtt:[B,'Arn']}` → `${B.Arn}`, `{Ref:X}` → `${X}`. */
export function render(value: unknown): string {
  if (typeof value === 'string') return value;
  const v = value as Record<string, unknown>;
  if ('Ref' in v) return `\${${String(v.Ref)}}`;
  if ('Fn::GetAtt' in v) return `\${${(v['Fn::GetAtt'] as string[]).join('.')}}`;
  if ('Fn::Join' in v) {
    const [sep, parts] = v['Fn::Join'] as [string, unknown[]];
    return parts.map(render).join(sep);
  }
  if ('Fn::Select' in v || 'Fn::Split' in v) return JSON.stringify(v);
  throw new Error(`cannot render ${JSON.stringify(value)}`);
}

/** Every statement of every policy attached to the role with this logical id. */
export function statementsOfRole(s: Synthesized, roleId: string): Statement[] {
  return Object.values(s.json.Resources)
    .filter((r) => r.Type === 'AWS::IAM::Policy')
    .filter((r) => ((r.Properties!.Roles as unknown[]) ?? []).some((ref) => (ref as { Ref?: string }).Ref === roleId))
    .flatMap((r) => (r.Properties!.PolicyDocument as { Statement: Statement[] }).Statement);
}

export function roleOfFunction(s: Synthesized, functionId: string): string {
  const role = s.json.Resources[functionId]!.Properties!.Role as { 'Fn::GetAtt': [string, string] };
  return role['Fn::GetAtt'][0];
}

function globMatches(pattern: string, value: string): boolean {
  const re = new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
  return re.test(value);
}

const actionsOf = (st: Statement) => (Array.isArray(st.Action) ? st.Action : [st.Action]);
const resourcesOf = (st: Statement) => (Array.isArray(st.Resource) ? st.Resource : [st.Resource]).map(render);

/**
 * Whether an Allow statement grants `action` on `resource` (rendered form). Conditions are ignored,
 * which can only over-report a grant: a "cannot" assertion made with this is conservative.
 */
export function allows(statements: readonly Statement[], action: string, resource: string): boolean {
  return statements.some(
    (st) =>
      st.Effect === 'Allow' &&
      actionsOf(st).some((a) => globMatches(a, action)) &&
      resourcesOf(st).some((r) => globMatches(r, resource)),
  );
}

/** All actions any Allow statement grants, for "nothing else" assertions. */
export function allowedActions(statements: readonly Statement[]): string[] {
  return [...new Set(statements.filter((st) => st.Effect === 'Allow').flatMap(actionsOf))].sort();
}
