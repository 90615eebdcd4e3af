// A short link's click id: the landing URL's ct_id is kept for the brand's attribution window,
// sent as `c` on every beacon, and taken out of the address bar (docs/WIRE.md).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BRAND, open, T0 } from './harness.js';

const CID = '01jeqwr5d8k3m7q2x9v4n6b1c0';
const DAY = 864e5;
const LANDING = 'https://shop.example/landing';

test('ct_id is sent as c on every beacon, stored with its expiry, and gone from the URL', async () => {
  const p = await open({ url: `${LANDING}?utm_source=fb&ct_id=${CID}&sub1=abc#top` });
  assert.equal(p.window.location.href, `${LANDING}?utm_source=fb&sub1=abc#top`);
  p.window.clicktrail.track('later');
  await p.advance(1000);
  const sent = await p.sent();
  assert.equal(sent.length, 2);
  for (const b of sent) assert.equal(b.c, CID);
  assert.equal(sent[0].u, `${LANDING}?utm_source=fb&sub1=abc#top`, 'u is the page as the visitor sees it');
  assert.deepEqual(
    (await p.events()).map((e) => e.t),
    ['page_view', 'later'],
    'taking ct_id out of the URL is no navigation',
  );
  assert.equal(p.storage().ct_c, `${CID}.${T0 + 90 * DAY}`);
  assert.deepEqual(p.errors, []);
  p.close();
});

test('every other parameter, its encoding and the hash stay as they were', async () => {
  for (const [search, want] of [
    [`?ct_id=${CID}`, ''],
    [`?ct_id=${CID}&a=1`, '?a=1'],
    [`?a=1&ct_id=${CID}`, '?a=1'],
    [`?q=a+b%20c&flag&ct_id=${CID}&x=%2F#/route?y=1`, '?q=a+b%20c&flag&x=%2F#/route?y=1'],
    [`?xct_id=${CID}`, `?xct_id=${CID}`],
  ]) {
    const p = await open({ url: LANDING + search });
    assert.equal(p.window.location.href, LANDING + want, search);
    p.close();
  }
});

test('the page history state is kept', async () => {
  const head = '<script>history.replaceState({ app: 1 }, "")</script>';
  const p = await open({ url: `${LANDING}?ct_id=${CID}`, head });
  assert.deepEqual({ ...p.window.history.state }, { app: 1 });
  assert.equal(p.window.history.length, 1, 'replaced, not pushed');
  p.close();
});

test('a ct_id that is not an id is not ours: left in the URL, not sent', async () => {
  const p = await open({ url: `${LANDING}?ct_id=abc` });
  assert.equal(p.window.location.href, `${LANDING}?ct_id=abc`);
  assert.equal('c' in (await p.sent())[0], false);
  assert.equal(p.storage().ct_c, undefined);
  p.close();
});

test('later page loads send the stored click id until it expires', async () => {
  const a = await open({ url: `${LANDING}?ct_id=${CID}` });
  const stored = a.storage();
  a.close();

  const b = await open({ url: `${LANDING}/two`, storage: stored, now: T0 + 89 * DAY });
  assert.equal((await b.sent())[0].c, CID);
  b.close();

  const c = await open({ url: `${LANDING}/two`, storage: stored, now: T0 + 90 * DAY });
  assert.equal('c' in (await c.sent())[0], false);
  c.close();
});

test("the brand's attribution window sets the expiry; a new landing replaces the click id", async () => {
  const a = await open({ url: `${LANDING}?ct_id=${CID}`, brand: { ...BRAND, a: 7 } });
  assert.equal(a.storage().ct_c, `${CID}.${T0 + 7 * DAY}`);
  const stored = a.storage();
  a.close();

  const other = '01jeqwr5d8k3m7q2x9v4n6b1c1';
  const b = await open({ url: `${LANDING}?ct_id=${other}`, storage: stored, now: T0 + DAY });
  assert.equal((await b.sent())[0].c, other);
  assert.equal(b.storage().ct_c, `${other}.${T0 + 91 * DAY}`);
  b.close();
});

test('a malformed stored value is not sent', async () => {
  for (const ct_c of ['nope', `${CID}`, `${CID}.soon`, `bad.${T0 + DAY}`]) {
    const p = await open({ storage: { ct_c } });
    assert.equal('c' in (await p.sent())[0], false, ct_c);
    p.close();
  }
});

test('cookieless: the click id is sent from memory and storage is never touched', async () => {
  const p = await open({ url: `${LANDING}?ct_id=${CID}`, brand: { ...BRAND, c: true } });
  p.window.clicktrail.track('later');
  p.leave();
  const sent = await p.sent();
  assert.deepEqual(
    sent.map((b) => b.c),
    [CID, CID],
  );
  assert.deepEqual(p.storage(), {});
  assert.equal(p.window.location.href, LANDING);
  p.close();
});

test('cookieless brand: a click id kept from before is not read', async () => {
  const p = await open({ brand: { ...BRAND, c: true }, storage: { ct_c: `${CID}.${T0 + DAY}` } });
  assert.equal('c' in (await p.sent())[0], false);
  p.close();
});

test('nothing is stored before the config says which mode, and nothing then if cookieless', async () => {
  const p = await open({ url: `${LANDING}?ct_id=${CID}`, brand: 'hold' });
  assert.equal(p.window.location.href, LANDING, 'the address bar is cleaned at once');
  assert.deepEqual(p.storage(), {});
  await p.answer({ ...BRAND, c: true });
  assert.equal((await p.sent())[0].c, CID);
  assert.deepEqual(p.storage(), {});
  p.close();
});

test('storage that throws: the click id is kept in memory', async () => {
  const p = await open({ url: `${LANDING}?ct_id=${CID}`, brokenStorage: true });
  assert.equal((await p.sent())[0].c, CID);
  assert.deepEqual(p.errors, []);
  p.close();
});

test('a replaceState that throws never breaks the page: the beacon still goes, with c', async () => {
  const head = '<script>history.replaceState=function(){throw new Error("mine")}</script>';
  const p = await open({ url: `${LANDING}?ct_id=${CID}`, head });
  assert.equal((await p.sent())[0].c, CID);
  assert.deepEqual(p.errors, []);
  assert.ok(p.warnings.some((w) => w.includes('mine')));
  p.close();
});

test('Do Not Track honoured: the id still leaves the URL, and nothing is sent or stored', async () => {
  const p = await open({ url: `${LANDING}?ct_id=${CID}`, brand: { ...BRAND, d: true }, dnt: '1' });
  p.leave();
  assert.equal(p.raw.length, 0);
  assert.deepEqual(p.storage(), {});
  assert.equal(p.window.location.href, LANDING);
  p.close();
});
