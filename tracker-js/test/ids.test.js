import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isId, newId } from '../src/ids.js';

const ID = /^[0-9a-hjkmnp-tv-z]{26}$/;

test('an id is 26 lower-case Crockford base32 characters', () => {
  for (let i = 0; i < 200; i++) assert.match(newId(), ID);
});

test('the time part encodes milliseconds exactly as collector/ids.py does', () => {
  // Values from collector.ids._encode(ms, 10).
  assert.equal(newId(0).slice(0, 10), '0000000000');
  assert.equal(newId(1733821200000).slice(0, 10), '01jeqwqxm0');
  assert.equal(newId(2 ** 48 - 1).slice(0, 10), '7zzzzzzzzz');
});

test('ids made later sort after ids made earlier', () => {
  const ids = [0, 1, 31, 32, 1733821200000, 1733821200001, 1733821260000, 2 ** 48 - 1].map((t) => newId(t));
  assert.deepEqual([...ids].sort(), ids);
});

test('the random part differs between ids made in the same millisecond', () => {
  const ids = new Set(Array.from({ length: 1000 }, () => newId(1733821200000)));
  assert.equal(ids.size, 1000);
  const chars = new Set([...ids].join('').replace(/(.{26})/g, (id) => id.slice(10)));
  assert.equal(chars.size, 32, 'every alphabet character shows up in the random part');
});

test('isId accepts the id shape only', () => {
  assert.ok(isId(newId()));
  for (const bad of [
    null,
    undefined,
    '',
    'x',
    newId().toUpperCase(),
    `${newId()}0`,
    `${newId().slice(1)}u`,
    `il${newId().slice(2)}`,
  ])
    assert.equal(isId(bad), false, String(bad));
});
