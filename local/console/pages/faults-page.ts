/** The fault-injection rules in force, or "fault injection off". */
import type { FaultRule, FaultsView } from '../faults';
import { esc, layout } from './html';

/** The fields that narrow a rule to one function, topic, rule or endpoint, as the rule names them. */
const NARROWING = ['function', 'topic', 'rule', 'endpoint'] as const;

function narrowedTo(rule: FaultRule): string {
  return NARROWING.filter((key) => typeof rule[key] === 'string').map((key) => `${key} ${String(rule[key])}`).join(', ');
}

export function faultsSection(faults: FaultsView): string {
  if (faults.state === 'off') return '<section class="faults"><h2>Fault injection</h2><p class="faults-state">fault injection off</p></section>';
  if (faults.state === 'unknown') return `<section class="faults"><h2>Fault injection</h2><p class="faults-state">unknown: ${esc(faults.reason)}</p></section>`;
  const rows = faults.rules
    .map((r) => `<tr><td>${esc(r.service ?? '')}</td><td>${esc(r.operation ?? '')}</td><td>${esc(narrowedTo(r))}</td><td>${esc(r.action ?? (r.error ? 'error' : ''))}</td><td>${esc(r.probability ?? '')}</td><td>${esc(r.error ? `${r.error.statusCode ?? ''} ${r.error.code ?? ''}` : '')}</td></tr>`)
    .join('');
  return `<section class="faults"><h2>Fault injection</h2><p class="faults-state">${faults.rules.length} active rule${faults.rules.length === 1 ? '' : 's'}${faults.seed === undefined ? '' : `, seed ${esc(faults.seed)}`}</p>
<table><thead><tr><th>service</th><th>operation</th><th>narrowed to</th><th>action</th><th>probability</th><th>error</th></tr></thead><tbody>${rows}</tbody></table></section>`;
}

export function faultsPage(faults: FaultsView): string {
  return layout('Faults', 'faults', `<h1>Faults</h1>${faultsSection(faults)}`, { live: true });
}
