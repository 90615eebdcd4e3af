// A replay's events, fetched in windows so that a long replay opens at once: the first seconds
// first, the rest while it plays, and what a seek needs on demand. Times are ms after the
// replay's first event (the timeline's clock); windows are inclusive [from, until] ranges.

export const OPEN_MS = 10_000; // the first window: enough for the first frame and a little play
export const AHEAD_MS = 30_000; // a seek loads this much past its target
const FIRST_STEP_MS = 60_000; // later windows double from here
const MAX_STEP_MS = 600_000;

/** The gaps of `ranges` (sorted, disjoint, inclusive [a, b]) inside [from, until]. */
export function gapsIn(ranges, from, until) {
  const gaps = [];
  let at = from;
  for (const [a, b] of ranges) {
    if (b < at) continue;
    if (a > until) break;
    if (a > at) gaps.push([at, a - 1]);
    at = Math.max(at, b + 1);
    if (at > until) break;
  }
  if (at <= until) gaps.push([at, until]);
  return gaps;
}

/** `ranges` with [from, until] added, merged (adjacent ranges become one). */
export function withRange(ranges, from, until) {
  const all = [...ranges, [from, until]].sort((x, y) => x[0] - y[0]);
  const merged = [];
  for (const [a, b] of all) {
    const last = merged[merged.length - 1];
    if (last && a <= last[1] + 1) last[1] = Math.max(last[1], b);
    else merged.push([a, b]);
  }
  return merged;
}

export class EventStream {
  /**
   * @param fetchWindow async (fromMs, untilMs) => rrweb events of that window
   * @param index the replay's index (duration_ms, seek_points_ms)
   * @param onEvents called with each window's events (in time order) before a load resolves
   */
  constructor(fetchWindow, index, onEvents) {
    this.fetchWindow = fetchWindow;
    this.durationMs = Math.max(0, index.duration_ms || 0);
    this.seekPoints = (index.seek_points_ms || [0]).slice().sort((a, b) => a - b);
    this.onEvents = onEvents;
    this.ranges = []; // loaded
    this.pending = []; // being fetched: {from, until, done}
    this.step = FIRST_STEP_MS;
    this.stopped = false;
  }

  /** The last seek point at or before `ms`: where a frame at `ms` is rebuilt from. */
  seekPointAt(ms) {
    let point = 0;
    for (const p of this.seekPoints) if (p <= ms) point = p;
    return point;
  }

  get complete() {
    return gapsIn(this.ranges, 0, this.durationMs).length === 0;
  }

  /** How far the events are loaded without a gap from the start, in ms. */
  loadedFromStart() {
    const [first] = this.ranges;
    return first && first[0] === 0 ? Math.min(first[1], this.durationMs) : 0;
  }

  /** Records that [from, until] came in some other way (the first window). */
  markLoaded(from, until) {
    this.ranges = withRange(this.ranges, from, until);
  }

  /** Loads what is missing of [from, until]; resolves once its events were handed over.
   * Loads run side by side (a seek does not wait behind the background's window); a range
   * already being fetched is waited for, never fetched twice. */
  load(from, until) {
    from = Math.max(0, from);
    until = Math.min(until, this.durationMs);
    const overlapping = this.pending.filter((p) => p.from <= until && p.until >= from);
    const fetches = gapsIn(this.taken(), from, until).map(([a, b]) => this.fetch(a, b));
    return Promise.all([...overlapping.map((p) => p.done), ...fetches]);
  }

  /** What is loaded or being fetched. */
  taken() {
    return this.pending.reduce((r, p) => withRange(r, p.from, p.until), this.ranges);
  }

  fetch(from, until) {
    const entry = { from, until };
    entry.done = (async () => {
      try {
        const events = await this.fetchWindow(from, until);
        if (this.stopped) return;
        this.ranges = withRange(this.ranges, from, until);
        if (events.length) this.onEvents(events);
      } finally {
        this.pending = this.pending.filter((p) => p !== entry);
      }
    })();
    this.pending.push(entry);
    return entry.done;
  }

  /** Makes sure a frame at `ms` can be shown: loads from its seek point to `ms`, and then,
   * without waiting for it, a while after `ms` to play on. */
  async ensure(ms) {
    await this.load(this.seekPointAt(ms), ms);
    this.ahead(ms + 1).catch(() => {}); // if it fails, the background stream tries again
  }

  /** Loads a while after `ms`, to play on. */
  ahead(ms) {
    return this.load(ms, ms + AHEAD_MS);
  }

  /** Whether a frame at `ms` can be shown now, without fetching. */
  covers(ms) {
    return gapsIn(this.ranges, this.seekPointAt(ms), Math.min(ms, this.durationMs)).length === 0;
  }

  /** Loads the next window after what is loaded from the start, in growing steps; false once
   * everything is loaded. */
  async next() {
    const [gap] = gapsIn(this.taken(), 0, this.durationMs);
    if (!gap || this.stopped) return this.pending.length > 0 && !this.stopped && this.settle();
    await this.load(gap[0], Math.min(gap[1], gap[0] + this.step - 1));
    this.step = Math.min(this.step * 2, MAX_STEP_MS);
    return true;
  }

  /** Waits for the fetches under way; true (there may be gaps left if one failed). */
  async settle() {
    await Promise.allSettled(this.pending.map((p) => p.done));
    return true;
  }

  stop() {
    this.stopped = true;
  }
}
