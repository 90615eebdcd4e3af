// Small DOM and formatting helpers. Text always goes in as text nodes, never as HTML.

export const $ = (id) => document.getElementById(id);

/** h('li', {class: 'x', onclick}, 'text', child) */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value == null || value === false) continue;
    if (name.startsWith('on')) el.addEventListener(name.slice(2), value);
    else if (name === 'class') el.className = value;
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child == null || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

/** 83000 -> "1:23"; 3723000 -> "1:02:03" */
export function clock(ms) {
  const total = Math.max(0, Math.floor((ms || 0) / 1000));
  const s = total % 60;
  const m = Math.floor(total / 60) % 60;
  const hours = Math.floor(total / 3600);
  const ss = String(s).padStart(2, '0');
  return hours ? `${hours}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** The path and query of a URL, for lists where the host is the same everywhere. */
export function shortUrl(url) {
  try {
    const u = new URL(url);
    return u.pathname + u.search + u.hash || '/';
  } catch {
    return url || '';
  }
}

export function dateTime(value) {
  const d = typeof value === 'number' ? new Date(value) : new Date(value || NaN);
  if (Number.isNaN(d.getTime())) return '';
  return d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

/** Milliseconds since the epoch from an ISO string or a number, or NaN. */
export const epochMs = (value) => (typeof value === 'number' ? value : Date.parse(value || ''));
