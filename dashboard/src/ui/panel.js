// A titled section of a report with its actions (CSV, tabs) in the header.
import { html } from '../html.js';

let nextId = 0;
const ids = new Map();
const idFor = (title) => {
  if (!ids.has(title)) ids.set(title, `panel-${++nextId}`);
  return ids.get(title);
};

export function Panel({ title, actions, tabs, children, className = '', busy = false }) {
  const id = idFor(title);
  return html`<section class=${`panel ${className}`} aria-labelledby=${id} aria-busy=${busy ? 'true' : 'false'}>
    <div class="panel-head">
      <h2 id=${id}>${title}</h2>
      <div class="panel-actions">${actions}</div>
    </div>
    ${tabs || null}
    ${children}
  </section>`;
}

/** Tab-like buttons that pick what a panel shows. */
export function Tabs({ tabs, current, onPick, label }) {
  if (tabs.length < 2) return null;
  return html`<div class="tabs" role="group" aria-label=${label}>
    ${tabs.map(
      (
        t,
        i,
      ) => html`<button type="button" class="tab" aria-pressed=${i === current ? 'true' : 'false'} onClick=${() => onPick(i)}>
        ${t.label}
      </button>`,
    )}
  </div>`;
}
