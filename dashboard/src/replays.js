// Which of a session's replays (one per page) shows an event.

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
