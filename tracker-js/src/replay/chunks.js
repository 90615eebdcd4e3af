// Replay chunks: buffer rrweb events and POST them to {api}/collect/replay as the envelope
// {k, r, p, v?, s?, q, u, e} of docs/REPLAY.md. In the page's life a chunk is gzipped
// (CompressionStream) and sent with fetch; during unload it goes uncompressed and synchronously
// with sendBeacon, as compression is asynchronous and would not finish.
import { guard, warn } from '../guard.js';
import { newId } from '../ids.js';

// Flush when the buffered events' JSON passes this (characters): kept under the keepalive quota,
// so that what is left to send when the page is hidden fits one sendBeacon.
const MAX_JSON = 6e4;
const KEEPALIVE = 6e4; // keepalive bodies share a 64 KiB quota per page: only small ones use it
const MAX_PENDING = 4; // live sends in flight; beyond that the network cannot keep up: give up
const MAX_FAILS = 3; // failed sends in a row before giving up
const MAX_WAITS = 10; // "retry later" answers in a row before giving up

// R: window.clicktrail._r ({a, k, p(), i(t0, t1), m, c: the short-link click id}); onDead: called once when sending gives up.
export function chunks(R, onDead) {
  let buf = []; // events as JSON strings, oldest first
  let size = 0; // their total length
  let q = 0; // sequence number of the next chunk
  let r; // replay id
  let u; // page URL when this replay started
  let t0, t1; // time of the first and last buffered event
  const unacked = new Set(); // chunks sent in the page's life and not answered yet (their JSON)
  let fails = 0;
  let waits = 0;
  let until = 0; // the collector asked for no live send before this time (Retry-After)
  let held = []; // chunks it asked to have again then (their JSON; still unacked)
  let dead;

  const c = {
    // A new replay (the page load, or a page restored from the back/forward cache).
    reset() {
      r = newId();
      u = location.href;
      q = 0;
    },

    add(e) {
      if (dead) return;
      const j = JSON.stringify(e);
      if (!buf.length) t0 = e.timestamp;
      t1 = e.timestamp;
      buf.push(j);
      size += j.length + 1;
      if (size > MAX_JSON) c.flush();
    },

    // Send what is buffered. unload: the page is being hidden or left.
    flush(unload) {
      if (dead) return;
      if (unload) {
        // A chunk still being compressed or on the wire may die with the page: send it again
        // (the collector keeps one copy of a chunk) before the rest.
        unacked.forEach(beacon);
        unacked.clear();
        held = [];
      } else if (Date.now() < until) return; // keep buffering until the collector is ready
      if (!buf.length) return;
      const { v, s } = R.i(t0, t1);
      const head = JSON.stringify({ k: R.k, r, p: R.p(), v, s, q: q++, u, c: R.c });
      const json = head.slice(0, -1) + ',"e":[' + buf.join(',') + ']}';
      buf = [];
      size = 0;
      if (unload) beacon(json);
      else live(json);
    },

    get dead() {
      return dead;
    },
  };

  const url = () => R.a + '/collect/replay';
  const blob = (b) => new Blob([b], { type: 'text/plain' }); // a CORS "simple request"

  function beacon(json) {
    try {
      if (navigator.sendBeacon(url(), blob(json))) return;
    } catch {
      // missing or broken sendBeacon: fall through to fetch
    }
    // A string body is text/plain;charset=UTF-8. The browser refuses keepalive bodies over
    // its quota: that chunk is lost, and the collector accepts gaps in the sequence.
    try {
      fetch(url(), { method: 'POST', body: json, keepalive: true }).catch(() => {});
    } catch {
      // nothing more to try during unload
    }
  }

  function live(json) {
    if (unacked.size >= MAX_PENDING) return die('the network does not keep up');
    unacked.add(json);
    Promise.resolve(json)
      .then(gzip)
      .catch(() => json) // compression failed: send it as it is
      .then((body) => {
        if (!unacked.has(json)) return; // the page was hidden meanwhile: sent by beacon
        const b = blob(body);
        return fetch(url(), { method: 'POST', body: b, keepalive: b.size < KEEPALIVE }).then(
          (res) => {
            const wait = retryAfter(res);
            if (wait) return later(json, wait);
            unacked.delete(json);
            waits = 0;
            // 4xx: unknown site, domain not allowed, chunk refused: sending more will not help.
            if (res.status >= 400 && res.status < 500) return die('replay ' + res.status);
            fails = res.ok ? 0 : fails + 1;
            if (fails >= MAX_FAILS) die('replay ' + res.status);
          },
          (e) => {
            unacked.delete(json);
            if (++fails >= MAX_FAILS) die(e);
          },
        );
      });
  }

  // 429/503 with Retry-After: the chunk stays queued (and unacked, so a hidden page still
  // beacons it) and nothing else is sent until then; then it goes again, with the buffer.
  function later(json, wait) {
    if (++waits > MAX_WAITS) return die('replay busy');
    held.push(json);
    until = Date.now() + wait;
    setTimeout(
      guard(() => {
        const again = held;
        held = [];
        for (const j of again) {
          if (unacked.has(j)) {
            unacked.delete(j);
            live(j);
          }
        }
        c.flush();
      }),
      wait,
    );
  }

  function die(e) {
    if (dead) return;
    dead = 1;
    buf = [];
    unacked.clear();
    size = 0;
    warn(e);
    onDead();
  }

  c.reset();
  return c;
}

// How long the collector asked to wait (429/503 with Retry-After, seconds or a date), in ms
// within 1..60 s; 0 when it did not ask.
function retryAfter(res) {
  if (res.status != 429 && res.status != 503) return 0;
  const h = res.headers && res.headers.get('retry-after');
  if (!h) return 0;
  const ms = Number.isNaN(+h) ? Date.parse(h) - Date.now() : h * 1e3;
  return Number.isNaN(ms) ? 0 : Math.min(6e4, Math.max(1e3, ms));
}

// The gzip bytes of a string, or the string itself where CompressionStream is missing.
function gzip(s) {
  if (typeof CompressionStream != 'function') return s;
  const z = new Response(s).body.pipeThrough(new CompressionStream('gzip'));
  return new Response(z).arrayBuffer();
}
