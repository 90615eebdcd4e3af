// A client-side router over real paths: history.pushState, popstate, and a Link that keeps
// ctrl/cmd/middle clicks for the browser (a new tab loads the same page from the server).
import { useEffect, useState } from 'preact/hooks';
import { html } from './html.js';

const listeners = new Set();
const current = () => ({ path: location.pathname, search: location.search });

export function navigate(url, { replace = false } = {}) {
  const next = new URL(url, location.href);
  if (next.origin !== location.origin) {
    location.href = next.href;
    return;
  }
  const to = next.pathname + next.search + next.hash;
  if (to === location.pathname + location.search + location.hash) return;
  if (replace) history.replaceState(null, '', to);
  else history.pushState(null, '', to);
  for (const fn of listeners) fn(current());
  if (!replace) window.scrollTo(0, 0);
}

window.addEventListener('popstate', () => {
  for (const fn of listeners) fn(current());
});

/** {path, search} of the page, re-rendering on every navigation. */
export function useLocation() {
  const [loc, setLoc] = useState(current);
  useEffect(() => {
    listeners.add(setLoc);
    return () => listeners.delete(setLoc);
  }, []);
  return loc;
}

const plainClick = (ev) => ev.button === 0 && !ev.metaKey && !ev.ctrlKey && !ev.shiftKey && !ev.altKey;

export function Link({ href, children, ...rest }) {
  const onClick = (ev) => {
    if (!plainClick(ev) || rest.target) return;
    ev.preventDefault();
    navigate(href);
  };
  return html`<a href=${href} onClick=${onClick} ...${rest}>${children}</a>`;
}

/** The page for a path: [name, params] or ['notfound', {}]. */
export function matchRoute(path) {
  const clean = path.replace(/\/+$/, '') || '/';
  const fixed = {
    '/': 'overview',
    '/sessions': 'sessions',
    '/replays': 'replays',
    '/conversions': 'conversions',
    '/funnels': 'conversions',
    '/links': 'links',
    '/settings': 'settings',
    '/heatmaps': 'heatmaps',
  };
  if (fixed[clean]) return [fixed[clean], {}];
  const session = /^\/sessions\/([^/]+)$/.exec(clean);
  if (session) return ['session', { id: decodeURIComponent(session[1]) }];
  return ['notfound', {}];
}
