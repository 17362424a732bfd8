/** The endpoint: instances, backlog and utilization charts, scaling decisions, scheduled actions, inferences in flight. */
import type { EndpointView } from '../endpoint';
import { CHART_MINUTES } from '../endpoint';
import type { FaultsView } from '../faults';
import { esc, executionHref, jsonScript, layout, time } from './html';
import { faultsSection } from './faults-page';

export function endpointPage(view: EndpointView, faults: FaultsView): string {
  const chart = (id: string, title: string, series: EndpointView['backlog'], opts: { step?: boolean } = {}) =>
    `<figure class="chart" id="${id}" data-series="${id}-data" data-points="0" data-from="${view.window.from}" data-to="${view.window.to}" data-label="${esc(series.label)}"${opts.step ? ' data-step' : ''}><figcaption>${esc(title)} · ${series.times.length} data points</figcaption></figure>${jsonScript(`${id}-data`, series)}`;
  const decisions = view.decisions
    .map((d) => `<tr><td>${time(d.time)}</td><td>${d.desired ?? ''}</td><td>${esc(d.description)}</td><td>${esc(d.cause)}</td><td>${esc(d.status)}</td></tr>`)
    .join('');
  const scheduled = view.scheduled
    .map((a) => `<tr><td>${esc(a.ScheduledActionName)}</td><td class="mono">${esc(a.Schedule)}</td><td>${esc(a.Timezone ?? 'UTC')}</td><td>${esc(a.ScalableTargetAction?.MinCapacity ?? '')}</td><td>${esc(a.ScalableTargetAction?.MaxCapacity ?? '')}</td></tr>`)
    .join('');
  const inflight = view.inFlight
    .map(
      (i) => `<tr><td class="mono">${esc(i.inferenceId)}</td><td class="mono">${esc(i.cacheKey.slice(0, 16))}…</td><td>${i.attempt}</td><td>${time(i.expiresAt)}</td><td>${
        i.waiters.map((w) => `<a href="${executionHref(w.executionArn)}">${esc(w.requestId)}</a>`).join(', ') || '<span class="muted">none</span>'
      }</td></tr>`,
    )
    .join('');
  const main = `<h1>Endpoint ${esc(view.name)}</h1>
<dl class="facts"><dt>status</dt><dd class="endpoint-status">${esc(view.status)}</dd><dt>instances</dt><dd class="instances">${view.currentInstances} in service, ${view.desiredInstances} desired</dd></dl>
<section class="charts"><h2>Last ${CHART_MINUTES} minutes</h2>
${chart('chart-backlog', 'Backlog (AWS/SageMaker ApproximateBacklogSize, 1-minute average)', view.backlog)}
${chart('chart-utilization', `Published ${view.utilization.label} (1-minute average)`, view.utilization)}
${chart('chart-instances', 'Desired instances (each scaling decision)', view.instances, { step: true })}
</section>
<section><h2>Scaling decisions</h2><table class="decisions"><thead><tr><th>time</th><th>desired</th><th>decision</th><th>cause</th><th>status</th></tr></thead><tbody>${decisions || '<tr><td colspan="5" class="muted">none yet</td></tr>'}</tbody></table></section>
<section><h2>Scheduled actions</h2><table><thead><tr><th>name</th><th>schedule</th><th>timezone</th><th>min</th><th>max</th></tr></thead><tbody>${scheduled || '<tr><td colspan="5" class="muted">none</td></tr>'}</tbody></table></section>
<section><h2>Inferences in flight</h2><table class="inflight"><thead><tr><th>inference</th><th>cache key</th><th>attempt</th><th>lease expires</th><th>executions waiting</th></tr></thead><tbody>${inflight || '<tr><td colspan="5" class="muted">none</td></tr>'}</tbody></table></section>
${faultsSection(faults)}`;
  return layout(`Endpoint ${view.name}`, 'endpoint', main, { live: true });
}
