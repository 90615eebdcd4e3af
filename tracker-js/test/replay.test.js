// The recorder, /t/replay.js, running rrweb for real in a jsdom fixture page that t.js loads it
// into. Asserts on the chunks POSTed to /collect/replay (docs/REPLAY.md).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BRAND, COLLECTOR, ID, open, T0 } from './harness.js';

const MIN = 60_000;
const REC = 'data-site="SITE" data-replay="1"';
const META = 4;
const FULL = 2;
const INCR = 3;

// A page with the recorder on and its first chunk (the full snapshot) sent.
async function recording(o = {}) {
  const p = await open({ tag: REC, ...o });
  await p.drain(1);
  // A DOM change; rrweb sees it in its MutationObserver callback, a microtask later.
  p.mutate = async (text = 'x') => {
    p.document.body.append(p.document.createElement('p'), text);
    await Promise.resolve();
  };
  p.move = () =>
    p.document.body.dispatchEvent(new p.window.MouseEvent('mousemove', { bubbles: true, clientX: 5, clientY: 5 }));
  return p;
}
const types = (c) => c.json.e.map((e) => e.type);

test('the first chunk: the envelope, gzipped, with the Meta and full snapshot, sent at once', async () => {
  const p = await recording();
  const [c] = await p.chunks();
  const [b] = await p.sent();
  assert.equal(p.replayRaw[0].url, `${COLLECTOR}/collect/replay`);
  assert.equal(c.via, 'fetch');
  assert.equal(c.gzip, true, 'the body gunzips to the envelope');
  assert.equal(c.type, 'text/plain', 'a CORS simple request');
  assert.equal(c.keepalive, true, 'small enough for keepalive');
  assert.deepEqual(Object.keys(c.json), ['k', 'r', 'p', 'v', 's', 'q', 'u', 'e']);
  assert.equal(c.json.k, 'SITE');
  assert.match(c.json.r, ID);
  assert.notEqual(c.json.r, b.p);
  assert.equal(c.json.p, b.p, 'the page session of the beacons');
  assert.equal(c.json.v, b.v);
  assert.equal(c.json.s, b.s);
  assert.equal(c.json.q, 0);
  assert.equal(c.json.u, b.u);
  assert.deepEqual(types(c), [META, FULL]);
  assert.equal(c.json.e[0].timestamp, T0);
  assert.deepEqual(p.errors, []);
  p.close();
});

test('cookieless: chunks carry neither v nor s', async () => {
  const p = await recording({ brand: { ...BRAND, c: true } });
  const [c] = await p.chunks();
  assert.deepEqual(Object.keys(c.json), ['k', 'r', 'p', 'q', 'u', 'e']);
  assert.deepEqual(p.storage(), {});
  p.close();
});

test('buffered events go every 5 s, in order, in the same replay', async () => {
  const p = await recording();
  await p.mutate();
  await p.advance(4900);
  await p.drain();
  assert.equal(p.replayRaw.length, 1);
  await p.advance(100);
  await p.drain(2);
  await p.mutate();
  await p.advance(5000);
  await p.drain(3);
  await p.advance(5000); // nothing new: nothing sent
  await p.drain();
  const c = await p.chunks();
  assert.deepEqual(
    c.map((x) => x.json.q),
    [0, 1, 2],
  );
  assert.deepEqual(new Set(c.map((x) => x.json.r)).size, 1);
  assert.deepEqual(types(c[1]), [INCR]);
  assert.equal(c[1].json.e[0].data.source, 0, 'a DOM mutation');
  assert.equal(c[1].json.e[0].timestamp, T0);
  p.close();
});

test('a buffer past 60 KB of JSON is sent at once; a big chunk goes without keepalive', async () => {
  const p = await recording();
  await p.mutate('y'.repeat(300_000));
  await p.drain(2);
  const [, c] = await p.chunks();
  assert.equal(c.json.q, 1);
  assert.equal(c.gzip, true);
  assert.equal(c.keepalive, true, 'gzip makes 300 KB of one letter tiny');
  await p.mutate(Array.from({ length: 20_000 }, () => Math.random().toString(36).slice(2)).join(''));
  await p.drain(3);
  const [, , big] = await p.chunks();
  assert.ok(p.replayRaw[2].body.size > 60_000);
  assert.equal(big.keepalive, false, 'over the keepalive quota: a plain fetch');
  p.close();
});

test('leaving the page sends the buffer with sendBeacon, plain JSON, synchronously', async () => {
  for (const how of ['leave', 'hide']) {
    const p = await recording();
    await p.mutate();
    p[how]();
    assert.equal(p.replayRaw.length, 2, 'synchronously, no waiting for compression');
    const [, c] = await p.chunks();
    assert.equal(c.via, 'beacon');
    assert.equal(c.gzip, false);
    assert.equal(c.type, 'text/plain');
    assert.equal(c.json.q, 1);
    assert.deepEqual(types(c), [INCR]);
    p.close();
  }
});

test('a chunk still unanswered when the page is hidden is sent again by beacon, before the rest', async () => {
  const p = await recording({ replayStatus: 'hang' }); // the full snapshot's send never returns
  await p.mutate();
  p.leave();
  const [first, again, rest] = await p.chunks();
  assert.equal(first.via, 'fetch');
  assert.equal(again.via, 'beacon');
  assert.equal(again.json.q, 0, 'the unanswered full snapshot, again');
  assert.deepEqual(types(again), [META, FULL]);
  assert.equal(rest.via, 'beacon');
  assert.equal(rest.json.q, 1);
  p.leave();
  assert.equal(p.replayRaw.length, 3, 'sent again once only');
  p.close();
});

test('when sendBeacon refuses, the unload chunk goes with fetch keepalive', async () => {
  const p = await recording({ beacon: 'refuse' });
  await p.mutate();
  p.leave();
  const c = p.replayRaw[1];
  assert.equal(c.via, 'fetch');
  assert.equal(c.keepalive, true);
  assert.equal(JSON.parse(c.body).q, 1);
  p.close();
});

test('without CompressionStream chunks are sent as plain JSON', async () => {
  const p = await recording({ gzip: false });
  const [c] = await p.chunks();
  assert.equal(c.gzip, false);
  assert.equal(c.type, 'text/plain');
  assert.deepEqual(types(c), [META, FULL]);
  p.close();
});

test('30 minutes without interaction stop the recording; the next one resumes with a full snapshot', async () => {
  const p = await recording();
  await p.advance(20 * MIN);
  p.move(); // an interaction at 20 min keeps it going
  await p.advance(25 * MIN);
  await p.mutate();
  await p.advance(5000);
  await p.drain();
  const last = (await p.chunks()).at(-1).json.e;
  assert.ok(
    last.some((e) => e.type === INCR && e.timestamp === T0 + 45 * MIN),
    'recording 25 min after it',
  );
  await p.advance(6 * MIN); // 31 min after it: stopped
  const n = p.replayRaw.length;
  await p.mutate();
  await p.advance(10 * MIN);
  p.leave();
  await p.drain();
  assert.equal(p.replayRaw.length, n, 'stopped: nothing recorded, nothing sent');

  p.move();
  await p.drain(n + 1);
  const c = await p.chunks();
  assert.deepEqual(types(c[n]), [META, FULL], 'a fresh full snapshot, sent at once');
  assert.equal(c[n].json.r, c[0].json.r, 'in the same replay');
  assert.equal(c[n].json.q, n);
  await p.mutate();
  await p.advance(5000);
  await p.drain(n + 2);
  assert.equal(p.replayRaw.length, n + 2, 'recording again');
  assert.deepEqual(p.errors, []);
  p.close();
});

test('a full snapshot every 10 minutes gives the replay its seek points', async () => {
  const p = await recording();
  for (let i = 0; i < 11; i++) {
    p.move();
    await p.advance(MIN);
  }
  await p.mutate(); // rrweb checks for a checkout on incremental events
  await p.advance(5000);
  const later = (c) => c.slice(1).flatMap((x) => x.json.e);
  await p.until((c) => later(c).some((x) => x.type === FULL)); // sends queue behind each other
  await p.drain();
  assert.equal(later(await p.chunks()).filter((x) => x.type === FULL).length, 1);
  p.close();
});

test('privacy defaults: inputs masked, blocked elements left out, masked text as *', async () => {
  const body =
    '<input id="a" value="secret"><input type="password" value="hunter2">' +
    '<div data-ct-block><b>blocked text</b></div><p data-ct-mask>my name</p><p>public</p>';
  const p = await recording({ body });
  const json = JSON.stringify((await p.chunks())[0].json.e);
  assert.ok(!json.includes('secret') && !json.includes('hunter2'));
  assert.ok(!json.includes('blocked text'));
  assert.ok(!json.includes('my name') && json.includes('*******'));
  assert.ok(json.includes('public'));
  p.close();
});

test("the brand's masking config is passed through: inputs unmasked but passwords, own selectors", async () => {
  const body =
    '<input value="visible"><input type="password" value="hunter2">' +
    '<div class="secret">blocked text</div><p class="private">my name</p><div data-ct-block>plain block</div>';
  const m = { i: false, b: '.secret', t: '.private' };
  const p = await recording({ body, brand: { ...BRAND, m } });
  const json = JSON.stringify((await p.chunks())[0].json.e);
  assert.ok(json.includes('visible'));
  assert.ok(!json.includes('hunter2'), 'passwords are always masked');
  assert.ok(!json.includes('blocked text'));
  assert.ok(!json.includes('my name'));
  assert.ok(json.includes('plain block'), 'the brand replaced the default block selector');
  p.close();
});

test('an invalid selector falls back to the default, with a warning', async () => {
  const body = '<div data-ct-block>blocked text</div>';
  const p = await recording({ body, brand: { ...BRAND, m: { i: true, b: '[[nope', t: '' } } });
  const json = JSON.stringify((await p.chunks())[0].json.e);
  assert.ok(!json.includes('blocked text'));
  assert.ok(p.warnings.some((w) => w.includes('clicktrail')));
  assert.deepEqual(p.errors, []);
  p.close();
});

test('a 4xx answer stops the recorder for good; nothing reaches the page', async () => {
  const p = await recording({ replayStatus: 403 });
  await p.drain();
  await p.mutate();
  p.move();
  await p.advance(30_000);
  p.leave();
  await p.drain();
  assert.equal(p.replayRaw.length, 1);
  assert.ok(p.warnings.some((w) => w.includes('403')));
  assert.deepEqual(p.errors, []);
  p.close();
});

test('failing sends are not retried, and three in a row stop the recorder', async () => {
  for (const replayStatus of [503, 'reject']) {
    const p = await recording({ replayStatus });
    for (let i = 0; i < 6; i++) {
      await p.mutate();
      await p.advance(5000);
      await p.drain();
    }
    assert.equal(p.replayRaw.length, 3, String(replayStatus));
    assert.deepEqual(p.errors, []);
    p.close();
  }
});

test('sends that never finish are not piled up without bound: after 4 the recorder stops', async () => {
  const p = await recording({ replayStatus: 'hang' });
  for (let i = 0; i < 8; i++) {
    await p.mutate();
    p.move();
    await p.advance(5000);
    await p.drain();
  }
  assert.equal(p.replayRaw.length, 4);
  assert.ok(p.warnings.some((w) => w.includes('keep up')));
  p.leave();
  assert.equal(p.replayRaw.length, 4, 'stopped for good');
  assert.deepEqual(p.errors, []);
  p.close();
});

test('a page restored from the back/forward cache starts a new replay of its new page session', async () => {
  const p = await recording();
  await p.mutate();
  p.leave();
  p.window.dispatchEvent(new p.window.PageTransitionEvent('pageshow', { persisted: true }));
  await p.drain(3);
  const c = await p.chunks();
  const b = await p.sent();
  assert.equal(c[2].json.q, 0);
  assert.notEqual(c[2].json.r, c[0].json.r);
  assert.equal(c[2].json.p, b.at(-1).p);
  assert.notEqual(c[2].json.p, c[0].json.p);
  assert.deepEqual(types(c[2]), [META, FULL]);
  p.close();
});

test('the recorder on the page twice records once', async () => {
  const p = await recording();
  const s = p.document.createElement('script');
  s.src = `${COLLECTOR}/t/replay.js`;
  p.document.head.append(s);
  await new Promise((r) => s.addEventListener('load', r));
  await p.mutate();
  await p.advance(5000);
  await p.drain(2);
  await p.drain();
  assert.equal(p.replayRaw.length, 2);
  p.close();
});
