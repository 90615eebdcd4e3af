// Scroll positions after a seek. rrweb applies a seek's scroll events while it rebuilds the
// page, before the replayed frame has its stylesheets, fonts and images: the page is still
// short, the browser clamps the scroll, and the frame shows the wrong part of the page (heise:
// 2548 px instead of 3609). Playing straight through is right because by the time a scroll
// event plays the layout has settled. So after a seek the viewer works out where every
// scrolled node was at that moment and holds it there while the layout settles.

const FULL_SNAPSHOT = 2;
const INCREMENTAL = 3;
const SCROLL = 3; // rrweb IncrementalSource.Scroll
const DOCUMENT = 9; // Node.DOCUMENT_NODE
const KEEP_MS = 10_000; // how long a seek's positions are held while nothing scrolls
const FAST_MS = 2_000; // checked every 50 ms at first, every 250 ms after

const isScroll = (e) => e.type === INCREMENTAL && e.data?.source === SCROLL;

/**
 * Where each scrolled node was at `at` (epoch ms) in `events` (sorted by time): `positions`,
 * a Map of rrweb node id -> {x, y}, from the last full snapshot's initial offset and the scroll
 * events after it; `until`, the time of the next scroll or full snapshot after `at` (Infinity
 * if none), from when the recording takes over again.
 */
export function scrollsAt(events, at) {
  let positions = new Map();
  for (const e of events) {
    if (e.timestamp > at) {
      if (e.type === FULL_SNAPSHOT || isScroll(e)) return { positions, until: e.timestamp };
      continue;
    }
    if (e.type === FULL_SNAPSHOT) {
      positions = new Map();
      const offset = e.data?.initialOffset;
      const id = e.data?.node?.id;
      if (offset && id != null) positions.set(id, { x: offset.left || 0, y: offset.top || 0 });
    } else if (isScroll(e)) {
      positions.set(e.data.id, { x: e.data.x || 0, y: e.data.y || 0 });
    }
  }
  return { positions, until: Infinity };
}

/** Scrolls each node of `positions` that is elsewhere (no smooth scrolling). */
function apply(replayer, positions) {
  const mirror = replayer.getMirror();
  for (const [id, { x, y }] of positions) {
    const node = mirror.getNode(id);
    if (!node) continue;
    const isDocument = node.nodeType === DOCUMENT;
    const target = isDocument ? node.defaultView : node;
    if (!target?.scrollTo) continue;
    const left = isDocument ? target.scrollX : target.scrollLeft;
    const top = isDocument ? target.scrollY : target.scrollTop;
    if (Math.abs(left - x) > 1 || Math.abs(top - y) > 1) {
      try {
        target.scrollTo({ left: x, top: y, behavior: 'instant' });
      } catch {
        /* a node that cannot scroll */
      }
    }
  }
}

export class ScrollKeeper {
  constructor() {
    this.timer = 0;
  }

  /** Holds `state` (from scrollsAt) in `replayer`'s frame for a while; stops when `now()`
   * (the playback time, epoch ms) reaches `state.until` or another keep starts. */
  keep(replayer, state, now) {
    this.stop();
    if (!state.positions.size) return;
    const started = performance.now();
    const tick = () => {
      this.timer = 0;
      if (now() >= state.until) return;
      try {
        apply(replayer, state.positions);
      } catch {
        return; // the replayer was destroyed
      }
      const waited = performance.now() - started;
      if (waited < KEEP_MS) this.timer = setTimeout(tick, waited < FAST_MS ? 50 : 250);
    };
    tick();
  }

  stop() {
    clearTimeout(this.timer);
    this.timer = 0;
  }
}
