// The clickstream webhooks panel's pure parts: the body of a new destination from its form, the
// form field an API refusal names, and how a destination's state and a delivery attempt read.
import { formatDateTime } from './format.js';

export const EVENTS = [
  { value: 'click', label: 'Clicks (short links, QR scans)' },
  { value: 'pageview', label: 'Page views' },
  { value: 'lead', label: 'Leads' },
  { value: 'sale', label: 'Sales' },
  { value: 'export', label: 'Finished CSV exports', off: true },
];

/** The form's fields by the API's names (a 422's `param`), with their labels. */
export const FIELDS = {
  url: { id: 'wh-url', label: 'URL' },
  method: { id: 'wh-method', label: 'Method' },
  events: { id: 'wh-events', label: 'Events' },
  header_key: { id: 'wh-header-key', label: 'Auth header name' },
  header_value: { id: 'wh-header-value', label: 'Auth header value' },
};

/** `POST webhooks`'s body from the form's values (`get(name)`, `getAll(name)` as FormData). */
export function destinationBody(form) {
  const text = (name) => String(form.get(name) || '').trim();
  const body = { url: text('url'), method: text('method') || 'POST', events: form.getAll('events').map(String) };
  const headerKey = text('header_key');
  const headerValue = text('header_value');
  if (headerKey) body.header_key = headerKey;
  if (headerValue) body.header_value = headerValue;
  return body;
}

/** A refusal as the form shows it: the field it names (if one of the form's) and a sentence
 * starting with the field's label (in place of the API's `name`). */
export function refusal(error) {
  const field = FIELDS[error?.param] ? error.param : null;
  const message = error?.message || String(error);
  if (!field) return { field, text: message };
  const said = message.startsWith(`\`${field}\``) ? message.slice(field.length + 2).replace(/^:?\s*/, '') : message;
  return { field, text: `${FIELDS[field].label}: ${said}` };
}

/** A destination's state in words: enabled, failing since, or disabled with why and since when. */
export function destinationState(d) {
  if (!d.enabled) {
    const why = d.disabled_reason ? `: ${d.disabled_reason}` : ' by an admin';
    const since = d.disabled_at ? ` (since ${formatDateTime(d.disabled_at)})` : '';
    return { tone: 'bad', text: `Disabled${why}${since}` };
  }
  if (d.failing_since) return { tone: 'warn', text: `Enabled, failing since ${formatDateTime(d.failing_since)}` };
  return { tone: 'good', text: 'Enabled' };
}

/** What the receiver answered: its status, else why no answer came. */
export function attemptResult(a) {
  if (a.status !== null && a.status !== undefined) return a.error ? `${a.status} (${a.error})` : String(a.status);
  return a.error || 'No answer';
}

const OUTCOMES = {
  delivered: 'Delivered',
  retrying: 'Will retry',
  failed: 'Failed (not retried)',
  gave_up: 'Gave up',
  disabled: 'Disabled the destination',
};

export const outcomeText = (outcome) => OUTCOMES[outcome] || outcome || '–';

/** The events a destination takes, in the form's order and words. */
export const eventsText = (events) =>
  EVENTS.filter((e) => (events || []).includes(e.value))
    .map((e) => e.value)
    .join(', ') || '–';
