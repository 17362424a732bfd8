/**
 * Bundled function code (what NodejsFunction deploys): runs like the sources, keeps the runtime's
 * error shapes with source-mapped traces, and is rebuilt only when an input changed.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { bundleLambdaCode } from '../../../local/lambda/bundle';
import { LambdaService } from '../../../local/lambda/lambda-service';

const ROOT = join(__dirname, '../../..');
const ENTRY = 'test/local/lambda/fixtures/handlers.ts';

describe('bundled Lambda code', () => {
  let lambda: LambdaService | undefined;
  afterEach(async () => lambda?.close());

  it('bundles each entry once into one CommonJS file, reused while its inputs are unchanged', async () => {
    const first = await bundleLambdaCode(ROOT, [ENTRY]);
    const bundle = first.modules.get(ENTRY);
    expect(bundle).toMatch(/\.js$/);
    const builtAt = statSync(bundle as string).mtimeMs;
    const second = await bundleLambdaCode(ROOT, [ENTRY]);
    expect(second.modules.get(ENTRY)).toBe(bundle);
    expect(statSync(bundle as string).mtimeMs).toBe(builtAt);
  });

  it('runs handlers from the bundle, with errors shaped and traced to the TypeScript source', async () => {
    lambda = new LambdaService({
      region: 'us-east-1',
      account: '000000000000',
      rootDir: ROOT,
      code: bundleLambdaCode(ROOT, [ENTRY]),
      functions: [
        { name: 'ok', entry: ENTRY, handler: 'callbackStyle', memoryMb: 256, timeoutSeconds: 5, environment: {} },
        { name: 'broken', entry: ENTRY, handler: 'fail', memoryMb: 256, timeoutSeconds: 5, environment: {} },
      ],
    });
    await expect(lambda.invoke('ok', { value: 20 })).resolves.toMatchObject({ payload: expect.anything() });
    const failed = await lambda.invoke('broken', { kind: 'error' });
    expect(failed.functionError).toMatchObject({ errorType: 'InvalidRequest', errorMessage: 'prompt must be 1-2000 characters' });
    expect(failed.functionError?.trace.join('\n')).toMatch(/fixtures\/handlers\.ts:\d+/);
  });

  it('leaves out an entry that does not bundle, so its function reports the problem at init', async () => {
    const code = await bundleLambdaCode(ROOT, ['test/local/lambda/fixtures/does-not-exist.ts']);
    expect(code.modules.size).toBe(0);
  });
});
