// What the timeline shows: markers for clicks, page views, frustration signals (rage, dead and
// error clicks) and custom events, and the periods without user activity (the ones
// skipInactive fast-forwards through).
import { epochMs, shortUrl } from './dom.js';

// rrweb: EventType.IncrementalSnapshot = 3; IncrementalSource values that are user activity.
const INCREMENTAL = 3;
const ACTIVE_SOURCES = new Set([1, 2, 3, 4, 5, 6, 7, 12]);
const INACTIVE_MS = 10_000; // rrweb's default inactivePeriodThreshold

// A page view is sent as the page loads, a moment before the recorder's first event.
const LEAD_MS = 5_000;

/** `div.app > main > button#buy` -> `button#buy`: the clicked element itself. */
const lastPart = (selector) => (selector ? String(selector).split('>').pop().trim() : '');

// Frustration signals (issue 15): the event type, its marker kind and how it reads.
const SIGNAL_KINDS = { rage_click: 'rage', dead_click: 'dead', error_click: 'error' };
const SAME_SIGNAL_MS = 1000; // the tracker's and the replay's marker of one signal are this close

const on = (data) => (data.s ? ` on ${lastPart(data.s)}` : '');

/** `Rage click ×4 on button#buy`, `Dead click on a.cta`, `Error click: TypeError: …`. */
export function signalLabel(type, data = {}) {
  if (type === 'rage_click') return `Rage click${data.n ? ` ×${data.n}` : ''}${on(data)}`;
  if (type === 'dead_click') return `Dead click${on(data)}`;
  return data.m ? `Error click: ${data.m}` : `Error click${on(data)}`;
}

function signalMarker(e, ts) {
  const data = e.data || {};
  const kind = SIGNAL_KINDS[e.type];
  const label = signalLabel(e.type, data);
  const from = data.src === 'replay' ? 'found in the replay' : 'found by the tracker';
  const detail = `${label} (${from})${data.s ? ` · ${data.s}` : ''}`;
  return { kind, ts, label, detail, src: data.src, selector: lastPart(data.s) };
}

/** One marker per signal: the tracker's and the replay's of the same kind within a second on
 * the same element are one; the replay's is kept (its time and selector come from the stream). */
export function dedupeSignals(markers) {
  const replayed = markers.filter((m) => m.src === 'replay');
  return markers.filter(
    (m) =>
      !m.src ||
      m.src === 'replay' ||
      !replayed.some((r) => r.kind === m.kind && r.selector === m.selector && Math.abs(r.ts - m.ts) <= SAME_SIGNAL_MS),
  );
}

/**
 * Markers for one replay, sorted by time: `{kind: 'click'|'page_view'|'rage'|'dead'|'error'|
 * 'custom', ts, label, detail}` with `ts` in ms from the replay's first event.
 *
 * Clicks come from the replay itself (its derived events: exact times and a CSS selector of the
 * target). Page views and custom events come from the session's events (clicks/session) whose
 * time falls inside the replay and that belong to its page (`click_id` = the replay's
 * page_session_id); without a replay click list, the session's clicks are used too.
 */
export function buildMarkers(meta, sessionEvents, startMs, durationMs) {
  const markers = [];
  const clicks = (meta?.events || []).filter((e) => e.type === 'click');
  for (const c of clicks) {
    markers.push({ kind: 'click', ts: c.ts, label: lastPart(c.target) || `at ${c.x}, ${c.y}`, detail: c.target });
  }
  const page = meta?.page_session_id;
  for (const e of sessionEvents || []) {
    if (page && e.click_id && e.click_id !== page) continue; // another page (tab) of the session
    const at = epochMs(e.timestamp) - startMs;
    if (!(at >= -LEAD_MS && at <= durationMs + 1000)) continue;
    const ts = Math.min(Math.max(at, 0), durationMs);
    const data = e.data || {};
    if (e.type === 'page_view') {
      markers.push({ kind: 'page_view', ts, label: shortUrl(e.url), detail: e.url });
    } else if (e.type === 'click') {
      if (clicks.length) continue;
      const label = data.text || data.selector || 'click';
      markers.push({ kind: 'click', ts, label, detail: data.selector });
    } else if (SIGNAL_KINDS[e.type]) {
      markers.push(signalMarker(e, ts));
    } else if (e.type === 'scroll_depth' && Number.isInteger(data.d)) {
      // t/x.js's deepest tenth of the page seen, sent when the page is hidden
      markers.push({ kind: 'custom', ts, label: `Scrolled ${data.d * 10}% of the page`, detail: e.type });
    } else {
      const detail = Object.keys(data).length ? `${e.type} ${JSON.stringify(data)}` : e.type;
      markers.push({ kind: 'custom', ts, label: e.type, detail });
    }
  }
  return dedupeSignals(markers).sort((a, b) => a.ts - b.ts);
}

/** Stretches without user input longer than rrweb's threshold: [{start, end}] in ms. */
export function inactivePeriods(events, startMs, durationMs) {
  const periods = [];
  let last = startMs;
  for (const e of events) {
    if (e.type !== INCREMENTAL || !ACTIVE_SOURCES.has(e.data?.source)) continue;
    if (e.timestamp - last > INACTIVE_MS) periods.push({ start: last - startMs, end: e.timestamp - startMs });
    last = e.timestamp;
  }
  if (startMs + durationMs - last > INACTIVE_MS) periods.push({ start: last - startMs, end: durationMs });
  return periods;
}
