/**
 * The workflow graph drawn from imagegen's ASL: every state and transition, with the path an
 * execution took (from its history) highlighted and the failing state marked.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderGraph, workflowEdges } from '../../../local/console/graph';

const ASL = readFileSync(join(__dirname, '../../../workflows/imagegen-request.asl.json'), 'utf8');
const nodeClass = (svg: string, state: string) => new RegExp(`<g class="node ([a-z]+)" data-state="${state.replace(/[()]/g, '\\$&')}"`).exec(svg)?.[1];
const takenEdges = (svg: string) => [...svg.matchAll(/class="edge [a-z]+ taken" data-from="([^"]+)" data-to="([^"]+)"/g)].map((m) => `${m[1]}→${m[2]}`);

describe('workflow graph', () => {
  it('has every state and transition of the definition, Catch edges apart', () => {
    const { nodes, edges } = workflowEdges(ASL);
    expect(nodes).toEqual(['(start)', 'Resolve', 'Notify', 'ReportFailure', 'Failed', '(end)']);
    expect(edges.map((e) => `${e.from}→${e.to}:${e.kind}`).sort()).toEqual(
      ['(start)→Resolve:next', 'Resolve→Notify:next', 'Resolve→ReportFailure:catch', 'Notify→(end):next', 'Notify→ReportFailure:catch', 'ReportFailure→Failed:next', 'Failed→(end):next'].sort(),
    );
  });

  it('highlights the success path', () => {
    const svg = renderGraph(ASL, { statesEntered: ['Resolve', 'Notify'], status: 'SUCCEEDED' });
    expect(takenEdges(svg)).toEqual(['(start)→Resolve', 'Resolve→Notify', 'Notify→(end)']);
    expect(nodeClass(svg, 'ReportFailure')).toBe('idle');
    expect(nodeClass(svg, '(end)')).toBe('taken');
  });

  it('highlights the failure path and marks the Fail state', () => {
    const svg = renderGraph(ASL, { statesEntered: ['Resolve', 'ReportFailure', 'Failed'], status: 'FAILED' });
    expect(takenEdges(svg).sort()).toEqual(['(start)→Resolve', 'Resolve→ReportFailure', 'ReportFailure→Failed', 'Failed→(end)'].sort());
    expect(nodeClass(svg, 'Failed')).toBe('failed');
    expect(nodeClass(svg, 'Notify')).toBe('idle');
  });

  it('shows a running execution in its current state, and escapes state names', () => {
    expect(nodeClass(renderGraph(ASL, { statesEntered: ['Resolve'], status: 'RUNNING' }), 'Resolve')).toBe('current');
    const odd = JSON.stringify({ StartAt: '<b>', States: { '<b>': { Type: 'Succeed' } } });
    expect(renderGraph(odd, { statesEntered: [], status: 'RUNNING' })).not.toMatch(/<b>/);
  });
});
