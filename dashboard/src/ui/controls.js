// The controls above a report: the range (presets or dates), the bot switch and the active
// filters as removable chips. They only change the URL; the pages read it.
import { useState } from 'preact/hooks';
import { html } from '../html.js';
import { navigate } from '../router.js';
import { filterLabel, shownFilterValue, withParams } from '../urlstate.js';
import { Chip } from './common.js';

const PRESETS = [
  ['24h', 'Last 24 hours'],
  ['7d', 'Last 7 days'],
  ['30d', 'Last 30 days'],
  ['90d', 'Last 90 days'],
  ['ytd', 'Year to date'],
  ['1y', 'Last 12 months'],
  ['all', 'All time'],
];

const go = (path, search, changes) => navigate(path + withParams(search, changes));

function CustomRange({ state, path, search, onDone }) {
  const today = new Date().toISOString().slice(0, 10);
  const [start, setStart] = useState(state.start.slice(0, 10) || today);
  const [end, setEnd] = useState(state.end.slice(0, 10) || today);
  const apply = (ev) => {
    ev.preventDefault();
    if (start && end && start > end) return;
    go(path, search, { start, end });
    onDone();
  };
  const bad = start && end && start > end;
  return html`<form class="custom-range" onSubmit=${apply}>
    <label>From <input type="date" value=${start} max=${today} required onInput=${(e) => setStart(e.currentTarget.value)} /></label>
    <label>To <input type="date" value=${end} max=${today} required onInput=${(e) => setEnd(e.currentTarget.value)} /></label>
    <button type="submit" class="button small" disabled=${bad}>Apply</button>
    ${bad ? html`<span class="field-error" role="alert">The start is after the end.</span>` : null}
  </form>`;
}

export function RangePicker({ state, path, search }) {
  const custom = Boolean(state.start || state.end);
  const [editing, setEditing] = useState(false);
  const value = custom || editing ? 'custom' : state.interval;
  const choose = (ev) => {
    const v = ev.currentTarget.value;
    if (v === 'custom') {
      setEditing(true);
      return;
    }
    setEditing(false);
    go(path, search, { interval: v, start: null, end: null });
  };
  return html`<div class="range">
    <label class="range-select">
      <span class="sr-only">Date range</span>
      <select value=${value} onChange=${choose}>
        ${PRESETS.map(([v, label]) => html`<option value=${v}>${label}</option>`)}
        <option value="custom">${custom ? `${state.start || '…'} – ${state.end || 'now'}` : 'Custom range…'}</option>
      </select>
    </label>
    ${editing || custom ? html`<${CustomRange} state=${state} path=${path} search=${search} onDone=${() => setEditing(false)} />` : null}
  </div>`;
}

export function BotSwitch({ state, path, search }) {
  const flip = (ev) => go(path, search, { bots: ev.currentTarget.checked ? 'include' : null });
  return html`<label class="switch">
    <input type="checkbox" role="switch" checked=${state.bots === 'include'} onChange=${flip} />
    <span>Include bots</span>
  </label>`;
}

export function FilterChips({ state, path, search, names }) {
  const entries = Object.entries(state.filters).filter(([n]) => !names || names.includes(n));
  if (!entries.length) return null;
  return html`<div class="chips" aria-label="Active filters" role="group">
    ${entries.map(
      ([name, value]) => html`<${Chip} key=${name} label=${filterLabel(name)} value=${shownFilterValue(value)}
        onRemove=${() => go(path, search, { [name]: null })} />`,
    )}
    ${entries.length > 1 ? html`<button type="button" class="link-button" onClick=${() => go(path, search, Object.fromEntries(entries.map(([n]) => [n, null])))}>Clear all</button>` : null}
  </div>`;
}

/** The range picker, the bot switch and the chips, in one bar. */
export function ReportControls(props) {
  return html`<div class="controls">
    <div class="controls-row">
      <${RangePicker} ...${props} />
      <${BotSwitch} ...${props} />
    </div>
    <${FilterChips} ...${props} />
  </div>`;
}
