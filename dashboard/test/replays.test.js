import assert from 'node:assert/strict';
import { test } from 'node:test';
import { replayFor, seekStatus } from '../src/replays.js';

const at = (iso) => Date.parse(iso);
const replays = [
  { id: 'r2', page_session_id: 'p2', started_at: '2026-12-02T10:00:05.000Z', duration_ms: 4000 },
  { id: 'r1', page_session_id: 'p1', started_at: '2026-12-02T10:00:00.000Z', duration_ms: 5500 },
];

test('an event goes to the replay of its own page', () => {
  assert.equal(replayFor(replays, at('2026-12-02T10:00:05.200Z'), 'p1').id, 'r1');
  assert.equal(replayFor(replays, at('2026-12-02T10:00:04.800Z'), 'p2').id, 'r2');
});

test('without its page, the last replay started by then (a second of grace)', () => {
  assert.equal(replayFor(replays, at('2026-12-02T10:00:03.000Z')).id, 'r1');
  assert.equal(replayFor(replays, at('2026-12-02T10:00:04.500Z')).id, 'r2');
  assert.equal(replayFor(replays, at('2026-12-02T10:09:00.000Z'), 'unknown').id, 'r2');
  assert.equal(replayFor(replays, 0).id, 'r1');
  assert.equal(replayFor([], 0), null);
});

test('a moment past the end of the recording is said to be so', () => {
  assert.equal(seekStatus(1966, 4500), 'Replay at 0:01');
  assert.equal(seekStatus(4900, 4500), 'Replay at 0:04'); // within a second of the end
  assert.equal(seekStatus(1966, 16), 'The recording ends at 0:00, before this moment (0:01)');
  assert.equal(seekStatus(1966, undefined), 'Replay at 0:01'); // a viewer that does not say
});
