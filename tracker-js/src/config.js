// What the page told us (the script tag) and what the brand told us (GET /config/{site}).

// k: site key, a: collector base URL, f: funnel id, replay: data-replay ("0" | "1" | undefined),
// b: the brand config once it has arrived ({c, d, r, m}, see docs/WIRE.md). The replay
// recorder, when it comes, reads `replay` and `b` from here.
export const cfg = {};

export function readTag() {
  // currentScript is null for module scripts; fall back to the first tagged script.
  const el = document.currentScript || document.querySelector('script[data-site]');
  const d = el.dataset;
  cfg.k = d.site;
  cfg.a = (d.api || new URL(el.src).origin).replace(/\/+$/, '');
  // biome-ignore lint/correctness/useParseIntRadix: as it was; a radix of 10 would read "0x1f" as 0
  cfg.f = parseInt(d.funnel) || undefined;
  cfg.replay = d.replay;
  if (!cfg.k) throw 'data-site missing';
}

// The browser asks not to be tracked (Do Not Track or Global Privacy Control).
export const dnt = () => navigator.doNotTrack == '1' || navigator.globalPrivacyControl === true;

export const loadBrand = () =>
  fetch(cfg.a + '/config/' + cfg.k).then((r) => {
    if (!r.ok) throw 'config ' + r.status;
    return r.json();
  });
