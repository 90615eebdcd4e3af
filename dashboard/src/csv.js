// CSV of exactly the rows a panel shows (RFC 4180 quoting), built in the browser. A cell that a
// spreadsheet would read as a formula (= + - @, or a tab/CR first) gets a leading quote.

const FORMULA_START = /^[=+\-@\t\r]/;

/** One cell as CSV text: null is empty, a formula-like text is defused, quotes are doubled. */
export function csvCell(value) {
  if (value === null || value === undefined) return '';
  let text = String(value);
  if (typeof value === 'string' && FORMULA_START.test(text)) text = `'${text}`;
  if (/[",\r\n]/.test(text) || text !== text.trim()) return `"${text.replace(/"/g, '""')}"`;
  return text;
}

/** The CSV of `rows` with one column per {key, label}; `key` may be a function of the row. */
export function toCsv(columns, rows) {
  const header = columns.map((c) => csvCell(c.label)).join(',');
  const lines = rows.map((row) =>
    columns.map((c) => csvCell(typeof c.key === 'function' ? c.key(row) : row[c.key])).join(','),
  );
  return `${[header, ...lines].join('\r\n')}\r\n`;
}

/** A file name from a title: lower case, dashes, no path characters. */
export function csvName(title, suffix = '') {
  const base = `${title}${suffix ? `-${suffix}` : ''}`
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return `${base || 'data'}.csv`;
}
