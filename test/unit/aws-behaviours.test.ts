/**
 * docs/aws-behaviours.md names, for every AWS behaviour imagegen relies on, the test that proves it.
 * A renamed or deleted test would leave a row proving nothing: every named test must exist.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '../..');
const ledger = readFileSync(join(ROOT, 'docs/aws-behaviours.md'), 'utf8');
const rows = ledger.split('\n').filter((line) => /^\| \d+ \|/.test(line));
const REFERENCE = /`(test\/[^`]+\.test\.ts)` › "([^"]+)"/g;

/** Whether `file` declares a test called exactly `name`, in any quoting. */
function declares(file: string, name: string): boolean {
  const source = readFileSync(join(ROOT, file), 'utf8');
  return [`'${name.replaceAll("'", "\\'")}'`, `"${name}"`, `\`${name}\``].some((quoted) => source.includes(`it(${quoted}`));
}

describe('the AWS behaviour ledger', () => {
  it('has a row for at least 20 behaviours, each with its documentation and a test', () => {
    expect(rows.length).toBeGreaterThanOrEqual(20);
    for (const row of rows) {
      const cells = row.split(' | ');
      expect(cells).toHaveLength(5);
      expect([...row.matchAll(REFERENCE)].length).toBeGreaterThan(0);
    }
  });

  it.each(rows.flatMap((row) => [...row.matchAll(REFERENCE)].map((m) => [m[1] as string, m[2] as string])))('names a test that exists: %s › %s', (file, name) => {
    expect(existsSync(join(ROOT, file))).toBe(true);
    expect(declares(file, name)).toBe(true);
  });
});
