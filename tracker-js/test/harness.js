// A fixture page in jsdom that loads the built t.js the way a browser would (a deferred
// <script src> served from the collector's origin), with fakes for what jsdom lacks or what a
// test must control: fetch (config and POST fallback), navigator.sendBeacon, the clock and
// timers, DNT/GPC, storage. Tests assert on the beacons sent, as Plausible's tests do.
// The recorder (/t/replay.js) is served too, and runs rrweb for real when t.js injects it; its
// chunks (POST /collect/replay) are kept apart from the /collect beacons. Dead and error clicks
// (/t/x.js) are served as well; page.entries stands for the performance timeline.
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { JSDOM, ResourceLoader, VirtualConsole } from 'jsdom';
import { INSIGHTS_OUTFILE, OUTFILE, REPLAY_OUTFILE } from '../scripts/size.mjs';

export const CODE = readFileSync(OUTFILE, 'utf8'); // `npm test` builds first
export const REPLAY_CODE = readFileSync(REPLAY_OUTFILE, 'utf8');
export const INSIGHTS_CODE = readFileSync(INSIGHTS_OUTFILE, 'utf8');
export const COLLECTOR = 'http://collector.test';
export const T0 = 1733821200000;
export const ID = /^[0-9a-hjkmnp-tv-z]{26}$/;
export const BRAND = { c: false, d: false, r: 0, m: { i: true, b: '[data-ct-block]', t: '[data-ct-mask]' }, a: 90 };
// The script GET /t.js?site=KEY serves: the config, with its site key k, in the placeholder's
// place (as collector/tracker/baked.py does).
export const bake = (config) => CODE.replace(/(["'])__CT_BAKED__\1/, () => `(${JSON.stringify(config)})`);

const tick = () => new Promise((r) => setImmediate(r));
export const settle = async () => {
  for (let i = 0; i < 5; i++) await tick();
};

class Loader extends ResourceLoader {
  constructor(page, baked) {
    super();
    this.page = page;
    this.baked = baked;
  }
  fetch(url) {
    if (url.endsWith('/t/replay.js')) {
      this.page.replayLoads.push(url);
      return Promise.resolve(Buffer.from(REPLAY_CODE));
    }
    if (url.endsWith('/t/x.js')) {
      this.page.xLoads.push(url);
      return Promise.resolve(Buffer.from(INSIGHTS_CODE));
    }
    if (url.startsWith(`${COLLECTOR}/t.js?site=`)) return Promise.resolve(Buffer.from(this.baked || CODE));
    return url === `${COLLECTOR}/t.js` ? Promise.resolve(Buffer.from(CODE)) : null;
  }
}

/**
 * Open a page with the tracker.
 * brand: the config JSON, a status number (404), 'hold' to answer later with page.answer(),
 *   'reject' (a network error: blocked, CORS, offline) or 'badjson' (200 with a body not JSON).
 * baked: the script served for `${COLLECTOR}/t.js?site=...` (bake(config)); the plain one if not given.
 * beacon: 'ok' | 'refuse' (returns false) | 'throw' | 'missing'.
 * fetchPost: 'ok' | 'throw' | 'reject' for POST /collect through fetch.
 * replayStatus: the status answered to POST /collect/replay through fetch, or 'reject', or
 *   'hang' (never answered), or a function of the number of chunks sent so far giving
 *   {status, headers} (header names in lower case).
 * gzip: give the page CompressionStream and Response (Node's), as browsers have them.
 */
export async function open({
  url = 'https://shop.example/landing?utm_source=fb&sub1=abc',
  referrer = 'https://www.google.com/',
  tag = 'data-site="SITE"',
  src = `${COLLECTOR}/t.js`,
  head = '',
  body = '',
  brand = BRAND,
  baked,
  storage = {},
  brokenStorage = false,
  dnt,
  gpc,
  webdriver,
  beacon = 'ok',
  fetchPost = 'ok',
  now = T0,
  replayStatus = 204,
  gzip = true,
} = {}) {
  const warnings = [];
  const errors = [];
  const vc = new VirtualConsole();
  vc.on('warn', (...a) => warnings.push(a.join(' ')));
  vc.on('jsdomError', (e) => errors.push(e));
  vc.on('error', (...a) => errors.push(a.join(' ')));

  const page = { warnings, errors, raw: [], replayRaw: [], replayLoads: [], configRequests: [], now };
  Object.assign(page, { xLoads: [], entries: [] });
  let answer;
  const timers = new Map();
  let timerId = 0;

  const html = `<!doctype html><html><head>${head}<script defer src="${src}" ${tag}></script></head><body>${body}</body></html>`;
  const dom = new JSDOM(html, {
    url,
    referrer: referrer === null ? undefined : referrer,
    runScripts: 'dangerously',
    resources: new Loader(page, baked),
    pretendToBeVisual: true, // requestAnimationFrame, which rrweb uses
    virtualConsole: vc,
    beforeParse(w) {
      w.Date.now = () => page.now;
      // jsdom has no performance timeline: page.entries stands for it (push one = a request).
      w.performance.getEntriesByType = (type) => (type === 'resource' ? page.entries : []);
      w.setTimeout = (f, ms = 0) => {
        timers.set(++timerId, { f, at: page.now + ms });
        return timerId;
      };
      w.clearTimeout = (id) => timers.delete(id);
      if (gzip) Object.assign(w, { CompressionStream, Response });

      for (const [k, v] of Object.entries(storage)) w.localStorage.setItem(k, v);
      if (brokenStorage)
        Object.defineProperty(w, 'localStorage', {
          get() {
            throw new w.DOMException('The operation is insecure.', 'SecurityError');
          },
        });
      if (dnt !== undefined) Object.defineProperty(w.navigator, 'doNotTrack', { value: dnt });
      if (gpc !== undefined) Object.defineProperty(w.navigator, 'globalPrivacyControl', { value: gpc });
      if (webdriver !== undefined) Object.defineProperty(w.navigator, 'webdriver', { value: webdriver });

      if (beacon !== 'missing')
        w.navigator.sendBeacon = (u, blob) => {
          if (beacon === 'throw') throw new w.TypeError('sendBeacon is broken');
          if (beacon === 'refuse') return false;
          const to = u.endsWith('/collect/replay') ? page.replayRaw : page.raw;
          // A string is sent as text/plain;charset=UTF-8, as browsers do.
          if (typeof blob === 'string') blob = new w.Blob([blob], { type: 'text/plain;charset=UTF-8' });
          to.push({ via: 'beacon', url: u, blob, type: blob.type });
          return true;
        };

      w.fetch = (u, init) => {
        const opts = init || {};
        if (opts.method === 'POST' && u.endsWith('/collect/replay')) {
          page.replayRaw.push({ via: 'fetch', url: u, body: opts.body, keepalive: opts.keepalive, opts });
          if (replayStatus === 'reject') return Promise.reject(new w.TypeError('Failed to fetch'));
          if (replayStatus === 'hang') return new Promise(() => {});
          if (typeof replayStatus === 'function') {
            const { status, headers = {} } = replayStatus(page.replayRaw.length);
            const get = (k) => headers[k.toLowerCase()] ?? null;
            return Promise.resolve({ ok: status < 300, status, headers: { get } });
          }
          return Promise.resolve({ ok: replayStatus < 300, status: replayStatus });
        }
        if (opts.method === 'POST') {
          if (fetchPost === 'throw') throw new w.TypeError('fetch is broken');
          if (fetchPost === 'reject') return Promise.reject(new w.TypeError('Failed to fetch'));
          page.raw.push({ via: 'fetch', url: u, body: opts.body, keepalive: opts.keepalive, opts });
          return Promise.resolve({ ok: true, status: 204 });
        }
        page.configRequests.push({ url: u, init });
        const reply = (b) =>
          typeof b === 'number'
            ? { ok: false, status: b, json: () => Promise.resolve({}) }
            : { ok: true, status: 200, json: () => Promise.resolve(b) };
        if (brand === 'hold') return new Promise((r) => (answer = (b) => r(reply(b))));
        if (brand === 'reject') return Promise.reject(new w.TypeError('Failed to fetch'));
        if (brand === 'badjson')
          return Promise.resolve({ ok: true, status: 200, json: () => Promise.reject(new w.SyntaxError('bad JSON')) });
        return Promise.resolve(reply(brand));
      };
      page.globalsBefore = new Set(Object.getOwnPropertyNames(w));
    },
  });
  const w = dom.window;
  Object.assign(page, { dom, window: w, document: w.document });

  await new Promise((r) => w.addEventListener('load', r));
  await settle();

  page.answer = async (b) => {
    answer(b);
    await settle();
  };
  // Move the fake clock forward, running the timers that fall due.
  page.advance = async (ms) => {
    const end = page.now + ms;
    for (;;) {
      const due = [...timers].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      timers.delete(due[0]);
      page.now = due[1].at;
      due[1].f();
    }
    page.now = end;
    await settle();
  };
  // The beacons sent so far, decoded.
  page.sent = async () => {
    const out = [];
    for (const r of page.raw) {
      const text = r.via === 'beacon' ? await readBlob(w, r.blob) : r.body;
      out.push({ ...r, json: JSON.parse(text) });
    }
    return out.map((r) => r.json);
  };
  // The replay chunks sent so far: {via, keepalive, gzip (the body was gzip), type, json}.
  page.chunks = async () => {
    const out = [];
    for (const r of page.replayRaw) {
      const body = r.via === 'beacon' ? r.blob : r.body;
      let bytes = typeof body === 'string' ? Buffer.from(body) : Buffer.from(await readBytes(w, body));
      const gzip = bytes[0] === 0x1f && bytes[1] === 0x8b;
      if (gzip) bytes = gunzipSync(bytes);
      out.push({ via: r.via, keepalive: r.keepalive, gzip, type: body.type, json: JSON.parse(bytes.toString()) });
    }
    return out;
  };
  // Wait for the recorder's asynchronous sends (gzip on Node's thread pool, then fetch): until
  // n chunks have been sent, or, when n is not given, until none has come for 80 ms (2 s at most).
  page.drain = async (n) => {
    const end = performance.now() + 2000;
    let seen = page.replayRaw.length;
    let quietSince = performance.now();
    while (performance.now() < end) {
      if (n !== undefined && page.replayRaw.length >= n) break;
      if (n === undefined && performance.now() - quietSince >= 80) break;
      await new Promise((r) => setTimeout(r, 2));
      if (page.replayRaw.length !== seen) [seen, quietSince] = [page.replayRaw.length, performance.now()];
    }
    await settle();
  };
  // Wait (2 s at most) until the chunks sent so far satisfy pred, for a send that follows others.
  page.until = async (pred) => {
    const end = performance.now() + 2000;
    while (performance.now() < end && !pred(await page.chunks())) await new Promise((r) => setTimeout(r, 5));
    await settle();
  };
  page.events = async () => (await page.sent()).flatMap((b) => b.e);
  page.click = (el, x = 0, y = 0) => {
    const e = new w.MouseEvent('click', { bubbles: true, cancelable: true, clientX: x, clientY: y });
    el.dispatchEvent(e);
  };
  page.hide = () => {
    Object.defineProperty(w.document, 'visibilityState', { value: 'hidden', configurable: true });
    Object.defineProperty(w.document, 'hidden', { value: true, configurable: true });
    w.document.dispatchEvent(new w.Event('visibilitychange'));
  };
  page.leave = () => w.dispatchEvent(new w.PageTransitionEvent('pagehide', { persisted: false }));
  page.storage = () => Object.fromEntries(Object.keys(w.localStorage).map((k) => [k, w.localStorage.getItem(k)]));
  page.close = () => w.close();
  return page;
}

function readBytes(w, blob) {
  return new Promise((resolve, reject) => {
    const fr = new w.FileReader();
    fr.onload = () => resolve(fr.result);
    fr.onerror = reject;
    fr.readAsArrayBuffer(blob);
  });
}

function readBlob(w, blob) {
  return new Promise((resolve, reject) => {
    const fr = new w.FileReader();
    fr.onload = () => resolve(fr.result);
    fr.onerror = reject;
    fr.readAsText(blob);
  });
}
