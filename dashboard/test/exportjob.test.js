import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EXPORT_COLUMNS, exportBody, exportStatusText, isOver } from '../src/exportjob.js';

const NOW = Date.UTC(2024, 11, 10, 9, 0, 0);

test('the body asks for the range as ISO times, bots left out unless shown', () => {
  const body = exportBody({ interval: '24h', bots: 'exclude', filters: {} }, NOW);
  assert.deepEqual(body.columns, EXPORT_COLUMNS);
  assert.deepEqual(body.filters, {
    start: new Date(NOW - 86_400_000 + 1).toISOString(),
    end: new Date(NOW).toISOString(),
    exclude_bots: true,
  });
  const all = exportBody({ interval: 'all', bots: 'include', filters: {} }, NOW);
  assert.deepEqual(all.filters, { end: new Date(NOW).toISOString() });
});

test('a job in words', () => {
  assert.equal(exportStatusText(null), '');
  assert.equal(exportStatusText({ status: 'queued', rows: 0 }), 'Export queued…');
  assert.equal(exportStatusText({ status: 'running', rows: 1200 }), 'Exporting… 1,200 rows so far');
  assert.equal(exportStatusText({ status: 'done', rows: 3 }), 'Exported 3 clicks.');
  assert.match(exportStatusText({ status: 'failed', rows: 0, error: 'boom' }), /failed: boom/);
  assert.equal(isOver(null), true);
  assert.equal(isOver({ status: 'running' }), false);
});
