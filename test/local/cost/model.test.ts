import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../../../local/cloud';
import { walk } from '../../../local/cost/asl-paths';
import { costReport } from '../../../local/cost/model';
import { imagegenTopology } from '../../../topology/imagegen-topology';

const aslFile = join(REPO_ROOT, 'workflows/imagegen-request.asl.json');

describe('cost model', () => {
  it('counts the states entered on each path of the actual ASL', () => {
    const report = costReport(imagegenTopology(), REPO_ROOT);
    const byPath = Object.fromEntries(report.paths.map((p) => [p.path, p]));
    expect(report.paths.map((p) => p.path)).toEqual(['hit', 'miss', 'joined', 'failure']);
    expect(byPath['hit']!.states).toEqual(['Resolve', 'Notify']);
    expect(byPath['joined']!.states).toEqual(['Resolve', 'Notify']);
    expect(byPath['miss']!.stateTransitions).toBe(2);
    expect(byPath['failure']!.states).toEqual(['Resolve', 'ReportFailure', 'Failed']);
    expect(byPath['hit']!.usd.stepFunctions).toBeCloseTo(0.00005, 12);
    expect(byPath['miss']!.lambdaInvocations).toEqual({ 'imagegen-resolve': 1, 'imagegen-complete': 1 });
    expect(byPath['failure']!.lambdaInvocations).toEqual({ 'imagegen-resolve': 1, 'imagegen-report-failure': 1 });
    expect(byPath['joined']!.lambdaInvocations).toEqual({ 'imagegen-resolve': 1 });
  });

  it('prices each path from the requests the tasks send (task-calls.test.ts holds them to the code)', () => {
    const byPath = Object.fromEntries(costReport(imagegenTopology(), REPO_ROOT).paths.map((p) => [p.path, p]));
    // Miss, one rendition: HEAD ×2 (Resolve) + HEAD original, HEAD rendition, GET output (Complete);
    // PUT .out (endpoint), original, rendition; claim, waiter, lease, inference item, its index entry
    // and its locations, waiter, lease and index entry deletes; the inference item read and the waiters query.
    expect(byPath['miss']).toMatchObject({ s3Gets: 5, s3Puts: 3, dynamoWrites: 9, dynamoReads: 2, snsMessages: 1, eventBridgeEvents: 2 });
    expect(byPath['hit']).toMatchObject({ s3Gets: 2, s3Puts: 0, dynamoWrites: 1, dynamoReads: 0, snsMessages: 0 });
    // A joined request: its lease write fails its condition, still a billed write; it reads the lease.
    expect(byPath['joined']).toMatchObject({ s3Gets: 2, s3Puts: 0, dynamoWrites: 4, dynamoReads: 1, snsMessages: 0 });
    expect(byPath['failure']).toMatchObject({ s3Gets: 0, dynamoWrites: 0, eventBridgeEvents: 2 });
    expect(byPath['miss']!.usd.s3).toBeCloseTo(0.000017, 12);
    expect(byPath['miss']!.usd.dynamodb).toBeCloseTo(0.000005875, 12);
    expect(byPath['miss']!.totalUsd).toBeCloseTo(0.000098, 7);
    expect(byPath['hit']!.totalUsd).toBeCloseTo(0.0000546, 7);
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
    // Per request: HEAD ×2 of its own, plus a quarter of the inference's HEAD ×2 and GET.
    expect(miss(four).s3Gets).toBeCloseTo(2.75, 12);
    expect(miss(four).totalUsd).toBeLessThan(miss(one).totalUsd);
    // $0.0000546 per hit against a $0.00005 goal; $0.0000980 per generated image against $0.0001.
    expect(one.goals).toEqual({ perGeneratedImageUsd: 0.0001, perHitUsd: 0.00005, generatedMet: true, hitMet: false });
  });

  it('rejects a definition whose path does not end', () => {
    expect(() => walk({ StartAt: 'A', States: { A: { Type: 'Pass', Next: 'B' } } })).toThrow(/"B" is referenced but not defined/);
  });
});
