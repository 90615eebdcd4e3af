// The recorder when the collector is busy: 429/503 with Retry-After keeps the chunk queued and
// sends it again once the wait (bounded to 1..60 s) is over (docs/REPLAY.md).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { open, T0 } from './harness.js';

const REC = 'data-site="SITE" data-replay="1"';
const busy =
  (n, retryAfter, status = 503) =>
  (sent) =>
    sent <= n ? { status, headers: { 'retry-after': retryAfter } } : { status: 204 };

async function recording(replayStatus) {
  const p = await open({ tag: REC, replayStatus });
  await p.drain(1);
  p.mutate = async () => {
    p.document.body.append(p.document.createElement('p'));
    await Promise.resolve();
  };
  return p;
}
const seqs = async (p) => (await p.chunks()).map((c) => c.json.q);

test('a 503 with Retry-After: the chunk is sent again after the wait, with the buffer', async () => {
  const p = await recording(busy(1, '7'));
  await p.drain();
  await p.mutate();
  await p.advance(5000); // the 5 s flush: held back, the collector asked for 7 s
  await p.drain();
  assert.deepEqual(await seqs(p), [0]);
  await p.advance(2000);
  await p.drain(3);
  assert.deepEqual((await seqs(p)).sort(), [0, 0, 1], 'the refused chunk again, and the buffer');
  await p.mutate();
  await p.advance(5000);
  await p.drain(4);
  assert.deepEqual((await seqs(p)).sort(), [0, 0, 1, 2], 'recording goes on');
  assert.deepEqual(p.errors, []);
  p.close();
});

test('429 too; Retry-After is bounded to 1..60 s, and a date works', async () => {
  for (const [header, wait] of [
    ['3600', 60_000],
    ['0', 1000],
    [null, 0],
  ]) {
    const p = await recording(busy(1, header ?? undefined, 429));
    await p.drain();
    if (header === null) {
      await p.advance(60_000);
      await p.drain();
      assert.equal(p.replayRaw.length, 1, '429 without Retry-After: a refusal, not retried');
      p.close();
      continue;
    }
    await p.advance(wait - 1);
    await p.drain();
    assert.equal(p.replayRaw.length, 1, `not before ${wait} ms`);
    await p.advance(1);
    await p.drain(2);
    assert.deepEqual(await seqs(p), [0, 0]);
    p.close();
  }
  const p = await recording((sent) =>
    sent <= 1 ? { status: 503, headers: { 'retry-after': new Date(T0 + 3000).toUTCString() } } : { status: 204 },
  );
  await p.drain();
  await p.advance(2999);
  await p.drain();
  assert.equal(p.replayRaw.length, 1);
  await p.advance(1);
  await p.drain(2);
  assert.equal(p.replayRaw.length, 2);
  p.close();
});

test('a page hidden while waiting beacons the held chunk and the buffer', async () => {
  const p = await recording(busy(1, '30'));
  await p.drain();
  await p.mutate();
  p.leave();
  const c = await p.chunks();
  assert.deepEqual(
    c.map((x) => [x.via, x.json.q]),
    [
      ['fetch', 0],
      ['beacon', 0],
      ['beacon', 1],
    ],
  );
  await p.advance(30_000);
  await p.drain();
  assert.equal(p.replayRaw.length, 3, 'not sent a third time');
  assert.deepEqual(p.errors, []);
  p.close();
});

test('a collector that stays busy: the recorder gives up after 10 waits, quietly', async () => {
  const p = await recording(busy(1e9, '1'));
  for (let i = 0; i < 15; i++) {
    await p.advance(1000);
    await p.drain();
  }
  assert.equal(p.replayRaw.length, 11);
  assert.ok(p.warnings.some((w) => w.includes('busy')));
  assert.deepEqual(p.errors, []);
  p.close();
});
