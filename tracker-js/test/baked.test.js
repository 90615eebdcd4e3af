// The per-site script, GET /t.js?site=KEY: the brand config is baked in, so nothing waits for
// GET /config (docs/WIRE.md).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BRAND, bake, CODE, COLLECTOR, open } from './harness.js';

const SITE_SRC = `${COLLECTOR}/t.js?site=SITE`;

test('the plain script holds the placeholder exactly once', () => {
  assert.equal(CODE.match(/__CT_BAKED__/g).length, 1);
  assert.notEqual(bake({ ...BRAND, k: 'SITE' }), CODE);
});

test('baked config: no config request, the first beacon goes at once, data-site not needed', async () => {
  const p = await open({ src: SITE_SRC, tag: '', baked: bake({ ...BRAND, k: 'SITE' }), brand: 'hold' });
  assert.deepEqual(p.configRequests, []);
  const [b] = await p.sent();
  assert.equal(p.raw[0].url, `${COLLECTOR}/collect`);
  assert.equal(b.k, 'SITE');
  assert.equal(b.n, 1);
  assert.match(b.v, /^[0-9a-z]{26}$/);
  p.close();
});

test('baked config with data-site of the same key, and its settings applied', async () => {
  const baked = bake({ ...BRAND, c: true, k: 'SITE' });
  const p = await open({ src: SITE_SRC, baked, brand: 'hold' });
  assert.deepEqual(p.configRequests, []);
  const [b] = await p.sent();
  assert.ok(!('v' in b) && !('s' in b), 'cookieless, as baked');
  assert.deepEqual(p.storage(), {});
  p.close();
});

test('baked config of another site than data-site: the tag wins, its config is fetched', async () => {
  const p = await open({ src: SITE_SRC, tag: 'data-site="OTHER"', baked: bake({ ...BRAND, k: 'SITE' }) });
  assert.deepEqual(
    p.configRequests.map((r) => r.url),
    [`${COLLECTOR}/config/OTHER`],
  );
  assert.equal((await p.sent())[0].k, 'OTHER');
  p.close();
});

test('baked DNT: nothing is sent under Do Not Track', async () => {
  const p = await open({ src: SITE_SRC, baked: bake({ ...BRAND, d: true, k: 'SITE' }), dnt: '1' });
  p.leave();
  assert.equal(p.raw.length, 0);
  p.close();
});

test('the stub queue still rides on the first beacon of a baked script', async () => {
  const head = '<script>window.clicktrail={q:[["identify","u-1"],["track","early"]]}</script>';
  const p = await open({ src: SITE_SRC, tag: '', head, baked: bake({ ...BRAND, k: 'SITE' }) });
  const sent = await p.sent();
  assert.equal(sent.length, 1);
  assert.equal(sent[0].i, 'u-1');
  assert.deepEqual(
    sent[0].e.map((e) => e.t),
    ['page_view', 'early'],
  );
  p.close();
});

test('an unknown key gets the plain script: it needs data-site and fetches /config', async () => {
  const p = await open({ src: SITE_SRC });
  assert.deepEqual(
    p.configRequests.map((r) => r.url),
    [`${COLLECTOR}/config/SITE`],
  );
  p.close();
});
