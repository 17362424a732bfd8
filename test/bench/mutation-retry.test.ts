/** bench/mutation-retry.ts: which incremental verdicts are forgotten so the next run retests them. */
import { forgetVerdicts } from '../../bench/mutation-retry';

const report = () => ({
  files: {
    'tasks/a.ts': { mutants: [{ id: '1', status: 'Killed' }, { id: '2', status: 'Survived' }, { id: '3', status: 'Timeout' }] },
    'tasks/b.ts': { mutants: [{ id: '4', status: 'NoCoverage' }, { id: '5', status: 'CompileError' }, { id: '6', status: 'Ignored' }] },
  },
});

describe('forgetVerdicts', () => {
  it('drops the survivors and the uncovered, keeping every other verdict in its file', () => {
    const r = report();
    expect(forgetVerdicts(r, ['Survived', 'NoCoverage'])).toEqual({ Survived: 1, NoCoverage: 1 });
    expect(r.files['tasks/a.ts'].mutants.map((m) => m.id)).toEqual(['1', '3']);
    expect(r.files['tasks/b.ts'].mutants.map((m) => m.id)).toEqual(['5', '6']);
  });

  it('drops timeouts only when asked', () => {
    const r = report();
    expect(forgetVerdicts(r, ['Survived', 'NoCoverage', 'Timeout'])).toEqual({ Survived: 1, NoCoverage: 1, Timeout: 1 });
    expect(r.files['tasks/a.ts'].mutants.map((m) => m.id)).toEqual(['1']);
  });
});
