// One session (/sessions/{id}): the visitor, the time-ordered events (short-link click, leads and
// sales in place), and the replay, opened at the second of any event clicked.
import { useEffect, useRef, useState } from 'preact/hooks';
import { clock, formatDateTime, formatMoney, shortUrl } from '../format.js';
import { html } from '../html.js';
import { useLoad } from '../load.js';
import { replayFor, seekStatus } from '../replays.js';
import { countryName } from '../report.js';
import { Link, navigate } from '../router.js';
import { CsvButton, ErrorBox, Loaded, PageTitle } from '../ui/common.js';
import { Panel } from '../ui/panel.js';
import { sharedSearch } from '../urlstate.js';

const SHARE_SECONDS = 3600;
const KIND = {
  page_view: 'Page view',
  click: 'Click',
  scroll: 'Scroll',
  link_click: 'Short-link click',
  qr_scan: 'QR scan',
  lead: 'Lead',
  sale: 'Sale',
  identify: 'Identified',
};

async function loadSession(api, id, signal) {
  const path = encodeURIComponent(id);
  const [session, first] = await Promise.all([
    api.get(`/clicks/session/${path}`, {}, { signal }).then((r) => r.data),
    api
      .get('/clicks', { click_id: id }, { signal })
      .then((r) => r.data?.data?.[0] || null)
      .catch(() => null),
  ]);
  return { session, first };
}

function detailOf(ev) {
  const d = ev.data || {};
  if (ev.type === 'click') return d.text ? `“${String(d.text).slice(0, 80)}”` : d.selector || '';
  if (ev.type === 'lead') return [d.eventName, d.customerExternalId].filter(Boolean).join(' · ');
  if (ev.type === 'sale')
    return [d.eventName, `${formatMoney(d.amount)} ${d.currency || ''}`.trim()].filter(Boolean).join(' · ');
  if (ev.type === 'link_click' || ev.type === 'qr_scan') return d.link_id ? `link ${d.link_id}` : '';
  if (ev.type === 'identify' || ev.type === 'page_view' || ev.type === 'scroll') return '';
  const data = Object.keys(d).length ? ` ${JSON.stringify(d).slice(0, 80)}` : '';
  return `${ev.type}${data}`; // a custom event: its name and data
}

function Visitor({ session, first }) {
  const geo = session.geoData || {};
  const utm = first?.utm ? [first.utm.source, first.utm.medium, first.utm.campaign].filter(Boolean).join(' / ') : '';
  const rows = [
    ['Location', [geo.city, countryName(geo.country || first?.geo?.country)].filter(Boolean).join(', ') || '–'],
    ['Device', first?.device?.type || '–'],
    ['Browser', first?.browser ? `${first.browser.name || ''} ${first.browser.version || ''}`.trim() || '–' : '–'],
    ['OS', first?.os ? `${first.os.name || ''} ${first.os.version || ''}`.trim() || '–' : '–'],
    ['Language', first?.language || '–'],
    ['Referrer', first?.referrer?.url || first?.referrer?.host || 'Direct / none'],
    ['UTM', utm || '–'],
    ['First seen', formatDateTime(first?.created_at || session.events?.[0]?.timestamp)],
  ];
  return html`<${Panel} title="Visitor" className="visitor">
    <dl class="facts">${rows.map(([k, v]) => html`<div><dt>${k}</dt><dd>${v}</dd></div>`)}</dl>
  </${Panel}>`;
}

function Events({ events, replays, onPick, picked }) {
  const csv = [
    { key: 'timestamp', label: 'time' },
    { key: 'type', label: 'type' },
    { key: 'url', label: 'url' },
    { key: detailOf, label: 'detail' },
  ];
  const start = events.length ? Date.parse(events[0].timestamp) : 0;
  return html`<${Panel} title="Events" className="events" actions=${html`<${CsvButton} title="Session events" columns=${csv} rows=${events} />`}>
    ${events.length ? null : html`<p class="empty">No events.</p>`}
    <ol class="timeline">
      ${events.map((ev, i) => {
        const ms = Date.parse(ev.timestamp);
        const replay = replays.length ? replayFor(replays, ms, ev.click_id) : null;
        const label = KIND[ev.type] || 'Event';
        const body = html`<span class=${`kind kind-${ev.type}`}>${label}</span>
          <span class="when">+${clock(ms - start)}</span>
          <span class="what">${shortUrl(ev.url)} ${detailOf(ev)}</span>`;
        return html`<li key=${i} class=${picked === i ? 'picked' : ''}>
          ${
            replay
              ? html`<button type="button" class="event-button" onClick=${() => onPick(i, replay, ms)}
                  aria-label=${`${label} at +${clock(ms - start)}: open the replay at this moment`}>${body}</button>`
              : html`<div class="event-row">${body}</div>`
          }
        </li>`;
      })}
    </ol>
  </${Panel}>`;
}

/** The viewer in an iframe (a share link: it takes no cookie), seeked once it is ready. */
function ReplayFrame({ api, target }) {
  const frame = useRef(null);
  const load = useLoad(async (signal) => {
    const id = encodeURIComponent(target.replay.id);
    const [share, index] = await Promise.all([
      api.post(`/replays/${id}/share`, { expires_in: SHARE_SECONDS }, { signal }).then((r) => r.data),
      api.get(`/replays/${id}/index`, {}, { signal }).then((r) => r.data),
    ]);
    return { url: share.url, firstMs: index.first_event_ms };
  }, target.replay.id);
  const [status, setStatus] = useState('');
  useEffect(() => {
    if (load.status !== 'done' || !frame.current) return;
    const seekMs = Math.max(0, target.ms - load.data.firstMs);
    let cancelled = false;
    let seeked = null; // the viewer (one per document in the frame) already asked to seek
    const seek = async () => {
      const viewer = frame.current?.contentWindow?.viewer;
      // the viewer can be there before the frame's load event: seek once, not twice
      if (!viewer || viewer === seeked) return;
      seeked = viewer;
      try {
        await viewer.ready;
        if (cancelled) return;
        await viewer.seek(seekMs);
        if (cancelled) return;
        setStatus(seekStatus(seekMs, viewer.durationMs));
        // test hook: which replay was opened where, and how many times one was opened
        const opened = (window.dashboard?.opened || 0) + 1;
        window.dashboard = { ...window.dashboard, replayId: target.replay.id, seekMs, opened };
      } catch (err) {
        if (!cancelled) setStatus(`The replay could not be opened: ${err.message}`);
      }
    };
    const el = frame.current;
    if (el.contentWindow?.viewer) seek();
    el.addEventListener('load', seek);
    return () => {
      cancelled = true;
      el.removeEventListener('load', seek);
    };
  }, [load.status, load.data, target.ms, target.replay.id]);
  if (load.status === 'error') return html`<${ErrorBox} error=${load.error} retry=${load.retry} />`;
  if (load.status === 'loading') return html`<p role="status">Opening the replay…</p>`;
  const path = new URL(load.data.url, location.href);
  return html`<div class="replay">
    <iframe ref=${frame} src=${path.pathname + path.search + path.hash} title="Session replay" allow="fullscreen"></iframe>
    <p class="muted" role="status" aria-live="polite">${status}</p>
  </div>`;
}

function ReplayPanel({ api, replays, target }) {
  if (!replays.length) {
    return html`<${Panel} title="Replay" className="replay-panel"><p class="empty">This session has no replay.</p></${Panel}>`;
  }
  return html`<${Panel} title="Replay" className="replay-panel">
    <p class="muted">Click an event to open the replay at that moment.</p>
    <${ReplayFrame} key=${target.replay.id} api=${api} target=${target} />
  </${Panel}>`;
}

export function SessionPage({ api, id, search }) {
  const load = useLoad((signal) => loadSession(api, id, signal), id);
  const [target, setTarget] = useState(null);
  const [picked, setPicked] = useState(null);
  const back = `/sessions${sharedSearch(search)}`;
  return html`
    <${PageTitle} actions=${html`<${Link} href=${back} class="button secondary small">All sessions</${Link}>`}>Session</${PageTitle}>
    <p class="mono session-id">${id}</p>
    <${Loaded} load=${load} rows=${8}>${({ session, first }) => {
      const replays = session.replays || [];
      const events = session.events || [];
      const firstReplay = replays.length ? replayFor(replays, 0) : null;
      const shown = target || (firstReplay ? { replay: firstReplay, ms: Date.parse(firstReplay.started_at) } : null);
      const pick = (i, replay, ms) => {
        setPicked(i);
        setTarget({ replay, ms });
      };
      return html`<div class="session-grid">
        <div class="session-side">
          <${Visitor} session=${session} first=${first} />
          <${Events} events=${events} replays=${replays} onPick=${pick} picked=${picked} />
        </div>
        <${ReplayPanel} api=${api} replays=${replays} target=${shown} />
      </div>`;
    }}</${Loaded}>
    ${load.status === 'error' && load.error.status === 404 ? html`<p><button type="button" class="link-button" onClick=${() => navigate(back)}>Back to the sessions</button></p>` : null}`;
}
