// Map mode of the viewer, /replay/{id}?map=WIDTH#share=TOKEN (the dashboard's Heatmaps page
// frames it): the replay's first full snapshot rebuilt by rrweb, paused, in an iframe WIDTH px
// wide (so the page's media queries see that width) and as tall as the page, with the click
// counts the dashboard sends drawn over the elements their selectors find in it, or the scroll
// depth as a band per tenth of the page. The rebuilt page is the player's: sandboxed without
// scripts, inert, every asset through the collector.
//
// Messages, with the framing page only (same origin, window.parent):
//   in   {source: 'clicktrail-dashboard', type: 'heatmap', mode: 'clicks' | 'scroll',
//         clicks: [{selector, clicks, rage, dead, error}], depths: [{depth, share}],
//         fitHeight (optional: the scroll bands fit the whole page in it)}
//   out  {source: 'clicktrail-map', type: 'ready' | 'drawn' | 'error' | 'refused', ...}
//        'drawn' has boxes: [{selector, status: 'found' | 'hidden' | 'missing' | 'invalid',
//        x, y, width, height}] (px of the rebuilt page), pageHeight, scale and height (of this
//        document, for the frame).
// Test hook: window.viewerMap {state, width, pageHeight, scale, boxes, replayer}.
import { Replayer } from '@rrweb/replay';
import './map.css';
import { ApiError, client } from './api.js';
import { h } from './dom.js';
import {
  bandLabel,
  clickTitle,
  depthBands,
  FROM_MAP,
  heatColour,
  mapScale,
  readHeatmap,
  snapshotEvents,
  viewportHeightFor,
} from './mapdata.js';
import { SCRIPTLESS_RULES } from './player.js';
import { OPEN_MS } from './stream.js';

const REBUILT = 'fullsnapshot-rebuilded'; // rrweb's ReplayerEvents name
const SETTLE_MS = 5000; // the longest wait for stylesheets, fonts and images
const LATE_LAYOUT_MS = [300, 1200, 3000]; // measured again after these: late fonts and images
const MAX_GROWTH_PASSES = 2; // a page sized in vh grows with its frame: stop there

const map = { state: 'loading', width: 0, pageHeight: 0, scale: 1, boxes: [], replayer: null, data: null };
const parts = {};

const post = (message) => {
  if (window.parent !== window) window.parent.postMessage({ source: FROM_MAP, ...message }, location.origin);
};
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const loaded = (el) =>
  new Promise((resolve) => {
    el.addEventListener('load', resolve, { once: true });
    el.addEventListener('error', resolve, { once: true });
  });

/** Rebuilds `events` (meta + full snapshot) in `root`; resolves once the page is built. */
function rebuild(root, events) {
  return new Promise((resolve, reject) => {
    const replayer = new Replayer(events, {
      root,
      showWarning: false,
      mouseTail: false,
      UNSAFE_replayCanvas: false,
      insertStyleRules: SCRIPTLESS_RULES,
      loadTimeout: SETTLE_MS,
    });
    replayer.iframe.setAttribute('inert', '');
    replayer.iframe.title = 'The page as recorded';
    const timer = setTimeout(() => reject(new Error('the page snapshot could not be rebuilt')), SETTLE_MS);
    replayer.on(REBUILT, () => {
      clearTimeout(timer);
      resolve(replayer);
    });
  });
}

/** Waits (at most SETTLE_MS) for the rebuilt page's stylesheets, images and fonts. */
async function settled(doc) {
  const waits = [];
  for (const link of doc.querySelectorAll('link[rel~="stylesheet"]')) if (!link.sheet) waits.push(loaded(link));
  for (const img of doc.images) if (!img.complete) waits.push(loaded(img));
  if (doc.fonts) waits.push(doc.fonts.ready);
  await Promise.race([Promise.allSettled(waits), sleep(SETTLE_MS)]);
}

/** Sizes the frame to the page (it only grows) and the picture to this document's width. */
function layout() {
  const iframe = map.replayer?.iframe;
  const doc = iframe?.contentDocument;
  if (!doc?.documentElement) return;
  for (let pass = 0; pass < MAX_GROWTH_PASSES; pass++) {
    const height = Math.max(map.pageHeight, doc.documentElement.scrollHeight, doc.body?.scrollHeight || 0);
    if (height <= map.pageHeight) break;
    map.pageHeight = height;
    iframe.setAttribute('height', String(height));
  }
  const room = document.documentElement.clientWidth || map.width;
  const { mode, fitHeight } = map.data || {};
  map.scale = mapScale({ width: map.width, pageHeight: map.pageHeight, room, mode, fitHeight });
  const { frame, scaler, overlay } = parts;
  frame.style.width = `${Math.floor(map.width * map.scale)}px`;
  frame.style.height = `${Math.ceil(map.pageHeight * map.scale)}px`;
  scaler.style.width = `${map.width}px`;
  scaler.style.height = `${map.pageHeight}px`;
  scaler.style.transform = `scale(${map.scale})`;
  overlay.style.setProperty('--inv', String(1 / map.scale));
}

/** Where `selector` is in the rebuilt page, in its px. */
function locate(doc, selector) {
  let el;
  try {
    el = doc.querySelector(selector);
  } catch {
    return { status: 'invalid' };
  }
  if (!el) return { status: 'missing' };
  const r = el.getBoundingClientRect();
  if (r.width < 1 || r.height < 1) return { status: 'hidden' };
  const win = doc.defaultView;
  const at = (v) => Math.round(v * 10) / 10;
  return {
    status: 'found',
    x: at(r.left + (win?.scrollX || 0)),
    y: at(r.top + (win?.scrollY || 0)),
    width: at(r.width),
    height: at(r.height),
  };
}

function clickBoxes(clicks, boxes) {
  const total = clicks.reduce((sum, row) => sum + row.clicks, 0);
  const top = Math.max(1, ...clicks.map((row) => row.clicks));
  const shown = clicks.map((row, i) => ({ row, box: boxes[i] })).filter(({ box }) => box.status === 'found');
  shown.sort((a, b) => a.row.clicks - b.row.clicks); // the hottest drawn last, on top
  const badgeRoom = 22 / map.scale; // a badge above a box needs this much page above it
  return shown.map(({ row, box }) =>
    h(
      'div',
      {
        class: `map-box${box.y < badgeRoom ? ' inside' : ''}`,
        'data-selector': row.selector,
        style: `left:${box.x}px;top:${box.y}px;width:${box.width}px;height:${box.height}px;--heat:${heatColour(row.clicks / top)};--fill:${heatColour(row.clicks / top, 0.18)}`,
      },
      h('span', { class: 'map-badge', title: clickTitle(row, total) }, String(row.clicks)),
    ),
  );
}

function scrollBands(depths) {
  return depthBands(depths, map.pageHeight).map((band) =>
    h(
      'div',
      {
        class: 'map-band',
        'data-depth': band.depth,
        style: `top:${band.top}px;height:${band.height}px;--fill:${heatColour(band.share, 0.22)}`,
      },
      h('span', { class: 'map-band-label' }, bandLabel(band)),
    ),
  );
}

/** Draws what the dashboard sent over the page, and tells it what was found where. */
function draw() {
  if (map.state !== 'ready') return;
  layout();
  const { overlay } = parts;
  if (!map.data) {
    overlay.replaceChildren();
    return;
  }
  const doc = map.replayer.iframe.contentDocument;
  const { mode, clicks, depths } = map.data;
  map.boxes = clicks.map((row) => ({ selector: row.selector, ...locate(doc, row.selector) }));
  overlay.dataset.mode = mode;
  overlay.replaceChildren(...(mode === 'clicks' ? clickBoxes(clicks, map.boxes) : scrollBands(depths)));
  post({
    type: 'drawn',
    mode,
    boxes: map.boxes,
    width: map.width,
    pageHeight: map.pageHeight,
    scale: map.scale,
    height: document.documentElement.scrollHeight,
  });
}

function onMessage(ev) {
  if (window.parent === window || ev.source !== window.parent || ev.origin !== location.origin) return;
  const data = readHeatmap(ev.data);
  if (!data) {
    post({ type: 'refused', message: 'The heatmap data was not in the expected shape.' });
    return;
  }
  map.data = data;
  draw();
}

function showError(err) {
  map.state = 'error';
  document.body.dataset.state = 'error';
  const message = err instanceof ApiError || err?.message ? err.message : String(err);
  parts.status.textContent = `The page snapshot could not be shown: ${message}`;
  parts.status.hidden = false;
  post({ type: 'error', message, status: err?.status ?? 0 });
}

/** Opens replay `replayId` from a share link (`share`, from #share=) as a map `width` px wide. */
export async function startMap({ replayId, share, width }) {
  map.width = width;
  window.viewerMap = map;
  document.body.dataset.mode = 'map';
  document.body.dataset.state = 'loading';
  const root = h('div', { class: 'map-root' });
  const overlay = h('div', { class: 'map-overlay', 'aria-hidden': 'true' });
  const scaler = h('div', { class: 'map-scale' }, root, overlay);
  const frame = h('div', { class: 'map-frame' }, scaler);
  const status = h('p', { class: 'map-status', role: 'status' }, 'Rebuilding the page…');
  Object.assign(parts, { frame, scaler, overlay, status });
  document.body.replaceChildren(frame, status);
  document.title = 'Click map · Clicktrail';
  window.addEventListener('message', onMessage);
  window.addEventListener('resize', () => draw());
  try {
    if (!share) throw new ApiError(401, 'share_needed', 'the map opens from a share link (#share=…)');
    const events = await client(share.brand, share.token).window(replayId, 0, OPEN_MS);
    const snapshot = Array.isArray(events) ? snapshotEvents(events, width, viewportHeightFor(width)) : null;
    if (!snapshot) throw new ApiError(422, 'no_snapshot', 'this replay has no page snapshot in its first seconds');
    map.replayer = await rebuild(root, snapshot);
    await settled(map.replayer.iframe.contentDocument);
    map.state = 'ready';
    document.body.dataset.state = 'ready';
    status.hidden = true;
    draw();
    post({ type: 'ready', width, pageHeight: map.pageHeight, height: document.documentElement.scrollHeight });
    for (const ms of LATE_LAYOUT_MS) setTimeout(draw, ms);
  } catch (err) {
    showError(err);
  }
}
