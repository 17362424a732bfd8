// @ts-check
/**
 * A StrykerJS ignorer: mutants inside a log call (`logger.info(…)`, `deps.logger.warn(…)`) are
 * reported as "Ignored" with this reason instead of being run. A log line's wording and context are
 * for a person reading CloudWatch Logs; no caller, event, metric or stored item depends on them.
 * Metrics (`addMetric`, `addDimension`) are not log calls and stay mutated.
 */
const LOG_LEVELS = new Set(['debug', 'info', 'warn', 'error']);
const REASON = 'a log line: its text and context are read by people, not by the pipeline';

/** True for `logger.<level>(…)`, `deps.logger.<level>(…)` or `this.logger.<level>(…)`. */
function isLogCall(node) {
  if (node.type !== 'CallExpression' || node.callee.type !== 'MemberExpression') return false;
  const { object, property } = node.callee;
  if (property.type !== 'Identifier' || !LOG_LEVELS.has(property.name)) return false;
  const receiver = object.type === 'MemberExpression' ? object.property : object;
  return receiver.type === 'Identifier' && receiver.name === 'logger';
}

const logLines = {
  /** @param {import('@babel/core').NodePath} path */
  shouldIgnore(path) {
    return isLogCall(path.node) ? REASON : undefined;
  },
};

// What @stryker-mutator/api's declareValuePlugin(PluginKind.Ignore, …) returns; that package is ESM-only
// and this file is also required by a jest test.
const strykerPlugins = [{ kind: 'Ignore', name: 'log-lines', value: logLines }];

// Shorthand keys only, so import() finds the named export `strykerPlugins`.
module.exports = { isLogCall, REASON, strykerPlugins };
