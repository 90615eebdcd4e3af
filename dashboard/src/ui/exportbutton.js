// "Export clicks": queues a CSV export of the page's range, follows it, and saves the file.
import { useState } from 'preact/hooks';
import { exportBody, exportStatusText, isOver } from '../exportjob.js';
import { html } from '../html.js';
import { download } from '../load.js';

const POLL_MS = 700;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function runExport(api, state, show) {
  const zoneOffsetMs = new Date().getTimezoneOffset() * 60_000;
  const { data: queued } = await api.post('/clicks/export', exportBody(state, Date.now(), zoneOffsetMs));
  let job = { status: 'queued', rows: 0 };
  show(job);
  while (!isOver(job)) {
    await sleep(POLL_MS);
    job = (await api.get(`/exports/${queued.id}`)).data;
    show(job);
  }
  if (job.status === 'done') {
    const { data: blob } = await api.getBlob(`/exports/${queued.id}/download`);
    download(blob, `clicks-${queued.id}.csv`);
  }
}

export function ExportButton({ api, state }) {
  const [job, setJob] = useState(null);
  const start = () =>
    runExport(api, state, setJob).catch((e) => setJob({ status: 'failed', rows: 0, error: e.message }));
  return html`<div class="export-clicks">
    <button type="button" class="button small secondary" onClick=${start} disabled=${!isOver(job)}>
      Export clicks (CSV)
    </button>
    <span class="muted" role="status" aria-live="polite">${exportStatusText(job)}</span>
  </div>`;
}
