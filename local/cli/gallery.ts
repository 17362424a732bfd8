/** The `out/index.html` gallery: one card per request with its images, status and timing. */
import type { RequestOutcome } from './outcome';

const escape = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

export function renderGallery(outcomes: readonly RequestOutcome[]): string {
  const cards = outcomes
    .map((o) => {
      const images = o.files
        .map((f) => `<figure><img src="${escape(f)}" alt="${escape(o.requestId)}" loading="lazy"><figcaption>${escape(f.split('/').pop() ?? f)}</figcaption></figure>`)
        .join('');
      const state = o.status === 'SUCCEEDED' ? (o.cacheHit ? 'succeeded · cache hit' : 'succeeded') : `${o.status.toLowerCase()} · ${o.errorCode ?? ''}`;
      const latency = o.latencyMs === undefined ? '' : ` · ${(o.latencyMs / 1000).toFixed(2)} s`;
      const flag = o.asExpected ? '' : ` <strong class="unexpected">expected ${escape(o.expected)}</strong>`;
      const message = o.errorMessage ? `<p class="error">${escape(o.errorMessage)}</p>` : '';
      return `<section class="card ${o.status === 'SUCCEEDED' ? 'ok' : 'failed'}"><h2>${escape(o.requestId)}</h2>${o.prompt ? `<p class="prompt">${escape(o.prompt)}</p>` : ''}<p>${escape(state)}${latency}${flag}</p>${message}<div class="images">${images}</div></section>`;
    })
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>imagegen — campaign gallery</title>
<style>
body{font:14px system-ui,sans-serif;margin:2rem;background:#f6f6f4;color:#222}
h1{font-size:1.4rem}.card{background:#fff;border-radius:8px;padding:1rem;margin:0 0 1rem;box-shadow:0 1px 3px #0002}
.card h2{font-size:1rem;margin:0 0 .3rem}.failed{border-left:4px solid #c33}.ok{border-left:4px solid #3a3}
.images{display:flex;gap:.8rem;flex-wrap:wrap;align-items:flex-end}figure{margin:0}img{max-width:256px;max-height:256px;display:block}
figcaption{font-size:12px;color:#666}.prompt{font-style:italic;color:#444;margin:0 0 .3rem}.error{color:#a22}.unexpected{color:#c33}
</style></head><body>
<h1>imagegen — campaign gallery</h1>
<p>${outcomes.length} requests · ${outcomes.filter((o) => o.status === 'SUCCEEDED').length} succeeded · ${outcomes.filter((o) => o.cacheHit).length} from cache. Images come from the local stand-in model unless a real container was configured.</p>
${cards}
</body></html>
`;
}
