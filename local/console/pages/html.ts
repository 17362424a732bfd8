/** HTML building blocks shared by the console's pages: escaping, the page shell, small formatters. */
export const CONSOLE_PATH = '/_imagegen/console/';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function esc(text: unknown): string {
  return String(text ?? '').replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

/** JSON for a `<script type="application/json">` block: `<` escaped so no text can close the tag. */
export function jsonScript(id: string, value: unknown): string {
  return `<script type="application/json" id="${esc(id)}">${JSON.stringify(value).replace(/</g, '\\u003c')}</script>`;
}

export function executionHref(arn: string): string {
  return `${CONSOLE_PATH}executions/${encodeURIComponent(arn)}`;
}

export function objectHref(bucket: string, key: string): string {
  return `${CONSOLE_PATH}objects/${encodeURIComponent(bucket)}/${key.split('/').map(encodeURIComponent).join('/')}`;
}

export function time(date: Date | undefined): string {
  return date ? `<time datetime="${esc(date.toISOString())}">${esc(date.toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z'))}</time>` : '';
}

export function duration(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '';
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

export function statusBadge(status: string): string {
  return `<span class="status ${esc(status.toLowerCase())}">${esc(status)}</span>`;
}

export function pretty(value: unknown): string {
  return `<pre class="json">${esc(typeof value === 'string' ? value : JSON.stringify(value, null, 2))}</pre>`;
}

export type Section = 'executions' | 'endpoint' | 'events' | 'faults';

export function layout(title: string, section: Section, main: string, options: { readonly live?: boolean } = {}): string {
  const link = (to: Section, label: string, href: string) => `<a href="${href}"${to === section ? ' aria-current="page"' : ''}>${label}</a>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)} · imagegen console</title>
<link rel="stylesheet" href="${CONSOLE_PATH}assets/uPlot.min.css"><link rel="stylesheet" href="${CONSOLE_PATH}assets/console.css">
</head><body>
<header><strong>imagegen</strong> operator console <nav>${link('executions', 'Executions', CONSOLE_PATH)}${link('endpoint', 'Endpoint', `${CONSOLE_PATH}endpoint`)}${link('events', 'Result events', `${CONSOLE_PATH}events`)}${link('faults', 'Faults', `${CONSOLE_PATH}faults`)}</nav>
${options.live ? '<label class="live"><input type="checkbox" id="live" checked> live</label>' : ''}</header>
<main${options.live ? ' data-live' : ''}>
${main}
</main>
<script src="${CONSOLE_PATH}assets/uPlot.iife.min.js"></script><script src="${CONSOLE_PATH}assets/console.js"></script>
</body></html>
`;
}
