/** Executions: counts per status, a filter, one page of rows, a link to the next page. */
import type { ExecutionRow, ListPage, ListQuery, StatusCounts } from '../executions';
import { STATUSES } from '../executions';
import { CONSOLE_PATH, duration, esc, executionHref, layout, statusBadge, time } from './html';

export function executionsPage(page: ListPage, counts: StatusCounts, query: ListQuery, now: number): string {
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  const countLinks = [`<a href="${CONSOLE_PATH}" class="count${query.status ? '' : ' selected'}">all <b>${total}</b></a>`]
    .concat(STATUSES.map((s) => `<a href="${CONSOLE_PATH}?status=${s}" class="count ${s.toLowerCase()}${query.status === s ? ' selected' : ''}" data-status="${s}">${s.toLowerCase().replace('_', ' ')} <b>${counts[s] ?? 0}</b></a>`))
    .join('');
  const options = ['', ...STATUSES].map((s) => `<option value="${s}"${query.status === s || (!query.status && s === '') ? ' selected' : ''}>${s === '' ? 'any status' : s}</option>`).join('');
  const filter = `<form class="filter" method="get" action="${CONSOLE_PATH}">
<select name="status" aria-label="status">${options}</select>
<input name="requestId" placeholder="requestId contains…" value="${esc(query.requestId ?? '')}" aria-label="requestId">
<button>Filter</button></form>`;
  const rows = page.rows.map((r) => row(r, now)).join('\n');
  const more = page.nextToken
    ? `<a class="next" href="${CONSOLE_PATH}?${new URLSearchParams({ ...(query.status ? { status: query.status } : {}), ...(query.requestId ? { requestId: query.requestId } : {}), nextToken: page.nextToken }).toString()}">next page →</a>`
    : '';
  const searched = query.requestId ? `<p class="muted">searched ${page.scanned} executions${page.nextToken ? ' so far' : ''}</p>` : '';
  const main = `<h1>Executions</h1>
<p class="counts">${countLinks}</p>
${filter}
<table class="executions"><thead><tr><th>status</th><th>requestId</th><th>cache</th><th>latency</th><th>started</th><th>execution</th></tr></thead>
<tbody>${rows || '<tr><td colspan="6" class="muted">no executions</td></tr>'}</tbody></table>
${searched}${more}`;
  return layout('Executions', 'executions', main, { live: !query.nextToken });
}

function row(r: ExecutionRow, now: number): string {
  const latency = r.stopDate ? duration(r.stopDate.getTime() - r.startDate.getTime()) : `${duration(now - r.startDate.getTime())} so far`;
  return `<tr data-execution="${esc(r.name)}" data-status="${esc(r.status)}"><td>${statusBadge(r.status)}</td><td class="request-id">${esc(r.requestId ?? '')}</td><td class="cache">${esc(r.cache ?? '')}</td><td>${latency}</td><td>${time(r.startDate)}</td><td><a href="${executionHref(r.arn)}">${esc(r.name)}</a>${r.redriveCount > 0 ? ` <span class="muted">(redriven ×${r.redriveCount})</span>` : ''}</td></tr>`;
}
