// Replays (/replays): sessions that have a recording, filtered by duration, pages, clicks,
// country, device, conversion and frustration signal; each opens the viewer (through a share link, since the
// viewer takes no cookie) or its session page.
import { useState } from 'preact/hooks';
import { formatNumber } from '../format.js';
import { html } from '../html.js';
import { PageTitle } from '../ui/common.js';
import { ReportControls } from '../ui/controls.js';
import { COLUMN, ListFilters, listParams, SessionTable, sessionIdColumn } from '../ui/sessionlist.js';

const NAMES = [
  'minDuration',
  'maxDuration',
  'minPages',
  'maxPages',
  'minClicks',
  'maxClicks',
  'country',
  'device',
  'hasConversion',
  'signal',
];

function OpenViewer({ api, replayId }) {
  const [state, setState] = useState('');
  const open = async () => {
    setState('Opening…');
    try {
      const { data } = await api.post(`/replays/${encodeURIComponent(replayId)}/share`, { expires_in: 3600 });
      location.href = data.url;
    } catch (err) {
      setState(err.message);
    }
  };
  return html`<button type="button" class="button small" onClick=${open}>Play</button>${state ? html` <span role="status" class="muted">${state}</span>` : null}`;
}

export function ReplaysPage({ api, state, search, path }) {
  const params = listParams(state, search, { hasReplay: 'true', sortBy: 'startedAt', sortOrder: 'desc' });
  const columns = [
    { key: 'replay', label: 'Replay', render: (s) => html`<${OpenViewer} api=${api} replayId=${s.replayIds[0]} />` },
    sessionIdColumn(search),
    COLUMN.startedAt,
    COLUMN.duration,
    COLUMN.pageviews,
    { key: 'clicks', label: 'Clicks', numeric: true, render: (s) => formatNumber(s.clicks) },
    COLUMN.signals,
    COLUMN.entryPage,
    COLUMN.country,
    COLUMN.device,
    { key: 'conv', label: 'Converted', render: (s) => (s.leads || s.sales ? 'Yes' : 'No') },
    { key: 'pagesRecorded', label: 'Recordings', numeric: true, render: (s) => formatNumber(s.replayIds.length) },
  ];
  return html`
    <${PageTitle}>Replays</${PageTitle}>
    <${ReportControls} state=${state} path=${path} search=${search} />
    <${ListFilters} names=${NAMES} search=${search} path=${path} />
    <${SessionTable} api=${api} params=${params} title="Recorded sessions" search=${search} path=${path} columns=${columns}
      empty="No recorded session matches these filters in this range." />`;
}
