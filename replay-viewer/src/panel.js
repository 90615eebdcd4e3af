// The side panel: the session's pages, the visitor, and the events of the page being played.
import { $, clock, dateTime, h, shortUrl } from './dom.js';

const regionNames = (() => {
  try {
    return new Intl.DisplayNames(undefined, { type: 'region' });
  } catch {
    return null;
  }
})();

const country = (code) => {
  if (!code) return '';
  try {
    return regionNames?.of(code.toUpperCase()) || code;
  } catch {
    return code;
  }
};

const join = (...parts) => parts.filter((p) => p != null && p !== '').join(' ');
const cap = (s) => (s ? s[0].toUpperCase() + s.slice(1) : s);

/** The visitor's rows, from clicks/session (geo) and the session's first click (the rest). */
export function visitorRows(session, click) {
  const geo = session?.geoData || click?.geo || {};
  const rows = [];
  const place = [geo.city, geo.region, country(geo.country)].filter(Boolean);
  rows.push(['Location', [...new Set(place)].join(', ')]);
  if (click) {
    const d = click.device || {};
    rows.push(['Device', [cap(d.type), join(d.brand, d.model)].filter(Boolean).join(' · ')]);
    rows.push(['OS', join(click.os?.name, click.os?.version)]);
    rows.push(['Browser', join(click.browser?.name, click.browser?.version)]);
    rows.push(['Language', click.language]);
    const r = click.referrer || {};
    const via = r.name || r.host;
    rows.push(['Referrer', via ? join(via, r.type && r.type !== via ? `(${r.type})` : '') : r.url ? r.url : 'Direct']);
    if (r.url && via) rows.push(['Referrer URL', r.url]);
    const utm = click.utm || {};
    for (const field of ['source', 'medium', 'campaign', 'term', 'content']) {
      if (utm[field]) rows.push([`UTM ${field}`, utm[field]]);
    }
    rows.push(['First seen', dateTime(click.created_at)]);
    if (click.is_bot) rows.push(['Bot', 'yes']);
  }
  return rows.filter(([, value]) => value);
}

export function renderVisitor(session, click, note) {
  const list = $('visitor');
  const rows = visitorRows(session, click);
  list.replaceChildren(...rows.flatMap(([name, value]) => [h('dt', null, name), h('dd', { title: value }, value)]));
  if (!rows.length) list.append(h('dd', { class: 'muted' }, 'Nothing known about this visitor.'));
  $('visitor-note').textContent = note || '';
  $('visitor-note').hidden = !note;
}

export function renderPages(pages, currentId, onPick) {
  const list = $('pages');
  list.replaceChildren(
    ...pages.map((page, i) =>
      h(
        'li',
        { class: page.id === currentId ? 'current' : null },
        h(
          'button',
          {
            type: 'button',
            'aria-current': page.id === currentId ? 'true' : null,
            title: page.url || page.id,
            onclick: () => onPick(page.id),
            'data-replay': page.id,
          },
          h('span', { class: 'num' }, i + 1),
          h('span', { class: 'path' }, shortUrl(page.url) || page.id),
          h('span', { class: 'dur' }, page.duration_ms != null ? clock(page.duration_ms) : ''),
        ),
      ),
    ),
  );
  $('pages-count').textContent = pages.length ? `${pages.length}` : '';
}

// The kind's name before the label; a signal's label starts with its own name.
const ICON = { click: 'Click', page_view: 'Page view', custom: 'Event' };
// Frustration signals: a row of their own colour, and the marker's glyph (style.css), not
// colour alone.
const SIGNALS = new Set(['rage', 'dead', 'error']);

export function renderEvents(markers, onPick) {
  const list = $('events');
  list.replaceChildren(
    ...markers.map((m) =>
      h(
        'li',
        null,
        h(
          'button',
          {
            type: 'button',
            class: SIGNALS.has(m.kind) ? `signal signal-${m.kind}` : null,
            title: m.detail || m.label,
            onclick: () => onPick(m.ts),
            'data-ts': m.ts,
            'data-kind': m.kind,
          },
          h('span', { class: `mk mk-${m.kind}`, 'aria-hidden': 'true' }),
          h('span', { class: 'at' }, clock(m.ts)),
          h('span', { class: 'what' }, ...(ICON[m.kind] ? [h('b', null, ICON[m.kind]), ' '] : []), m.label),
        ),
      ),
    ),
  );
  if (!markers.length) list.append(h('li', { class: 'muted' }, 'No clicks or events on this page.'));
}
