import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BRAND, ID, open, T0 } from './harness.js';

const MIN = 60_000;

test('the visitor id is stored in localStorage and kept across page loads', async () => {
  const a = await open();
  const [b1] = await a.sent();
  const stored = a.storage();
  assert.equal(stored.ct_v, b1.v);
  a.close();

  const b = await open({ storage: stored, now: T0 + 3 * 24 * 60 * MIN });
  const [b2] = await b.sent();
  assert.equal(b2.v, b1.v);
  assert.notEqual(b2.p, b1.p, 'every page load has its own page-session id');
  b.close();
});

test('the session continues within 30 minutes of activity and is stored with its last activity', async () => {
  const a = await open();
  const [b1] = await a.sent();
  assert.equal(a.storage().ct_s, `${b1.s}.${T0}`);
  a.window.clicktrail.track('later');
  a.now = T0 + 20 * MIN;
  a.window.clicktrail.track('much-later'); // 20 min after the last event: same session
  await a.advance(1000);
  const [, b2] = await a.sent();
  assert.equal(b2.s, b1.s);
  assert.equal(a.storage().ct_s, `${b1.s}.${T0 + 20 * MIN}`);
  const stored = a.storage();
  a.close();

  const b = await open({ storage: stored, now: T0 + 49 * MIN }); // 29 min later
  assert.equal((await b.sent())[0].s, b1.s);
  b.close();
});

test('a new session starts after 30 minutes without activity', async () => {
  const a = await open();
  const [b1] = await a.sent();
  a.now = T0 + 31 * MIN;
  a.window.clicktrail.track('back');
  await a.advance(1000);
  const [, b2] = await a.sent();
  assert.match(b2.s, ID);
  assert.notEqual(b2.s, b1.s);
  assert.ok(b2.s > b1.s, 'session ids are time-ordered');
  assert.equal(b2.v, b1.v, 'same visitor');
  const stored = a.storage();
  a.close();

  const b = await open({ storage: stored, now: T0 + 31 * MIN + 1000 + 30 * MIN + 1 });
  const [b3] = await b.sent();
  assert.notEqual(b3.s, b2.s);
  b.close();
});

test('malformed stored ids are replaced', async () => {
  const p = await open({ storage: { ct_v: 'nope', ct_s: 'bad.value' } });
  const [b] = await p.sent();
  assert.match(b.v, ID);
  assert.match(b.s, ID);
  assert.equal(p.storage().ct_v, b.v);
  p.close();
});

test('a cookieless brand: no storage written or read, no cookies, no v and no s', async () => {
  const p = await open({ brand: { ...BRAND, c: true }, storage: { ct_v: '01jeqwqxm039y21r1bhptgh7r2' } });
  const ls = p.window.localStorage;
  let touched = 0;
  for (const m of ['getItem', 'setItem', 'removeItem']) {
    const o = ls[m].bind(ls);
    ls[m] = (...a) => {
      touched++;
      return o(...a);
    };
  }
  p.window.clicktrail.track('a');
  p.window.clicktrail.identify('u1');
  p.leave();
  const sent = await p.sent();
  assert.equal(sent.length, 2);
  for (const b of sent) {
    assert.equal('v' in b, false);
    assert.equal('s' in b, false);
    assert.match(b.p, ID);
  }
  assert.equal(sent[0].n, 1);
  assert.equal(touched, 0);
  assert.deepEqual(p.storage(), { ct_v: '01jeqwqxm039y21r1bhptgh7r2' }, 'only what was there before');
  assert.equal(p.document.cookie, '');
  p.close();
});

test('storage that throws means cookieless, and nothing reaches the page', async () => {
  const p = await open({ brokenStorage: true });
  p.window.clicktrail.track('a');
  p.leave();
  const sent = await p.sent();
  assert.equal(sent.length, 2);
  for (const b of sent) assert.ok(!('v' in b) && !('s' in b));
  assert.deepEqual(p.errors, []);
  p.close();
});

for (const [name, nav] of [
  ['Do Not Track', { dnt: '1' }],
  ['Global Privacy Control', { gpc: true }],
]) {
  test(`${name} with a brand that respects it: nothing sent, nothing stored`, async () => {
    const p = await open({ brand: { ...BRAND, d: true }, ...nav });
    p.window.clicktrail.track('a');
    p.click(p.document.body);
    p.window.history.pushState({}, '', '/next');
    p.hide();
    p.leave();
    await p.advance(5000);
    assert.equal(p.raw.length, 0);
    assert.deepEqual(p.storage(), {});
    assert.deepEqual(p.errors, []);
    p.close();
  });

  test(`${name} with a brand that does not respect it: tracked as usual`, async () => {
    const p = await open({ brand: { ...BRAND, d: false }, ...nav });
    assert.equal(p.raw.length, 1);
    p.close();
  });
}

test('doNotTrack "0" is not a request to stop', async () => {
  const p = await open({ brand: { ...BRAND, d: true }, dnt: '0', gpc: false });
  assert.equal(p.raw.length, 1);
  p.close();
});

test('hidden before the config arrived: the queue goes as cookieless, and stays so', async () => {
  const p = await open({ brand: 'hold' });
  p.window.clicktrail.track('early');
  p.hide();
  let sent = await p.sent();
  assert.equal(sent.length, 1);
  assert.equal(sent[0].n, 1);
  assert.deepEqual(
    sent[0].e.map((e) => e.t),
    ['page_view', 'early'],
  );
  assert.ok(!('v' in sent[0]) && !('s' in sent[0]));
  assert.deepEqual(p.storage(), {});

  await p.answer(BRAND); // arrives late, says storage is fine
  p.window.clicktrail.track('late');
  p.leave();
  sent = await p.sent();
  assert.equal(sent.length, 2);
  assert.ok(!('v' in sent[1]) && !('s' in sent[1]) && !('n' in sent[1]));
  assert.deepEqual(p.storage(), {});
  p.close();
});

test('left before the config arrived with DNT asked: nothing is sent', async () => {
  const p = await open({ brand: 'hold', dnt: '1' });
  p.leave();
  assert.equal(p.raw.length, 0);
  await p.answer({ ...BRAND, d: true });
  p.leave();
  await p.advance(2000);
  assert.equal(p.raw.length, 0);
  p.close();
});
