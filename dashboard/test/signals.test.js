import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SIGNAL_FILTER, signalsOf, signalsText } from '../src/signals.js';

test('a session shows the kinds it has, in order, with their counts as text', () => {
  const session = { signals: { rage: 1, dead: 0, error: 2 } };
  assert.deepEqual(
    signalsOf(session).map((s) => [s.kind, s.count, s.label]),
    [
      ['rage', 1, '1 rage click'],
      ['error', 2, '2 error clicks'],
    ],
  );
  assert.equal(signalsText(session), 'Rage 1, Error 2');
});

test('a session without signals (or an older answer without the field) shows none', () => {
  assert.deepEqual(signalsOf({ signals: { rage: 0, dead: 0, error: 0 } }), []);
  assert.equal(signalsText({}), '');
});

test("the filter's values are the API's kinds, blank for no filter", () => {
  const kinds = new Set(['rage', 'dead', 'error']);
  for (const value of Object.keys(SIGNAL_FILTER).filter(Boolean)) {
    assert.ok(
      value.split(',').every((kind) => kinds.has(kind)),
      value,
    );
  }
  assert.equal(SIGNAL_FILTER[''], 'Any session');
});
