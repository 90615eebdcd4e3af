import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BRAND, COLLECTOR, ID, open, T0 } from './harness.js';

test('fetches the brand config from the script origin, without options', async () => {
  const p = await open();
  assert.deepEqual(
    p.configRequests.map((r) => r.url),
    [`${COLLECTOR}/config/SITE`],
  );
  assert.equal(p.configRequests[0].init, undefined, 'a plain GET: no credentials, no custom headers');
  p.close();
});

test('data-api overrides the collector URL (a trailing slash is dropped)', async () => {
  const p = await open({ tag: 'data-site="SITE" data-api="https://ct.example/"' });
  assert.equal(p.configRequests[0].url, 'https://ct.example/config/SITE');
  assert.equal(p.raw[0].url, 'https://ct.example/collect');
  p.close();
});

test('the first beacon carries the load page_view, n:1 and the page context', async () => {
  const p = await open({ tag: 'data-site="SITE" data-funnel="5"' });
  const [b] = await p.sent();
  assert.equal(p.raw[0].url, `${COLLECTOR}/collect`);
  assert.equal(p.raw[0].via, 'beacon');
  assert.equal(p.raw[0].type.toLowerCase(), 'text/plain;charset=utf-8', 'a string body: a CORS simple request');
  assert.equal(b.k, 'SITE');
  assert.match(b.p, ID);
  assert.match(b.v, ID);
  assert.match(b.s, ID);
  assert.equal(b.n, 1);
  assert.equal(b.u, 'https://shop.example/landing?utm_source=fb&sub1=abc');
  assert.equal(b.r, 'https://www.google.com/');
  assert.equal(b.f, 5);
  assert.equal(b.l, 'en-US');
  assert.equal(b.w, 1024);
  assert.equal(b.h, 768);
  assert.deepEqual(b.e, [{ t: 'page_view', ts: T0 }]);
  assert.equal('i' in b, false);
  p.close();
});

test('a missing referrer and a non-numeric funnel are left out', async () => {
  const p = await open({ referrer: null, tag: 'data-site="SITE" data-funnel="x"' });
  const [b] = await p.sent();
  assert.equal('r' in b, false);
  assert.equal('f' in b, false);
  p.close();
});

test('events wait for the config, then go at once in the first beacon', async () => {
  const p = await open({ brand: 'hold' });
  await p.advance(5000);
  p.window.clicktrail.track('signup');
  await p.advance(5000);
  assert.equal(p.raw.length, 0);
  p.now += 100;
  await p.answer(BRAND);
  const sent = await p.sent();
  assert.equal(sent.length, 1);
  assert.equal(sent[0].n, 1);
  assert.deepEqual(
    sent[0].e.map((e) => e.t),
    ['page_view', 'signup'],
  );
  assert.deepEqual(
    sent[0].e.map((e) => e.ts),
    [T0, T0 + 5000],
  );
  p.close();
});

test('an unknown site key (config 404) sends nothing, ever', async () => {
  const p = await open({ brand: 404 });
  p.window.clicktrail.track('x');
  p.leave();
  await p.advance(2000);
  assert.equal(p.raw.length, 0);
  assert.ok(p.warnings.some((w) => w.includes('404')));
  assert.deepEqual(p.errors, []);
  p.close();
});

test('later events are batched and sent after 1 s of quiet, without n', async () => {
  const p = await open();
  const ct = p.window.clicktrail;
  ct.track('a');
  await p.advance(600);
  ct.track('b');
  await p.advance(900);
  assert.equal(p.raw.length, 1, 'still quiet for less than 1 s');
  await p.advance(200);
  const sent = await p.sent();
  assert.equal(sent.length, 2);
  assert.deepEqual(
    sent[1].e.map((e) => e.t),
    ['a', 'b'],
  );
  assert.equal('n' in sent[1], false);
  assert.equal(sent[1].p, sent[0].p);
  assert.equal(sent[1].u, sent[0].u, 'u stays the page URL of the page session');
  p.close();
});

test('20 waiting events are sent at once', async () => {
  const p = await open();
  for (let i = 0; i < 19; i++) p.window.clicktrail.track(`e${i}`);
  assert.equal(p.raw.length, 1);
  p.window.clicktrail.track('e19');
  assert.equal(p.raw.length, 2);
  assert.equal((await p.sent())[1].e.length, 20);
  p.close();
});

test('a long queue goes out in beacons of at most 100 events, n:1 on the first only', async () => {
  const p = await open({ brand: 'hold' });
  for (let i = 0; i < 249; i++) p.window.clicktrail.track(`e${i}`);
  await p.answer(BRAND);
  const sent = await p.sent();
  assert.deepEqual(
    sent.map((b) => b.e.length),
    [100, 100, 50],
  );
  assert.deepEqual(
    sent.map((b) => b.n),
    [1, undefined, undefined],
  );
  assert.equal(sent[0].e[0].t, 'page_view');
  assert.equal(sent[2].e[49].t, 'e248');
  p.close();
});

test('a batch too large for one beacon is split in halves', async () => {
  const p = await open();
  const big = { blob: 'x'.repeat(2000) };
  for (let i = 0; i < 19; i++) p.window.clicktrail.track('big', big);
  await p.advance(1000);
  const sent = (await p.sent()).slice(1);
  assert.ok(sent.length > 1);
  assert.equal(sent.flatMap((b) => b.e).length, 19);
  for (const r of p.raw.slice(1)) assert.ok((await r.blob.size) < 64 * 1024);
  p.close();
});

test('waiting events are flushed when the page is hidden', async () => {
  const p = await open();
  p.window.clicktrail.track('a');
  p.hide();
  assert.equal(p.raw.length, 2);
  assert.deepEqual(
    (await p.sent())[1].e.map((e) => e.t),
    ['a'],
  );
  p.close();
});

test('waiting events are flushed on pagehide', async () => {
  const p = await open();
  p.window.clicktrail.track('a');
  p.leave();
  assert.equal(p.raw.length, 2);
  p.close();
});

test('when sendBeacon is missing, fetch keepalive sends text/plain', async () => {
  const p = await open({ beacon: 'missing' });
  assert.equal(p.raw.length, 1);
  const r = p.raw[0];
  assert.equal(r.via, 'fetch');
  assert.equal(r.url, `${COLLECTOR}/collect`);
  assert.equal(r.opts.method, 'POST');
  assert.equal(r.keepalive, true);
  assert.equal(typeof r.body, 'string', 'a string body is sent as text/plain;charset=UTF-8');
  const h = r.opts.headers || {};
  assert.ok(!h['Content-Type'] || h['Content-Type'].startsWith('text/plain'));
  assert.equal(JSON.parse(r.body).n, 1);
  p.close();
});

test('when sendBeacon refuses (returns false), fetch keepalive sends it', async () => {
  const p = await open({ beacon: 'refuse' });
  assert.deepEqual(
    p.raw.map((r) => r.via),
    ['fetch'],
  );
  p.close();
});

test('a throwing sendBeacon falls back to fetch and nothing reaches the page', async () => {
  const p = await open({ beacon: 'throw' });
  p.window.clicktrail.track('a');
  p.leave();
  assert.deepEqual(
    p.raw.map((r) => r.via),
    ['fetch', 'fetch'],
  );
  assert.deepEqual(p.errors, []);
  p.close();
});

test('sendBeacon and fetch both failing never throws into the page', async () => {
  for (const fetchPost of ['throw', 'reject']) {
    const p = await open({ beacon: 'throw', fetchPost });
    const ct = p.window.clicktrail;
    ct.track('a');
    p.leave();
    p.hide();
    for (let i = 0; i < 25; i++) ct.track('b'); // the 20th flushes synchronously inside track()
    await p.advance(2000);
    assert.equal(p.raw.length, 0);
    assert.deepEqual(p.errors, []);
    assert.ok(p.warnings.length > 0, 'the failure is a console warning');
    p.close();
  }
});
