// Sessions (/sessions): every visit in the range, filtered, each opening its own page.
import { html } from '../html.js';
import { PageTitle } from '../ui/common.js';
import { ReportControls } from '../ui/controls.js';
import { ExportButton } from '../ui/exportbutton.js';
import { ListFilters, listParams, SessionTable } from '../ui/sessionlist.js';

const NAMES = [
  'country',
  'device',
  'url',
  'referer',
  'utm_source',
  'hasReplay',
  'hasConversion',
  'signal',
  'minDuration',
  'maxDuration',
  'minPages',
  'maxPages',
];

export function SessionsPage({ api, state, search, path }) {
  const params = listParams(state, search, { sortBy: 'startedAt', sortOrder: 'desc' });
  return html`
    <${PageTitle}>Sessions</${PageTitle}>
    <${ReportControls} state=${state} path=${path} search=${search} />
    <${ExportButton} api=${api} state=${state} />
    <${ListFilters} names=${NAMES} search=${search} path=${path} />
    <${SessionTable} api=${api} params=${params} title="Sessions" search=${search} path=${path} />`;
}
