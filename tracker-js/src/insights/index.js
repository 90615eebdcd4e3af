// t/x.js: dead clicks, error clicks and scroll depth (issue 15, docs/TRACKER.md), loaded by
// t.js once the brand config is in. Recorded through t.js's queue (`clicktrail._e`, an internal hook) with
// the click's time. Every listener is guarded: nothing here can throw into the page.
import { guard } from '../guard.js';
import { selector, TARGET } from '../target.js';
import { scrollDepth } from './scroll.js';

const ct = window.clicktrail;
let last; // the last click's {s, x, y}
let at; // and its time (0 once an error click was recorded for it)

// The URL and the number of requests so far (resource timing entries; not all entries: a
// page's first click adds a first-input one).
const state = () => location.href + performance.getEntriesByType('resource').length;

// A dead click: a click on something clickable, then for a second (and only then) no DOM
// mutation, no URL change, no new request, no error (that is an error click) and no later
// click (of a burst, only the last click can be dead).
function onClick(ev) {
  let el = ev.target;
  if (!el.closest) return;
  const t = el.closest(TARGET);
  el = t || el;
  const ts = Date.now();
  const d = { s: selector(el), x: Math.round(ev.pageX), y: Math.round(ev.pageY) };
  at = ts;
  last = d;
  if (t) {
    let n = state();
    const o = new MutationObserver(() => (n = 0));
    o.observe(document, { subtree: true, childList: true, attributes: true, characterData: true });
    setTimeout(
      guard(() => {
        o.disconnect();
        if (n == state() && at == ts) ct._e('dead_click', d, ts);
      }),
      1e3,
    );
  }
}

// An error click: an uncaught error (window `error`, `unhandledrejection`) less than a second
// after a click; one per click.
function onError(e) {
  if (at > Date.now() - 1e3) {
    ct._e('error_click', Object.assign({ m: ('' + (e.reason || e.message)).slice(0, 200) }, last), at);
    at = 0;
  }
}

guard(() => {
  if (ct._x) return; // loaded twice
  ct._x = 1;
  document.addEventListener('click', guard(onClick), true);
  // Not captured: a resource that fails to load is no script error.
  addEventListener('error', guard(onError));
  addEventListener('unhandledrejection', guard(onError));
  scrollDepth(ct);
})();
