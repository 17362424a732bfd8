/**
 * The workflow graph, drawn from the state machine's ASL the way the Step Functions console's graph
 * view shows it: states top to bottom by depth from `StartAt`, one arrow per transition (`Next`,
 * `Default`, Choice rules, `Catch` dashed), and the path an execution took highlighted.
 * Server-rendered SVG: a handful of states needs no layout engine in the browser.
 */
import { escapeXml } from '../shared/xml';

interface AslState {
  readonly Type?: string;
  readonly Next?: string;
  readonly Default?: string;
  readonly End?: boolean;
  readonly Choices?: readonly { readonly Next?: string }[];
  readonly Catch?: readonly { readonly Next?: string }[];
}

interface Edge {
  readonly from: string;
  readonly to: string;
  readonly kind: 'next' | 'catch';
}

export interface GraphPath {
  /** States in the order entered. */
  readonly statesEntered: readonly string[];
  /** Where a failure happened, if inside a state. */
  readonly failedState?: string;
  readonly status: string;
}

export const START = '(start)';
export const END = '(end)';
const NODE_W = 170;
const NODE_H = 36;
const ROW_H = 80;
const COL_W = 200;

export function workflowEdges(definition: string): { readonly nodes: readonly string[]; readonly edges: readonly Edge[]; readonly types: ReadonlyMap<string, string> } {
  const asl = JSON.parse(definition) as { StartAt?: string; States?: Record<string, AslState> };
  const states = asl.States ?? {};
  const edges: Edge[] = [];
  const types = new Map<string, string>();
  if (asl.StartAt) edges.push({ from: START, to: asl.StartAt, kind: 'next' });
  for (const [name, state] of Object.entries(states)) {
    types.set(name, state.Type ?? 'Task');
    const next = [state.Next, state.Default, ...(state.Choices ?? []).map((c) => c.Next)].filter((n): n is string => typeof n === 'string');
    for (const to of new Set(next)) edges.push({ from: name, to, kind: 'next' });
    for (const to of new Set((state.Catch ?? []).map((c) => c.Next).filter((n): n is string => typeof n === 'string'))) edges.push({ from: name, to, kind: 'catch' });
    if (state.End === true || state.Type === 'Succeed' || state.Type === 'Fail') edges.push({ from: name, to: END, kind: 'next' });
  }
  return { nodes: [START, ...Object.keys(states), END], edges, types };
}

/** Depth of each node: the longest acyclic path from the start, so every arrow points down. */
function ranks(nodes: readonly string[], edges: readonly Edge[]): Map<string, number> {
  const rank = new Map<string, number>([[START, 0]]);
  for (let round = 0; round < nodes.length; round++) {
    let changed = false;
    for (const edge of edges) {
      const from = rank.get(edge.from);
      if (from === undefined || (rank.get(edge.to) ?? -1) >= from + 1 || edge.to === START) continue;
      if (from + 1 >= nodes.length) continue;
      rank.set(edge.to, from + 1);
      changed = true;
    }
    if (!changed) break;
  }
  const last = Math.max(...rank.values()) + 1;
  for (const node of nodes) if (!rank.has(node)) rank.set(node, last);
  return rank;
}

export function renderGraph(definition: string, path: GraphPath): string {
  const { nodes, edges, types } = workflowEdges(definition);
  const rank = ranks(nodes, edges);
  const rows = new Map<number, string[]>();
  for (const node of nodes) rows.set(rank.get(node) ?? 0, [...(rows.get(rank.get(node) ?? 0) ?? []), node]);
  const widest = Math.max(...[...rows.values()].map((r) => r.length));
  const width = Math.max(1, widest) * COL_W + 2 * COL_W * 0.75;
  const height = rows.size * ROW_H + 20;
  const at = new Map<string, { x: number; y: number }>();
  for (const [r, row] of rows) {
    row.forEach((node, i) => at.set(node, { x: width / 2 + (i - (row.length - 1) / 2) * COL_W, y: 20 + r * ROW_H + NODE_H / 2 }));
  }

  const entered = new Set(path.statesEntered);
  const finished = path.status !== 'RUNNING';
  const taken = new Set<string>();
  const sequence = [START, ...path.statesEntered, ...(path.status === 'SUCCEEDED' || path.status === 'FAILED' ? [END] : [])];
  for (let i = 1; i < sequence.length; i++) taken.add(`${sequence[i - 1]}→${sequence[i]}`);
  const reached = (node: string) => node === START || entered.has(node) || (node === END && sequence.at(-1) === END);
  const current = !finished ? path.statesEntered.at(-1) : undefined;

  const arrows = edges.map((edge) => {
    const a = at.get(edge.from);
    const b = at.get(edge.to);
    if (!a || !b) return '';
    const on = taken.has(`${edge.from}→${edge.to}`);
    const x1 = a.x;
    const y1 = a.y + NODE_H / 2;
    const x2 = b.x;
    const y2 = b.y - NODE_H / 2;
    // An arrow that skips a row swings out to its source's side, around the states in between.
    const skips = Math.abs((rank.get(edge.to) ?? 0) - (rank.get(edge.from) ?? 0)) > 1;
    const dx = skips ? (x1 <= width / 2 ? -1 : 1) * COL_W * 0.75 : 0;
    const c1 = skips ? `${x1 + dx},${y1 + ROW_H}` : `${x1},${(y1 + y2) / 2}`;
    const c2 = skips ? `${x2 + dx},${y2 - ROW_H}` : `${x2},${(y1 + y2) / 2}`;
    return `<path class="edge ${edge.kind}${on ? ' taken' : ''}" data-from="${escapeXml(edge.from)}" data-to="${escapeXml(edge.to)}" d="M${x1},${y1} C${c1} ${c2} ${x2},${y2 - 2}" marker-end="url(#arrow${on ? '-taken' : ''})"/>`;
  });

  const boxes = nodes.map((node) => {
    const p = at.get(node);
    if (!p) return '';
    const state = node === path.failedState || (node === path.statesEntered.at(-1) && path.status !== 'SUCCEEDED' && path.status !== 'RUNNING' && types.get(node) === 'Fail')
      ? 'failed'
      : node === current
        ? 'current'
        : reached(node)
          ? 'taken'
          : 'idle';
    const label = node === START ? 'Start' : node === END ? 'End' : node;
    const type = types.get(node);
    const shape = node === START || node === END
      ? `<ellipse cx="${p.x}" cy="${p.y}" rx="34" ry="${NODE_H / 2 - 4}"/>`
      : `<rect x="${p.x - NODE_W / 2}" y="${p.y - NODE_H / 2}" width="${NODE_W}" height="${NODE_H}" rx="6"/>`;
    return `<g class="node ${state}" data-state="${escapeXml(node)}">${shape}<text x="${p.x}" y="${p.y + 4}">${escapeXml(label)}</text>${type ? `<title>${escapeXml(`${label} (${type})`)}</title>` : ''}</g>`;
  });

  return `<svg class="graph" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="workflow graph">
<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerUnits="userSpaceOnUse" markerWidth="10" markerHeight="10" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#999"/></marker><marker id="arrow-taken" viewBox="0 0 10 10" refX="9" refY="5" markerUnits="userSpaceOnUse" markerWidth="10" markerHeight="10" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#2e7d32"/></marker></defs>
${arrows.join('\n')}
${boxes.join('\n')}
</svg>`;
}
