// CSV export jobs (POST clicks/export): the body for the page's range, and a job in words.
import { rangeMs } from './urlstate.js';

export const EXPORT_COLUMNS = [
  'created_at',
  'id',
  'session_id',
  'visitor_id',
  'url',
  'referrer',
  'utm_source',
  'utm_medium',
  'utm_campaign',
  'sub1',
  'country',
  'city',
  'device_type',
  'browser',
  'os',
  'ip_address',
  'is_bot',
];

/** The export's body: every click of the page's range (bots left out unless shown). */
export function exportBody(state, nowMs, zoneOffsetMs = 0) {
  const [start, end] = rangeMs(state, nowMs, zoneOffsetMs);
  const filters = { end: new Date(end).toISOString() };
  if (start !== null) filters.start = new Date(start).toISOString();
  if (state.bots !== 'include') filters.exclude_bots = true;
  return { columns: EXPORT_COLUMNS, filters };
}

/** A job (or null) in words for the status line next to the button. */
export function exportStatusText(job) {
  if (!job) return '';
  if (job.status === 'queued') return 'Export queued…';
  if (job.status === 'running') return `Exporting… ${job.rows.toLocaleString('en')} rows so far`;
  if (job.status === 'done') return `Exported ${job.rows.toLocaleString('en')} clicks.`;
  return `The export failed: ${job.error || 'no reason given'}`;
}

export const isOver = (job) => !job || job.status === 'done' || job.status === 'failed';
