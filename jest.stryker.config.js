/**
 * The tests `npm run mutate` runs against each mutant: the in-process ones that exercise tasks/,
 * workflows/ and topology/. Tests that run the tasks inside the local cloud's Lambda worker threads
 * cannot see a mutant (it is switched on in this process only), so they are left out.
 * @type {import('jest').Config}
 */
const base = require('./jest.config');

module.exports = {
  ...base,
  // Every source folder in the module map, so each mutant's related tests (jest --findRelatedTests)
  // include those that reach its file through other modules, not only those importing it directly.
  roots: ['test', 'tasks', 'workflows', 'topology', 'events', 'infra', 'local', 'bench'].map((dir) => `<rootDir>/${dir}`),
  testMatch: ['<rootDir>/test/unit/**/*.test.ts', '<rootDir>/test/workflows/**/*.test.ts', '<rootDir>/test/infra/**/*.test.ts', '<rootDir>/test/local/cost/**/*.test.ts'],
};
