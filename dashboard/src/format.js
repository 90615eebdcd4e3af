// Numbers, durations, money, dates and changes as the dashboard shows them.

const INT = new Intl.NumberFormat('en', { maximumFractionDigits: 0 });
const COMPACT = new Intl.NumberFormat('en', { notation: 'compact', maximumFractionDigits: 1 });

/** 1234 -> "1,234"; null -> "–". */
export function formatNumber(n) {
  if (n === null || n === undefined || Number.isNaN(n)) return '–';
  return INT.format(n);
}

/** 12345 -> "12.3K" (for figures); below 10,000 the whole number. */
export function formatCompact(n) {
  if (n === null || n === undefined || Number.isNaN(n)) return '–';
  return Math.abs(n) < 10_000 ? INT.format(n) : COMPACT.format(n);
}

/** A ratio 0..1 -> "42%" (one decimal under 10 %). */
export function formatPercent(ratio) {
  if (ratio === null || ratio === undefined || Number.isNaN(ratio)) return '–';
  const pct = ratio * 100;
  return `${pct !== 0 && Math.abs(pct) < 10 ? pct.toFixed(1) : Math.round(pct)}%`;
}

/** Seconds -> "45s", "3m 05s", "2h 04m". */
export function formatDuration(seconds) {
  if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return '–';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  const pad = (v) => String(v).padStart(2, '0');
  if (s < 3600) return `${Math.floor(s / 60)}m ${pad(s % 60)}s`;
  return `${Math.floor(s / 3600)}h ${pad(Math.floor((s % 3600) / 60))}m`;
}

/** Minor units (cents) -> "1,234.50". */
export function formatMoney(minor) {
  if (minor === null || minor === undefined || Number.isNaN(minor)) return '–';
  return (minor / 100).toLocaleString('en', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
}

/** The change from `previous` to `current`: {text, trend: 'up'|'down'|'flat'|null}. */
export function change(current, previous) {
  if (current === null || current === undefined || previous === null || previous === undefined) {
    return { text: '', trend: null };
  }
  if (previous === 0) {
    return current === 0 ? { text: '', trend: null } : { text: 'new', trend: 'up' };
  }
  const pct = ((current - previous) / Math.abs(previous)) * 100;
  const rounded = Math.round(pct);
  if (rounded === 0) return { text: '0%', trend: 'flat' };
  return { text: `${rounded > 0 ? '+' : ''}${rounded}%`, trend: rounded > 0 ? 'up' : 'down' };
}

/** An ISO time -> "2 Dec 2026, 08:05" in the browser's zone. */
export function formatDateTime(iso) {
  if (!iso) return '–';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '–';
  return d.toLocaleString('en-GB', {
    day: 'numeric',
    month: 'short',
    year: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
  });
}

/** A bucket start for the chart's table: a day, or a day and an hour. */
export function formatBucket(iso, hourly) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  const day = d.toLocaleDateString('en-GB', { day: 'numeric', month: 'short', year: 'numeric' });
  return hourly ? `${day} ${String(d.getHours()).padStart(2, '0')}:00` : day;
}

/** "https://shop.example/pricing?x=1" -> "/pricing?x=1" when the host is not needed. */
export function shortUrl(url) {
  if (!url) return '';
  try {
    const u = new URL(url);
    return `${u.pathname}${u.search}` || '/';
  } catch {
    return url;
  }
}

/** Milliseconds after `fromIso` -> "1:05" (the replay's clock). */
export function clock(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}
