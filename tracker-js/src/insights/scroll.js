// Scroll depth (issue 15, docs/TRACKER.md): the deepest tenth of the page seen in this page
// session, 1..10, recorded as `scroll_depth` {d} when the page is hidden or left, and only when
// it grew since the last record. A passive scroll listener keeps the deepest bottom edge seen
// (scrollY + innerHeight: no layout read); the page's height is read only when recording.
// SPA navigations stay in the same page session; a page restored from the back/forward cache
// (a new page session in t.js) starts again.
import { guard } from '../guard.js';

let bottom = 0; // the deepest scrollY + innerHeight seen
let sent = 0; // the depth last recorded

const seen = () => {
  bottom = Math.max(bottom, scrollY + innerHeight);
};

// ct: window.clicktrail (t.js's queue: `ct._e`).
export function scrollDepth(ct) {
  const record = () => {
    seen();
    const h = document.documentElement.scrollHeight;
    // No height (not laid out) or no viewport: 0, nothing recorded.
    const n = h && Math.min(10, Math.ceil((bottom / h) * 10));
    if (n > sent) {
      sent = n;
      ct._e('scroll_depth', { d: n });
    }
  };
  addEventListener('scroll', guard(seen), { passive: true });
  // Captured on window: before t.js's own visibilitychange listener (on document) flushes the
  // queue. t.js's pagehide listener (on window, registered first) flushes before this one; what
  // is recorded then goes with the visibilitychange that follows pagehide when a page is left.
  addEventListener(
    'visibilitychange',
    guard(() => document.hidden && record()),
    true,
  );
  addEventListener('pagehide', guard(record), true);
  addEventListener('pageshow', (e) => {
    if (e.persisted) bottom = sent = 0;
  });
}
