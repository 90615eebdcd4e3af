// Conversions (/conversions): leads and sales with the click they are attributed to, and a
// funnel report (steps as page patterns or event names, steps in the URL as `step=`).
import { useState } from 'preact/hooks';
import { formatDateTime, formatMoney, formatNumber, formatPercent, shortUrl } from '../format.js';
import { html } from '../html.js';
import { useLoad } from '../load.js';
import { browserZone, countryName } from '../report.js';
import { Link, navigate } from '../router.js';
import { CsvButton, DataTable, Loaded, PageTitle } from '../ui/common.js';
import { ReportControls } from '../ui/controls.js';
import { Panel, Tabs } from '../ui/panel.js';
import { apiParams, sharedSearch, withParams } from '../urlstate.js';

const PAGE_SIZE = 50;
const KINDS = [
  { label: 'Leads', event: 'leads' },
  { label: 'Sales', event: 'sales' },
];
const EXAMPLE_STEPS = ['page:/pricing*', 'event:signup', 'lead', 'sale'];

function conversionColumns(kind, shared) {
  const cols = [
    { key: 'timestamp', label: 'When', render: (e) => formatDateTime(e.timestamp) },
    { key: 'eventName', label: 'Event' },
    {
      key: (e) => e.customer?.externalId || e.customer?.id || '',
      label: 'Customer',
      render: (e) => e.customer?.name || e.customer?.email || e.customer?.id || '–',
    },
  ];
  if (kind === 'sales')
    cols.push({
      key: (e) => (e.sale?.amount ?? 0) / 100,
      label: 'Amount',
      numeric: true,
      render: (e) => `${formatMoney(e.sale?.amount)} ${e.sale?.currency || ''}`,
    });
  return [
    ...cols,
    { key: (e) => e.click?.referer || '', label: 'Source', render: (e) => e.click?.referer || 'Direct / none' },
    { key: (e) => e.link?.shortLink || '', label: 'Short link', render: (e) => e.link?.shortLink || '–' },
    { key: (e) => e.click?.url || '', label: 'Page', render: (e) => shortUrl(e.click?.url) || '–' },
    { key: (e) => e.click?.country || '', label: 'Country', render: (e) => countryName(e.click?.country) || '–' },
    {
      key: (e) => e.click?.sessionId || '',
      label: 'Session',
      className: 'mono',
      render: (e) =>
        e.click?.sessionId
          ? html`<${Link} href=${`/sessions/${encodeURIComponent(e.click.sessionId)}${shared}`}>${e.click.sessionId}</${Link}>`
          : '–',
    },
  ];
}

function ConversionList({ api, params, search }) {
  const [current, setCurrent] = useState(0);
  const [page, setPage] = useState(1);
  const kind = KINDS[current];
  const query = { ...params, event: kind.event, page, limit: PAGE_SIZE };
  const load = useLoad((signal) => api.get('/events', query, { signal }), JSON.stringify(query));
  const rows = load.status === 'done' ? load.data.data || [] : [];
  const columns = conversionColumns(kind.event, sharedSearch(search));
  const pick = (i) => {
    setCurrent(i);
    setPage(1);
  };
  const total = load.data?.total ?? rows.length;
  const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
  const tabs = html`<${Tabs} tabs=${KINDS} current=${current} onPick=${pick} label="Show" />`;
  const actions = html`<${CsvButton} title=${kind.label} columns=${columns} rows=${rows} suffix=${`page-${page}`} />`;
  return html`<${Panel} title="Leads and sales" actions=${actions} tabs=${tabs} busy=${load.status === 'loading'}>
    <${Loaded} load=${load} rows=${6}>${(answer) => html`
      <${DataTable} columns=${columns} rows=${answer.data || []} caption=${kind.label} empty=${`No ${kind.event} in this range.`} />
      <nav class="pager" aria-label=${`${kind.label} pages`}>
        <button type="button" class="button small secondary" disabled=${page <= 1} onClick=${() => setPage(page - 1)}>Previous</button>
        <span>Page ${page} of ${pages} · ${formatNumber(total)} in all</span>
        <button type="button" class="button small secondary" disabled=${page >= pages} onClick=${() => setPage(page + 1)}>Next</button>
      </nav>`}</${Loaded}>
  </${Panel}>`;
}

function StepsForm({ steps, path, search }) {
  const [draft, setDraft] = useState(steps.length ? steps : EXAMPLE_STEPS);
  const set = (i, v) => setDraft(draft.map((s, j) => (j === i ? v : s)));
  const apply = (ev) => {
    ev.preventDefault();
    const q = new URLSearchParams(withParams(search, {}));
    q.delete('step');
    for (const s of draft.map((x) => x.trim()).filter(Boolean)) q.append('step', s);
    navigate(`${path}?${q}`);
  };
  return html`<form class="steps" onSubmit=${apply} aria-label="Funnel steps">
    <p class="muted">A step is a page pattern (<code>page:/pricing*</code>), an event (<code>event:signup</code>), <code>lead</code> or <code>sale</code>.</p>
    <ol>
      ${draft.map(
        (s, i) => html`<li key=${i}>
          <label class="step-n" for=${`step-${i}`}>Step ${i + 1}</label>
          <input id=${`step-${i}`} type="text" value=${s} onInput=${(e) => set(i, e.currentTarget.value)} />
          <button type="button" class="button small secondary" disabled=${draft.length < 2} aria-label=${`Remove step ${i + 1}`}
            onClick=${() => setDraft(draft.filter((_, j) => j !== i))}>Remove</button>
        </li>`,
      )}
    </ol>
    <div class="steps-buttons">
      <button type="button" class="button small secondary" disabled=${draft.length >= 10} onClick=${() => setDraft([...draft, ''])}>Add a step</button>
      <button type="submit" class="button small">Show the funnel</button>
    </div>
  </form>`;
}

function FunnelResult({ api, params, steps }) {
  const query = { ...params, step: steps };
  const load = useLoad(
    (signal) => api.get('/funnel', query, { signal }).then((r) => r.data?.steps || []),
    JSON.stringify(query),
  );
  const columns = [
    { key: 'step', label: 'Step' },
    { key: 'visitors', label: 'Visitors', numeric: true, render: (r) => formatNumber(r.visitors) },
    { key: 'conversionRate', label: 'Conversion', numeric: true, render: (r) => formatPercent(r.conversionRate) },
    { key: 'dropOff', label: 'Drop-off', numeric: true, render: (r) => formatPercent(r.dropOff) },
  ];
  const rows = load.status === 'done' ? load.data : [];
  return html`<div>
    <div class="panel-actions right"><${CsvButton} title="Funnel" columns=${columns} rows=${rows} /></div>
    <${Loaded} load=${load} rows=${4}>${(data) => html`
      <ol class="funnel" aria-label="Funnel">
        ${data.map(
          (r) => html`<li>
            <span class="funnel-step">${r.step}</span>
            <span>${formatNumber(r.visitors)} ${r.visitors === 1 ? 'visitor' : 'visitors'} · ${formatPercent(r.conversionRate)} of the first step · ${formatPercent(r.dropOff)} dropped</span>
            <div class="funnel-track" aria-hidden="true">
              <div class="funnel-bar" style=${{ width: `${Math.max(1, Math.round((r.conversionRate ?? 0) * 100))}%` }}></div>
            </div>
          </li>`,
        )}
      </ol>
      <${DataTable} columns=${columns} rows=${data} caption="Funnel steps" />`}</${Loaded}>
  </div>`;
}

export function ConversionsPage({ api, state, search, path }) {
  const params = apiParams(state, browserZone());
  const steps = new URLSearchParams(search).getAll('step').filter(Boolean);
  return html`
    <${PageTitle}>Conversions</${PageTitle}>
    <${ReportControls} state=${state} path=${path} search=${search} />
    <${ConversionList} key=${JSON.stringify(params)} api=${api} params=${params} search=${search} />
    <${Panel} title="Funnel">
      <${StepsForm} key=${steps.join('|')} steps=${steps} path=${path} search=${search} />
      ${steps.length ? html`<${FunnelResult} api=${api} params=${params} steps=${steps} />` : html`<p class="empty">Set the steps and show the funnel.</p>`}
    </${Panel}>`;
}
