import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { open } from './harness.js';

const DOC = readFileSync(new URL('../../docs/TRACKER.md', import.meta.url), 'utf8');
const STUB = DOC.match(/<script>\(c=>.*?<\/script>/)[0];

test('calls made before the script loaded (the documented stub) are replayed in order', async () => {
  const head = `${STUB}<script>clicktrail.identify("customer-42");clicktrail.track("add_to_cart",{product_id:3});var t=clicktrail.track;t("detached")</script>`;
  const p = await open({ head });
  const [b] = await p.sent();
  assert.equal(b.i, 'customer-42');
  assert.deepEqual(
    b.e.map((e) => [e.t, e.d]),
    [
      ['page_view', undefined],
      ['add_to_cart', { product_id: 3 }],
      ['detached', undefined],
    ],
  );
  assert.deepEqual([...p.window.clicktrail.q], []);
  assert.deepEqual(p.errors, []);
  p.close();
});

test('the documented stub is short and leaves the loaded API alone when it runs again', async () => {
  assert.ok(STUB.length < 160, STUB.length);
  const p = await open({ head: STUB });
  const { track } = p.window.clicktrail;
  p.window.eval(STUB.replace(/<\/?script>/g, ''));
  assert.equal(p.window.clicktrail.track, track);
  p.close();
});

test('a hand-made {q: [...]} queue is replayed too, and bad entries are skipped with a warning', async () => {
  const head = '<script>window.clicktrail={q:[["track","a"],["nope"],null,["track",""],["identify",7]]}</script>';
  const p = await open({ head });
  const [b] = await p.sent();
  assert.deepEqual(
    b.e.map((e) => e.t),
    ['page_view', 'a'],
  );
  assert.equal(b.i, '7');
  assert.equal(p.warnings.length, 3);
  assert.deepEqual(p.errors, []);
  p.close();
});

test('track sends custom data as a snapshot taken at the call', async () => {
  const p = await open();
  const data = { product_id: 3, tags: ['a'] };
  p.window.clicktrail.track('add_to_cart', data);
  data.product_id = 4;
  await p.advance(1000);
  assert.deepEqual((await p.events())[1].d, { product_id: 3, tags: ['a'] });
  p.close();
});

test('bad track calls warn and never throw', async () => {
  const p = await open();
  const ct = p.window.clicktrail;
  const circular = {};
  circular.self = circular;
  for (const args of [[], [42], [''], ['x'.repeat(65)], ['ok', 'str'], ['ok', [1]], ['ok', circular]])
    assert.doesNotThrow(() => ct.track(...args));
  ct.track('x'.repeat(64), null);
  await p.advance(1000);
  assert.deepEqual(
    (await p.events()).map((e) => e.t),
    ['page_view', 'x'.repeat(64)],
  );
  assert.equal(p.warnings.length, 7);
  p.close();
});

test('custom data over 16 KiB is dropped with a warning, and the rest of the beacon is sent', async () => {
  const p = await open();
  const ct = p.window.clicktrail;
  assert.doesNotThrow(() => ct.track('big', { s: 'é'.repeat(9000) })); // 18,000 bytes in UTF-8
  ct.track('small', { s: 'é'.repeat(100) });
  await p.advance(1000);
  assert.deepEqual(
    (await p.events()).map((e) => e.t),
    ['page_view', 'small'],
  );
  assert.equal(p.warnings.length, 1);
  p.close();
});

test('identify is sent as i from the next beacon on, and can be cleared', async () => {
  const p = await open();
  const ct = p.window.clicktrail;
  ct.identify('u-1');
  ct.track('a');
  await p.advance(1000);
  ct.identify(null);
  ct.track('b');
  await p.advance(1000);
  const sent = await p.sent();
  assert.deepEqual(
    sent.map((b) => b.i),
    [undefined, 'u-1', undefined],
  );
  p.close();
});

test('an external id over 128 characters is refused with a warning', async () => {
  const p = await open();
  const ct = p.window.clicktrail;
  ct.identify('a'.repeat(128));
  assert.doesNotThrow(() => ct.identify('b'.repeat(129)));
  ct.track('x');
  await p.advance(1000);
  assert.equal((await p.sent())[1].i, 'a'.repeat(128));
  assert.equal(p.warnings.length, 1);
  p.close();
});

test('the only global is window.clicktrail', async () => {
  const p = await open();
  const added = Object.getOwnPropertyNames(p.window).filter((k) => !p.globalsBefore.has(k));
  assert.deepEqual(added, ['clicktrail']);
  p.close();
});

test('data-replay is kept for the replay recorder without changing what is sent', async () => {
  const p = await open({ tag: 'data-site="SITE" data-replay="1"' });
  assert.equal(p.raw.length, 1);
  assert.equal(p.configRequests.length, 1);
  p.close();
});

test('the tag included twice tracks once', async () => {
  const tag = `<script defer src="http://collector.test/t.js" data-site="SITE"></script>`;
  const p = await open({ head: tag });
  assert.equal(p.raw.length, 1);
  assert.equal(p.configRequests.length, 1);
  p.close();
});

test('a tag without data-site warns, sends nothing and keeps the API callable', async () => {
  const p = await open({ tag: '' });
  assert.doesNotThrow(() => p.window.clicktrail.track('x'));
  p.leave();
  assert.equal(p.raw.length, 0);
  assert.equal(p.configRequests.length, 0);
  assert.ok(p.warnings.some((w) => w.includes('data-site')));
  p.close();
});
