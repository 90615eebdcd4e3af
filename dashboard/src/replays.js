// Which of a session's replays (one per page) shows an event, and what opening it there showed.
import { clock } from './format.js';

/** The replay of an event: the one recorded on its page (`click_id` is the page's id, the
 * replay's `page_session_id`), else the last one started by then (pages follow each other). */
export function replayFor(replays, ms, clickId) {
  const started = (r) => Date.parse(r.started_at);
  const sorted = [...replays].filter((r) => !Number.isNaN(started(r))).sort((a, b) => started(a) - started(b));
  const onPage = clickId ? sorted.find((r) => r.page_session_id === clickId) : null;
  if (onPage) return onPage;
  const before = sorted.filter((r) => started(r) <= ms + 1000);
  return before.length ? before[before.length - 1] : sorted[0] || null;
}

/** What the session page says once the viewer was sent `seekMs` into a replay `durationMs`
 * long. The viewer stops at the recording's end: a moment after it (a page closed before its
 * last chunk was sent) is said to be so, not claimed as shown. */
export function seekStatus(seekMs, durationMs) {
  if (durationMs >= 0 && seekMs > durationMs + 1000) {
    return `The recording ends at ${clock(durationMs)}, before this moment (${clock(seekMs)})`;
  }
  return `Replay at ${clock(seekMs)}`;
}
