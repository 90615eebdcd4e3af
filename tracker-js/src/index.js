// Clicktrail tracker entry point: <script defer src=".../t.js" data-site="KEY"></script>
import { onClick } from './click.js';
import { loadBrand, readTag } from './config.js';
import { hide, identify, nav, page, record, start, stop } from './events.js';
import { guard } from './guard.js';
import { isId } from './ids.js';
import { landed } from './session.js';
import { spa } from './spa.js';

function track(name, data) {
  if (typeof name != 'string' || !name || name.length > 64) throw 'bad event name';
  if (data != null && (typeof data != 'object' || Array.isArray(data))) throw 'bad event data';
  // A snapshot now, and a circular object fails here rather than in the beacon. Data the
  // collector would refuse (over 16 KiB) is dropped here, so it never costs the beacon.
  const j = data && JSON.stringify(data);
  if (j && new Blob([j]).size > 16384) throw 'event data over 16 KiB';
  record(name, j && JSON.parse(j));
}

// A short link's click id in the landing URL (`?ct_id=`): kept (session.js) and taken out of
// the address bar, every other parameter and the hash left as they were. Before spa() wraps
// replaceState, so it is no navigation. A ct_id that is not an id is not ours: left alone.
function landing() {
  const s = location.search;
  const m = s.match(/([?&])ct_id=([^&]*)&?/);
  if (m && isId(m[2])) {
    landed(m[2]);
    history.replaceState(
      history.state,
      '',
      location.pathname + s.replace(m[0], m[1]).replace(/[?&]$/, '') + location.hash,
    );
  }
}

guard(() => {
  // Keep the object a pre-load stub may have made, so references to it stay good.
  const ct = window.clicktrail || {};
  window.clicktrail = ct;
  if (ct.loaded) return; // the tag is on the page twice
  ct.loaded = 1;
  ct.track = guard(track);
  ct.identify = guard(identify);
  ct._e = record; // for t/x.js: record(type, data, time), an internal hook (docs/TRACKER.md)
  try {
    readTag();
  } catch (e) {
    return stop(e); // the API stays callable, and does nothing
  }
  guard(landing)();
  page();
  // Calls made before the script loaded: [["track", name, data], ["identify", id], ...], each
  // to the guarded API.
  (ct.q || []).forEach(guard((c) => ct[c[0]](...c.slice(1))));
  ct.q = [];

  const on = (t, f, o) => t.addEventListener(f, guard(o), true);
  on(document, 'click', onClick);
  spa(guard(nav));
  on(window, 'pagehide', () => hide());
  on(document, 'visibilitychange', () => document.hidden && hide());
  on(window, 'pageshow', (e) => e.persisted && page());

  // An unknown site key stops; any other failure (network, blocked, CORS, 5xx) is as if the
  // page were left before the config: cookieless, or nothing under DNT.
  loadBrand()
    .then(start)
    .catch((e) => (e == 404 ? stop : hide)('config ' + e));
})();
