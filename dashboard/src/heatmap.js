// The Heatmaps page's pure parts: its URL state (page, width, layer), the API's time parameters,
// the message it sends the viewer's map mode and the checks on the messages it gets back.

export const WIDTHS = [
  { width: 375, label: 'Phone', name: 'phone' },
  { width: 768, label: 'Tablet', name: 'tablet' },
  { width: 1280, label: 'Desktop', name: 'desktop' },
];
export const DEFAULT_WIDTH = 1280;
export const LAYERS = ['clicks', 'scroll'];
const MAX_URL_CHARS = 2048;
const STATUSES = ['found', 'hidden', 'missing', 'invalid'];

/** {pageUrl, width, layer} from the query string: `pageUrl`, `width` (375 | 768 | 1280),
 * `layer` (clicks | scroll); anything else takes the default. */
export function readHeatmapState(search) {
  const q = new URLSearchParams(search);
  const pageUrl = (q.get('pageUrl') || '').slice(0, MAX_URL_CHARS);
  const width = Number(q.get('width'));
  return {
    pageUrl,
    width: WIDTHS.some((w) => w.width === width) ? width : DEFAULT_WIDTH,
    layer: LAYERS.includes(q.get('layer')) ? q.get('layer') : 'clicks',
  };
}

/** The heatmap routes' time parameters (no filters: they take none). */
export function timeParams(state, timezone) {
  const p = { bots: state.bots, timezone };
  if (state.start) p.start = state.start;
  if (state.end) p.end = state.end;
  if (!state.start) p.interval = state.interval;
  return p;
}

/** What the viewer's map mode draws: the click rows and the depth shares, for `layer`; the
 * scroll bands fit the whole page in `fitHeight` px (the map box's height). */
export function heatmapMessage(layer, clicks, depths, fitHeight) {
  return {
    source: 'clicktrail-dashboard',
    type: 'heatmap',
    mode: layer,
    fitHeight,
    clicks: (clicks || []).map(({ selector, clicks: n, rage, dead, error }) => ({
      selector,
      clicks: n,
      rage: rage || 0,
      dead: dead || 0,
      error: error || 0,
    })),
    depths: (depths || []).map(({ depth, share }) => ({ depth, share })),
  };
}

const isBox = (b) =>
  b &&
  typeof b === 'object' &&
  typeof b.selector === 'string' &&
  STATUSES.includes(b.status) &&
  (b.status !== 'found' || ['x', 'y', 'width', 'height'].every((k) => Number.isFinite(b[k])));

/** A message from the map frame, checked: {type, ...} or null when it is not one. */
export function readMapMessage(data) {
  if (!data || typeof data !== 'object' || data.source !== 'clicktrail-map') return null;
  const height = Number.isFinite(data.height) ? Math.min(Math.max(0, data.height), 200_000) : null;
  if (data.type === 'ready') return { type: 'ready', height };
  if (data.type === 'error' || data.type === 'refused') {
    return { type: data.type, message: typeof data.message === 'string' ? data.message.slice(0, 500) : '' };
  }
  if (data.type !== 'drawn' || !Array.isArray(data.boxes) || data.boxes.length > 500 || !data.boxes.every(isBox)) {
    return null;
  }
  const boxes = new Map(data.boxes.map((b) => [b.selector, b]));
  return { type: 'drawn', mode: data.mode, boxes, height };
}

/** Where a selector's element is on the snapshot, in words (the table's last column). */
export function placeText(box) {
  if (!box) return '…';
  if (box.status === 'found') return `Yes, at ${Math.round(box.x)}, ${Math.round(box.y)}`;
  if (box.status === 'hidden') return 'Hidden at this width';
  if (box.status === 'invalid') return 'Not a valid selector';
  return 'Not on this snapshot';
}

/** The viewer's map URL for a share link's URL (`/replay/{id}#share=…`) at `width`. */
export function mapUrl(shareUrl, width, base) {
  const url = new URL(shareUrl, base);
  return `${url.pathname}?map=${width}${url.hash}`;
}
