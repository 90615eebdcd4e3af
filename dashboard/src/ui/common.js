// Small shared pieces: loading and error states, the CSV button, a data table, chips.
import { csvName, toCsv } from '../csv.js';
import { html } from '../html.js';
import { download } from '../load.js';

export function Skeleton({ rows = 4, label = 'Loading' }) {
  const bars = Array.from({ length: rows }, (_, i) => html`<div class="skeleton-bar" key=${i}></div>`);
  return html`<div class="skeleton" role="status" aria-live="polite"><span class="sr-only">${label}…</span>${bars}</div>`;
}

export function ErrorBox({ error, retry }) {
  return html`<div class="error" role="alert">
    <p>${error?.message || String(error)}</p>
    ${error?.status === 401 ? html`<a class="button small" href=${`/login?next=${encodeURIComponent(location.pathname + location.search)}`}>Sign in</a>` : null}
    ${retry ? html`<button type="button" class="button" onClick=${retry}>Retry</button>` : null}
  </div>`;
}

/** Children (a function of the data) once `load` is done; a skeleton before, an error after. */
export function Loaded({ load, rows, children }) {
  if (load.status === 'loading' && load.data === null) return html`<${Skeleton} rows=${rows} />`;
  if (load.status === 'error') return html`<${ErrorBox} error=${load.error} retry=${load.retry} />`;
  return children(load.data);
}

export function CsvButton({ title, columns, rows, suffix }) {
  const disabled = !rows || rows.length === 0;
  const save = () =>
    download(new Blob([toCsv(columns, rows)], { type: 'text/csv;charset=utf-8' }), csvName(title, suffix));
  return html`<button type="button" class="button small secondary" onClick=${save} disabled=${disabled}
    aria-label=${`Download ${title} as CSV`}>CSV</button>`;
}

const cellText = (col, row) =>
  col.render ? col.render(row) : ((typeof col.key === 'function' ? col.key(row) : row[col.key]) ?? '–');

/** A table; `rowKey(row)` keys rows. Wide tables scroll sideways in their own box. */
export function DataTable({ columns, rows, caption, rowKey, empty = 'Nothing in this range.' }) {
  if (!rows || rows.length === 0) return html`<p class="empty">${empty}</p>`;
  return html`<div class="table-wrap" tabindex="0" role="region" aria-label=${caption}>
    <table>
      <caption class="sr-only">${caption}</caption>
      <thead><tr>${columns.map((c) => html`<th scope="col" class=${c.numeric ? 'num' : ''}>${c.label}</th>`)}</tr></thead>
      <tbody>
        ${rows.map(
          (row, i) => html`<tr key=${rowKey ? rowKey(row) : i}>
            ${columns.map((c) => html`<td class=${c.numeric ? 'num' : c.className || ''}>${cellText(c, row)}</td>`)}
          </tr>`,
        )}
      </tbody>
    </table>
  </div>`;
}

export function Chip({ label, value, onRemove }) {
  return html`<span class="chip">
    <span><span class="chip-name">${label}</span> ${value}</span>
    <button type="button" class="chip-x" onClick=${onRemove} aria-label=${`Remove filter ${label} ${value}`}>×</button>
  </span>`;
}

/** A page's title as its h1, and the document's title. */
export function PageTitle({ children, actions }) {
  document.title = `${typeof children === 'string' ? children : 'Dashboard'} · Clicktrail`;
  return html`<div class="page-head"><h1 tabindex="-1" id="page-title">${children}</h1>${actions || null}</div>`;
}
