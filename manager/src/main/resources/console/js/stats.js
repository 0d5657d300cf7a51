// Stats charts: CPU, memory and disk use per host over the last hour, day or week, from
// /stats/history (columnar, t as deltas). uPlot comes from its WebJar in the Manager's jar.
import uPlot from '/webjars/uplot/1.6.30/dist/uPlot.esm.js';
import { get } from './api.js';
import { h, clear, field, select, errorSlot } from './ui.js';

const RANGES = [['hour', 'Last hour', 3600], ['day', 'Last day', 86400], ['week', 'Last week', 7 * 86400]];

function stylesheet() {
  if (!document.querySelector('link[data-uplot]')) {
    document.head.append(h('link', { rel: 'stylesheet', href: '/webjars/uplot/1.6.30/dist/uPlot.min.css', 'data-uplot': true }));
  }
}

export async function page(main) {
  stylesheet();
  const range = select('range', RANGES.map(([id, text]) => [id, text]));
  const slot = errorSlot();
  const charts = h('div', { id: 'charts', class: 'charts' });
  const status = h('p', { id: 'stats-status', class: 'muted', 'aria-live': 'polite' });
  let plots = [];
  const draw = async () => {
    slot.textContent = '';
    const seconds = RANGES.find(([id]) => id === range.value)[2];
    const to = new Date();
    const from = new Date(to.getTime() - seconds * 1000);
    const t0 = performance.now();
    let history;
    try {
      history = await get('/stats/history?from=' + from.toISOString() + '&to=' + to.toISOString());
    } catch (e) {
      slot.textContent = e.message;
      return;
    }
    const fetched = performance.now();
    plots.forEach((p) => p.destroy());
    plots = [];
    clear(charts);
    const width = Math.max(280, Math.min(charts.clientWidth || 800, 1100));
    let points = 0;
    for (const host of history.hosts) {
      const xs = new Array(host.t.length);
      let at = history.start;
      for (let i = 0; i < host.t.length; i++) {
        at += host.t[i];
        xs[i] = at;
      }
      points += xs.length * 3;
      const box = h('figure', { class: 'chart', 'data-host': host.name },
        h('figcaption', { text: host.name + ': CPU, memory and disk in use (%)' }));
      charts.append(box);
      plots.push(new uPlot({
        width,
        height: 220,
        scales: { y: { range: [0, 100] } },
        series: [
          {},
          { label: 'CPU %', stroke: '#c0392b', width: 1 },
          { label: 'Memory %', stroke: '#2471a3', width: 1 },
          { label: 'Disk %', stroke: '#1e8449', width: 1 },
        ],
        axes: [{}, { values: (u, ticks) => ticks.map((v) => v + '%') }],
      }, [xs, host.cpu, host.memory, host.disk], box));
    }
    const rendered = performance.now();
    if (!history.hosts.length) charts.append(h('p', { class: 'muted', text: 'No samples in this range yet.' }));
    // Read by the benchmark; also useful when a page feels slow.
    charts.dataset.fetchMs = (fetched - t0).toFixed(1);
    charts.dataset.renderMs = (rendered - fetched).toFixed(1);
    charts.dataset.points = String(points);
    status.textContent = history.hosts.length + ' host(s), ' + points + ' points';
  };
  range.addEventListener('change', draw);
  clear(main, h('h1', { text: 'Stats' }), h('div', { class: 'toolbar' }, field('Range', range), slot), status, charts);
  await draw();
  return () => plots.forEach((p) => p.destroy());
}
