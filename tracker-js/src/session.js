// The only module that touches storage. localStorage keys:
//   ct_v  visitor id (kept until the user clears it)
//   ct_s  "<session id>.<last activity, ms>" (a new session after 30 minutes without activity)
//   ct_c  "<click id>.<expiry, ms>": a short link's click id (the landing URL's ct_id), kept for
//         the brand's attribution window
// In cookieless mode, or once storage has thrown, nothing is read or written, and beacons carry
// neither `v` nor `s`: the collector derives the visitor and continues its session itself. A
// click id from the landing URL is then kept in memory, for this page load only.
import { isId, newId } from './ids.js';

let off;
let c; // the click id (`c`)
let x; // when it expires, ms
let t; // when this page landed with it (ms); none when it came from storage

export const noStore = () => (off = 1);

// The landing URL carried a click id: held in memory until the storage mode is known.
export const landed = (id) => {
  c = id;
  t = Date.now();
};

// Visitor and session ids for a batch whose events happened from t0 to t1 (ms).
export function ids(t0, t1) {
  if (!off)
    try {
      const S = localStorage;
      let v = S.getItem('ct_v');
      if (!isId(v)) {
        v = newId();
        S.setItem('ct_v', v);
      }
      let [s, t] = (S.getItem('ct_s') || '').split('.');
      if (!isId(s) || !(t0 - t < 18e5)) s = newId();
      S.setItem('ct_s', s + '.' + Math.max(t1, t || 0));
      return { v, s };
    } catch {
      off = 1;
    }
  return {};
}

// The click id to send while it is valid: the landing URL's, kept for `days` (the brand's `a`)
// from the landing, then what storage holds (a later landing in another tab wins).
export function clickId(days = 90) {
  if (t) x = t + days * 864e5;
  if (!off)
    try {
      const S = localStorage;
      if (t) S.setItem('ct_c', c + '.' + x);
      t = 0;
      [c, x] = (S.getItem('ct_c') || '').split('.');
    } catch {
      off = 1;
    }
  return isId(c) && Date.now() < x ? c : undefined;
}
