// The overview (/): realtime visitors, the figures against the previous period, the chart and
// the breakdowns. Each part loads on its own; clicking a breakdown row adds a filter.
import { useEffect, useState } from 'preact/hooks';
import {
  change,
  formatCompact,
  formatDateTime,
  formatDuration,
  formatMoney,
  formatNumber,
  formatPercent,
  shortUrl,
} from '../format.js';
import { html } from '../html.js';
import { useLoad } from '../load.js';
import { browserZone, countryName, zoneOffsetMs } from '../report.js';
import { Link } from '../router.js';
import { BREAKDOWNS, BreakdownPanel } from '../ui/breakdown.js';
import { SeriesChart } from '../ui/chart.js';
import { CsvButton, Loaded, PageTitle } from '../ui/common.js';
import { ReportControls } from '../ui/controls.js';
import { Panel } from '../ui/panel.js';
import { apiParams, hourlyBuckets, previousPeriod, sharedSearch } from '../urlstate.js';

const REALTIME_MS = 30 * 60_000;
const REFRESH_MS = 10_000;

const FIGURES = [
  ['visitors', 'Visitors', formatCompact],
  ['pageviews', 'Page views', formatCompact],
  ['sessions', 'Sessions', formatCompact],
  ['bounceRate', 'Bounce rate', formatPercent, true],
  ['visitDuration', 'Visit duration', formatDuration],
  ['leads', 'Leads', formatCompact],
  ['sales', 'Sales', formatCompact],
  ['saleAmount', 'Revenue', formatMoney],
];

async function figures(api, params, previous, signal) {
  const both = (p) =>
    Promise.all([
      api.get('/sessions/analytics', { ...p, groupBy: 'count' }, { signal }),
      api.get('/analytics', { ...p, groupBy: 'count' }, { signal }),
    ]).then(([s, a]) => ({ ...a.data, ...s.data }));
  const [now, before] = await Promise.all([both(params), previous ? both(previous) : null]);
  return { now, before };
}

function Figures({ api, params, previous, paramsKey }) {
  const load = useLoad((signal) => figures(api, params, previous, signal), paramsKey);
  const rows =
    load.status === 'done'
      ? FIGURES.map(([key, label]) => ({ key, label, now: load.data.now[key], before: load.data.before?.[key] }))
      : [];
  const csv = [
    { key: 'label', label: 'figure' },
    { key: (r) => (r.key === 'saleAmount' ? (r.now ?? 0) / 100 : r.now), label: 'this period' },
    { key: (r) => (r.key === 'saleAmount' && r.before != null ? r.before / 100 : r.before), label: 'previous period' },
  ];
  return html`<${Panel} title="Figures" className="figures-panel" busy=${load.status === 'loading'}
      actions=${html`<${CsvButton} title="Figures" columns=${csv} rows=${rows} />`}>
    <${Loaded} load=${load} rows=${2}>${(data) => html`<ul class="figures">
      ${FIGURES.map(([key, label, fmt, lowerIsBetter]) => {
        const delta = change(data.now[key], data.before?.[key]);
        const good =
          delta.trend === 'flat' || delta.trend === null
            ? ''
            : (delta.trend === 'up') !== Boolean(lowerIsBetter)
              ? 'good'
              : 'bad';
        return html`<li class="figure">
          <span class="figure-label">${label}</span>
          <strong class="figure-value">${fmt(data.now[key])}</strong>
          ${
            delta.text
              ? html`<span class=${`figure-change ${good}`} title="Against the previous period of the same length">
                  ${delta.trend === 'up' ? '↑' : delta.trend === 'down' ? '↓' : ''} ${delta.text}<span class="sr-only"> against the previous period</span>
                </span>`
              : null
          }
        </li>`;
      })}
    </ul>`}</${Loaded}>
  </${Panel}>`;
}

function ChartPanel({ api, params, paramsKey, hourly }) {
  const load = useLoad(
    (signal) =>
      api.get('/sessions/analytics', { ...params, groupBy: 'timeseries' }, { signal }).then((r) => r.data || []),
    paramsKey,
  );
  const rows = load.status === 'done' ? load.data : [];
  const csv = [
    { key: 'start', label: 'start' },
    { key: 'pageviews', label: 'page views' },
    { key: 'visitors', label: 'visitors' },
    { key: 'sessions', label: 'sessions' },
  ];
  return html`<${Panel} title="Page views and visitors" className="chart-panel" busy=${load.status === 'loading'}
      actions=${html`<${CsvButton} title="Time series" columns=${csv} rows=${rows} />`}>
    <${Loaded} load=${load} rows=${6}>${(data) => html`<${SeriesChart} rows=${data} hourly=${hourly} title="Page views and visitors" />`}</${Loaded}>
  </${Panel}>`;
}

function useTick(ms) {
  const [tick, setTick] = useState(0);
  useEffect(() => {
    const bump = () => document.visibilityState === 'visible' && setTick((n) => n + 1);
    const timer = setInterval(bump, ms);
    document.addEventListener('visibilitychange', bump);
    return () => {
      clearInterval(timer);
      document.removeEventListener('visibilitychange', bump);
    };
  }, [ms]);
  return tick;
}

function RealtimeSessions({ api, bots, tick, search }) {
  const load = useLoad(
    (signal) =>
      api
        .get(
          '/sessions',
          {
            start: new Date(Date.now() - REALTIME_MS).toISOString(),
            bots,
            limit: 50,
            sortBy: 'startedAt',
            sortOrder: 'desc',
          },
          { signal },
        )
        .then((r) => r.data || []),
    `${bots}|${tick}`,
    { keep: true },
  );
  const shared = sharedSearch(search);
  return html`<div id="realtime-list"><${Loaded} load=${load} rows=${3}>${(rows) =>
    rows.length
      ? html`<ul class="realtime-list">${rows.map(
          (s) => html`<li key=${s.sessionId}>
            <${Link} href=${`/sessions/${encodeURIComponent(s.sessionId)}${shared}`}>Session ${s.sessionId}</${Link}>
            <span class="muted"> ${formatDateTime(s.startedAt)} · ${shortUrl(s.entryPage) || '–'} · ${countryName(s.country) || 'unknown country'} · ${formatNumber(s.pageviews)} pages</span>
          </li>`,
        )}</ul>`
      : html`<p class="empty">Nobody in the last 30 minutes.</p>`}</${Loaded}></div>`;
}

function Realtime({ api, bots, search }) {
  const tick = useTick(REFRESH_MS);
  const [open, setOpen] = useState(false);
  const load = useLoad(
    (signal) =>
      api
        .get(
          '/sessions/analytics',
          { groupBy: 'count', start: new Date(Date.now() - REALTIME_MS).toISOString(), bots },
          { signal },
        )
        .then((r) => r.data),
    `${bots}|${tick}`,
    { keep: true },
  );
  const visitors = load.data ? load.data.visitors : null;
  return html`<section class="realtime" aria-label="Realtime">
    <button type="button" class="realtime-button" aria-expanded=${open} aria-controls="realtime-list" onClick=${() => setOpen(!open)}>
      <span class="pulse" aria-hidden="true"></span>
      <span aria-live="polite"><strong>${visitors === null ? '…' : formatNumber(visitors)}</strong> ${visitors === 1 ? 'visitor' : 'visitors'} in the last 30 min</span>
    </button>
    ${load.status === 'error' ? html`<span class="field-error" role="alert">Realtime: ${load.error.message}</span>` : null}
    ${open ? html`<${RealtimeSessions} api=${api} bots=${bots} tick=${tick} search=${search} />` : null}
  </section>`;
}

export function OverviewPage({ api, state, search, path }) {
  const zone = browserZone();
  const params = apiParams(state, zone);
  const prev = previousPeriod(state, Date.now(), zoneOffsetMs());
  const previous = prev ? { ...params, interval: undefined, start: prev.start, end: prev.end } : null;
  const paramsKey = JSON.stringify(params);
  const hourly = hourlyBuckets(state, Date.now(), zoneOffsetMs());
  const props = { api, params, paramsKey, path, search };
  return html`
    <${PageTitle}>Overview</${PageTitle}>
    <${ReportControls} state=${state} path=${path} search=${search} />
    <${Realtime} api=${api} bots=${state.bots} search=${search} />
    <${Figures} api=${api} params=${params} previous=${previous} paramsKey=${paramsKey} />
    <${ChartPanel} ...${props} hourly=${hourly} />
    <div class="panels">
      ${BREAKDOWNS.map((group) => html`<${BreakdownPanel} key=${group.title} group=${group} ...${props} />`)}
    </div>`;
}
