// Clicks: the interactive element clicked (or the element itself), a short CSS selector, its
// visible text, and the page coordinates.
import { record } from './events.js';

const TARGET = 'a,button,[role=button],input[type=submit],input[type=button],label,summary';
// Text is never taken from form fields, editable content, or what the brand masks or blocks.
const NO_TEXT = 'input,textarea,select,[contenteditable],[data-ct-mask],[data-ct-block]';
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

export function onClick(ev) {
  let el = ev.target;
  if (!el.closest) return;
  el = el.closest(TARGET) || el;
  record('click', {
    s: selector(el),
    x: Math.round(ev.pageX),
    y: Math.round(ev.pageY),
    tx: el.closest(NO_TEXT) ? undefined : el.textContent.replace(/\s+/g, ' ').trim().slice(0, 100) || undefined,
  });
}
