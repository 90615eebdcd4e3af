// identify() after the page's first beacon is an `identify` event, so a beacon carrying `i`
// goes soon; the collector reads `i` from it (docs/WIRE.md).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BRAND, open } from './harness.js';

test('identify after the first beacon: an identify event, with i, within a second', async () => {
  const p = await open();
  const ct = p.window.clicktrail;
  ct.identify('jane-42');
  await p.advance(1000);
  const [first, late] = await p.sent();
  assert.equal('i' in first, false);
  assert.equal(late.i, 'jane-42');
  assert.deepEqual(
    late.e.map((e) => [e.t, e.d]),
    [['identify', undefined]],
  );
  p.close();
});

test('identify before the first beacon rides on it, with no event', async () => {
  const p = await open({ brand: 'hold' });
  p.window.clicktrail.identify('jane-42');
  await p.answer(BRAND);
  const sent = await p.sent();
  assert.equal(sent.length, 1);
  assert.equal(sent[0].i, 'jane-42');
  assert.deepEqual(
    sent[0].e.map((e) => e.t),
    ['page_view'],
  );
  p.close();
});

test('the same id again, an empty one or clearing it records nothing', async () => {
  const p = await open();
  const ct = p.window.clicktrail;
  ct.identify('jane-42');
  ct.identify('jane-42');
  ct.identify(7);
  ct.identify('7');
  ct.identify('');
  ct.identify(null);
  await p.advance(1000);
  assert.deepEqual(
    (await p.events()).map((e) => e.t),
    ['page_view', 'identify', 'identify'],
  );
  p.close();
});

test('a late identify is flushed when the page is left', async () => {
  const p = await open();
  p.window.clicktrail.identify('jane-42');
  p.leave();
  const sent = await p.sent();
  assert.equal(sent.length, 2);
  assert.equal(sent[1].i, 'jane-42');
  p.close();
});

test('after a back/forward-cache restore, a later identify is an event of the new page session', async () => {
  const p = await open();
  p.leave();
  p.window.dispatchEvent(new p.window.PageTransitionEvent('pageshow', { persisted: true }));
  p.window.clicktrail.identify('jane-42');
  await p.advance(1000);
  const sent = await p.sent();
  assert.equal(sent.at(-1).i, 'jane-42');
  assert.equal(sent.at(-1).p, sent[1].p);
  assert.deepEqual(
    sent.flatMap((b) => b.e).map((e) => e.t),
    ['page_view', 'page_view', 'identify'],
    'the restored page session sent its first beacon at once, so a later id is an event',
  );
  p.close();
});
