/**
 * Forgets the verdicts a new test may change, so the next `npm run mutate` runs those mutants again.
 * StrykerJS's incremental mode reuses a survivor when no test it knows to cover the mutant changed;
 * a new test file that reaches the mutant only through the modules it imports is not always seen,
 * so after adding tests the survivors (and the uncovered) are worth running afresh. With
 * `--timeouts`, timeouts too: a mutant that timed out on a busy machine may be killed on a quiet one.
 *
 *   npx tsx bench/mutation-retry.ts [--timeouts] [incremental.json]   (default: stryker.config.json's incrementalFile)
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

interface IncrementalReport {
  readonly files: Record<string, { mutants: { readonly status: string }[] }>;
}

/** Drops the mutants with one of `statuses` from the report, in place; returns how many went, per status. */
export function forgetVerdicts(report: IncrementalReport, statuses: readonly string[]): Record<string, number> {
  const forgotten: Record<string, number> = {};
  for (const file of Object.values(report.files)) {
    file.mutants = file.mutants.filter((m) => {
      if (!statuses.includes(m.status)) return true;
      forgotten[m.status] = (forgotten[m.status] ?? 0) + 1;
      return false;
    });
  }
  return forgotten;
}

function main(): void {
  const args = process.argv.slice(2);
  const statuses = ['Survived', 'NoCoverage', ...(args.includes('--timeouts') ? ['Timeout'] : [])];
  const root = join(__dirname, '..');
  const file = args.find((a) => !a.startsWith('--')) ?? join(root, (JSON.parse(readFileSync(join(root, 'stryker.config.json'), 'utf8')) as { incrementalFile: string }).incrementalFile);
  const report = JSON.parse(readFileSync(file, 'utf8')) as IncrementalReport;
  const forgotten = forgetVerdicts(report, statuses);
  writeFileSync(file, JSON.stringify(report));
  const said = statuses.map((s) => `${forgotten[s] ?? 0} ${s}`).join(', ');
  process.stdout.write(`${file}: forgot ${said}; \`npm run mutate\` runs them again\n`);
}

if (require.main === module) main();
