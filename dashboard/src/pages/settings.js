// Settings (/settings, admins): the brand's domains, privacy, replay, frustration signals and
// short domain (PATCH the brand), API keys (the new key shown once), clickstream webhooks (settings-webhooks.js), the
// users, and the script tag to copy.
import { useState } from 'preact/hooks';
import { formatDateTime } from '../format.js';
import { html } from '../html.js';
import { useLoad } from '../load.js';
import { DataTable, ErrorBox, Loaded, PageTitle } from '../ui/common.js';
import { Panel } from '../ui/panel.js';
import { WebhooksPanel } from './settings-webhooks.js';

export const scriptTag = (origin, siteKey) =>
  `<script defer src="${origin}/t.js?site=${encodeURIComponent(siteKey)}"></script>`;

function ScriptTag({ siteKey }) {
  const tag = scriptTag(location.origin, siteKey);
  const [copied, setCopied] = useState('');
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(tag);
      setCopied('Copied.');
    } catch {
      setCopied('Select the text and copy it.');
    }
  };
  return html`<${Panel} title="Script tag">
    <p class="muted">Put it in the <code>${'<head>'}</code> of every page of the site.</p>
    <pre class="code" tabindex="0"><code id="script-tag">${tag}</code></pre>
    <button type="button" class="button small" onClick=${copy}>Copy</button> <span role="status">${copied}</span>
  </${Panel}>`;
}

const checkbox = (name, label, checked, help = '') =>
  html`<div class=${help ? 'field check wide' : 'field check'}><label><input type="checkbox" name=${name} checked=${Boolean(checked)}
    aria-describedby=${help ? `${name}-help` : undefined} /> ${label}</label>
    ${help ? html`<p class="field-help" id=${`${name}-help`}>${help}</p>` : null}</div>`;

function brandPatch(form) {
  const d = new FormData(form);
  const text = (n) => String(d.get(n) || '').trim();
  const settings = {
    ip_mode: text('ip_mode'),
    cookieless: d.get('cookieless') === 'on',
    respect_dnt: d.get('respect_dnt') === 'on',
    replay_sample_rate: Number(text('replay_sample_rate')),
    mask_all_inputs: d.get('mask_all_inputs') === 'on',
    frustration_signals: d.get('frustration_signals') === 'on',
    short_domain: text('short_domain') || null,
  };
  for (const n of ['retention_days', 'rate_limit_per_ip', 'rate_limit_per_site_key']) {
    if (text(n) !== '') settings[n] = Number(text(n));
  }
  if (text('block_selector')) settings.block_selector = text('block_selector');
  if (text('mask_text_selector')) settings.mask_text_selector = text('mask_text_selector');
  const domains = text('domains')
    .split(/[\s,]+/)
    .filter(Boolean);
  return { domains, settings };
}

const SAVED = 'Saved. Ingest follows the change at once.';

// `saved`: the form shows the brand as a save changed it (remounted, so the message says so).
function BrandForm({ api, brand, saved, onSaved }) {
  const s = brand.settings || {};
  const [result, setResult] = useState(saved ? { ok: SAVED } : null);
  const save = async (ev) => {
    ev.preventDefault();
    setResult(null);
    try {
      const { data } = await api.patch('', brandPatch(ev.currentTarget));
      onSaved(data);
    } catch (err) {
      setResult({ error: err });
    }
  };
  return html`<${Panel} title="Brand">
    <form class="form-grid" onSubmit=${save}>
      <div class="field wide"><label for="s-domains">Domains allowed to send (one a line)</label>
        <textarea id="s-domains" name="domains" rows="3">${(brand.domains || []).join('\n')}</textarea></div>
      <fieldset class="wide"><legend>Privacy</legend>
        <div class="field"><label for="s-ip">IP addresses</label>
          <select id="s-ip" name="ip_mode" value=${s.ip_mode || 'full'}>
            <option value="full">Stored in full</option><option value="truncated">Truncated</option><option value="off">Not stored</option>
          </select></div>
        ${checkbox('cookieless', 'Cookieless (no visitor id in the browser)', s.cookieless)}
        ${checkbox('respect_dnt', 'Respect Do Not Track', s.respect_dnt)}
        <div class="field"><label for="s-retention">Keep data for (days)</label>
          <input id="s-retention" name="retention_days" type="number" min="1" max="3650" step="1" value=${s.retention_days ?? 395}
            aria-describedby="s-retention-help" />
          <p class="field-help" id="s-retention-help">Older clicks, events, conversions and replays are deleted hourly.</p></div>
      </fieldset>
      <fieldset class="wide"><legend>Replays</legend>
        <div class="field"><label for="s-rate">Share of sessions recorded (0 to 1)</label>
          <input id="s-rate" name="replay_sample_rate" type="number" min="0" max="1" step="0.01" value=${s.replay_sample_rate ?? 0} /></div>
        ${checkbox('mask_all_inputs', 'Mask everything typed into inputs', s.mask_all_inputs)}
        <div class="field"><label for="s-block">Blocked elements (CSS selector)</label>
          <input id="s-block" name="block_selector" type="text" value=${s.block_selector || ''} /></div>
        <div class="field"><label for="s-mask">Masked text (CSS selector)</label>
          <input id="s-mask" name="mask_text_selector" type="text" value=${s.mask_text_selector || ''} /></div>
      </fieldset>
      <fieldset class="wide"><legend>Frustration signals</legend>
        ${checkbox(
          'frustration_signals',
          'Dead and error clicks, scroll depth',
          s.frustration_signals ?? true,
          "Detect dead and error clicks and measure scroll depth in visitors' browsers (loads /t/x.js, 915 B)",
        )}
      </fieldset>
      <fieldset class="wide"><legend>Rate limits</legend>
        <p class="muted wide">Requests a minute to /collect, /collect/replay and /g/, per collector; 0 means no limit. Past it: 429.</p>
        <div class="field"><label for="s-rl-ip">Per visitor address</label>
          <input id="s-rl-ip" name="rate_limit_per_ip" type="number" min="0" max="1000000" step="1" value=${s.rate_limit_per_ip ?? 0} /></div>
        <div class="field"><label for="s-rl-site">For the whole site</label>
          <input id="s-rl-site" name="rate_limit_per_site_key" type="number" min="0" max="100000000" step="1" value=${s.rate_limit_per_site_key ?? 0} /></div>
      </fieldset>
      <div class="field wide"><label for="s-short">Short domain</label>
        <input id="s-short" name="short_domain" type="text" placeholder="https://go.mybrand.com" value=${s.short_domain || ''} /></div>
      <div class="field buttons"><button type="submit" class="button">Save</button></div>
    </form>
    ${result?.error ? html`<${ErrorBox} error=${result.error} />` : null}
    ${result?.ok ? html`<p role="status" class="ok">${result.ok}</p>` : null}
  </${Panel}>`;
}

function ApiKeys({ api }) {
  const [version, setVersion] = useState(0);
  const [made, setMade] = useState(null);
  const [error, setError] = useState(null);
  const load = useLoad((signal) => api.get('/keys', {}, { signal }).then((r) => r.data || []), version);
  const create = async (ev) => {
    ev.preventDefault();
    setError(null);
    try {
      const { data } = await api.post('/keys', { scope: new FormData(ev.currentTarget).get('scope') });
      setMade(data);
      setVersion((v) => v + 1);
    } catch (err) {
      setError(err);
    }
  };
  const revoke = async (key) => {
    if (!window.confirm(`Revoke the key ${key.prefix}…? Anything using it stops working.`)) return;
    try {
      await api.del(`/keys/${encodeURIComponent(key.id)}`);
      setVersion((v) => v + 1);
    } catch (err) {
      setError(err);
    }
  };
  const columns = [
    { key: 'prefix', label: 'Key', className: 'mono', render: (k) => `${k.prefix}…` },
    { key: 'label', label: 'Label', render: (k) => k.label || '–' },
    { key: 'scope', label: 'Scope' },
    { key: 'createdAt', label: 'Created', render: (k) => formatDateTime(k.createdAt) },
    { key: 'lastUsedAt', label: 'Last used', render: (k) => (k.lastUsedAt ? formatDateTime(k.lastUsedAt) : 'Never') },
    {
      key: 'id',
      label: 'Actions',
      render: (k) =>
        html`<button type="button" class="button small danger" onClick=${() => revoke(k)} aria-label=${`Revoke key ${k.prefix}`}>Revoke</button>`,
    },
  ];
  return html`<${Panel} title="API keys">
    <form class="inline-form" onSubmit=${create}>
      <label for="k-scope">Scope</label>
      <select id="k-scope" name="scope"><option value="read">read</option><option value="write">write</option><option value="admin">admin</option></select>
      <button type="submit" class="button small">Create a key</button>
    </form>
    ${
      made
        ? html`<div class="new-key" role="status">
            <p>Your new key (shown this once; copy it now):</p>
            <pre class="code" tabindex="0"><code id="new-key">${made.key}</code></pre>
          </div>`
        : null
    }
    ${error ? html`<${ErrorBox} error=${error} />` : null}
    <${Loaded} load=${load} rows=${3}>${(keys) => html`<${DataTable} columns=${columns} rows=${keys} caption="API keys" rowKey=${(k) => k.id} empty="No API key yet." />`}</${Loaded}>
  </${Panel}>`;
}

function Users({ api }) {
  const load = useLoad((signal) => api.get('/users', {}, { signal }).then((r) => r.data || []), 'users');
  const columns = [
    { key: 'email', label: 'Email' },
    { key: 'role', label: 'Role' },
  ];
  return html`<${Panel} title="Users">
    <p class="muted">Add people with <code>clicktrail users create EMAIL --brand ID --role viewer|admin</code>.</p>
    <${Loaded} load=${load} rows=${3}>${(users) => html`<${DataTable} columns=${columns} rows=${users} caption="Users" rowKey=${(u) => u.email} />`}</${Loaded}>
  </${Panel}>`;
}

export function SettingsPage({ api, boot }) {
  const load = useLoad((signal) => api.get('', {}, { signal }).then((r) => r.data), 'brand');
  // the PATCH's answer and how many saves: the form shows the brand as saved, with its message
  const [saved, setSaved] = useState({ brand: null, count: 0 });
  const onSaved = (brand) => setSaved((last) => ({ brand, count: last.count + 1 }));
  if (boot.role !== 'admin') {
    return html`<${PageTitle}>Settings</${PageTitle}><p role="alert">Settings are for admins. Ask an admin of this brand to change them.</p>`;
  }
  return html`
    <${PageTitle}>Settings</${PageTitle}>
    <${Loaded} load=${load} rows=${6}>${(loaded) => html`
      <${ScriptTag} siteKey=${loaded.site_key} />
      <${BrandForm} key=${saved.count} api=${api} brand=${saved.brand || loaded} saved=${saved.count > 0} onSaved=${onSaved} />`}</${Loaded}>
    <${ApiKeys} api=${api} />
    <${WebhooksPanel} api=${api} />
    <${Users} api=${api} />`;
}
