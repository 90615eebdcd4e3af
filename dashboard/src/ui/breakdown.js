// The breakdown panels of the overview: each row's name is a button that adds it as a filter.
import { useState } from 'preact/hooks';
import { formatNumber, shortUrl } from '../format.js';
import { html } from '../html.js';
import { useLoad } from '../load.js';
import { countryName } from '../report.js';
import { navigate } from '../router.js';
import { filterValue, withParams } from '../urlstate.js';
import { CsvButton, Loaded } from './common.js';
import { Panel, Tabs } from './panel.js';

const events = (label, groupBy, key, param, show) => ({
  label,
  source: '/analytics',
  groupBy,
  key,
  param,
  show,
  kind: 'events',
});
const sessions = (label, groupBy, key = 'url', param = 'url', show = shortUrl) => ({
  label,
  source: '/sessions/analytics',
  groupBy,
  key,
  param,
  show,
  kind: 'sessions',
});
const refererWithClass = (row) => `${row.referer}${row.refererType ? ` (${row.refererType})` : ''}`;
const linkName = (row) => row.shortLink || (row.domain && row.key ? `${row.domain}/${row.key}` : row.linkId);

export const BREAKDOWNS = [
  {
    title: 'Pages',
    tabs: [
      events('Top pages', 'top_urls', 'url', 'url', shortUrl),
      sessions('Entry pages', 'entry_pages'),
      sessions('Exit pages', 'exit_pages'),
    ],
  },
  {
    title: 'Sources',
    tabs: [
      // arrivals by referrer: moving between the site's own pages is no source
      sessions('Referrers', 'referers', 'referer', 'referer', null),
      sessions('Referrer classes', 'referer_types', 'refererType', null, null),
    ],
  },
  {
    title: 'Campaigns',
    tabs: [
      events('UTM source', 'utm_sources', 'utm_source', 'utm_source'),
      events('UTM medium', 'utm_mediums', 'utm_medium', 'utm_medium'),
      events('UTM campaign', 'utm_campaigns', 'utm_campaign', 'utm_campaign'),
    ],
  },
  { title: 'Countries', tabs: [events('Countries', 'countries', 'country', 'country', countryName)] },
  {
    title: 'Devices',
    tabs: [
      events('Devices', 'devices', 'device', 'device'),
      events('Browsers', 'browsers', 'browser', 'browser'),
      events('OS', 'os', 'os', 'os'),
    ],
  },
  { title: 'Short links', tabs: [events('Short links', 'top_links', 'linkId', 'linkId', null)] },
];
const NONE = { referer: 'Direct / none', refererType: 'Direct / none' };
const LIMIT = 10;
const MORE = 100;

function shownName(tab, row) {
  if (tab.groupBy === 'top_links') return linkName(row);
  if (tab.groupBy === 'referers' && row.referer) return refererWithClass(row);
  // no referrer, but classed by its campaign tags (utm_medium=email, a gclid...)
  if (tab.groupBy === 'referers' && row.refererType && row.refererType !== 'direct') {
    return `No referrer (${row.refererType})`;
  }
  const value = row[tab.key];
  if (value === null || value === undefined || value === '') return NONE[tab.key] || '(none)';
  return tab.show ? tab.show(value) : String(value);
}

function measureColumns(tab) {
  if (tab.kind === 'sessions') {
    return [
      { key: 'visitors', label: 'Visitors', numeric: true },
      { key: 'sessions', label: 'Sessions', numeric: true },
    ];
  }
  return [
    { key: 'clicks', label: 'Views', numeric: true },
    { key: 'leads', label: 'Leads', numeric: true },
  ];
}

function csvColumns(tab) {
  const name = { key: (r) => (tab.groupBy === 'top_links' ? linkName(r) : r[tab.key]), label: tab.label };
  if (tab.kind === 'sessions') {
    const cls = tab.groupBy === 'referers' ? [{ key: 'refererType', label: 'class' }] : [];
    const views = tab.groupBy.startsWith('referer') ? [{ key: 'pageviews', label: 'page views' }] : [];
    return [name, ...cls, { key: 'visitors', label: 'visitors' }, { key: 'sessions', label: 'sessions' }, ...views];
  }
  return [
    name,
    ...(tab.groupBy === 'top_links' ? [{ key: 'url', label: 'destination' }] : []),
    { key: 'clicks', label: 'views' },
    { key: 'leads', label: 'leads' },
    { key: 'sales', label: 'sales' },
    { key: (r) => (r.saleAmount ?? 0) / 100, label: 'revenue' },
  ];
}

function Rows({ tab, rows, path, search }) {
  if (!rows.length) return html`<p class="empty">Nothing in this range.</p>`;
  const measures = measureColumns(tab);
  const top = Math.max(1, ...rows.map((r) => r[measures[0].key] || 0));
  const filterBy = (row) => {
    const value = tab.groupBy === 'top_links' ? row.linkId : row[tab.key];
    navigate(path + withParams(search, { [tab.param]: filterValue(value) }));
  };
  const canFilter = (row) => tab.param && row[tab.key] !== null && row[tab.key] !== undefined && row[tab.key] !== '';
  return html`<table class="breakdown">
    <caption class="sr-only">${tab.label}</caption>
    <thead><tr><th scope="col">${tab.label}</th>${measures.map((m) => html`<th scope="col" class="num">${m.label}</th>`)}</tr></thead>
    <tbody>
      ${rows.map((row, i) => {
        const name = shownName(tab, row);
        const width = `${Math.round(((row[measures[0].key] || 0) / top) * 100)}%`;
        return html`<tr key=${i}>
          <th scope="row" class="name">
            <span class="bar" style=${{ width }} aria-hidden="true"></span>
            ${
              canFilter(row)
                ? html`<button type="button" class="row-filter" title=${`Filter by ${name}`} onClick=${() => filterBy(row)}>${name}</button>`
                : html`<span class="row-name">${name}</span>`
            }
          </th>
          ${measures.map((m) => html`<td class="num">${formatNumber(row[m.key])}</td>`)}
        </tr>`;
      })}
    </tbody>
  </table>`;
}

export function BreakdownPanel({ group, api, params, paramsKey, path, search }) {
  const [current, setCurrent] = useState(0);
  const [more, setMore] = useState(false);
  const tab = group.tabs[current];
  const limit = more ? MORE : LIMIT;
  const load = useLoad(
    (signal) => api.get(tab.source, { ...params, groupBy: tab.groupBy, limit }, { signal }).then((r) => r.data || []),
    `${paramsKey}|${tab.groupBy}|${limit}`,
  );
  const rows = load.status === 'done' ? load.data : [];
  const tabs = html`<${Tabs} tabs=${group.tabs} current=${current} onPick=${setCurrent} label=${`${group.title}: show`} />`;
  const actions = html`<${CsvButton} title=${tab.label} columns=${csvColumns(tab)} rows=${rows} />`;
  return html`<${Panel} title=${group.title} actions=${actions} tabs=${tabs} busy=${load.status === 'loading'}>
    <${Loaded} load=${load} rows=${5}>${(data) => html`<${Rows} tab=${tab} rows=${data} path=${path} search=${search} />`}</${Loaded}>
    ${
      load.status === 'done' && (more || rows.length >= LIMIT)
        ? html`<button type="button" class="link-button" onClick=${() => setMore(!more)}>${more ? 'Show fewer' : 'Show more'}</button>`
        : null
    }
  </${Panel}>`;
}
