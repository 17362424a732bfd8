/** `imagegen cost`: orchestration cost per path (hit, miss, joined, failure) from the ASL and the topology. */
import { parseArgs } from 'node:util';
import { imagegenTopology } from '../../topology/imagegen-topology';
import { REPO_ROOT } from '../cloud';
import { costReport, CostModelError, DEFAULT_ASSUMPTIONS, formatCostReport, type Assumptions } from '../cost/model';

const HELP = `usage: imagegen cost [--json] [--definition FILE] [--assume NAME=VALUE]...

  --json             one JSON object instead of the table
  --definition FILE  price another copy of the state machine definition
  --assume NAME=V    override an assumption: ${Object.keys(DEFAULT_ASSUMPTIONS).join(', ')}`;

export async function runCost(argv: readonly string[]): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    options: { json: { type: 'boolean' }, definition: { type: 'string' }, assume: { type: 'string', multiple: true }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  try {
    const assumptions: Partial<Record<keyof Assumptions, number>> = {};
    for (const item of values.assume ?? []) {
      const [key, text] = item.split('=');
      if (!key || !(key in DEFAULT_ASSUMPTIONS)) throw new CostModelError(`--assume: unknown name "${key ?? ''}" (one of ${Object.keys(DEFAULT_ASSUMPTIONS).join(', ')})`);
      const value = Number(text);
      if (text === undefined || !Number.isFinite(value) || value < 0 || (key === 'waitersPerInference' && value < 1)) {
        throw new CostModelError(`--assume ${key}: must be a number ≥ ${key === 'waitersPerInference' ? 1 : 0} (got "${text ?? ''}")`);
      }
      assumptions[key as keyof Assumptions] = value;
    }
    const report = costReport(imagegenTopology(), REPO_ROOT, {
      assumptions,
      ...(values.definition === undefined ? {} : { definitionFile: values.definition }),
    });
    process.stdout.write(values.json ? `${JSON.stringify(report)}\n` : `${formatCostReport(report)}\n`);
    return 0;
  } catch (error) {
    if (error instanceof CostModelError) {
      process.stderr.write(`imagegen cost: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
}
