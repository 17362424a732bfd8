/** Result events, newest first: what each execution put on the bus. */
import type { ResultsPage } from '../results';
import { record } from '../history';
import { CONSOLE_PATH, esc, executionHref, layout, pretty, time } from './html';

export function eventsPage(page: ResultsPage, paged: boolean): string {
  const rows = page.events
    .map((e) => {
      const d = record(e.detail);
      const error = record(d?.error);
      const kind = e.detailType.endsWith('Succeeded') ? 'succeeded' : 'failed';
      const summary = error ? `${esc(error.code)}: ${esc(error.message)}` : d?.cacheHit === true ? 'cache hit' : d?.cacheHit === false ? 'generated' : '';
      return `<tr class="${kind}"><td>${time(e.time)}</td><td>${esc(e.detailType)}</td><td>${esc(d?.requestId ?? '')}</td><td>${summary}</td><td class="mono">${esc(e.eventId ?? '')}</td><td><a href="${executionHref(e.executionArn)}">execution</a></td><td><details><summary>detail</summary>${pretty(e.detail)}</details></td></tr>`;
    })
    .join('\n');
  const more = page.nextToken ? `<a class="next" href="${CONSOLE_PATH}events?nextToken=${encodeURIComponent(page.nextToken)}">older →</a>` : '';
  const main = `<h1>Result events</h1>
<p class="muted">"Image Generation Succeeded" and "Failed" as each execution sent them to the bus (source <code>imagegen</code>), newest first.</p>
<table class="events"><thead><tr><th>time</th><th>detail-type</th><th>requestId</th><th>result</th><th>event id</th><th></th><th></th></tr></thead><tbody>${rows || '<tr><td colspan="7" class="muted">none yet</td></tr>'}</tbody></table>${more}`;
  return layout('Result events', 'events', main, { live: !paged });
}
