// What the page told us (the script tag) and what the brand told us (GET /config/{site}, or
// baked into the script by GET /t.js?site=KEY).

// k: site key, a: collector base URL, f: funnel id, replay: data-replay ("0" | "1" | undefined),
// b: the brand config once it is known ({c, d, r, m, a, x}, see docs/WIRE.md). The replay
// recorder, when it comes, reads `replay` and `b` from here.
export const cfg = {};

// The brand config with its site key `k`, baked in by GET /t.js?site=KEY: the collector
// replaces this string with `({...})`. In the plain /t.js it stays a string (no `k`).
const BAKED = '__CT_BAKED__';

export function readTag() {
  // currentScript is null for module scripts; fall back to the first tagged script.
  const el = document.currentScript || document.querySelector('script[data-site]');
  const d = el.dataset;
  cfg.k = d.site || BAKED.k;
  cfg.a = (d.api || new URL(el.src).origin).replace(/\/+$/, '');
  // biome-ignore lint/correctness/useParseIntRadix: as it was; a radix of 10 would read "0x1f" as 0
  cfg.f = parseInt(d.funnel) || undefined;
  cfg.replay = d.replay;
  if (!cfg.k) throw 'data-site missing';
}

// The browser asks not to be tracked (Do Not Track or Global Privacy Control).
export const dnt = () => navigator.doNotTrack == '1' || !!navigator.globalPrivacyControl;

// The brand config: the baked one when it is this site's, else GET /config/{site}. A failure
// rejects with the HTTP status (404: unknown site key) or the network error.
export const loadBrand = () =>
  BAKED.k == cfg.k
    ? Promise.resolve(BAKED)
    : fetch(cfg.a + '/config/' + cfg.k).then((r) => {
        if (!r.ok) throw r.status;
        return r.json();
      });
