// The console's only script: live refresh of the page's <main>, and the endpoint charts (uPlot).
(function () {
  'use strict';

  function drawCharts(root) {
    if (typeof uPlot === 'undefined') return;
    root.querySelectorAll('figure.chart[data-series]').forEach(function (figure) {
      var source = document.getElementById(figure.getAttribute('data-series'));
      if (!source) return;
      var series = JSON.parse(source.textContent || '{}');
      var times = series.times || [];
      var values = series.values || [];
      var points = values.filter(function (v) { return v !== null && v !== undefined; }).length;
      figure.setAttribute('data-points', String(points));
      var old = figure.querySelector('.uplot');
      if (old) old.remove();
      var width = Math.max(320, Math.min(900, figure.clientWidth || 900));
      var opts = {
        width: width,
        height: 180,
        scales: { x: { time: true, range: [Number(figure.getAttribute('data-from')), Number(figure.getAttribute('data-to'))] } },
        series: [
          {},
          {
            label: figure.getAttribute('data-label') || 'value',
            stroke: '#1565c0',
            width: 2,
            fill: 'rgba(21,101,192,0.08)',
            points: { show: true, size: 5 },
            paths: figure.hasAttribute('data-step') ? uPlot.paths.stepped({ align: 1 }) : undefined,
          },
        ],
        axes: [{}, { size: 50 }],
      };
      new uPlot(opts, [times, values], figure);
    });
  }

  function live() {
    var main = document.querySelector('main[data-live]');
    var toggle = document.getElementById('live');
    if (!main) return;
    setInterval(function () {
      if (toggle && !toggle.checked) return;
      if (document.activeElement && main.contains(document.activeElement) && /INPUT|SELECT|TEXTAREA/.test(document.activeElement.tagName)) return;
      if (main.querySelector('details[open]')) return;
      fetch(location.href, { headers: { accept: 'text/html' }, credentials: 'same-origin' })
        .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
        .then(function (text) {
          var next = new DOMParser().parseFromString(text, 'text/html').querySelector('main');
          if (!next) return;
          main.innerHTML = next.innerHTML;
          drawCharts(main);
        })
        .catch(function () { /* the cloud may be restarting: try again on the next tick */ });
    }, 2000);
  }

  drawCharts(document);
  live();
})();
