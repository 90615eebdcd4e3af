// The session replay recorder, /t/replay.js. t.js loads it only for a sampled page session and
// hands it window.clicktrail._r (see docs/TRACKER.md, "Session replay"). It records the page
// with rrweb and sends the events in chunks (chunks.js).
import { record } from '@rrweb/record';
import { guard, warn } from '../guard.js';
import { chunks } from './chunks.js';

const FLUSH_MS = 5e3;
const IDLE_MS = 18e5; // 30 minutes without user interaction stop the recording
const CHECKOUT_MS = 6e5; // a full snapshot (a seek point) every 10 minutes

const ACTIVITY = ['mousemove', 'mousedown', 'keydown', 'touchstart', 'scroll'];

// A selector the brand set, if it is usable; a bad one falls back to the default (privacy
// wins); an empty one means none.
function sel(s, d) {
  if (s == null) return d;
  try {
    if (s) document.querySelector(s);
    return s || null;
  } catch (e) {
    warn(e);
    return d;
  }
}

// rrweb's options for the brand's masking config m = {i, b, t} (docs/REPLAY.md).
function options(m = {}) {
  return {
    maskAllInputs: m.i !== false, // off: rrweb still masks password fields
    maskInputOptions: { password: true },
    blockSelector: sel(m.b, '[data-ct-block]'),
    maskTextSelector: sel(m.t, '[data-ct-mask]'),
    checkoutEveryNms: CHECKOUT_MS,
    // Mouse positions every 100 ms (rrweb's default is 50), scrolls every 150 ms; the player
    // interpolates between them.
    sampling: { mousemove: 100, scroll: 150, media: 800 },
    // Leave out what never renders: scripts, comments, head meta and favicon links (smaller
    // snapshots, less work in the page, and no inline script text in the stored replay).
    slimDOMOptions: 'all',
    recordCanvas: false,
    collectFonts: false,
    inlineImages: false,
    inlineStylesheet: true,
    // An error inside rrweb never reaches the page.
    errorHandler: (e) => {
      warn(e);
      return true;
    },
  };
}

function start(R) {
  const opts = options(R.m);
  let stop; // rrweb's stop function while recording
  let last = Date.now(); // last user interaction
  let timer;

  const c = chunks(R, () => pause());

  const emit = guard((e) => c.add(e));

  function go() {
    stop = record({ ...opts, emit }) || (() => {});
    c.flush(); // the full snapshot goes at once: a visitor who leaves within 5 s is recorded too
    tick.t();
  }

  function pause() {
    clearTimeout(timer);
    if (stop) stop();
    stop = undefined;
  }

  // Every 5 s: send what is buffered, and stop after 30 minutes without interaction.
  const tick = guard(() => {
    c.flush();
    if (Date.now() - last >= IDLE_MS) pause();
    else tick.t();
  });
  tick.t = () => {
    clearTimeout(timer);
    timer = setTimeout(tick, FLUSH_MS);
  };

  const active = guard(() => {
    last = Date.now();
    // Back after a pause: a fresh full snapshot, in the same replay.
    if (!stop && !c.dead) go();
  });

  // An uncaught error or unhandled rejection goes into the stream as a custom event: the
  // collector finds error clicks in it (collector/replay/signals.py). Not captured: a resource
  // that fails to load is no script error.
  const error = guard(
    (e) => stop && record.addCustomEvent('ct-error', { m: ('' + (e.reason || e.message)).slice(0, 200) }),
  );
  addEventListener('error', error);
  addEventListener('unhandledrejection', error);

  const on = (t, n, f) => t.addEventListener(n, f, { capture: true, passive: true });
  for (const n of ACTIVITY) on(window, n, active);
  const hide = guard(() => c.flush(1));
  on(window, 'pagehide', hide);
  on(document, 'visibilitychange', () => document.visibilityState == 'hidden' && hide());
  // Restored from the back/forward cache: t.js starts a new page session, and this a new replay.
  on(
    window,
    'pageshow',
    guard((e) => {
      if (!e.persisted) return;
      pause();
      c.reset();
      last = Date.now();
      if (!c.dead) go();
    }),
  );

  go();
}

guard(() => {
  const R = window.clicktrail && window.clicktrail._r;
  if (!R || R.on) return; // not sampled, or the recorder is on the page twice
  R.on = 1;
  start(R);
})();
