// The recorder puts the page's uncaught errors into the stream as rrweb custom events
// (`ct-error`), from which the collector finds error clicks (collector/replay/signals.py).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { open } from './harness.js';

const CUSTOM = 5;

test('an uncaught error and an unhandled rejection become ct-error custom events, cut to 200', async () => {
  const p = await open({ tag: 'data-site="SITE" data-replay="1"' });
  await p.drain(1);
  const w = p.window;
  w.dispatchEvent(new w.ErrorEvent('error', { message: `Uncaught TypeError: ${'x'.repeat(300)}` }));
  const rejection = new w.Event('unhandledrejection');
  rejection.reason = new Error('nope');
  w.dispatchEvent(rejection);
  await p.advance(5000);
  await p.drain(2);
  const [, c] = await p.chunks();
  const custom = c.json.e.filter((e) => e.type === CUSTOM);
  assert.deepEqual(
    custom.map((e) => [e.data.tag, e.data.payload.m.length]),
    [
      ['ct-error', 200],
      ['ct-error', 11],
    ],
  );
  assert.equal(custom[1].data.payload.m, 'Error: nope');
  assert.deepEqual(p.errors, []);
  p.close();
});
