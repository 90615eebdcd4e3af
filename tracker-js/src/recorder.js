// Once the brand config is known: load dead and error clicks (/t/x.js, unless the brand turned
// them off), and decide whether this page is recorded (docs/REPLAY.md) and only then load the
// recorder, /t/replay.js.
import { cfg } from './config.js';
import { clickId, ids } from './session.js';

// FNV-1a (32 bit) of the session id as a number in [0, 1): the same draw on every page of a
// session, so a sampled session is recorded on all its pages.
export function draw(s) {
  let h = 2166136261;
  for (const c of s) h = Math.imul(h ^ c.charCodeAt(), 16777619);
  return (h >>> 0) / 2 ** 32;
}

// b: the brand config, s: this page's session id (none in cookieless mode: a random draw per
// page session), p: gives the current page-session id.
export function recorder(b, s, p) {
  if (b.x != 0) load('x'); // x: false when the brand turned them off (none in an old config: on)
  const d = cfg.replay;
  if (d == '1' || (d != '0' && (s ? draw(s) : Math.random()) < b.r)) {
    // What the recorder needs; an internal object, not an API (docs/TRACKER.md).
    window.clicktrail._r = { a: cfg.a, k: cfg.k, p, i: ids, m: b.m, c: clickId(b.a) };
    load('replay');
  }
}

function load(n) {
  const e = document.createElement('script');
  e.src = cfg.a + '/t/' + n + '.js'; // an inserted script is async: it never blocks the page
  document.head.append(e);
}
