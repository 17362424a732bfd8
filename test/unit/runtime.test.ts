import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const taskFunction = readFileSync(join(__dirname, '../../infra/constructs/task-function.ts'), 'utf8');

describe('the project runtime', () => {
  it('runs its scripts and tests on the Node.js major the Lambda functions are deployed on', () => {
    const deployed = /Runtime\.NODEJS_(\d+)_X/.exec(taskFunction)?.[1];
    expect(deployed).toBe('22');
    expect(process.versions.node.split('.')[0]).toBe(deployed);
  });
});
