import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseExpression } from '@babel/parser';

// The ignorer is plain JavaScript because StrykerJS loads plugins with import().
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { isLogCall, REASON, strykerPlugins } = require('../../bench/stryker/log-lines.js') as {
  isLogCall(node: unknown): boolean;
  REASON: string;
  strykerPlugins: Array<{ kind: string; name: string; value: { shouldIgnore(path: { node: unknown }): string | undefined } }>;
};

const call = (code: string) => parseExpression(code, { plugins: ['typescript'] });

describe('the log-lines mutation ignorer', () => {
  it.each(["deps.logger.warn('notification for an unknown inference', { inferenceId })", "logger.info('published')", "this.logger.error('x')", "deps.logger.debug('x')"])(
    'ignores mutants inside %s',
    (code) => {
      expect(isLogCall(call(code))).toBe(true);
    },
  );

  it.each(["metrics.addMetric('CacheMisses', 'Count', 1)", "scalingMetrics.addDimension('EndpointName', name)", "deps.logger.appendKeys({ requestId })", "console.info('x')", "log.info('x')", 'logger'])(
    'keeps mutating %s',
    (code) => {
      expect(isLogCall(call(code))).toBe(false);
    },
  );

  it('is registered with StrykerJS as an Ignore plugin that npm run mutate uses', () => {
    const [plugin] = strykerPlugins;
    expect(plugin).toMatchObject({ kind: 'Ignore', name: 'log-lines' });
    expect(plugin!.value.shouldIgnore({ node: call("deps.logger.warn('x')") })).toBe(REASON);
    expect(plugin!.value.shouldIgnore({ node: call("metrics.addMetric('x', 'Count', 1)") })).toBeUndefined();
    const config = JSON.parse(readFileSync(join(__dirname, '../../stryker.config.json'), 'utf8')) as { plugins: string[]; ignorers: string[] };
    expect(config.plugins).toContain('./bench/stryker/log-lines.js');
    expect(config.ignorers).toEqual(['log-lines']);
  });
});
