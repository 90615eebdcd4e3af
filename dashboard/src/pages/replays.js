// Replays (/replays): sessions that have a recording, filtered by duration, pages, clicks,
// country, device and conversion; each opens the viewer (through a share link, since the
// viewer takes no cookie) or its session page.
import { useState } from 'preact/hooks';
import { formatDateTime, formatDuration, formatNumber, shortUrl } from '../format.js';
import { html } from '../html.js';
import { countryName } from '../report.js';
import { Link } from '../router.js';
import { PageTitle } from '../ui/common.js';
import { ReportControls } from '../ui/controls.js';
import { ListFilters, listParams, SessionTable } from '../ui/sessionlist.js';
import { sharedSearch } from '../urlstate.js';

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
  const shared = sharedSearch(search);
  const columns = [
    { key: 'replay', label: 'Replay', render: (s) => html`<${OpenViewer} api=${api} replayId=${s.replayIds[0]} />` },
    {
      key: 'sessionId',
      label: 'Session',
      className: 'mono',
      render: (s) =>
        html`<${Link} href=${`/sessions/${encodeURIComponent(s.sessionId)}${shared}`}>${s.sessionId}</${Link}>`,
    },
    { key: 'startedAt', label: 'Started', render: (s) => formatDateTime(s.startedAt) },
    { key: 'duration', label: 'Duration', numeric: true, render: (s) => formatDuration(s.duration) },
    { key: 'pageviews', label: 'Pages', numeric: true, render: (s) => formatNumber(s.pageviews) },
    { key: 'clicks', label: 'Clicks', numeric: true, render: (s) => formatNumber(s.clicks) },
    { key: 'entryPage', label: 'Entry page', render: (s) => shortUrl(s.entryPage) || '–' },
    { key: 'country', label: 'Country', render: (s) => countryName(s.country) || '–' },
    { key: 'device', label: 'Device' },
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
