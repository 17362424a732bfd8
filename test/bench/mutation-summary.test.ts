import { originalText, renderSummary, score, scoreCountingIgnored, type MutationReport, type ReportMutant } from '../../bench/mutation-summary';

const SOURCE = 'export const f = (a: number) => a + 1;\nexport const g = () => true;\n';

function mutant(id: string, status: ReportMutant['status'], line: number, start: number, end: number, mutatorName = 'ArithmeticOperator', replacement = 'a - 1'): ReportMutant {
  return { id, status, mutatorName, replacement, location: { start: { line, column: start }, end: { line, column: end } } };
}

const report: MutationReport = {
  files: {
    'tasks/a.ts': {
      source: SOURCE,
      mutants: [
        mutant('1', 'Killed', 1, 33, 38),
        mutant('2', 'Survived', 1, 33, 38),
        mutant('3', 'Timeout', 1, 33, 38),
        mutant('4', 'CompileError', 1, 33, 38),
        mutant('5', 'NoCoverage', 2, 24, 28, 'BooleanLiteral', 'false'),
        mutant('7', 'Ignored', 2, 24, 28, 'BooleanLiteral', 'false'),
      ],
    },
    'topology/t.ts': { source: 'x', mutants: [mutant('6', 'Killed', 1, 1, 2)] },
  },
};

describe('mutation summary', () => {
  it('scores detected over valid mutants, compile errors left out', () => {
    expect(score(report.files['tasks/a.ts']!.mutants)).toEqual({ killed: 1, timeout: 1, survived: 1, noCoverage: 1, ignored: 1, invalid: 1, percent: 50 });
    expect(scoreCountingIgnored(score(report.files['tasks/a.ts']!.mutants))).toBe(40);
    expect(score([]).percent).toBeUndefined();
  });

  it('reads the mutated text back from the source (1-based, end exclusive)', () => {
    expect(originalText(SOURCE, { start: { line: 1, column: 33 }, end: { line: 1, column: 38 } })).toBe('a + 1');
    expect(originalText(SOURCE, { start: { line: 1, column: 33 }, end: { line: 2, column: 7 } })).toBe('a + 1;\nexport');
  });

  it('renders folder scores against their goals, each open mutant on a line with its note, and stale files', () => {
    const notes = [{ file: 'tasks/a.ts', mutator: 'BooleanLiteral', original: 'true', reason: 'g is only logged' }];
    const md = renderSummary(report, notes, (file) => (file === 'tasks/a.ts' ? SOURCE : 'changed'));
    expect(md).toContain('| `tasks/` | 50.0 % | 1 | 1 | 1 | 1 | 1 | 1 | ≥ 85 %: NOT met |');
    expect(md).toContain('| `topology/` | 100.0 % | 1 | 0 | 0 | 0 | 0 | 0 | ≥ 80 %: met |');
    expect(md).toContain('Counting every ignored mutant as survived instead: `tasks/` 40.0 %.');
    expect(md).toContain('- L1 ArithmeticOperator (survived): `a + 1` → `a - 1` — not examined yet');
    expect(md).toContain('- L2 BooleanLiteral (no coverage): `true` → `false` — g is only logged');
    expect(md).toContain('`topology/t.ts` (stale)');
    expect(md).toContain('1 surviving or uncovered mutant(s) not examined yet.');
  });
});
