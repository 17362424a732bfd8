/**
 * One execution: what it asked for and how it ended, the graph with its path, the image and its
 * renditions, the actions (replay, redrive, stop), input and output, and the full event history.
 */
import type { HistoryEvent } from '@aws-sdk/client-sfn';
import type { ExecutionDetail } from '../executions';
import { renderGraph } from '../graph';
import { parse, record } from '../history';
import { CONSOLE_PATH, duration, esc, executionHref, layout, objectHref, pretty, statusBadge, time } from './html';

interface ImageRef {
  readonly bucket?: unknown;
  readonly key?: unknown;
  readonly uri?: unknown;
  readonly width?: unknown;
  readonly height?: unknown;
  readonly format?: unknown;
  readonly bytes?: unknown;
}

const REDRIVABLE = new Set(['FAILED', 'TIMED_OUT', 'ABORTED']);

export function executionPage(detail: ExecutionDetail, csrf: string, imagesBucket: string, now: number): string {
  const { description: d, facts } = detail;
  const arn = d.executionArn ?? '';
  const status = d.status ?? 'RUNNING';
  const latency = d.stopDate && d.startDate ? duration(d.stopDate.getTime() - d.startDate.getTime()) : d.startDate ? `${duration(now - d.startDate.getTime())} so far` : '';
  const action = (name: string, label: string, enabled: boolean, title = '') =>
    `<form method="post" action="${executionHref(arn)}/${name}"><input type="hidden" name="csrf" value="${esc(csrf)}"><button name="action" value="${name}"${enabled ? '' : ' disabled'}${title ? ` title="${esc(title)}"` : ''}>${label}</button></form>`;
  const actions = `<div class="actions">
${action('replay', 'Replay', true)}
${action('redrive', 'Redrive', REDRIVABLE.has(status) && d.redriveStatus !== 'NOT_REDRIVABLE', d.redriveStatusReason ?? '')}
${action('stop', 'Stop', status === 'RUNNING')}
</div>`;
  const failure = d.error !== undefined || d.cause !== undefined
    ? `<section class="failure"><h2>Error</h2><p><span class="error-code">${esc(d.error ?? '')}</span></p><p class="cause">${esc(d.cause ?? '')}</p></section>`
    : '';
  const output = parse(d.output);
  const images = imagesOf(output, imagesBucket);
  const main = `<p class="crumbs"><a href="${CONSOLE_PATH}">Executions</a> / ${esc(d.name ?? '')}</p>
<h1>${esc(facts.requestId ?? d.name ?? '')} ${statusBadge(status)}</h1>
<dl class="facts">
<dt>execution</dt><dd class="mono">${esc(arn)}</dd>
<dt>started</dt><dd>${time(d.startDate)}</dd>
<dt>stopped</dt><dd>${time(d.stopDate)}</dd>
<dt>latency</dt><dd>${latency}</dd>
<dt>cache</dt><dd class="cache">${esc(facts.cache ?? '')}</dd>
${facts.inferenceId ? `<dt>inference</dt><dd class="mono">${esc(facts.inferenceId)}</dd>` : ''}
${facts.cacheKey ? `<dt>cache key</dt><dd class="mono">${esc(facts.cacheKey)}</dd>` : ''}
${d.redriveCount ? `<dt>redrives</dt><dd>${d.redriveCount}</dd>` : ''}
</dl>
${actions}
${failure}
<section class="graph-view"><h2>Graph</h2>${renderGraph(detail.definition, { statesEntered: facts.statesEntered, status, ...(facts.failedState ? { failedState: facts.failedState } : {}) })}</section>
${images}
<section class="io"><div><h2>Input</h2>${pretty(parse(d.input))}</div><div><h2>Output</h2>${d.output === undefined ? '<p class="muted">none</p>' : pretty(output)}</div></section>
<section><h2>Event history</h2>${historyTable(detail.events)}</section>`;
  return layout(facts.requestId ?? d.name ?? 'Execution', 'executions', main, { live: status === 'RUNNING' });
}

function imagesOf(output: unknown, imagesBucket: string): string {
  const o = record(output);
  const original = record(o?.image) as ImageRef | undefined;
  const renditions = Array.isArray(o?.renditions) ? (o.renditions as ImageRef[]) : [];
  if (!original) return '';
  const figure = (image: ImageRef, role: string) => {
    if (typeof image.bucket !== 'string' || typeof image.key !== 'string' || image.bucket !== imagesBucket) return '';
    const href = objectHref(image.bucket, image.key);
    return `<figure class="${role}"><a href="${href}"><img src="${href}" alt="${esc(role)} ${esc(image.width)}×${esc(image.height)} ${esc(image.format)}"></a>
<figcaption>${esc(role)} · ${esc(image.width)}×${esc(image.height)} ${esc(image.format)} · ${esc(image.bytes)} bytes<br><a class="mono" href="${href}">${esc(image.uri ?? `s3://${image.bucket}/${image.key}`)}</a></figcaption></figure>`;
  };
  return `<section class="images"><h2>Image and renditions</h2><div class="figures">${figure(original, 'original')}${renditions.map((r) => figure(r, 'rendition')).join('')}</div></section>`;
}

function historyTable(events: readonly HistoryEvent[]): string {
  const rows = events.map((e) => {
    const details = Object.entries(e).find(([k]) => k.endsWith('EventDetails'))?.[1] as Record<string, unknown> | undefined;
    const name = typeof details?.name === 'string' ? details.name : '';
    const summary = details ? Object.entries(details).filter(([k]) => k !== 'name' && !k.endsWith('Details')).map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`).join('\n') : '';
    return `<tr class="${esc(e.type ?? '')}"><td>${e.id ?? ''}</td><td>${esc(e.type ?? '')}</td><td>${esc(name)}</td><td>${time(e.timestamp)}</td><td><details><summary>details</summary><pre>${esc(summary)}</pre></details></td></tr>`;
  });
  return `<table class="history"><thead><tr><th>id</th><th>type</th><th>state</th><th>time</th><th></th></tr></thead><tbody>${rows.join('\n')}</tbody></table>`;
}
