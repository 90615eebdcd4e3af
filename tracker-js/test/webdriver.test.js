import assert from 'node:assert/strict';
import { test } from 'node:test';
import { open } from './harness.js';

test('a browser driven by automation says so: b:1 on its beacons (docs/WIRE.md)', async () => {
  const p = await open({ webdriver: true });
  const [b] = await p.sent();
  assert.equal(b.b, 1);
  assert.deepEqual(p.errors, []);
  p.close();
});

test("a person's browser sends no b at all", async () => {
  for (const webdriver of [false, undefined]) {
    const p = await open({ webdriver });
    const [b] = await p.sent();
    assert.equal('b' in b, false);
    p.close();
  }
});
