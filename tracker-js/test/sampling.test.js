// t.js's side of session replay: the sampling decision, and the recorder injected only then.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BRAND, COLLECTOR, open, T0 } from './harness.js';

// docs/REPLAY.md: a session id hashes (FNV-1a, 32 bit, over its characters) to [0, 1).
function draw(s) {
  let h = 0x811c9dc5;
  for (const c of s) h = Math.imul(h ^ c.charCodeAt(0), 0x01000193) >>> 0;
  return h / 2 ** 32;
}

// Session ids (minted a minute before T0, so the stored session continues) with a given draw.
function sessionWith(pred) {
  for (let i = 0; ; i++) {
    const tail = i.toString(32).padStart(5, '0');
    const s = `01jeqwp00000000000000${tail.replace(/[ilou]/g, 'x')}`;
    if (pred(draw(s))) return { ct_v: '01jeqwp0000000000000000000', ct_s: `${s}.${T0 - 60_000}`, s };
  }
}

const injected = (p) => [...p.document.querySelectorAll('script')].filter((e) => e.src.endsWith('/t/replay.js'));

test('a brand rate of 0 and no data-replay: the recorder is never loaded', async () => {
  const p = await open();
  await p.drain();
  assert.deepEqual(injected(p), []);
  assert.deepEqual(p.replayLoads, []);
  assert.equal(p.window.clicktrail._r, undefined);
  p.close();
});

test('data-replay="1" records whatever the rate; the recorder gets what it needs on _r', async () => {
  const p = await open({ tag: 'data-site="SITE" data-replay="1"' });
  await p.drain(1);
  const [e] = injected(p);
  assert.equal(e.src, `${COLLECTOR}/t/replay.js`);
  assert.equal(e.parentNode, p.document.head);
  assert.deepEqual(p.replayLoads, [`${COLLECTOR}/t/replay.js`]);
  const R = p.window.clicktrail._r;
  const [b] = await p.sent();
  assert.equal(R.a, COLLECTOR);
  assert.equal(R.k, 'SITE');
  assert.equal(R.p(), b.p);
  assert.deepEqual({ ...R.i(p.now, p.now) }, { v: b.v, s: b.s });
  assert.deepEqual(R.m, BRAND.m);
  p.close();
});

test('data-replay="0" never records, even at a rate of 1', async () => {
  const p = await open({ tag: 'data-site="SITE" data-replay="0"', brand: { ...BRAND, r: 1 } });
  await p.drain();
  assert.deepEqual(injected(p), []);
  assert.deepEqual(p.replayLoads, []);
  p.close();
});

test('the recorder is loaded only after the config has answered', async () => {
  const p = await open({ brand: 'hold', tag: 'data-site="SITE" data-replay="1"' });
  await p.advance(3000);
  assert.deepEqual(injected(p), []);
  await p.answer({ ...BRAND, r: 1 });
  assert.equal(injected(p).length, 1);
  p.close();
});

test('the session id decides: the same session is recorded on every page, or on none', async () => {
  for (const [pred, want] of [
    [(x) => x < 0.3, 1],
    [(x) => x >= 0.3, 0],
  ]) {
    const { s, ...storage } = sessionWith(pred);
    for (let page = 0; page < 2; page++) {
      const p = await open({ storage, brand: { ...BRAND, r: 0.3 }, now: T0 + page * 1000 });
      assert.equal((await p.sent())[0].s, s, 'the stored session continues');
      assert.equal(injected(p).length, want, `draw ${draw(s)}`);
      p.close();
    }
  }
});

test('cookieless: a random draw per page session', async () => {
  for (const [x, want] of [
    [0.2, 1],
    [0.7, 0],
  ]) {
    const head = `<script>Math.random=()=>${x}</script>`;
    const p = await open({ head, brand: { ...BRAND, c: true, r: 0.5 } });
    assert.equal('s' in (await p.sent())[0], false);
    assert.equal(injected(p).length, want);
    if (want) assert.deepEqual({ ...p.window.clicktrail._r.i(p.now, p.now) }, {});
    p.close();
  }
});

test('no recorder when DNT is honoured or the config fails', async () => {
  for (const o of [{ dnt: '1', brand: { ...BRAND, d: true, r: 1 } }, { brand: 404 }, { brand: 'reject' }]) {
    const p = await open({ ...o, tag: 'data-site="SITE" data-replay="1"' });
    assert.deepEqual(injected(p), []);
    assert.equal(p.window.clicktrail._r, undefined);
    p.close();
  }
});

test('a page without <head> cannot break the tracker: the beacon still goes', async () => {
  const p = await open({
    head: '<script>Object.defineProperty(document,"head",{get(){return null}})</script>',
    brand: { ...BRAND, r: 1 },
  });
  assert.equal((await p.sent()).length, 1);
  assert.ok(p.warnings.length > 0);
  assert.deepEqual(p.errors, []);
  p.close();
});
