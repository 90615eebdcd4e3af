// The list of sessions behind the Sessions and Replays pages: a filter form mapped onto
// GET /sessions's parameters (all in the URL), the table, and pages from X-Total-Count.
import { formatDateTime, formatDuration, formatMoney, formatNumber, shortUrl } from '../format.js';
import { html } from '../html.js';
import { useLoad } from '../load.js';
import { browserZone, countryName } from '../report.js';
import { Link, navigate } from '../router.js';
import { SIGNAL_FILTER, signalsOf, signalsText } from '../signals.js';
import { apiParams, sharedSearch, shownFilterValue, withParams } from '../urlstate.js';
import { CsvButton, DataTable, Loaded } from './common.js';
import { Panel } from './panel.js';

export const PAGE_SIZE = 50;
// Filters of the list besides the shared ones (country, device, url, referer, utm_source).
export const LIST_PARAMS = [
  'hasReplay',
  'hasConversion',
  'signal',
  'minDuration',
  'maxDuration',
  'minPages',
  'maxPages',
  'minClicks',
  'maxClicks',
];

export const FIELDS = {
  country: { label: 'Country', placeholder: 'GB', shared: true },
  device: { label: 'Device', options: ['', 'desktop', 'mobile', 'tablet', 'other'], shared: true },
  url: { label: 'Page', placeholder: 'https://shop.example/pricing', shared: true },
  referer: { label: 'Referrer', placeholder: 'news.ycombinator.com', shared: true },
  utm_source: { label: 'UTM source', placeholder: 'newsletter', shared: true },
  hasReplay: { label: 'Has replay', options: ['', 'true', 'false'] },
  hasConversion: { label: 'Has a conversion', options: ['', 'true', 'false'] },
  signal: {
    label: 'Frustration',
    options: Object.keys(SIGNAL_FILTER),
    names: SIGNAL_FILTER,
  },
  minDuration: { label: 'Min duration (s)', number: true },
  maxDuration: { label: 'Max duration (s)', number: true },
  minPages: { label: 'Min pages', number: true },
  maxPages: { label: 'Max pages', number: true },
  minClicks: { label: 'Min clicks', number: true },
  maxClicks: { label: 'Max clicks', number: true },
};
const OPTION_NAMES = { '': 'Any', true: 'Yes', false: 'No' };

/** The GET /sessions query for the page's URL: shared state, list filters, page. */
export function listParams(state, search, fixed = {}) {
  const q = new URLSearchParams(search);
  const p = { ...apiParams(state, browserZone()), limit: PAGE_SIZE, page: Number(q.get('page')) || 1 };
  for (const name of LIST_PARAMS) if (q.get(name)) p[name] = q.get(name);
  return { ...p, ...fixed };
}

function Field({ name, value }) {
  const f = FIELDS[name];
  const id = `f-${name}`;
  let input;
  if (f.options) {
    const names = f.names || OPTION_NAMES;
    input = html`<select id=${id} name=${name} value=${value}>${f.options.map((o) => html`<option value=${o}>${names[o] ?? (o || 'Any')}</option>`)}</select>`;
  } else if (f.number) {
    input = html`<input id=${id} name=${name} type="number" min="0" inputmode="numeric" value=${value} />`;
  } else {
    input = html`<input id=${id} name=${name} type="text" placeholder=${f.placeholder} value=${value} />`;
  }
  return html`<div class="field"><label for=${id}>${f.label}</label>${input}</div>`;
}

export function ListFilters({ names, search, path }) {
  const q = new URLSearchParams(search);
  const apply = (ev) => {
    ev.preventDefault();
    const form = new FormData(ev.currentTarget);
    const changes = Object.fromEntries(names.map((n) => [n, String(form.get(n) || '').trim() || null]));
    navigate(path + withParams(search, changes));
  };
  const reset = () => navigate(path + withParams(search, Object.fromEntries(names.map((n) => [n, null]))));
  const active = names.filter((n) => q.get(n)).length;
  // open on a wide screen or when a filter is set; a phone starts with the list
  const open = active > 0 || window.matchMedia('(min-width: 721px)').matches;
  return html`<details class="filters-box" open=${open}>
    <summary>Filters${active ? ` (${active} set)` : ''}</summary>
    <form class="list-filters" onSubmit=${apply} aria-label="Filters">
    ${names.map((n) => html`<${Field} key=${`${n}:${q.get(n) || ''}`} name=${n} value=${FIELDS[n].shared ? shownFilterValue(q.get(n) || '') : q.get(n) || ''} />`)}
    <div class="field buttons">
      <button type="submit" class="button">Apply</button>
      <button type="button" class="button secondary" onClick=${reset}>Reset</button>
    </div>
  </form>
  </details>`;
}

const utmOf = (s) => [s.utm_source, s.utm_medium, s.utm_campaign].filter(Boolean).join(' / ');
const conversionsOf = (s) => {
  const parts = [];
  if (s.leads) parts.push(`${s.leads} lead${s.leads > 1 ? 's' : ''}`);
  if (s.sales) parts.push(`${s.sales} sale${s.sales > 1 ? 's' : ''} (${formatMoney(s.saleAmount)})`);
  return parts.join(', ') || '–';
};

/** A session's id, linking to its page (the shared view parameters kept). */
export function sessionIdColumn(search) {
  const shared = sharedSearch(search);
  return {
    key: 'sessionId',
    label: 'Session',
    className: 'mono',
    render: (s) =>
      html`<${Link} href=${`/sessions/${encodeURIComponent(s.sessionId)}${shared}`}>${s.sessionId}</${Link}>`,
  };
}

function SignalBadges({ session }) {
  const found = signalsOf(session);
  if (!found.length) return html`<span class="muted">None</span>`;
  return html`<span class="signals">${found.map(
    (s) => html`<span class=${`signal signal-${s.kind}`} title=${s.label}>${s.name} ${s.count}</span>`,
  )}</span>`;
}

/** Columns of a session row that every session list shows the same way. */
export const COLUMN = {
  startedAt: { key: 'startedAt', label: 'Started', render: (s) => formatDateTime(s.startedAt) },
  duration: { key: 'duration', label: 'Duration', numeric: true, render: (s) => formatDuration(s.duration) },
  pageviews: { key: 'pageviews', label: 'Pages', numeric: true, render: (s) => formatNumber(s.pageviews) },
  entryPage: { key: 'entryPage', label: 'Entry page', render: (s) => shortUrl(s.entryPage) || '–' },
  country: { key: 'country', label: 'Country', render: (s) => countryName(s.country) || '–' },
  device: { key: 'device', label: 'Device' },
  signals: { key: signalsText, label: 'Frustration', render: (s) => html`<${SignalBadges} session=${s} />` },
};

export function sessionColumns(search) {
  return [
    sessionIdColumn(search),
    COLUMN.startedAt,
    COLUMN.duration,
    COLUMN.pageviews,
    COLUMN.signals,
    COLUMN.entryPage,
    COLUMN.country,
    COLUMN.device,
    { key: 'browser', label: 'Browser' },
    { key: 'referer', label: 'Referrer', render: (s) => s.referer || 'Direct / none' },
    { key: utmOf, label: 'UTM', render: (s) => utmOf(s) || '–' },
    { key: conversionsOf, label: 'Conversions', render: conversionsOf },
    {
      key: (s) => (s.replayIds?.length ? 'yes' : 'no'),
      label: 'Replay',
      render: (s) => (s.replayIds?.length ? 'Yes' : 'No'),
    },
  ];
}

export const SESSION_CSV = [
  { key: 'sessionId', label: 'session' },
  { key: 'visitorId', label: 'visitor' },
  { key: 'startedAt', label: 'started' },
  { key: 'duration', label: 'duration (s)' },
  { key: 'pageviews', label: 'pages' },
  { key: 'clicks', label: 'clicks' },
  { key: signalsText, label: 'frustration' },
  { key: 'entryPage', label: 'entry page' },
  { key: 'exitPage', label: 'exit page' },
  { key: 'country', label: 'country' },
  { key: 'city', label: 'city' },
  { key: 'device', label: 'device' },
  { key: 'browser', label: 'browser' },
  { key: 'os', label: 'os' },
  { key: 'referer', label: 'referrer' },
  { key: 'utm_source', label: 'utm source' },
  { key: 'utm_medium', label: 'utm medium' },
  { key: 'utm_campaign', label: 'utm campaign' },
  { key: 'leads', label: 'leads' },
  { key: 'sales', label: 'sales' },
  { key: (s) => (s.saleAmount ?? 0) / 100, label: 'revenue' },
  { key: (s) => (s.replayIds || []).join(' '), label: 'replays' },
];

function Pager({ page, total, path, search }) {
  const pages = Math.max(1, Math.ceil((total || 0) / PAGE_SIZE));
  const go = (n) => navigate(path + withParams(search, { page: n === 1 ? null : n }));
  return html`<nav class="pager" aria-label="Pages">
    <button type="button" class="button small secondary" disabled=${page <= 1} onClick=${() => go(page - 1)}>Previous</button>
    <span>Page ${page} of ${pages} · ${formatNumber(total)} in all</span>
    <button type="button" class="button small secondary" disabled=${page >= pages} onClick=${() => go(page + 1)}>Next</button>
  </nav>`;
}

/** The table of sessions for `params`, with its CSV and pages. `columns` can add to it. */
export function SessionTable({ api, params, title, search, path, columns, empty }) {
  const key = JSON.stringify(params);
  const load = useLoad((signal) => api.get('/sessions', params, { signal }), key);
  const rows = load.status === 'done' ? load.data.data || [] : [];
  return html`<${Panel} title=${title} busy=${load.status === 'loading'}
      actions=${html`<${CsvButton} title=${title} columns=${SESSION_CSV} rows=${rows} suffix=${`page-${params.page}`} />`}>
    <${Loaded} load=${load} rows=${8}>${(answer) => html`
      <${DataTable} columns=${columns || sessionColumns(search)} rows=${answer.data || []} caption=${title}
        rowKey=${(s) => s.sessionId} empty=${empty || 'No session matches these filters in this range.'} />
      <${Pager} page=${params.page} total=${answer.total ?? (answer.data || []).length} path=${path} search=${search} />`}</${Loaded}>
  </${Panel}>`;
}
