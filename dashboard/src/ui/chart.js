// The time series: uPlot on a canvas (page views and visitors), with the same numbers as a
// table behind a "Show as table" toggle for screen readers and keyboards.
import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import { formatBucket, formatNumber } from '../format.js';
import { html } from '../html.js';
import { DataTable } from './common.js';

const ACCENT = '#c8502b';
// whole numbers only on the y axis: counts have no fractions
const INCRS = [1, 2, 5].flatMap((n) => [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7].map((p) => n * p)).sort((a, b) => a - b);
const SECOND = '#3b6f8f';

function options(width, hourly) {
  return {
    width,
    height: 240,
    cursor: { y: false, points: { size: 7 } },
    legend: { live: true },
    scales: { x: { time: true }, y: { range: (_, _min, max) => [0, Math.max(4, Math.ceil(max * 1.1))] } },
    axes: [
      { stroke: '#666', grid: { stroke: '#eee' }, ticks: { stroke: '#ddd' } },
      {
        stroke: '#666',
        grid: { stroke: '#eee' },
        ticks: { stroke: '#ddd' },
        size: 50,
        incrs: INCRS,
        values: (_, v) => v.map((n) => formatNumber(n)),
      },
    ],
    series: [
      { value: (_, v) => (v === null ? '–' : formatBucket(new Date(v * 1000).toISOString(), hourly)) },
      { label: 'Page views', stroke: ACCENT, width: 2, fill: 'rgba(200,80,43,0.08)', value: (_, v) => formatNumber(v) },
      { label: 'Visitors', stroke: SECOND, width: 2, value: (_, v) => formatNumber(v) },
    ],
  };
}

/** rows: [{start, pageviews, visitors}]. */
export function SeriesChart({ rows, hourly, title }) {
  const box = useRef(null);
  const [asTable, setAsTable] = useState(false);
  useEffect(() => {
    const el = box.current;
    if (!el) return undefined;
    const data = [
      rows.map((r) => Date.parse(r.start) / 1000),
      rows.map((r) => r.pageviews ?? 0),
      rows.map((r) => r.visitors ?? 0),
    ];
    const plot = new uPlot(options(Math.max(280, el.clientWidth), hourly), data, el);
    const resize = new ResizeObserver(() => plot.setSize({ width: Math.max(280, el.clientWidth), height: 240 }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [rows, hourly]);
  const columns = [
    { key: 'start', label: hourly ? 'Hour' : 'Period', render: (r) => formatBucket(r.start, hourly) },
    { key: 'pageviews', label: 'Page views', numeric: true, render: (r) => formatNumber(r.pageviews) },
    { key: 'visitors', label: 'Visitors', numeric: true, render: (r) => formatNumber(r.visitors) },
  ];
  return html`<div class="chart">
    <div ref=${box} class="chart-canvas" role="img" aria-label=${`${title}: a line chart of page views and visitors; use “Show as table” for the numbers`}></div>
    <button type="button" class="link-button" aria-expanded=${asTable} onClick=${() => setAsTable(!asTable)}>
      ${asTable ? 'Hide table' : 'Show as table'}
    </button>
    ${asTable ? html`<${DataTable} columns=${columns} rows=${rows} caption=${title} />` : null}
  </div>`;
}
