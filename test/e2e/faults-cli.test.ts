/**
 * `imagegen serve --faults FILE` as a user runs it: the file's rules are in force from the start,
 * and a file with a rule that cannot apply stops the command before it listens, naming the file,
 * the field and the bad value.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startServe } from './serve-process';

jest.setTimeout(120_000);

const ROOT = resolve(__dirname, '../..');

describe('imagegen serve --faults FILE', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'imagegen-faults-cli-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('puts the rules of the file in force from the start', async () => {
    const file = join(dir, 'faults.json');
    writeFileSync(file, JSON.stringify({ seed: 7, rules: [{ service: 'sagemaker', action: 'model-error', probability: 0.1 }] }));
    const serve = await startServe(['--faults', file]);
    try {
      const response = await fetch(`${serve.url}/_imagegen/chaos/faults`);
      await expect(response.json()).resolves.toEqual({ seed: 7, rules: [{ service: 'sagemaker', action: 'model-error', probability: 0.1 }] });
      expect(serve.output()).toMatch(/chaos: 1 fault rule\(s\) in force, seed 7/);
    } finally {
      await serve.stop();
    }
  });

  it('refuses a file whose rule names an unknown action, before listening', () => {
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify({ rules: [{ service: 'sns', action: 'drop' }, { service: 'sns', action: 'explode', probability: 0.1 }] }));
    const run = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'local/cli/main.ts'), 'serve', '--port', '0', '--data-dir', join(dir, 'data'), '--faults', file], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(`imagegen: --faults ${file}: rules[1].action: "explode" is not a fault of sns (one of drop, duplicate, delay)`);
    expect(run.stdout).not.toMatch(/ready/);
  });

  it('refuses a file that is not JSON', () => {
    const file = join(dir, 'broken.json');
    writeFileSync(file, '{ "rules": [ ');
    const run = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'local/cli/main.ts'), 'serve', '--port', '0', '--data-dir', join(dir, 'data'), '--faults', file], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(`imagegen: --faults ${file}: not JSON`);
  });
});
