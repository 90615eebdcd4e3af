// What counts as clickable, and the short CSS selector of an element: shared by t.js's clicks
// and t/x.js's dead and error clicks.

export const TARGET = 'a,button,[role=button],input[type=submit],input[type=button],label,summary';
const ident = (s) => /^-?[_a-z][\w-]*$/i.test(s); // usable as-is in a selector

// `button#buy-now`, `a.cta.primary`, `div > span`: up to 3 levels, stopping at the first
// element with an id or a class.
export function selector(el) {
  const out = [];
  for (let i = 0; i < 3 && el && !/^(body|html)$/.test(el.localName); i++) {
    const c = [...el.classList].filter(ident).slice(0, 2);
    let p = el.localName;
    if (ident(el.id)) p += '#' + el.id;
    else if (c[0]) p += '.' + c.join('.');
    out.unshift(p);
    if (p != el.localName) break;
    el = el.parentElement;
  }
  return out.join(' > ') || el.localName;
}
