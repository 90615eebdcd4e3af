// When GET /config fails for any reason but an unknown site key, the tracker does what the docs
// promise for a page left before the config: cookieless, and nothing at all under DNT / GPC.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { open } from './harness.js';

const injected = (p) => [...p.document.querySelectorAll('script')].filter((e) => e.src.endsWith('/t/replay.js'));

for (const brand of ['reject', 500, 403, 'badjson']) {
  test(`config ${brand}: the visit is sent cookieless, at once, and later events too`, async () => {
    const p = await open({ brand, tag: 'data-site="SITE" data-replay="1"' });
    let sent = await p.sent();
    assert.equal(sent.length, 1);
    assert.equal(sent[0].n, 1);
    assert.deepEqual(
      sent[0].e.map((e) => e.t),
      ['page_view'],
    );
    assert.ok(!('v' in sent[0]) && !('s' in sent[0]));
    p.window.clicktrail.track('later');
    await p.advance(1000);
    sent = await p.sent();
    assert.equal(sent.length, 2);
    assert.ok(!('v' in sent[1]) && !('s' in sent[1]) && !('n' in sent[1]));
    assert.deepEqual(p.storage(), {});
    assert.deepEqual(injected(p), [], 'no recorder without the brand config');
    assert.ok(p.warnings.some((w) => w.includes('config')));
    assert.deepEqual(p.errors, []);
    p.close();
  });
}

for (const nav of [{ dnt: '1' }, { gpc: true }]) {
  test(`config failing with ${Object.keys(nav)[0]} asked: nothing is sent, ever`, async () => {
    const p = await open({ brand: 'reject', ...nav });
    p.window.clicktrail.track('a');
    p.click(p.document.body);
    p.hide();
    p.leave();
    await p.advance(5000);
    assert.equal(p.raw.length, 0);
    assert.deepEqual(p.storage(), {});
    assert.deepEqual(p.errors, []);
    p.close();
  });
}

test('hidden first, then the config fails: one cookieless stream, nothing lost', async () => {
  const p = await open({ brand: 'hold' });
  p.hide();
  assert.equal(p.raw.length, 1);
  await p.answer(503);
  p.window.clicktrail.track('after');
  p.leave();
  const sent = await p.sent();
  assert.equal(sent.length, 2);
  assert.ok(sent.every((b) => !('v' in b)));
  p.close();
});
