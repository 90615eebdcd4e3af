// Settings: the clickstream webhooks panel (issue 13). The brand's destinations with their
// state and public key; a form to add one (its signing secret shown once, a refusal next to the
// form naming its field); per destination enable/disable, delete, and its last 20 attempts.
import { useRef, useState } from 'preact/hooks';
import { formatDateTime, formatNumber } from '../format.js';
import { html } from '../html.js';
import { useLoad } from '../load.js';
import { DataTable, ErrorBox, Loaded } from '../ui/common.js';
import { Panel } from '../ui/panel.js';
import {
  attemptResult,
  destinationBody,
  destinationState,
  EVENTS,
  eventsText,
  FIELDS,
  outcomeText,
  refusal,
} from '../webhooks.js';

const DELIVERIES_SHOWN = 20;
const ERROR_ID = 'wh-form-error';

function CopyButton({ text, label }) {
  const [said, setSaid] = useState('');
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setSaid('Copied.');
    } catch {
      setSaid('Select the text and copy it.');
    }
  };
  return html`<button type="button" class="button small" onClick=${copy} aria-label=${label}>Copy</button>
    <span role="status">${said}</span>`;
}

function NewSecret({ made, onDone }) {
  return html`<div class="new-key" role="status">
    <p>Signing secret of <span class="mono break">${made.url}</span>. It will not be shown again: copy it now and keep it to verify the <code>webhook-signature</code> header.</p>
    <pre class="code" tabindex="0"><code id="new-webhook-secret">${made.secret}</code></pre>
    <p class="button-row"><${CopyButton} text=${made.secret} label="Copy the signing secret" />
      <button type="button" class="button small secondary" onClick=${onDone}>I have kept it</button></p>
  </div>`;
}

/** One form field, marked invalid (and described by the refusal) when the refusal names it. */
const fieldAttrs = (name, bad) => ({
  id: FIELDS[name].id,
  name,
  'aria-invalid': bad === name ? 'true' : undefined,
  'aria-describedby': bad === name ? ERROR_ID : undefined,
});

function AddForm({ api, onMade }) {
  const [problem, setProblem] = useState(null);
  const [busy, setBusy] = useState(false);
  const formRef = useRef(null);
  const submit = async (ev) => {
    ev.preventDefault();
    const form = ev.currentTarget;
    setProblem(null);
    setBusy(true);
    try {
      const { data } = await api.post('/webhooks', destinationBody(new FormData(form)));
      form.reset();
      onMade(data);
    } catch (err) {
      const found = refusal(err);
      setProblem(found);
      const named = found.field && formRef.current?.querySelector(`#${FIELDS[found.field].id}`);
      if (named) (named.matches('fieldset') ? named.querySelector('input') : named).focus();
    } finally {
      setBusy(false);
    }
  };
  const bad = problem?.field;
  return html`<form class="form-grid webhook-form" onSubmit=${submit} ref=${formRef} aria-label="Add a destination">
    <div class="field wide"><label for=${FIELDS.url.id}>URL</label>
      <input ...${fieldAttrs('url', bad)} type="url" required placeholder="https://hooks.mybrand.com/clicktrail" autocomplete="off" /></div>
    <div class="field"><label for=${FIELDS.method.id}>Method</label>
      <select ...${fieldAttrs('method', bad)}><option value="POST">POST</option><option value="PUT">PUT</option></select></div>
    <fieldset class="wide events" ...${fieldAttrs('events', bad)}><legend>Events</legend>
      ${EVENTS.map((e) => html`<label class="check"><input type="checkbox" name="events" value=${e.value} checked=${!e.off} /> ${e.label}</label>`)}
    </fieldset>
    <div class="field"><label for=${FIELDS.header_key.id}>Auth header name (optional)</label>
      <input ...${fieldAttrs('header_key', bad)} type="text" placeholder="X-Hook-Auth" autocomplete="off" spellcheck="false" /></div>
    <div class="field"><label for=${FIELDS.header_value.id}>Auth header value (never shown again)</label>
      <input ...${fieldAttrs('header_value', bad)} type="password" autocomplete="new-password" /></div>
    <div class="field buttons"><button type="submit" class="button" disabled=${busy}>Add destination</button></div>
    ${problem ? html`<p class="field-error wide" role="alert" id=${ERROR_ID}>${problem.text}</p>` : null}
  </form>`;
}

const deliveryColumns = [
  { key: 'attempted_at', label: 'Time', render: (a) => formatDateTime(a.attempted_at) },
  { key: 'status', label: 'Status or error', render: attemptResult },
  { key: 'items', label: 'Items', numeric: true, render: (a) => formatNumber(a.items) },
  { key: 'outcome', label: 'Outcome', render: (a) => outcomeText(a.outcome) },
  { key: 'latency_ms', label: 'Latency', numeric: true, render: (a) => `${formatNumber(a.latency_ms)} ms` },
];

function Deliveries({ api, destination }) {
  const [version, setVersion] = useState(0);
  const path = `/webhooks/${encodeURIComponent(destination.id)}/deliveries`;
  const load = useLoad(
    (signal) => api.get(path, { per_page: DELIVERIES_SHOWN }, { signal }).then((r) => r.data || []),
    version,
    { keep: true },
  );
  return html`<div class="deliveries">
    <button type="button" class="button small secondary" onClick=${() => setVersion((v) => v + 1)}
      aria-label=${`Refresh the deliveries to ${destination.url}`}>Refresh</button>
    <${Loaded} load=${load} rows=${2}>${(rows) => html`<${DataTable} columns=${deliveryColumns} rows=${rows}
      caption=${`Last ${DELIVERIES_SHOWN} delivery attempts to ${destination.url}`} rowKey=${(a) => a.id}
      empty="No delivery attempt yet." />`}</${Loaded}>
  </div>`;
}

function Destination({ api, destination: d, onChanged, onError }) {
  const [open, setOpen] = useState(false);
  const state = destinationState(d);
  const act = async (change) => {
    onError(null);
    try {
      await change();
      onChanged();
    } catch (err) {
      onError(err);
    }
  };
  const path = `/webhooks/${encodeURIComponent(d.id)}`;
  const toggle = () => act(() => api.patch(path, { enabled: !d.enabled }));
  const remove = () => {
    if (!window.confirm(`Delete the destination ${d.url}? Nothing more is sent to it, and its delivery log goes.`)) {
      return;
    }
    act(() => api.del(path));
  };
  return html`<li class="webhook">
    <p class="webhook-url mono break">${d.url}</p>
    <dl class="webhook-facts">
      <div><dt>Method</dt><dd>${d.method}</dd></div>
      <div><dt>Events</dt><dd>${eventsText(d.events)}</dd></div>
      <div><dt>State</dt><dd class=${`tone-${state.tone}`}>${state.text}</dd></div>
      <div><dt>Auth header</dt><dd class="mono">${d.header_key || 'None'}</dd></div>
      <div class="wide"><dt>Public key (the body's <code>key</code>)</dt><dd class="mono break">${d.key}</dd></div>
    </dl>
    <p class="button-row">
      <button type="button" class="button small secondary" onClick=${toggle}
        aria-label=${`${d.enabled ? 'Disable' : 'Enable'} the destination ${d.url}`}>${d.enabled ? 'Disable' : 'Enable'}</button>
      <button type="button" class="button small danger" onClick=${remove}
        aria-label=${`Delete the destination ${d.url}`}>Delete</button>
    </p>
    <details onToggle=${(ev) => setOpen(ev.currentTarget.open)}>
      <summary>Deliveries<span class="sr-only"> to ${d.url}</span></summary>
      ${open ? html`<${Deliveries} api=${api} destination=${d} />` : null}
    </details>
  </li>`;
}

export function WebhooksPanel({ api }) {
  const [version, setVersion] = useState(0);
  const [made, setMade] = useState(null);
  const [error, setError] = useState(null);
  const load = useLoad((signal) => api.get('/webhooks', {}, { signal }).then((r) => r.data || []), version, {
    keep: true,
  });
  const changed = () => setVersion((v) => v + 1);
  const onMade = (data) => {
    setMade(data);
    changed();
  };
  return html`<${Panel} title="Clickstream webhooks" className="webhooks">
    <p class="muted">Clicks, page views, leads and sales sent to your URLs as signed batches within about a second. See <code>docs/WEBHOOKS.md</code> to receive them.</p>
    <${AddForm} api=${api} onMade=${onMade} />
    ${made ? html`<${NewSecret} made=${made} onDone=${() => setMade(null)} />` : null}
    ${error ? html`<${ErrorBox} error=${error} />` : null}
    <${Loaded} load=${load} rows=${3}>${(list) =>
      list.length
        ? html`<ul class="webhooks-list" aria-label="Destinations">${list.map(
            (d) =>
              html`<${Destination} key=${d.id} api=${api} destination=${d} onChanged=${changed} onError=${setError} />`,
          )}</ul>`
        : html`<p class="empty">No destination yet.</p>`}</${Loaded}>
  </${Panel}>`;
}
