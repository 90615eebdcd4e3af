// The click map's pure parts (map mode, see map.js): the width asked for in the URL, the
// dashboard's message checked field by field, the heat colours and the scroll bands.

export const MIN_WIDTH = 200;
export const MAX_WIDTH = 4000;
export const MAX_SELECTORS = 500;
const MAX_SELECTOR_CHARS = 1000;
const MAX_COUNT = 1e12;
export const FROM_DASHBOARD = 'clicktrail-dashboard';
export const FROM_MAP = 'clicktrail-map';

/** The width of `?map=WIDTH` (200..4000 px), or null: not map mode. */
export function mapWidthFrom(search) {
  const raw = new URLSearchParams(search).get('map');
  if (raw === null || !/^\d{1,4}$/.test(raw)) return null;
  const width = Number(raw);
  return width >= MIN_WIDTH && width <= MAX_WIDTH ? width : null;
}

/** The viewport height the page is first laid out at, for a width (a phone is taller than wide). */
export function viewportHeightFor(width) {
  if (width < 768) return Math.round(width * 1.8);
  if (width < 1200) return Math.round(width * 1.3);
  return Math.round(width * 0.625);
}

const isCount = (v) => Number.isInteger(v) && v >= 0 && v <= MAX_COUNT;

function readClick(row) {
  if (!row || typeof row !== 'object') return null;
  const { selector } = row;
  if (typeof selector !== 'string' || !selector || selector.length > MAX_SELECTOR_CHARS) return null;
  const out = { selector };
  for (const key of ['clicks', 'rage', 'dead', 'error']) {
    const value = row[key] ?? 0;
    if (!isCount(value)) return null;
    out[key] = value;
  }
  return out;
}

function readDepth(row) {
  if (!row || typeof row !== 'object') return null;
  const { depth, share } = row;
  if (!Number.isInteger(depth) || depth < 10 || depth > 100 || depth % 10) return null;
  if (typeof share !== 'number' || !(share >= 0 && share <= 1)) return null;
  return { depth, share };
}

/** {mode, clicks, depths} from the dashboard's message data, or null when anything in it is not
 * what the dashboard sends (a wrong shape is ignored whole, never half drawn). */
export function readHeatmap(data) {
  if (!data || typeof data !== 'object' || data.source !== FROM_DASHBOARD || data.type !== 'heatmap') return null;
  if (data.mode !== 'clicks' && data.mode !== 'scroll') return null;
  const { clicks, depths } = data;
  if (!Array.isArray(clicks) || clicks.length > MAX_SELECTORS) return null;
  if (!Array.isArray(depths) || depths.length > 10) return null;
  const rows = clicks.map(readClick);
  const bands = depths.map(readDepth);
  if (rows.includes(null) || bands.includes(null)) return null;
  const fit = data.fitHeight;
  const fitHeight = Number.isFinite(fit) && fit >= 100 && fit <= 10_000 ? fit : null;
  return { mode: data.mode, clicks: rows, depths: bands, fitHeight };
}

const MIN_PAGE_PX = 240; // scroll bands: the page is never drawn narrower (its labels fit)

/** The picture's scale: the page's width fits `room`; the scroll bands also fit the whole page
 * in `fitHeight` when that keeps it at least a third of that width and 240 px wide. */
export function mapScale({ width, pageHeight, room, mode, fitHeight }) {
  const byWidth = Math.min(1, room / width);
  if (mode !== 'scroll' || !fitHeight || !pageHeight) return byWidth;
  return Math.min(byWidth, Math.max(fitHeight / pageHeight, byWidth / 3, MIN_PAGE_PX / width));
}

/** A colour from cool (a few clicks) to hot (the most clicked), for `share` of the top count. */
export function heatColour(share, alpha = 1) {
  const s = Math.min(1, Math.max(0, share || 0));
  const hue = Math.round(220 - 220 * Math.sqrt(s));
  return `hsla(${hue}, 85%, 45%, ${alpha})`;
}

/** One band per tenth of a page `height` px tall: {depth, share, top, height}. */
export function depthBands(depths, height) {
  const byDepth = new Map(depths.map((d) => [d.depth, d.share]));
  const tenth = height / 10;
  return Array.from({ length: 10 }, (_, i) => {
    const depth = (i + 1) * 10;
    return { depth, share: byDepth.get(depth) ?? 0, top: Math.round(i * tenth), height: Math.round(tenth) };
  });
}

/** A band's label: which part of the page, and the share of page views that reached it. */
export const bandLabel = (band) => `${band.depth - 10}–${band.depth}%: ${Math.round(band.share * 100)}% reached`;

const plural = (n, word) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** The badge's text for a screen reader or a tooltip. */
export function clickTitle(row, total) {
  const pct = total ? Math.round((row.clicks / total) * 100) : 0;
  return `${row.selector}: ${plural(row.clicks, 'click')} (${pct}%) · rage ${row.rage} · dead ${row.dead} · error ${row.error}`;
}

/** The events that rebuild the page as first recorded: its first full snapshot and the meta
 * event before it, resized to `width` x `height` (so the page's media queries see that width);
 * null when the events hold no full snapshot. */
export function snapshotEvents(events, width, height) {
  const full = events.findIndex((e) => e && e.type === 2);
  if (full < 0) return null;
  let meta = null;
  for (let i = full - 1; i >= 0 && !meta; i--) if (events[i]?.type === 4) meta = events[i];
  const base = meta || { type: 4, timestamp: events[full].timestamp, data: { href: '' } };
  return [{ ...base, data: { ...base.data, width, height } }, events[full]];
}
