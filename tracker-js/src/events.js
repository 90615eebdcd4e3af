// The event queue: recording, batching and the beacon payload (docs/WIRE.md).
import { cfg, dnt } from './config.js';
import { guard, warn } from './guard.js';
import { newId } from './ids.js';
import { recorder } from './recorder.js';
import { post } from './send.js';
import { clickId, ids, noStore } from './session.js';

let q = []; // events not sent yet, oldest first
let ready; // config known (or the page was hidden first): beacons may go
let off; // send nothing, ever (DNT asked and honoured, or no config)
let timer;
let pid; // page-session id (`p`)
let first; // 1 until the first beacon of this page session has gone (`n`)
let href0; // the page URL of this page session (`u`)
let cur; // URL of the last page_view, to drop SPA "navigations" that change nothing
let ext; // external id from identify() (`i`)
let sid; // session id of the last beacon (none in cookieless mode)

// After the page session's first beacon, a new id is an `identify` event, so that a beacon
// carrying it goes soon (the collector reads `i` from it); before, it rides on the first beacon.
export function identify(i) {
  i = i == null ? undefined : '' + i;
  if (i && i.length > 128) throw 'bad id'; // the collector takes up to 128 characters
  const late = i && i != ext && !first;
  ext = i;
  if (late) record('identify');
}

// ts: when it happened, if not now (t/x.js's dead and error clicks: the click's time).
export function record(t, d, ts = Date.now()) {
  if (off) return;
  const e = { t, ts };
  if (d) e.d = d;
  if (location.href != href0) e.u = location.href;
  q.push(e);
  if (ready) {
    clearTimeout(timer);
    // The first beacon of a page session goes at once, later ones in batches.
    if (q.length < 20 && !first) timer = setTimeout(flush, 1e3);
    else flush();
  }
}

// A new page session: page load, or a page restored from the back/forward cache.
export function page() {
  flush();
  pid = newId();
  first = 1;
  cur = href0 = location.href;
  record('page_view');
}

// SPA navigation: a page_view of the same page session, when the URL really changed.
export function nav() {
  if (location.href != cur) {
    cur = location.href;
    record('page_view');
  }
}

export function flush() {
  clearTimeout(timer);
  if (ready) while (q.length) batch(q.splice(0, 100));
}

function batch(e) {
  const { v, s } = ids(e[0].ts, e[e.length - 1].ts);
  sid = s;
  const json = JSON.stringify({
    k: cfg.k,
    v,
    s,
    p: pid,
    n: first,
    u: href0,
    r: document.referrer || undefined,
    f: cfg.f,
    l: navigator.language,
    w: innerWidth,
    h: innerHeight,
    i: ext,
    c: clickId(cfg.b && cfg.b.a),
    b: navigator.webdriver ? 1 : undefined, // automation (WebDriver, Playwright, Puppeteer)
    e,
  });
  // Stay well inside the 64 KiB body limit (and the browser's keepalive quota).
  if (json.length > 3e4 && e.length > 1) {
    const h = e.length >> 1;
    batch(e.slice(0, h));
    batch(e.slice(h));
  } else {
    first = undefined;
    post(json);
  }
}

// The brand config arrived.
export function start(b) {
  cfg.b = b;
  if (b.d && dnt()) return stop();
  if (b.c) noStore();
  ready = 1;
  flush();
  guard(recorder)(b, sid, () => pid);
}

// Unknown site key or DNT honoured: drop everything from now on.
export function stop(e) {
  off = 1;
  q = [];
  if (e) warn(e);
}

// The page is being hidden or left, or the config failed (e: why). Before the config is known,
// privacy wins: send as cookieless for the rest of this page load, and nothing at all if the
// browser asks for DNT (ever, once the config has failed).
export function hide(e) {
  if (e) warn(e);
  if (!ready && !off) {
    if (dnt()) return e && stop();
    noStore();
    ready = 1;
  }
  flush();
}
