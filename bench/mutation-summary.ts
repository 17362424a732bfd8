/**
 * `npm run mutate` ends here: renders bench/results/mutation.md from StrykerJS's JSON report
 * (bench/results/mutation.json, the mutation-testing-report schema). Scores per folder and per file;
 * every surviving or uncovered mutant on one line, with the reason it is tolerated when
 * bench/mutation-notes.json gives one. A file whose source changed since the run is marked stale.
 *
 *   npx tsx bench/mutation-summary.ts [report.json] [summary.md]
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

type Status = 'Killed' | 'Survived' | 'NoCoverage' | 'Timeout' | 'CompileError' | 'RuntimeError' | 'Ignored' | 'Pending';

interface Position {
  readonly line: number;
  readonly column: number;
}

export interface ReportMutant {
  readonly id: string;
  readonly mutatorName: string;
  readonly replacement?: string;
  readonly location: { readonly start: Position; readonly end: Position };
  readonly status: Status;
}

export interface MutationReport {
  readonly files: Readonly<Record<string, { readonly source: string; readonly mutants: readonly ReportMutant[] }>>;
}

/** A tolerated survivor: matched by file, mutator and the original text of the mutated span. */
export interface MutantNote {
  readonly file: string;
  readonly mutator: string;
  readonly original: string;
  readonly reason: string;
}

export interface Score {
  readonly killed: number;
  readonly survived: number;
  readonly noCoverage: number;
  readonly timeout: number;
  /** Not run: inside a log call (bench/stryker/log-lines.js). */
  readonly ignored: number;
  readonly invalid: number;
  /** Detected ÷ valid, as Stryker computes it; undefined when nothing valid was mutated. */
  readonly percent: number | undefined;
}

/** The goals the summary is read against, per top-level folder. */
export const GOALS: Readonly<Record<string, number>> = { 'tasks/': 85, 'workflows/': 80, 'topology/': 80 };

export function score(mutants: readonly ReportMutant[]): Score {
  const count = (...statuses: Status[]) => mutants.filter((m) => statuses.includes(m.status)).length;
  const killed = count('Killed');
  const timeout = count('Timeout');
  const survived = count('Survived');
  const noCoverage = count('NoCoverage');
  const valid = killed + timeout + survived + noCoverage;
  const ignored = count('Ignored');
  return { killed, survived, noCoverage, timeout, ignored, invalid: count('CompileError', 'RuntimeError'), percent: valid === 0 ? undefined : (100 * (killed + timeout)) / valid };
}

/** The score had the ignored mutants been run and survived: the lower bound the ignorer can hide. */
export function scoreCountingIgnored(s: Score): number | undefined {
  const valid = s.killed + s.timeout + s.survived + s.noCoverage + s.ignored;
  return valid === 0 ? undefined : (100 * (s.killed + s.timeout)) / valid;
}

/** The source text a mutant replaced (lines and columns are 1-based, the end exclusive). */
export function originalText(source: string, location: ReportMutant['location']): string {
  const lines = source.split('\n');
  const { start, end } = location;
  if (start.line === end.line) return (lines[start.line - 1] ?? '').slice(start.column - 1, end.column - 1);
  const middle = lines.slice(start.line, end.line - 1);
  return [(lines[start.line - 1] ?? '').slice(start.column - 1), ...middle, (lines[end.line - 1] ?? '').slice(0, end.column - 1)].join('\n');
}

const oneLine = (text: string, max = 70) => {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
};
const code = (text: string) => `\`${oneLine(text).replaceAll('`', "'")}\``;
/** One sentence per folder with ignored mutants: its score had they all survived. */
function ignoredBounds(folderScores: ReadonlyArray<readonly [string, Score]>): string[] {
  const bounds = folderScores
    .filter(([, s]) => s.ignored > 0)
    .map(([folder, s]) => `\`${folder}\` ${scoreCountingIgnored(s)?.toFixed(1)} %`);
  return bounds.length ? [`Counting every ignored mutant as survived instead: ${bounds.join(', ')}.`, ''] : [];
}

const pct = (s: Score) => (s.percent === undefined ? '—' : `${s.percent.toFixed(1)} %`);

/** `tasks/resolve/resolve.ts` → `tasks/`; the folders the goals name. */
export function topFolder(file: string): string {
  return `${file.split('/')[0]}/`;
}

export function renderSummary(report: MutationReport, notes: readonly MutantNote[], currentSource: (file: string) => string | undefined): string {
  const files = Object.keys(report.files).sort();
  const all = (filter: (file: string) => boolean) => files.filter(filter).flatMap((f) => report.files[f]?.mutants ?? []);
  const folders = [...new Set(files.map(topFolder))].sort();
  const row = (name: string, s: Score, extra = '') => `| ${name} | ${pct(s)} | ${s.killed} | ${s.timeout} | ${s.survived} | ${s.noCoverage} | ${s.ignored} | ${s.invalid} |${extra}`;
  const header = '| | score | killed | timeout | survived | no coverage | ignored | not valid |';
  const rule = '|---|---|---|---|---|---|---|---|';
  const folderScores = folders.map((folder) => [folder, score(all((f) => topFolder(f) === folder))] as const);
  const lines: string[] = [
    '# Mutation testing',
    '',
    'StrykerJS (`npm run mutate`) over `tasks/`, `workflows/` and `topology/`, each mutant run against the',
    'in-process tests that cover it (jest.stryker.config.js). Score = (killed + timeout) ÷ (killed + timeout +',
    'survived + no coverage); "not valid" mutants (compile errors) do not count. "Ignored" mutants sit inside a',
    'log call (`logger.info/warn/error(…)`, bench/stryker/log-lines.js): a log line is read by people, not by',
    'the pipeline, so they are not run. Full report: mutation.json.',
    '',
    `${header} goal |`,
    `${rule}---|`,
    ...folderScores.map(([folder, s]) => {
      const goal = GOALS[folder];
      const verdict = goal === undefined || s.percent === undefined ? '' : ` ≥ ${goal} %: ${s.percent >= goal ? 'met' : 'NOT met'}`;
      return row(`\`${folder}\``, s, `${verdict} |`);
    }),
    row('all', score(all(() => true)), ' |'),
    '',
    ...ignoredBounds(folderScores),
    '## Per file',
    '',
    header,
    rule,
  ];
  const stale: string[] = [];
  for (const file of files) {
    const entry = report.files[file];
    if (!entry) continue;
    const current = currentSource(file);
    if (current !== entry.source) stale.push(file);
    lines.push(row(`\`${file}\`${current === entry.source ? '' : ' (stale)'}`, score(entry.mutants)));
  }
  if (stale.length) {
    lines.push('', `**Stale:** ${stale.length} file(s) changed since this report was produced; run \`npm run mutate\` again: ${stale.map((f) => `\`${f}\``).join(', ')}.`);
  }

  lines.push('', '## Surviving and uncovered mutants', '');
  let unexplained = 0;
  for (const file of files) {
    const entry = report.files[file];
    const open = (entry?.mutants ?? []).filter((m) => m.status === 'Survived' || m.status === 'NoCoverage');
    if (!entry || open.length === 0) continue;
    lines.push(`### \`${file}\``, '');
    for (const m of [...open].sort((a, b) => a.location.start.line - b.location.start.line || a.location.start.column - b.location.start.column)) {
      const original = originalText(entry.source, m.location);
      const note = notes.find((n) => n.file === file && n.mutator === m.mutatorName && oneLine(n.original, 1e9) === oneLine(original, 1e9));
      if (!note) unexplained++;
      const status = m.status === 'NoCoverage' ? 'no coverage' : 'survived';
      lines.push(`- L${m.location.start.line} ${m.mutatorName} (${status}): ${code(original)} → ${code(m.replacement ?? '')} — ${note ? note.reason : 'not examined yet'}`);
    }
    lines.push('');
  }
  if (unexplained === 0) lines.push('Every surviving mutant above is explained.', '');
  else lines.push(`${unexplained} surviving or uncovered mutant(s) not examined yet.`, '');
  return `${lines.join('\n').trimEnd()}\n`;
}

function main(): void {
  const root = join(__dirname, '..');
  const reportFile = process.argv[2] ?? join(root, 'bench/results/mutation.json');
  const summaryFile = process.argv[3] ?? join(root, 'bench/results/mutation.md');
  const notesFile = join(root, 'bench/mutation-notes.json');
  const report = JSON.parse(readFileSync(reportFile, 'utf8')) as MutationReport;
  const notes = existsSync(notesFile) ? (JSON.parse(readFileSync(notesFile, 'utf8')) as MutantNote[]) : [];
  const current = (file: string) => (existsSync(join(root, file)) ? readFileSync(join(root, file), 'utf8') : undefined);
  writeFileSync(summaryFile, renderSummary(report, notes, current));
  process.stdout.write(`mutation summary: ${summaryFile}\n`);
}

if (require.main === module) main();
