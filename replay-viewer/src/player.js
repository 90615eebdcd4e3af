// The player: rrweb's Replayer in the stage (scaled to fit), the controls and the timeline.
import { Replayer } from '@rrweb/replay';
import { $, clock, h } from './dom.js';
import { inactivePeriods } from './markers.js';
import { ScrollKeeper, scrollsAt } from './scroll.js';

// The replay iframe has no scripts, and a <canvas> in a document without scripting renders its
// fallback content instead (an empty inline box): keep the box a canvas would have had, from its
// width/height attributes where the browser supports typed attr(), else the default 300 x 150,
// and keep the fallback content hidden, as a browser with scripting does.
// For the same reason <noscript> content (and rrweb rebuilds a <script> as a <noscript>) would
// show: hide it, as the recorded page did.
// (insertRule takes one rule per string.)
export const SCRIPTLESS_RULES = [
  'canvas { display: inline-block; width: 300px; height: 150px; overflow: hidden; ' +
    'width: attr(width px, 300px); height: attr(height px, 150px); }',
  'canvas > * { display: none !important; }',
  'noscript { display: none !important; }',
];

export const SPEEDS = [1, 2, 4, 8];
const SEEK_LEAD_MS = 1000; // jumping to a marker starts a moment before it
const FULL_SNAPSHOT_REBUILT = 'fullsnapshot-rebuilded'; // rrweb's ReplayerEvents name

/** Where `events` (sorted by time) would take `event`: after every event at or before it. */
function insertionIndex(events, timestamp) {
  let lo = 0;
  let hi = events.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (events[mid].timestamp <= timestamp) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The parts of `periods` ({start, end}) inside `ranges` ([from, until], sorted). */
export function within(periods, ranges) {
  const out = [];
  for (const { start, end } of periods) {
    for (const [from, until] of ranges) {
      const a = Math.max(start, from);
      const b = Math.min(end, until);
      if (b > a) out.push({ start: a, end: b });
    }
  }
  return out;
}

export class Player {
  constructor({ onFinish, onSkip, onBuffering }) {
    this.replayer = null;
    this.events = []; // what is loaded, in time order (the Replayer's own list is the same)
    this.stream = null; // an EventStream when the replay is loaded in windows (stream.js)
    this.markers = [];
    this.durationMs = 0;
    this.startMs = 0;
    this.seekTicket = 0;
    this.keeper = new ScrollKeeper();
    this.speed = 1;
    this.skipInactive = true;
    this.playing = false;
    this.viewport = { width: 1280, height: 800 };
    this.onFinish = onFinish;
    this.onSkip = onSkip;
    this.onBuffering = onBuffering || (() => {});
    this.stage = $('stage');
    this.root = $('stage-inner');
    this.track = $('track');
    this.frame = 0;
    new ResizeObserver(() => this.fit()).observe(this.stage);
    this.bindControls();
  }

  /** Builds a Replayer over `events` (rrweb's array: all of the replay, or its first window
   * with `stream` to load the rest) and shows its first frame. */
  load(events, { markers, viewport, startMs, durationMs, stream }) {
    this.destroy();
    this.root.replaceChildren();
    if (viewport?.width && viewport.height) this.viewport = viewport;
    this.stream = stream || null;
    this.markers = markers || [];
    const replayer = new Replayer(events, {
      root: this.root,
      speed: this.speed,
      skipInactive: this.skipInactive,
      showWarning: false,
      mouseTail: { strokeStyle: 'rgba(200, 80, 43, 0.45)', lineWidth: 2, duration: 600 },
      UNSAFE_replayCanvas: false,
      insertStyleRules: SCRIPTLESS_RULES,
    });
    this.replayer = replayer;
    // The replayed page is a picture: its links and fields take no keyboard focus.
    replayer.iframe.setAttribute('inert', '');
    this.events = replayer.service.state.context.events; // rrweb's sorted copy, added to later
    const meta = replayer.getMetaData();
    this.startMs = startMs ?? meta.startTime;
    this.durationMs = Math.max(0, durationMs ?? meta.totalTime);
    replayer.on('resize', (d) => {
      this.viewport = { width: d.width, height: d.height };
      this.fit();
    });
    replayer.on('finish', () => {
      if (this.replayer !== replayer) return;
      const at = this.currentMs();
      if (this.stream && this.playing && at < this.durationMs - 50) {
        this.buffer(replayer, at); // played past what is loaded: fetch on, then go on
        return;
      }
      this.ended();
    });
    replayer.on('skip-start', () => this.onSkip(true));
    replayer.on('skip-end', () => this.onSkip(false));
    // A checkout (a later full snapshot) rebuilds the page while playing: hold its scroll.
    replayer.on(FULL_SNAPSHOT_REBUILT, () => {
      if (this.replayer === replayer && this.playing) this.holdScroll(this.currentMs());
    });
    this.drawTimeline();
    this.setPlaying(false);
    this.render(0);
    this.fit();
    this.holdScroll(0);
    return replayer;
  }

  /** Adds events loaded later (a window, in time order) where they belong. Events after the
   * current moment are scheduled by rrweb; earlier ones only join the list (casting them now
   * would apply the past to the present frame), and when they change what the current frame
   * shows (they come after its seek point) the frame is rebuilt. */
  append(events) {
    const replayer = this.replayer;
    if (!replayer || !events.length) return;
    const at = this.currentMs();
    const now = this.startMs + at;
    const past = events.filter((e) => e.timestamp <= now);
    if (past.length) this.events.splice(insertionIndex(this.events, past[0].timestamp), 0, ...past);
    for (const e of events) if (e.timestamp > now) replayer.addEvent(e); // joins this.events
    const rebuiltFrom = this.startMs + (this.stream ? this.stream.seekPointAt(at) : 0);
    if (past.some((e) => e.timestamp >= rebuiltFrom)) {
      // rrweb seeks forward incrementally, skipping what it has played: forget that, so the
      // frame is rebuilt from its seek point with the events that came late.
      replayer.service.state.context.lastPlayedEvent = null;
      this.seek(at);
    }
    this.drawTimeline();
  }

  async buffer(replayer, at) {
    this.onBuffering(true);
    const before = this.events.length;
    try {
      await this.stream.ahead(at);
    } finally {
      this.onBuffering(false);
    }
    if (this.replayer !== replayer || !this.playing) return;
    if (this.events.length > before) replayer.play(at);
    else this.ended();
  }

  /** Playing reached the end of the replay. */
  ended() {
    this.setPlaying(false);
    this.render(this.durationMs);
    this.onFinish();
  }

  /** Holds the scroll positions of the moment `ms` while the frame's layout settles. */
  holdScroll(ms) {
    const replayer = this.replayer;
    if (!replayer) return;
    const state = scrollsAt(this.events, this.startMs + ms);
    this.keeper.keep(replayer, state, () => this.startMs + this.currentMs());
  }

  destroy() {
    cancelAnimationFrame(this.frame);
    this.keeper.stop();
    if (this.replayer) {
      try {
        this.replayer.destroy();
      } catch {
        /* already gone */
      }
    }
    this.replayer = null;
    this.playing = false;
  }

  /** The recorded viewport, scaled down (never up) and centred in the stage. */
  fit() {
    const wrapper = this.replayer?.wrapper;
    if (!wrapper) return;
    const { width, height } = this.viewport;
    const box = this.stage.getBoundingClientRect();
    const scale = Math.min(box.width / width, box.height / height, 1);
    wrapper.style.transform = `scale(${scale})`;
    wrapper.style.left = `${Math.max(0, (box.width - width * scale) / 2)}px`;
    wrapper.style.top = `${Math.max(0, (box.height - height * scale) / 2)}px`;
    $('scale').textContent = `${width} × ${height} · ${Math.round(scale * 100)}%`;
  }

  currentMs() {
    if (!this.replayer) return 0;
    // Before the first play rrweb's baseline is 0, so its current time is minus the start time.
    const at = this.replayer.getCurrentTime();
    return at > 0 ? Math.min(at, this.durationMs) : 0;
  }

  play() {
    if (!this.replayer) return;
    let at = this.currentMs();
    if (at >= this.durationMs - 50) at = 0; // play again from the start after the end
    this.replayer.play(at);
    this.setPlaying(true);
  }

  pause() {
    if (!this.replayer) return;
    if (this.playing) this.replayer.pause();
    this.setPlaying(false);
  }

  toggle() {
    if (this.playing) this.pause();
    else this.play();
  }

  /** Goes to `ms` after the start (loading what it needs first); keeps playing if it was.
   * Resolves once the frame is there. */
  async seek(ms) {
    const replayer = this.replayer;
    if (!replayer) return;
    const at = Math.min(Math.max(0, Math.round(ms)), this.durationMs);
    const ticket = ++this.seekTicket;
    this.render(at);
    if (this.stream && !this.stream.covers(at)) {
      this.onBuffering(true);
      try {
        await this.stream.ensure(at);
      } finally {
        if (ticket === this.seekTicket) this.onBuffering(false);
      }
      if (ticket !== this.seekTicket || this.replayer !== replayer) return;
    }
    // rrweb applies the events before its target and schedules the ones at it, which a pause
    // then drops: aim 1 ms later, so the frame at `at` includes what happened at `at` (the end
    // of a replay whose last event is a scroll is then scrolled).
    if (this.playing && at < this.durationMs) replayer.play(at);
    else {
      replayer.pause(at + 1);
      this.setPlaying(false);
    }
    this.render(at);
    this.holdScroll(at);
  }

  setSpeed(speed) {
    if (!SPEEDS.includes(speed)) return;
    this.speed = speed;
    if (this.replayer) this.replayer.setConfig({ speed });
    for (const b of document.querySelectorAll('[data-speed]')) {
      b.setAttribute('aria-pressed', String(Number(b.dataset.speed) === speed));
    }
  }

  setSkipInactive(on) {
    this.skipInactive = Boolean(on);
    if (this.replayer) this.replayer.setConfig({ skipInactive: this.skipInactive });
    $('skip').checked = this.skipInactive;
  }

  setPlaying(playing) {
    this.playing = playing;
    const button = $('play');
    button.setAttribute('aria-label', playing ? 'Pause' : 'Play');
    button.title = playing ? 'Pause (Space)' : 'Play (Space)';
    button.classList.toggle('is-playing', playing);
    cancelAnimationFrame(this.frame);
    if (playing) {
      const tick = () => {
        this.render(this.currentMs());
        this.frame = requestAnimationFrame(tick);
      };
      this.frame = requestAnimationFrame(tick);
    }
  }

  render(ms) {
    const fraction = this.durationMs ? Math.min(1, ms / this.durationMs) : 0;
    $('progress').style.width = `${fraction * 100}%`;
    $('handle').style.left = `${fraction * 100}%`;
    $('elapsed').textContent = clock(ms);
    $('total').textContent = clock(this.durationMs);
    this.track.setAttribute('aria-valuenow', String(Math.round(ms / 1000)));
    this.track.setAttribute('aria-valuemax', String(Math.round(this.durationMs / 1000)));
    this.track.setAttribute('aria-valuetext', `${clock(ms)} of ${clock(this.durationMs)}`);
  }

  /** Redraws the timeline: `markers` when given (else the current ones), and the inactive
   * periods of what is loaded. */
  drawTimeline(markers) {
    if (markers) this.markers = markers;
    markers = this.markers;
    const loaded = this.stream ? this.stream.ranges : [[0, this.durationMs]];
    // what has not streamed in yet is unknown, not inactive
    const inactive = within(inactivePeriods(this.events, this.startMs, this.durationMs), loaded);
    const pct = (ms) => `${this.durationMs ? (ms / this.durationMs) * 100 : 0}%`;
    $('buffered').replaceChildren(
      ...loaded.map(([a, b]) => h('span', { style: `left:${pct(a)};width:${pct(b - a)}` })),
    );
    $('inactive').replaceChildren(
      ...inactive.map((p) => h('span', { class: 'gap', style: `left:${pct(p.start)};width:${pct(p.end - p.start)}` })),
    );
    $('markers').replaceChildren(
      ...markers.map((m) =>
        h('button', {
          type: 'button',
          class: `marker mk-${m.kind}`,
          style: `left:${pct(m.ts)}`,
          title: `${clock(m.ts)} · ${m.label}`,
          'aria-label': `${m.kind.replace('_', ' ')} at ${clock(m.ts)}: ${m.label}`,
          tabindex: '-1',
          onclick: (ev) => {
            ev.stopPropagation();
            this.seek(m.ts - SEEK_LEAD_MS);
          },
        }),
      ),
    );
  }

  bindControls() {
    $('play').addEventListener('click', () => this.toggle());
    for (const b of document.querySelectorAll('[data-speed]')) {
      b.addEventListener('click', () => this.setSpeed(Number(b.dataset.speed)));
    }
    $('skip').addEventListener('change', (e) => this.setSkipInactive(e.target.checked));
    const at = (ev) => {
      const box = this.track.getBoundingClientRect();
      return (Math.min(Math.max(ev.clientX - box.left, 0), box.width) / box.width) * this.durationMs;
    };
    const hover = $('hover-time');
    this.track.addEventListener('pointermove', (ev) => {
      const ms = at(ev);
      hover.textContent = clock(ms);
      hover.style.left = `${this.durationMs ? (ms / this.durationMs) * 100 : 0}%`;
      hover.hidden = false;
      if (this.dragging) this.render(ms);
    });
    this.track.addEventListener('pointerleave', () => {
      hover.hidden = true;
    });
    this.track.addEventListener('pointerdown', (ev) => {
      if (ev.button !== 0 || ev.target.classList.contains('marker')) return;
      this.dragging = { wasPlaying: this.playing };
      this.track.setPointerCapture(ev.pointerId);
      if (this.playing) this.pause();
      this.render(at(ev));
    });
    this.track.addEventListener('pointerup', (ev) => {
      if (!this.dragging) return;
      const { wasPlaying } = this.dragging;
      this.dragging = null;
      this.seek(at(ev));
      if (wasPlaying) this.play();
    });
  }
}
