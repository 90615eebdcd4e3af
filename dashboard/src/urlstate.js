// Everything a view shows is in its URL's query string: the brand, the range, the bot switch and
// the filters, named as GET /analytics names them, so a view can be shared or bookmarked and the
// page passes them straight through to the API.

export const INTERVALS = ['24h', '7d', '30d', '90d', 'ytd', '1y', 'all'];
export const DEFAULT_INTERVAL = '7d';
export const FILTER_PARAMS = [
  'url',
  'referer',
  'utm_source',
  'utm_medium',
  'utm_campaign',
  'utm_term',
  'utm_content',
  'country',
  'city',
  'region',
  'device',
  'browser',
  'os',
  'linkId',
  'trigger',
];
const FILTER_LABELS = {
  url: 'Page',
  referer: 'Referrer',
  utm_source: 'UTM source',
  utm_medium: 'UTM medium',
  utm_campaign: 'UTM campaign',
  utm_term: 'UTM term',
  utm_content: 'UTM content',
  country: 'Country',
  city: 'City',
  region: 'Region',
  device: 'Device',
  browser: 'Browser',
  os: 'OS',
  linkId: 'Short link',
  trigger: 'Trigger',
};
const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
const FIXED_MS = { '24h': DAY_MS, '7d': 7 * DAY_MS, '30d': 30 * DAY_MS, '90d': 90 * DAY_MS };

export const filterLabel = (name) => FILTER_LABELS[name] || name;

/** The view's state from a query string: {brand, interval, start, end, bots, filters}. */
export function readState(search) {
  const q = new URLSearchParams(search);
  const interval = INTERVALS.includes(q.get('interval')) ? q.get('interval') : DEFAULT_INTERVAL;
  const filters = {};
  for (const name of FILTER_PARAMS) {
    const value = q.get(name);
    if (value !== null && value !== '') filters[name] = value;
  }
  return {
    brand: q.get('brand') || '',
    interval,
    start: q.get('start') || '',
    end: q.get('end') || '',
    bots: q.get('bots') === 'include' ? 'include' : 'exclude',
    filters,
  };
}

/** `search` with `changes` applied (a null or '' value removes the parameter); `page` is dropped
 * unless it is one of the changes, since a new filter starts at the first page. */
export function withParams(search, changes) {
  const q = new URLSearchParams(search);
  if (!('page' in changes)) q.delete('page');
  for (const [name, value] of Object.entries(changes)) {
    if (value === null || value === undefined || value === '') q.delete(name);
    else q.set(name, String(value));
  }
  const text = q.toString();
  return text ? `?${text}` : '';
}

/** Only the parameters the dashboard shares between pages (brand, range, bots, filters). */
export function sharedSearch(search) {
  const q = new URLSearchParams(search);
  const keep = new URLSearchParams();
  for (const name of ['brand', 'interval', 'start', 'end', 'bots', ...FILTER_PARAMS]) {
    const value = q.get(name);
    if (value) keep.set(name, value);
  }
  const text = keep.toString();
  return text ? `?${text}` : '';
}

/** A filter value for a clicked row: a comma or quote in it is quoted (the API's list syntax). */
export function filterValue(value) {
  const text = String(value);
  return /[",]/.test(text) || text.startsWith('-') ? `"${text.replace(/"/g, '""')}"` : text;
}

/** The value a filter parameter shows in its chip (a quoted value unquoted). */
export function shownFilterValue(raw) {
  const m = /^"(.*)"$/.exec(raw);
  return m ? m[1].replace(/""/g, '"') : raw;
}

/** The API query for a state: the range, the bot switch, the zone and the filters. */
export function apiParams(state, timezone = 'UTC') {
  const p = {};
  if (state.start || state.end) {
    if (state.start) p.start = state.start;
    if (state.end) p.end = state.end;
    if (!state.start) p.interval = state.interval;
  } else {
    p.interval = state.interval;
  }
  p.bots = state.bots;
  p.timezone = timezone;
  return { ...p, ...state.filters };
}

/** The range of a state in ms ([start, end], start null for `all`), as the API reads it. */
export function rangeMs(state, nowMs, zoneOffsetMs = 0) {
  const end = state.end ? dayEdge(state.end, zoneOffsetMs, true) : nowMs;
  if (state.start) return [dayEdge(state.start, zoneOffsetMs, false), end];
  if (FIXED_MS[state.interval]) return [end - FIXED_MS[state.interval] + 1, end];
  const local = new Date(end - zoneOffsetMs);
  if (state.interval === 'ytd') return [Date.UTC(local.getUTCFullYear(), 0, 1) + zoneOffsetMs, end];
  if (state.interval === '1y') {
    const back = new Date(end);
    back.setUTCFullYear(back.getUTCFullYear() - 1);
    return [back.getTime() + 1, end];
  }
  return [null, end];
}

/** A date (YYYY-MM-DD) or date-time as ms; a date is its first (or with `endOfDay` last) ms of
 * that day in a zone `zoneOffsetMs` behind UTC (Date.getTimezoneOffset() * 60000). */
function dayEdge(text, zoneOffsetMs, endOfDay) {
  if (/^\d{4}-\d{2}-\d{2}$/.test(text)) {
    const [y, m, d] = text.split('-').map(Number);
    const first = Date.UTC(y, m - 1, d) + zoneOffsetMs;
    return endOfDay ? first + DAY_MS - 1 : first;
  }
  return new Date(text).getTime();
}

/** The previous period of the same length, as explicit ISO start and end, or null (`all`). */
export function previousPeriod(state, nowMs, zoneOffsetMs = 0) {
  const [start, end] = rangeMs(state, nowMs, zoneOffsetMs);
  if (start === null || Number.isNaN(start) || Number.isNaN(end)) return null;
  const length = end - start + 1;
  return { start: new Date(start - length).toISOString(), end: new Date(start - 1).toISOString() };
}

/** Whether the chart's buckets are hours (the API's default up to 2 days). */
export function hourlyBuckets(state, nowMs, zoneOffsetMs = 0) {
  const [start, end] = rangeMs(state, nowMs, zoneOffsetMs);
  return start !== null && end - start <= 2 * DAY_MS;
}
