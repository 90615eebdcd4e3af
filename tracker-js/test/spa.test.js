import assert from 'node:assert/strict';
import { test } from 'node:test';
import { open, settle } from './harness.js';

const LANDING = 'https://shop.example/landing?utm_source=fb&sub1=abc';

test('history.pushState records a page_view with the new URL in the same page session', async () => {
  const p = await open();
  p.window.history.pushState({}, '', '/checkout?step=1');
  await p.advance(1000);
  const [b1, b2] = await p.sent();
  assert.deepEqual(
    b2.e.map((e) => [e.t, e.u]),
    [['page_view', 'https://shop.example/checkout?step=1']],
  );
  assert.equal(b2.p, b1.p);
  assert.equal(b2.u, LANDING, 'the beacon u stays the page URL the session started on');
  assert.equal('n' in b2, false);
  p.close();
});

test('replaceState to a new URL is a page_view; to the same URL it is not', async () => {
  const p = await open();
  p.window.history.replaceState({ some: 'state' }, '');
  p.window.history.replaceState({}, '', LANDING);
  p.window.history.replaceState({}, '', '/landing');
  await p.advance(1000);
  const events = await p.events();
  assert.deepEqual(
    events.map((e) => [e.t, e.u]),
    [
      ['page_view', undefined],
      ['page_view', 'https://shop.example/landing'],
    ],
  );
  p.close();
});

test('pushState keeps its return value, its this, and the page own exceptions', async () => {
  const p = await open();
  const h = p.window.history;
  assert.equal(h.pushState({}, '', '/a'), undefined);
  assert.throws(() => h.pushState({}, '', 'https://elsewhere.example/'), /SecurityError|origin/i);
  assert.throws(() => h.pushState.call({}, {}, '', '/b'));
  p.close();
});

test('events after an SPA navigation carry the URL they happened on', async () => {
  const p = await open();
  p.window.history.pushState({}, '', '/cart');
  p.window.clicktrail.track('add_to_cart', { product_id: 3 });
  await p.advance(1000);
  const events = await p.events();
  assert.deepEqual(events.at(-1), {
    t: 'add_to_cart',
    ts: p.now - 1000,
    d: { product_id: 3 },
    u: 'https://shop.example/cart',
  });
  p.close();
});

test('a hash change is a page_view, recorded once even when popstate fires too', async () => {
  const p = await open();
  p.window.location.hash = 'step2';
  await settle();
  p.window.dispatchEvent(new p.window.PopStateEvent('popstate')); // browsers fire both
  await p.advance(1000);
  const pvs = (await p.events()).filter((e) => e.t === 'page_view');
  assert.deepEqual(
    pvs.map((e) => e.u),
    [undefined, `${LANDING}#step2`],
  );
  p.close();
});

test('back navigation (popstate) records a page_view of the URL returned to', async () => {
  const p = await open();
  p.window.history.pushState({}, '', '/two');
  p.window.history.back();
  await settle();
  await p.advance(1000);
  const pvs = (await p.events()).filter((e) => e.t === 'page_view');
  assert.deepEqual(
    pvs.map((e) => e.u),
    [undefined, 'https://shop.example/two', undefined],
  );
  p.close();
});

test('a page restored from the back/forward cache starts a new page session', async () => {
  const p = await open();
  p.window.clicktrail.track('before');
  p.leave();
  p.window.dispatchEvent(new p.window.PageTransitionEvent('pageshow', { persisted: true }));
  const sent = await p.sent();
  assert.equal(sent.length, 3);
  assert.equal(sent[2].n, 1);
  assert.notEqual(sent[2].p, sent[0].p);
  assert.deepEqual(
    sent[2].e.map((e) => e.t),
    ['page_view'],
  );
  p.close();
});

test('an ordinary pageshow does not record anything', async () => {
  const p = await open();
  p.window.dispatchEvent(new p.window.PageTransitionEvent('pageshow', { persisted: false }));
  await p.advance(1000);
  assert.equal(p.raw.length, 1);
  p.close();
});
