// What the timeline shows: markers for clicks, page views and custom events, and the periods
// without user activity (the ones skipInactive fast-forwards through).
import { epochMs, shortUrl } from './dom.js';

// rrweb: EventType.IncrementalSnapshot = 3; IncrementalSource values that are user activity.
const INCREMENTAL = 3;
const ACTIVE_SOURCES = new Set([1, 2, 3, 4, 5, 6, 7, 12]);
const INACTIVE_MS = 10_000; // rrweb's default inactivePeriodThreshold

// A page view is sent as the page loads, a moment before the recorder's first event.
const LEAD_MS = 5_000;

/** `div.app > main > button#buy` -> `button#buy`: the clicked element itself. */
const lastPart = (selector) => (selector ? selector.split('>').pop().trim() : '');

/**
 * Markers for one replay, sorted by time: `{kind: 'click'|'page_view'|'custom', ts, label,
 * detail}` with `ts` in ms from the replay's first event.
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
    } else {
      const detail = Object.keys(data).length ? `${e.type} ${JSON.stringify(data)}` : e.type;
      markers.push({ kind: 'custom', ts, label: e.type, detail });
    }
  }
  return markers.sort((a, b) => a.ts - b.ts);
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
