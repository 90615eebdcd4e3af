// The replay viewer at /replay/{id}. See docs/REPLAY.md ("Viewer") for what it loads.
//
// Test hooks, on window.viewer:
//   ready        a Promise for the current replay: resolves to its id once the Replayer shows
//                the first frame, rejects with the ApiError when loading fails (replaced by a
//                new Promise whenever another page of the session is opened)
//   complete     a Promise resolved once all of the replay's events, its markers and its
//                session's pages are in (replaced with ready)
//   loadedMs     how much of the replay is loaded from the start, in ms
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
import { startMap } from './map.js';
import { mapWidthFrom } from './mapdata.js';
import { buildMarkers } from './markers.js';
import { renderEvents, renderPages, renderVisitor } from './panel.js';
import { Player } from './player.js';
import { EventStream, OPEN_MS } from './stream.js';

const state = {
  api: null,
  share: null,
  replayId: decodeURIComponent(location.pathname.split('/').filter(Boolean).pop() || ''),
  sessions: new Map(), // session id -> Promise of {pages, session, click, note}
  stream: null, // the current replay's EventStream
  pages: [],
  markers: [],
  loading: 0,
};

let bufferingBadge = 0;

/** A promise with its resolve and reject; a rejection nobody awaits is not reported. */
function deferred() {
  const d = {};
  d.promise = new Promise((resolve, reject) => {
    d.resolve = resolve;
    d.reject = reject;
  });
  d.promise.catch(() => {});
  return d;
}

let settle = null; // the deferred behind viewer.ready while a replay is loading
const newReady = () => {
  settle = deferred();
  return settle.promise;
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
  onBuffering: (waiting) => {
    $('stage').setAttribute('aria-busy', String(waiting));
    clearTimeout(bufferingBadge);
    // a fetch that answers at once shows nothing; a slow one says why the frame waits
    if (waiting) bufferingBadge = setTimeout(() => ($('buffering').hidden = false), 200);
    else $('buffering').hidden = true;
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
  get loadedMs() {
    return state.stream ? state.stream.loadedFromStart() : 0;
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

/** Loads replay `id` and shows its first frame as soon as its first seconds are in; the rest
 * of its events, its session's pages and its markers follow (see stream.js). */
async function open(id, { autoplay }) {
  const ticket = ++state.loading;
  const current = () => ticket === state.loading;
  if (viewer.replayId !== id || !settle) viewer.ready = newReady();
  const mine = settle;
  const complete = deferred();
  viewer.complete = complete.promise;
  state.stream?.stop();
  state.replayId = id;
  document.body.dataset.state = 'loading';
  overlay('loading', 'Loading replay…', '', '');
  try {
    const api = state.api;
    const firstP = api.window(id, 0, OPEN_MS);
    firstP.catch(() => {});
    const index = await api.index(id);
    const first = await firstP;
    if (!current()) return; // another page was opened meanwhile
    if (!Array.isArray(first) || first.length < 2) {
      throw new ApiError(422, 'empty_replay', 'This replay has too few events to play.');
    }
    const stream = new EventStream(
      (a, b) => api.window(id, a, b),
      index,
      (events) => current() && player.append(events),
    );
    stream.markLoaded(0, OPEN_MS);
    state.stream = stream;
    overlay(null);
    state.markers = buildMarkers(index, [], index.first_event_ms, index.duration_ms);
    player.load(first, {
      markers: state.markers,
      viewport: { width: index.viewport_width, height: index.viewport_height },
      startMs: index.first_event_ms,
      durationMs: index.duration_ms,
      stream,
    });
    if (location.pathname !== `/replay/${id}`) {
      history.replaceState(null, '', `/replay/${encodeURIComponent(id)}${location.search}${location.hash}`);
    }
    showPage(index, [{ id, url: index.url, duration_ms: index.duration_ms, started_at: index.started_at }]);
    document.body.dataset.state = 'ready';
    document.body.dataset.loaded = '';
    if (autoplay) player.play();
    mine.resolve(id);
    if (settle === mine) settle = null;
    // The first frame paints before anything else is asked for; the replay's derived clicks
    // (the markers) are read once the stream is in: the server reads the whole replay for them.
    await painted();
    const streamed = pump(stream, current);
    await Promise.all([streamed, decorate(id, index, current, streamed)]);
    complete.resolve(id);
  } catch (err) {
    complete.reject(err);
    if (!current()) return;
    if (err instanceof ApiError && err.status === 401 && !state.share) {
      forget();
      askForKey(state.api.brand, explain(err).slice(0, 2).join(': '));
      return;
    }
    if (document.body.dataset.state === 'ready') {
      toast(`Part of this replay could not be loaded: ${err.message}`);
      return;
    }
    fail(err);
  }
}

/** Resolves once the next frame has been painted. */
const painted = () => new Promise((done) => requestAnimationFrame(() => setTimeout(done, 0)));

/** Loads the rest of the stream in the background, window after window. */
async function pump(stream, current) {
  let failures = 0;
  while (current()) {
    try {
      if (!(await stream.next())) return;
      failures = 0;
    } catch (err) {
      if (++failures >= 3) throw err;
      await new Promise((r) => setTimeout(r, 1000 * failures));
    }
  }
}

/** The replay's page header and the session's page list. */
function showPage(index, pages) {
  const id = index.id;
  state.pages = pages;
  const at = pages.findIndex((p) => p.id === id);
  $('page-url').textContent = index.url || '';
  $('page-url').title = index.url || '';
  $('page-meta').textContent = [
    pages.length > 1 ? `Page ${at + 1} of ${pages.length}` : '',
    dateTime(index.started_at || index.first_event_ms),
  ]
    .filter(Boolean)
    .join(' · ');
  document.title = `Replay · ${shortUrl(index.url) || id} · Clicktrail`;
  renderPages(pages, id, (pick) => pick !== state.replayId && open(pick, { autoplay: player.playing }));
}

/** What comes after the first frame: the session's pages and visitor, and the markers (clicks
 * from the replay's seed events, page views and custom events from the session). */
async function decorate(id, index, current, streamed) {
  const sess = await loadSession(index.session_id);
  if (!current()) return;
  showDecorations(id, index, sess, null);
  await streamed;
  const meta = await state.api.replay(id).catch(() => null);
  if (current() && meta) showDecorations(id, index, sess, meta);
}

/** The session's pages and visitor, and the markers (the replay's clicks once `meta`, the
 * seed shape, is in). */
function showDecorations(id, index, sess, meta) {
  const pages = sess.pages.some((p) => p.id === id)
    ? sess.pages
    : [...sess.pages, { id, url: index.url, duration_ms: index.duration_ms, started_at: index.started_at }];
  showPage(index, pages);
  state.markers = buildMarkers(
    { ...index, events: meta?.events || [] },
    sess.session?.events,
    index.first_event_ms,
    index.duration_ms,
  );
  player.drawTimeline(state.markers);
  renderEvents(state.markers, (ts) => player.seek(ts - 1000));
  renderVisitor(sess.session, sess.click, sess.note);
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
  const mapWidth = mapWidthFrom(location.search); // the dashboard's click map (map.js)
  if (mapWidth) {
    startMap({ replayId: state.replayId, share: state.share, width: mapWidth });
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
