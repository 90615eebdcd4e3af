// Single-page apps: a navigation is history.pushState/replaceState, back/forward, or a hash change.
export function spa(nav) {
  for (const m of ['pushState', 'replaceState']) {
    const o = history[m];
    history[m] = function (...a) {
      const r = o.apply(this, a); // the page's own errors stay the page's
      nav();
      return r;
    };
  }
  addEventListener('popstate', nav);
  addEventListener('hashchange', nav);
}
