// Clicks: the interactive element clicked (or the element itself), a short CSS selector, its
// visible text, and the page coordinates.
import { record } from './events.js';
import { selector, TARGET } from './target.js';

// Text is never taken from form fields, editable content, or what the brand masks or blocks.
const NO_TEXT = 'input,textarea,select,[contenteditable],[data-ct-mask],[data-ct-block]';

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
