import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../../../local/cloud';
import { walk } from '../../../local/cost/asl-paths';
import { costReport, PATHS } from '../../../local/cost/model';
import { imagegenTopology } from '../../../topology/imagegen-topology';

const aslFile = join(REPO_ROOT, 'workflows/imagegen-request.asl.json');

describe('cost model', () => {
  it('counts the states entered on each path of the actual ASL', () => {
    const report = costReport(imagegenTopology(), REPO_ROOT);
    const byPath = Object.fromEntries(report.paths.map((p) => [p.path, p]));
    expect(report.paths.map((p) => p.path)).toEqual([...PATHS]);
    expect(byPath['hit']!.states).toEqual(['Resolve', 'Notify']);
    expect(byPath['miss']!.stateTransitions).toBe(2);
    expect(byPath['failure']!.states).toEqual(['Resolve', 'ReportFailure', 'Failed']);
    expect(byPath['hit']!.usd.stepFunctions).toBeCloseTo(0.00005, 12);
    expect(byPath['miss']!.lambdaInvocations).toEqual({ 'imagegen-resolve': 1, 'imagegen-complete': 1 });
    expect(byPath['failure']!.lambdaInvocations).toEqual({ 'imagegen-resolve': 1, 'imagegen-report-failure': 1 });
    expect(byPath['miss']!.totalUsd).toBeGreaterThan(byPath['hit']!.totalUsd);
  });

  it('follows a changed copy of the ASL: an extra state adds a transition and its Lambda', () => {
    const definition = JSON.parse(readFileSync(aslFile, 'utf8'));
    definition.States.Resolve.Next = 'PostProcess';
    definition.States.PostProcess = { Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke', Parameters: { FunctionName: '${ReportFailureFunctionArn}', 'Payload.$': '$' }, Next: 'Notify' };
    const file = join(mkdtempSync(join(tmpdir(), 'asl-')), 'changed.asl.json');
    writeFileSync(file, JSON.stringify(definition));
    const changed = costReport(imagegenTopology(), REPO_ROOT, { definitionFile: file });
    const original = costReport(imagegenTopology(), REPO_ROOT);
    const hit = (r: typeof original) => r.paths.find((p) => p.path === 'hit')!;
    expect(hit(changed).states).toEqual(['Resolve', 'PostProcess', 'Notify']);
    expect(hit(changed).stateTransitions).toBe(hit(original).stateTransitions + 1);
    expect(hit(changed).lambdaInvocations['imagegen-report-failure']).toBe(1);
    expect(hit(changed).totalUsd).toBeGreaterThan(hit(original).totalUsd);
  });

  it('scales the per-inference share with coalesced waiters and reports the goals', () => {
    const one = costReport(imagegenTopology(), REPO_ROOT);
    const four = costReport(imagegenTopology(), REPO_ROOT, { assumptions: { waitersPerInference: 4 } });
    const miss = (r: typeof one) => r.paths.find((p) => p.path === 'miss')!;
    expect(miss(four).snsMessages).toBeCloseTo(0.25, 12);
    expect(miss(four).totalUsd).toBeLessThan(miss(one).totalUsd);
    expect(one.goals.hitMet).toBe(one.paths.find((p) => p.path === 'hit')!.totalUsd <= 0.00005);
  });

  it('rejects a definition whose path does not end', () => {
    expect(() => walk({ StartAt: 'A', States: { A: { Type: 'Pass', Next: 'B' } } })).toThrow(/"B" is referenced but not defined/);
  });
});
