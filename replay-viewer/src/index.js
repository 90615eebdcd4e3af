// The replay viewer at /replay/{id}. See docs/REPLAY.md ("Viewer") for what it loads.
//
// Test hooks, on window.viewer:
//   ready        a Promise for the current replay: resolves to its id once the Replayer shows
//                the first frame, rejects with the ApiError when loading fails (replaced by a
//                new Promise whenever another page of the session is opened)
//   replayer     the current rrweb Replayer (null before the first load)
//   replayId     the id of the replay shown
//   readyState   'loading' | 'auth' (asking for a key) | 'ready' | 'error'
//   durationMs   its length in ms; currentMs() (alias currentTime()) the position in ms
//   seek(ms), play(), pause(), setSpeed(1|2|4|8), setSkipInactive(bool), open(replayId)
//   markers      the timeline markers [{kind, ts, label, detail}]
//   pages        the session's replays, in order
//   playing      whether it is playing
// The page's CSP has no 'unsafe-eval': give Playwright's wait_for_function a function
// ("() => window.viewer.readyState === 'ready'"); a bare expression is eval'ed and fails.
import '@rrweb/replay/dist/style.css';
import './style.css';
import { ApiError, client, forget, remember, shareFromLocation, storedBrand, storedKey } from './api.js';
import { $, dateTime, epochMs, shortUrl } from './dom.js';
import { bindKeys } from './keys.js';
import { buildMarkers, inactivePeriods } from './markers.js';
import { renderEvents, renderPages, renderVisitor } from './panel.js';
import { Player } from './player.js';

const state = {
  api: null,
  share: null,
  replayId: decodeURIComponent(location.pathname.split('/').filter(Boolean).pop() || ''),
  sessions: new Map(), // session id -> Promise of {pages, session, click, note}
  pages: [],
  markers: [],
  loading: 0,
};

let settle = null;
const newReady = () => {
  const p = new Promise((resolve, reject) => {
    settle = { resolve, reject };
  });
  p.catch(() => {}); // a failed load is shown on the page; tests may still await it
  return p;
};

const player = new Player({
  onFinish: () => {
    const i = state.pages.findIndex((p) => p.id === state.replayId);
    const next = state.pages[i + 1];
    if (next && $('autonext').checked) {
      toast(`Next page: ${shortUrl(next.url) || next.id}`);
      open(next.id, { autoplay: true });
    }
  },
  onSkip: (skipping) => {
    $('skipping').hidden = !skipping;
  },
});

const viewer = {
  ready: newReady(),
  get replayer() {
    return player.replayer;
  },
  get replayId() {
    return state.replayId;
  },
  get durationMs() {
    return player.durationMs;
  },
  get markers() {
    return state.markers;
  },
  get pages() {
    return state.pages;
  },
  get playing() {
    return player.playing;
  },
  get readyState() {
    return document.body.dataset.state;
  },
  currentMs: () => player.currentMs(),
  currentTime: () => player.currentMs(),
  seek: (ms) => player.seek(ms),
  play: () => player.play(),
  pause: () => player.pause(),
  setSpeed: (n) => player.setSpeed(n),
  setSkipInactive: (on) => player.setSkipInactive(on),
  open: (id) => open(id, { autoplay: false }),
};
window.viewer = viewer;

function toast(text) {
  const el = $('toast');
  el.textContent = text;
  el.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => {
    el.hidden = true;
  }, 3000);
}

function overlay(kind, title, message, detail) {
  const box = $('overlay');
  box.hidden = !kind;
  box.dataset.kind = kind || '';
  $('overlay-title').textContent = title || '';
  $('overlay-message').textContent = message || '';
  $('overlay-detail').textContent = detail || '';
  $('overlay-retry').hidden = kind !== 'error' || Boolean(state.share);
}

function explain(err) {
  if (!(err instanceof ApiError)) {
    return ['Something went wrong', String(err?.message ? err.message : err), ''];
  }
  const detail = err.status ? `HTTP ${err.status} · ${err.code}` : err.code;
  if (err.code === 'share_expired') return ['This share link has expired', err.message, ''];
  if (err.code === 'bad_share_link') return ['This share link cannot be read', err.message, ''];
  if (err.status === 401) {
    return state.share
      ? ['This share link is no longer valid', `${err.message}. Ask whoever sent it for a new one.`, detail]
      : ['The API key was not accepted', err.message, detail];
  }
  if (err.status === 403) return ['This key may not read replays', err.message, detail];
  if (err.status === 404) return ['Replay not found', err.message, detail];
  if (err.status === 0) return ['The collector cannot be reached', err.message, detail];
  return ['The replay could not be loaded', err.message, detail];
}

function fail(err) {
  const [title, message, detail] = explain(err);
  overlay('error', title, message, detail);
  document.body.dataset.state = 'error';
  if (settle) settle.reject(err);
  settle = null;
}

/** Pages, visitor and events of a session, fetched once per session. Never rejects: what
 * could not be read becomes a note in the panel. */
function loadSession(sessionId) {
  if (!state.sessions.has(sessionId)) {
    const api = state.api;
    const soft = (p) =>
      p.then(
        (v) => ({ v }),
        (e) => ({ e }),
      );
    const loaded = Promise.all([
      soft(api.sessionReplays(sessionId)),
      soft(api.session(sessionId)),
      soft(api.firstClick(sessionId)),
    ]).then(([pages, session, clicks]) => {
      const list = Array.isArray(pages.v) ? pages.v : pages.v?.data || [];
      const first = clicks.v && Array.isArray(clicks.v.data) ? clicks.v.data[0] : null;
      let note = '';
      if (session.e && session.e.status !== 404) note = `Visitor: ${session.e.message}`;
      else if (clicks.e && !state.share) note = `Device details: ${clicks.e.message}`;
      return {
        pages: [...list].sort(
          (a, b) => (epochMs(a.started_at) || 0) - (epochMs(b.started_at) || 0) || (a.id < b.id ? -1 : 1),
        ),
        session: session.v || null,
        click: first,
        note,
      };
    });
    state.sessions.set(sessionId, loaded);
  }
  return state.sessions.get(sessionId);
}

/** Loads replay `id` (and its session's data) and shows it. */
async function open(id, { autoplay }) {
  const ticket = ++state.loading;
  if (viewer.replayId !== id || !settle) viewer.ready = newReady();
  const mine = settle;
  state.replayId = id;
  document.body.dataset.state = 'loading';
  overlay('loading', 'Loading replay…', '', '');
  try {
    const api = state.api;
    const eventsP = api.rrweb(id);
    eventsP.catch(() => {});
    const meta = await api.replay(id);
    const [events, sess] = await Promise.all([eventsP, loadSession(meta.session_id)]);
    if (ticket !== state.loading) return; // another page was opened meanwhile
    if (!Array.isArray(events) || events.length < 2) {
      throw new ApiError(422, 'empty_replay', 'This replay has too few events to play.');
    }
    const pages = sess.pages.some((p) => p.id === id)
      ? sess.pages
      : [...sess.pages, { id, url: meta.url, duration_ms: meta.duration_ms, started_at: meta.started_at }];
    state.pages = pages;
    overlay(null);
    const viewport = { width: meta.viewport_width, height: meta.viewport_height };
    const startMs = events[0].timestamp;
    const durationMs = events[events.length - 1].timestamp - startMs;
    state.markers = buildMarkers(meta, sess.session?.events, startMs, durationMs);
    player.load(events, {
      markers: state.markers,
      inactive: inactivePeriods(events, startMs, durationMs),
      viewport,
    });
    if (location.pathname !== `/replay/${id}`) {
      history.replaceState(null, '', `/replay/${encodeURIComponent(id)}${location.search}${location.hash}`);
    }
    const index = pages.findIndex((p) => p.id === id);
    $('page-url').textContent = meta.url || '';
    $('page-url').title = meta.url || '';
    $('page-meta').textContent = [
      pages.length > 1 ? `Page ${index + 1} of ${pages.length}` : '',
      dateTime(meta.started_at || startMs),
    ]
      .filter(Boolean)
      .join(' · ');
    document.title = `Replay · ${shortUrl(meta.url) || id} · Clicktrail`;
    renderPages(pages, id, (pick) => pick !== state.replayId && open(pick, { autoplay: player.playing }));
    renderEvents(state.markers, (ts) => player.seek(ts - 1000));
    renderVisitor(sess.session, sess.click, sess.note);
    document.body.dataset.state = 'ready';
    document.body.dataset.loaded = '';
    if (autoplay) player.play();
    mine.resolve(id);
    if (settle === mine) settle = null;
  } catch (err) {
    if (ticket !== state.loading) return;
    if (err instanceof ApiError && err.status === 401 && !state.share) {
      forget();
      askForKey(state.api.brand, explain(err).slice(0, 2).join(': '));
      return;
    }
    fail(err);
  }
}

function askForKey(brand, problem) {
  document.body.dataset.state = 'auth';
  overlay(null);
  $('auth').hidden = false;
  $('auth-brand').value = brand || '';
  $('auth-key').value = '';
  $('auth-error').textContent = problem || '';
  $('auth-error').hidden = !problem;
  (brand ? $('auth-key') : $('auth-brand')).focus();
}

function start(brand, bearer) {
  state.api = client(brand, bearer);
  state.sessions.clear();
  $('auth').hidden = true;
  open(state.replayId, { autoplay: false });
}

function boot() {
  bindKeys(viewer, player);
  $('help-open').addEventListener('click', () => $('help').showModal());
  $('help-close').addEventListener('click', () => $('help').close());
  $('overlay-retry').addEventListener('click', () => {
    forget();
    askForKey(state.api?.brand);
  });
  $('forget').addEventListener('click', () => {
    forget();
    player.destroy();
    askForKey(state.api?.brand, '');
  });
  $('auth').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const brand = $('auth-brand').value.trim();
    const key = $('auth-key').value.trim();
    if (!/^\d+$/.test(brand)) {
      $('auth-error').textContent = 'The brand id is a number (see the brand in `clicktrail brands`).';
      $('auth-error').hidden = false;
      return;
    }
    if (!key) return;
    remember(brand, key);
    start(brand, key);
  });

  if (!/^[0-9a-hjkmnp-tv-z]{26}$/.test(state.replayId)) {
    fail(new ApiError(404, 'not_found', `“${state.replayId}” is not a replay id.`));
    return;
  }
  try {
    state.share = shareFromLocation();
  } catch (err) {
    fail(err);
    return;
  }
  if (state.share) {
    document.body.dataset.mode = 'share';
    const { expires } = state.share;
    if (typeof expires === 'number' && expires * 1000 < Date.now()) {
      fail(
        new ApiError(
          401,
          'share_expired',
          `It expired on ${dateTime(expires * 1000)}. Ask whoever sent it for a new link.`,
        ),
      );
      return;
    }
    start(state.share.brand, state.share.token);
    return;
  }
  const brand = new URLSearchParams(location.search).get('brand') || storedBrand();
  const key = storedKey();
  if (brand && key && (!storedBrand() || storedBrand() === brand)) start(brand, key);
  else askForKey(brand, '');
}

boot();
