#!/usr/bin/env node
// Runs the TypeScript CLI through tsx, so `npx imagegen …` works without a build step.
require('tsx/cjs');
const { main } = require('../local/cli/main.ts');
main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    process.stderr.write(`imagegen: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
