/**
 * The model side (model/) is Python that runs in the serving image; its unittest suite runs here on
 * the machine's python3 with a fake pipeline. The bodies it parses are the ones the pipeline sends.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadSample } from '../../events/samples';
import { modelInput, normalize } from '../../tasks/shared/request';
import { defaultConfig } from '../../topology/imagegen-topology';

const ROOT = join(__dirname, '..', '..');
const FIXTURE = join(ROOT, 'model', 'tests', 'fixtures', 'pipeline-requests.json');

describe('model/ (inference handler and compile script)', () => {
  it('keeps the handler fixtures equal to the bodies resolve sends for the sample requests', () => {
    const fixture = JSON.parse(readFileSync(FIXTURE, 'utf8')) as { sample: string; body: string }[];
    const sent = fixture.map(({ sample }) => {
      const detail = loadSample('image-generation-requested', sample).detail;
      // resolve sends exactly this string as the InvokeEndpointAsync Body.
      return { sample, body: JSON.stringify(modelInput(normalize(detail, defaultConfig.modelId, defaultConfig.supportedSizes))) };
    });
    expect(fixture.map((f) => f.sample).sort()).toEqual(['full', 'minimal']);
    expect(fixture).toEqual(sent);
  });

  it('passes its unittest suite on python3', () => {
    const run = spawnSync('python3', ['-B', '-W', 'error', '-m', 'unittest', 'discover', '-s', 'model/tests', '-v'], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
      timeout: 120_000,
    });
    if (run.error) throw new Error(`could not run python3 (Python 3.10 or later must be on PATH): ${run.error.message}`);
    // unittest reports on stderr; shown whole when anything is off.
    const report = `${run.stderr}\n${run.stdout}`;
    const ran = /^Ran (\d+) tests? in /m.exec(report);
    if (run.status !== 0 || !ran || !/^OK\b/m.test(report)) throw new Error(`python3 -m unittest exited ${String(run.status)}:\n${report}`);
    expect(Number(ran[1])).toBeGreaterThanOrEqual(50);
  });
});
