// The frame around every page: the nav, the brand picker, who is signed in and Sign out, the
// footer; and the page for the path.
import { useEffect, useRef } from 'preact/hooks';
import { brandApi, csrfToken } from './api.js';
import { html } from './html.js';
import { ConversionsPage } from './pages/conversions.js';
import { HeatmapPage } from './pages/heatmap.js';
import { LinksPage } from './pages/links.js';
import { OverviewPage } from './pages/overview.js';
import { ReplaysPage } from './pages/replays.js';
import { SessionPage } from './pages/session.js';
import { SessionsPage } from './pages/sessions.js';
import { SettingsPage } from './pages/settings.js';
import { Link, matchRoute, navigate, useLocation } from './router.js';
import { readState, sharedSearch, withParams } from './urlstate.js';

const NAV = [
  ['/', 'Overview', 'overview'],
  ['/sessions', 'Sessions', 'sessions'],
  ['/replays', 'Replays', 'replays'],
  ['/heatmaps', 'Heatmaps', 'heatmaps'],
  ['/conversions', 'Conversions', 'conversions'],
  ['/links', 'Links', 'links'],
  ['/settings', 'Settings', 'settings'],
];
const PAGES = {
  overview: OverviewPage,
  sessions: SessionsPage,
  session: SessionPage,
  replays: ReplaysPage,
  conversions: ConversionsPage,
  links: LinksPage,
  settings: SettingsPage,
  heatmaps: HeatmapPage,
};

function BrandPicker({ brands, brand, search }) {
  if (brands.length < 2) return html`<span class="brand-name">${brand?.name || ''}</span>`;
  const choose = (ev) => navigate(`/${withParams(search, { brand: ev.currentTarget.value })}`);
  return html`<label class="brand-picker"><span class="sr-only">Brand</span>
    <select value=${String(brand.id)} onChange=${choose}>
      ${brands.map((b) => html`<option value=${String(b.id)}>${b.name}</option>`)}
    </select>
  </label>`;
}

function SignOut() {
  return html`<form method="post" action="/logout" class="signout">
    <input type="hidden" name="csrf_token" value=${csrfToken()} />
    <button type="submit" class="button small">Sign out</button>
  </form>`;
}

function Header({ boot, brand, route, search }) {
  const shared = sharedSearch(search);
  const items = NAV.filter(([, , name]) => name !== 'settings' || boot.role === 'admin');
  const isCurrent = (name) => name === route || (name === 'sessions' && route === 'session');
  return html`<header class="top">
    <div class="top-row">
      <a class="logo" href=${`/${shared}`}><span class="logo-mark" aria-hidden="true"></span>Clicktrail</a>
      <${BrandPicker} brands=${boot.brands} brand=${brand} search=${search} />
      <div class="who">
        <span class="email">${boot.email}</span>
        <${SignOut} />
      </div>
    </div>
    <nav aria-label="Main">
      <ul>
        ${items.map(
          ([path, label, name]) => html`<li>
            <${Link} href=${path + shared} aria-current=${isCurrent(name) ? 'page' : undefined}>${label}</${Link}>
          </li>`,
        )}
      </ul>
    </nav>
  </header>`;
}

function Footer({ boot }) {
  return html`<footer class="foot">
    ${
      boot.geoAttribution
        ? html`<p><a href="https://db-ip.com" rel="noopener">IP geolocation by DB-IP</a> (CC BY 4.0)</p>`
        : null
    }
  </footer>`;
}

export function App({ boot }) {
  const loc = useLocation();
  const [route, params] = matchRoute(loc.path);
  const state = readState(loc.search);
  const brand = boot.brands.find((b) => String(b.id) === state.brand) || boot.brands[0];
  const first = useRef(true);
  useEffect(() => {
    // after a client-side navigation, move the focus to the new page's heading (not on load)
    if (!first.current) document.getElementById('page-title')?.focus({ preventScroll: true });
    first.current = false;
  }, [loc.path]);
  let body;
  if (!brand) {
    body = html`<h1>No brand yet</h1><p>Your account has not been given a brand. Ask an admin to add you to one.</p>`;
  } else if (route === 'notfound') {
    body = html`<h1>Not found</h1><p>There is no page at ${loc.path}. <${Link} href="/">Back to the overview</${Link}></p>`;
  } else {
    const Page = PAGES[route];
    const api = brandApi(brand.id);
    body = html`<${Page} key=${`${route}:${brand.id}`} boot=${boot} brand=${brand} api=${api} state=${state}
      search=${loc.search} path=${loc.path} ...${params} />`;
  }
  return html`
    <a class="skip" href="#main">Skip to content</a>
    <${Header} boot=${boot} brand=${brand} route=${route} search=${loc.search} />
    <main id="main">${body}</main>
    <${Footer} boot=${boot} />`;
}
