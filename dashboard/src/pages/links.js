// Short links (/links): create, list with link and QR counts, edit the destination, delete, and
// download the QR code as PNG. Viewers read only.
import { useState } from 'preact/hooks';
import { formatDateTime, formatNumber } from '../format.js';
import { html } from '../html.js';
import { download, useLoad } from '../load.js';
import { CsvButton, DataTable, ErrorBox, Loaded, PageTitle } from '../ui/common.js';
import { Panel } from '../ui/panel.js';

const PER_PAGE = 50;

function CreateForm({ api, onMade }) {
  const [error, setError] = useState(null);
  const [made, setMade] = useState(null);
  const submit = async (ev) => {
    ev.preventDefault();
    const form = ev.currentTarget;
    const data = new FormData(form);
    const body = { destination_url: String(data.get('destination_url')).trim() };
    const key = String(data.get('key') || '').trim();
    if (key) body.key = key;
    const tags = String(data.get('tags') || '')
      .split(',')
      .map((t) => t.trim())
      .filter(Boolean);
    if (tags.length) body.tags = tags;
    setError(null);
    try {
      const { data: link } = await api.post('/short-links/generate', body);
      setMade(link);
      form.reset();
      onMade();
    } catch (err) {
      setError(err);
    }
  };
  return html`<${Panel} title="New short link">
    <form class="form-grid" onSubmit=${submit}>
      <div class="field wide"><label for="l-dest">Destination URL</label>
        <input id="l-dest" name="destination_url" type="url" required placeholder="https://shop.example/spring" /></div>
      <div class="field"><label for="l-key">Code (optional)</label><input id="l-key" name="key" type="text" pattern="[A-Za-z0-9_-]{1,64}" /></div>
      <div class="field"><label for="l-tags">Tags (comma separated)</label><input id="l-tags" name="tags" type="text" /></div>
      <div class="field buttons"><button type="submit" class="button">Create</button></div>
    </form>
    ${error ? html`<${ErrorBox} error=${error} />` : null}
    ${made ? html`<p role="status" class="ok">Created <a href=${made.url}>${made.url}</a></p>` : null}
  </${Panel}>`;
}

function LinkActions({ api, link, canEdit, onChanged }) {
  const [editing, setEditing] = useState(false);
  const [error, setError] = useState(null);
  const qr = async () => {
    try {
      const { data } = await api.getBlob(`/short-links/${encodeURIComponent(link.id)}/qr`, {
        format: 'png',
        size: 512,
      });
      download(data, `qr-${link.code}.png`);
    } catch (err) {
      setError(err);
    }
  };
  const remove = async () => {
    if (!window.confirm(`Delete ${link.url}? Its code is never given out again.`)) return;
    try {
      await api.del(`/short-links/${encodeURIComponent(link.id)}`);
      onChanged();
    } catch (err) {
      setError(err);
    }
  };
  const save = async (ev) => {
    ev.preventDefault();
    const destination = String(new FormData(ev.currentTarget).get('destination_url')).trim();
    try {
      await api.patch(`/short-links/${encodeURIComponent(link.id)}`, { destination_url: destination });
      setEditing(false);
      onChanged();
    } catch (err) {
      setError(err);
    }
  };
  return html`<div class="row-actions">
    <button type="button" class="button small secondary" onClick=${qr} aria-label=${`Download the QR code of ${link.code}`}>QR PNG</button>
    ${
      canEdit
        ? html`<button type="button" class="button small secondary" onClick=${() => setEditing(!editing)} aria-expanded=${editing}>Edit</button>
      <button type="button" class="button small danger" onClick=${remove} aria-label=${`Delete ${link.code}`}>Delete</button>`
        : null
    }
    ${
      editing
        ? html`<form class="inline-form" onSubmit=${save}>
            <label class="sr-only" for=${`dest-${link.id}`}>New destination of ${link.code}</label>
            <input id=${`dest-${link.id}`} name="destination_url" type="url" required value=${link.destination_url} />
            <button type="submit" class="button small">Save</button>
          </form>`
        : null
    }
    ${error ? html`<${ErrorBox} error=${error} />` : null}
  </div>`;
}

export function LinksPage({ api, boot }) {
  const [version, setVersion] = useState(0);
  const [page, setPage] = useState(1);
  const canEdit = boot.role === 'admin';
  const refresh = () => setVersion((v) => v + 1);
  const load = useLoad(
    (signal) => api.get('/short-links', { page, per_page: PER_PAGE }, { signal }).then((r) => r.data),
    `${page}|${version}`,
  );
  const rows = load.status === 'done' ? load.data.data || [] : [];
  const columns = [
    { key: 'url', label: 'Short link', render: (l) => html`<a href=${l.url} class="mono">${l.url}</a>` },
    { key: 'destination_url', label: 'Destination', className: 'wrap' },
    { key: 'clicks', label: 'Clicks', numeric: true, render: (l) => formatNumber(l.clicks) },
    { key: 'qr_scans', label: 'QR scans', numeric: true, render: (l) => formatNumber(l.qr_scans) },
    { key: (l) => (l.tags || []).join(' '), label: 'Tags', render: (l) => (l.tags || []).join(', ') || '–' },
    { key: 'created_at', label: 'Created', render: (l) => formatDateTime(l.created_at) },
    {
      key: 'id',
      label: 'Actions',
      render: (l) => html`<${LinkActions} api=${api} link=${l} canEdit=${canEdit} onChanged=${refresh} />`,
    },
  ];
  const csv = columns.slice(0, -1);
  return html`
    <${PageTitle}>Links</${PageTitle}>
    ${canEdit ? html`<${CreateForm} api=${api} onMade=${refresh} />` : null}
    <${Panel} title="Short links" busy=${load.status === 'loading'} actions=${html`<${CsvButton} title="Short links" columns=${csv} rows=${rows} />`}>
      <${Loaded} load=${load} rows=${5}>${(answer) => html`
        <${DataTable} columns=${columns} rows=${answer.data || []} caption="Short links" rowKey=${(l) => l.id} empty="No short link yet." />
        <nav class="pager" aria-label="Pages">
          <button type="button" class="button small secondary" disabled=${page <= 1} onClick=${() => setPage(page - 1)}>Previous</button>
          <span>Page ${answer.current_page} of ${answer.last_page} · ${formatNumber(answer.total)} in all</span>
          <button type="button" class="button small secondary" disabled=${page >= answer.last_page} onClick=${() => setPage(page + 1)}>Next</button>
        </nav>`}</${Loaded}>
    </${Panel}>`;
}
