/**
 * Walks an Amazon States Language definition along one outcome and lists the states entered, with
 * the task integrations they call. Standard workflows bill one state transition per state entered.
 */
export class CostModelError extends Error {
  override readonly name = 'CostModelError';
}

export interface StateEntered {
  readonly name: string;
  readonly type: string;
  /** Task resource ARN (`arn:aws:states:::lambda:invoke.waitForTaskToken`, …). */
  readonly resource?: string;
  /** Task `Parameters` (with substitutions still as `${…}`). */
  readonly parameters?: Record<string, unknown>;
}

interface AslState {
  readonly Type?: string;
  readonly Next?: string;
  readonly End?: boolean;
  readonly Resource?: string;
  readonly Parameters?: Record<string, unknown>;
  readonly Catch?: readonly { readonly ErrorEquals?: readonly string[]; readonly Next?: string }[];
  readonly Default?: string;
  readonly Choices?: readonly { readonly Next?: string }[];
}

export interface AslDefinition {
  readonly StartAt?: string;
  readonly States?: Readonly<Record<string, AslState>>;
}

/**
 * `failAt` = the state whose task fails with `error` (caught by its first matching Catch); every
 * other task succeeds, and a Choice takes its `Default` (or first choice) branch.
 */
export function walk(definition: AslDefinition, outcome: { failAt?: string; error?: string } = {}): StateEntered[] {
  const states = definition.States ?? {};
  let name: string | undefined = definition.StartAt;
  if (!name) throw new CostModelError('the definition has no StartAt');
  const entered: StateEntered[] = [];
  let failed = false;
  while (name !== undefined) {
    const state: AslState | undefined = states[name];
    if (!state) throw new CostModelError(`state "${name}" is referenced but not defined`);
    if (entered.length > 1000) throw new CostModelError(`the path does not end (loop through "${name}")`);
    entered.push({
      name,
      type: state.Type ?? '?',
      ...(state.Resource === undefined ? {} : { resource: state.Resource }),
      ...(state.Parameters === undefined ? {} : { parameters: state.Parameters }),
    });
    if (state.Type === 'Succeed' || state.Type === 'Fail' || state.End) break;
    if (!failed && outcome.failAt === name) {
      failed = true;
      const error = outcome.error ?? 'States.TaskFailed';
      const handler: { readonly Next?: string } | undefined = state.Catch?.find((c: { readonly ErrorEquals?: readonly string[] }) => c.ErrorEquals?.includes(error) || c.ErrorEquals?.includes('States.ALL'));
      if (!handler?.Next) return entered; // uncaught: the execution fails here
      name = handler.Next;
      continue;
    }
    if (state.Type === 'Choice') name = state.Default ?? state.Choices?.[0]?.Next;
    else name = state.Next;
    if (name === undefined) throw new CostModelError(`state "${entered[entered.length - 1]?.name}" has neither Next nor End`);
  }
  if (outcome.failAt !== undefined && !failed) throw new CostModelError(`state "${outcome.failAt}" is not on the path`);
  return entered;
}
