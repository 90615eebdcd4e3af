// The only module that touches storage. localStorage keys:
//   ct_v  visitor id (kept until the user clears it)
//   ct_s  "<session id>.<last activity, ms>" (a new session after 30 minutes without activity)
// In cookieless mode, or once storage has thrown, nothing is read or written, and beacons carry
// neither `v` nor `s`: the collector derives the visitor and continues its session itself.
import { isId, newId } from './ids.js';

let off;

export const noStore = () => (off = 1);

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
