// Heatmaps (/heatmaps): one page URL's click map and scroll depth over a stored snapshot of it.
// The snapshot is the newest replay of that URL (GET heatmaps/snapshot, a similar width first),
// rebuilt by the replay viewer's map mode (/replay/{id}?map=WIDTH, through a share link since the
// viewer takes no cookie) at the chosen width; this page sends it the clicks aggregated by
// selector (GET heatmaps/clicks) and the depth shares (GET heatmaps/scroll) by postMessage, and
// it answers where each selector is in the rebuilt page, which the table says in words.
// Test hook: window.dashboard.heatmap = {replayId, width, layer, drawn, boxes}.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { formatDateTime, formatNumber, formatPercent, shortUrl } from '../format.js';
import {
  heatmapMessage,
  LAYERS,
  mapUrl,
  placeText,
  readHeatmapState,
  readMapMessage,
  timeParams,
  WIDTHS,
} from '../heatmap.js';
import { html } from '../html.js';
import { useLoad } from '../load.js';
import { browserZone } from '../report.js';
import { navigate } from '../router.js';
import { DataTable, ErrorBox, Loaded, PageTitle, Skeleton } from '../ui/common.js';
import { BotSwitch, RangePicker } from '../ui/controls.js';
import { Panel, Tabs } from '../ui/panel.js';
import { withParams } from '../urlstate.js';
import '../heatmap.css';

const SHARE_SECONDS = 3600;
const MAP_VH = 0.75; // the map box's height, as in heatmap.css: min(75vh, 860px)
const MAP_MAX_PX = 860;
const LAYER_LABELS = { clicks: 'Clicks', scroll: 'Scroll depth' };

const views = (n, word = 'view') => `${formatNumber(n)} ${word}${n === 1 ? '' : 's'}`;
const go = (path, search, changes, replace = false) => navigate(path + withParams(search, changes), { replace });

function PagePicker({ pages, url, path, search }) {
  const listed = pages.some((p) => p.url === url);
  return html`<label class="heatmap-page">
    <span>Page</span>
    <select value=${url} onChange=${(ev) => go(path, search, { pageUrl: ev.currentTarget.value })}>
      ${listed ? null : html`<option value=${url}>${shortUrl(url)}</option>`}
      ${pages.map(
        (p) =>
          html`<option value=${p.url}>${shortUrl(p.url)} · ${views(p.pageViews)}${p.replays ? '' : ' · no replay'}</option>`,
      )}
    </select>
  </label>`;
}

function WidthChoice({ width, path, search }) {
  return html`<div class="heatmap-width">
    <span aria-hidden="true">Width</span>
    <div class="tabs" role="group" aria-label="Viewport width">
      ${WIDTHS.map(
        (w) => html`<button type="button" class="tab" aria-pressed=${w.width === width ? 'true' : 'false'}
          onClick=${() => go(path, search, { width: w.width })}>${w.label} <span class="muted">${w.width}</span></button>`,
      )}
    </div>
  </div>`;
}

/** The viewer's map mode in a frame; `message` is (re)sent whenever the frame is ready. */
function MapFrame({ src, message, onDrawn, onFailed }) {
  const frame = useRef(null);
  const ready = useRef(false);
  const [height, setHeight] = useState(480);
  const send = () => frame.current?.contentWindow?.postMessage(message, location.origin);
  useEffect(() => {
    const onMessage = (ev) => {
      if (ev.origin !== location.origin || ev.source !== frame.current?.contentWindow) return;
      const m = readMapMessage(ev.data);
      if (!m) return;
      if (m.height) setHeight(Math.ceil(m.height));
      if (m.type === 'ready') {
        ready.current = true;
        send();
      } else if (m.type === 'drawn') onDrawn(m);
      else onFailed(m.message);
    };
    window.addEventListener('message', onMessage);
    return () => window.removeEventListener('message', onMessage);
  });
  useEffect(() => {
    if (ready.current) send();
  }, [message]);
  return html`<iframe ref=${frame} class="heatmap-frame" src=${src} style=${`height:${height}px`}
    title="Snapshot of the page with the heatmap" tabindex="-1"></iframe>`;
}

function NoSnapshot({ error, retry }) {
  if (error.status !== 404) return html`<${ErrorBox} error=${error} retry=${retry} />`;
  return html`<div class="empty heatmap-empty">
    <p><strong>No replay of this page yet.</strong> The map is drawn over a recording of the page.</p>
    <p>Turn replay on for this site (the tag's <code>data-replay="1"</code>, or the brand's replay
    sample rate in Settings) and visit the page once; the table below lists its clicks meanwhile.</p>
  </div>`;
}

function SnapshotPanel({ api, url, hs, clicks, depths, path, search, onDrawn }) {
  const snap = useLoad(async (signal) => {
    const found = await api.get('/heatmaps/snapshot', { url, width: hs.width }, { signal }).then((r) => r.data);
    const id = encodeURIComponent(found.replayId);
    const share = await api.post(`/replays/${id}/share`, { expires_in: SHARE_SECONDS }, { signal });
    return { ...found, src: mapUrl(share.data.url, hs.width, location.href) };
  }, `${url}|${hs.width}`);
  const [failed, setFailed] = useState('');
  const message = useMemo(
    () => heatmapMessage(hs.layer, clicks, depths, Math.round(Math.min(innerHeight * MAP_VH, MAP_MAX_PX))),
    [hs.layer, clicks, depths],
  );
  const tabs = LAYERS.map((l) => ({ label: LAYER_LABELS[l] }));
  const pick = (i) => go(path, search, { layer: LAYERS[i] === 'clicks' ? null : LAYERS[i] }, true);
  const picker = html`<${Tabs} tabs=${tabs} current=${LAYERS.indexOf(hs.layer)} onPick=${pick} label="Show on the page" />`;
  let body;
  if (snap.status === 'loading') body = html`<${Skeleton} rows=${6} label="Rebuilding the page" />`;
  else if (snap.status === 'error') body = html`<${NoSnapshot} error=${snap.error} retry=${snap.retry} />`;
  else {
    const d = snap.data;
    body = html`<p class="muted small">Recorded ${formatDateTime(d.startedAt)}
      ${d.viewportWidth ? ` at ${d.viewportWidth} px wide` : ''}, shown at ${hs.width} px.</p>
      ${failed ? html`<p class="error" role="alert">The snapshot could not be shown: ${failed}</p>` : null}
      <div class="heatmap-map" tabindex="0" role="region" aria-label="Snapshot of the page (scrolls)"><${MapFrame} key=${d.src} src=${d.src} message=${message}
        onDrawn=${(m) => onDrawn(m, d.replayId)} onFailed=${setFailed} /></div>`;
  }
  return html`<${Panel} title="On the page" className="heatmap-snapshot" tabs=${picker}>${body}</${Panel}>`;
}

function SelectorTable({ clicks, boxes }) {
  const total = clicks.reduce((sum, r) => sum + r.clicks, 0);
  const columns = [
    { key: 'selector', label: 'Element', className: 'wrap mono' },
    { key: 'clicks', label: 'Clicks', numeric: true, render: (r) => formatNumber(r.clicks) },
    { key: 'place', label: 'On this snapshot', render: (r) => placeText(boxes?.get(r.selector)) },
    { key: 'share', label: 'Share', numeric: true, render: (r) => formatPercent(total ? r.clicks / total : 0) },
    { key: 'visitors', label: 'Visitors', numeric: true, render: (r) => formatNumber(r.visitors) },
    { key: 'rage', label: 'Rage', numeric: true, render: (r) => formatNumber(r.rage) },
    { key: 'dead', label: 'Dead', numeric: true, render: (r) => formatNumber(r.dead) },
    { key: 'error', label: 'Error', numeric: true, render: (r) => formatNumber(r.error) },
  ];
  return html`<${DataTable} columns=${columns} rows=${clicks} caption="Clicked elements" rowKey=${(r) => r.selector}
    empty="No clicks on this page in this range: pick a longer range, or check that the tracker is on the page." />`;
}

function ScrollDepth({ scroll }) {
  if (!scroll.pageViews) {
    return html`<p class="empty">No scroll depth measured on this page in this range. It is recorded when a visitor
      leaves the page, by the tracker's frustration-signals script (on unless the brand turned it off).</p>`;
  }
  return html`<p class="muted small">Of ${views(scroll.pageViews, 'measured page view')}, the share that reached each tenth of the page.</p>
    <table class="depth-bars">
      <caption class="sr-only">Scroll depth</caption>
      <thead><tr><th scope="col">Reached</th><th scope="col" class="num">Page views</th><th scope="col">Share</th></tr></thead>
      <tbody>
        ${scroll.depths.map(
          (d) => html`<tr key=${d.depth}>
            <th scope="row">${d.depth}%</th>
            <td class="num">${formatNumber(d.pageViews)}</td>
            <td class="depth-cell"><span class="depth-bar" style=${`width:${Math.round(d.share * 100)}%`}></span>
              <span class="depth-value">${formatPercent(d.share)}</span></td>
          </tr>`,
        )}
      </tbody>
    </table>`;
}

function PageHeatmap({ api, url, hs, params, path, search }) {
  const load = useLoad(
    async (signal) => {
      const q = { ...params, url };
      const [clicks, scroll] = await Promise.all([
        api.get('/heatmaps/clicks', q, { signal }).then((r) => r.data),
        api.get('/heatmaps/scroll', q, { signal }).then((r) => r.data),
      ]);
      return { clicks, scroll };
    },
    `${url}|${JSON.stringify(params)}`,
  );
  const [drawn, setDrawn] = useState(null);
  const onDrawn = (m, replayId) => {
    setDrawn(m);
    const prior = window.dashboard?.heatmap?.drawn || 0;
    const boxes = Object.fromEntries(m.boxes);
    window.dashboard = {
      ...window.dashboard,
      heatmap: { replayId, width: hs.width, layer: m.mode, drawn: prior + 1, boxes },
    };
  };
  return html`<${Loaded} load=${load} rows=${6}>${({ clicks, scroll }) => html`
    <${SnapshotPanel} api=${api} url=${url} hs=${hs} clicks=${clicks.clicks} depths=${scroll.depths}
      path=${path} search=${search} onDrawn=${onDrawn} />
    <div class="heatmap-tables">
      <${Panel} title="Clicked elements">
        <p class="muted small">${views(clicks.pageViews, 'page view')}. Elements are matched by their CSS selector in the snapshot, so the map follows layout changes.</p>
        <${SelectorTable} clicks=${clicks.clicks} boxes=${drawn?.boxes} />
      </${Panel}>
      <${Panel} title="Scroll depth"><${ScrollDepth} scroll=${scroll} /></${Panel}>
    </div>`}</${Loaded}>`;
}

export function HeatmapPage({ api, state, search, path }) {
  const hs = readHeatmapState(search);
  const params = timeParams(state, browserZone());
  const pages = useLoad(
    (signal) => api.get('/heatmaps/pages', params, { signal }).then((r) => r.data.pages || []),
    JSON.stringify(params),
  );
  const url = hs.pageUrl || pages.data?.[0]?.url || '';
  return html`
    <${PageTitle}>Heatmaps</${PageTitle}>
    <div class="controls heatmap-controls">
      <div class="controls-row">
        <${RangePicker} state=${state} path=${path} search=${search} />
        <${BotSwitch} state=${state} path=${path} search=${search} />
      </div>
      <div class="controls-row">
        ${pages.status === 'done' && url ? html`<${PagePicker} pages=${pages.data} url=${url} path=${path} search=${search} />` : null}
        <${WidthChoice} width=${hs.width} path=${path} search=${search} />
      </div>
    </div>
    <${Loaded} load=${pages} rows=${4}>${() =>
      url
        ? html`<${PageHeatmap} key=${url} api=${api} url=${url} hs=${hs} params=${params} path=${path} search=${search} />`
        : html`<p class="empty">No page views in this range: pick a longer range, or check that the tracker is on your pages.</p>`}</${Loaded}>`;
}
