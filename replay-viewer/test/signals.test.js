// Frustration signals (rage, dead and error clicks) as timeline markers of their own kinds, one
// per signal when both the tracker and the replay stream found it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildMarkers, dedupeSignals, signalLabel } from '../src/markers.js';

const T0 = Date.parse('2024-12-10T09:00:00.000Z');
const iso = (ms) => new Date(T0 + ms).toISOString();
const signal = (type, ms, data) => ({ type, click_id: 'p1', url: 'u', timestamp: iso(ms), data });
const meta = { page_session_id: 'p1', events: [] };

test('signal labels: rage with its count, dead on its element, error with its message', () => {
  assert.equal(signalLabel('rage_click', { s: 'div.app > button#buy', n: 4 }), 'Rage click ×4 on button#buy');
  assert.equal(signalLabel('dead_click', { s: 'a.cta' }), 'Dead click on a.cta');
  assert.equal(signalLabel('error_click', { s: 'a.cta', m: 'TypeError: x' }), 'Error click: TypeError: x');
  assert.equal(signalLabel('error_click', { s: 'a.cta' }), 'Error click on a.cta');
  assert.equal(signalLabel('rage_click', {}), 'Rage click');
});

test('signals become rage, dead and error markers, not custom ones', () => {
  const session = [
    signal('rage_click', 1000, { s: 'button#buy', x: 1, y: 2, n: 4, src: 'tracker' }),
    signal('dead_click', 3000, { s: 'a.cta', x: 1, y: 2, src: 'replay' }),
    signal('error_click', 5000, { s: 'button#pay', m: 'Boom', src: 'replay' }),
  ];
  const markers = buildMarkers(meta, session, T0, 10_000);
  assert.deepEqual(
    markers.map((m) => [m.kind, m.ts, m.label]),
    [
      ['rage', 1000, 'Rage click ×4 on button#buy'],
      ['dead', 3000, 'Dead click on a.cta'],
      ['error', 5000, 'Error click: Boom'],
    ],
  );
  assert.match(markers[0].detail, /found by the tracker/);
  assert.match(markers[2].detail, /found in the replay\) · button#pay$/);
});

test('the same signal from the tracker and the replay is one marker, the replay’s', () => {
  const session = [
    signal('rage_click', 1000, { s: 'main > button#buy', n: 3, src: 'tracker' }),
    signal('rage_click', 1040, { s: 'button#buy', n: 4, src: 'replay' }),
    signal('dead_click', 3000, { s: 'a.cta', src: 'tracker' }),
    signal('dead_click', 3900, { s: 'a.cta', src: 'replay' }),
    // not the same: another element, another kind, over a second apart
    signal('dead_click', 3100, { s: 'a.other', src: 'tracker' }),
    signal('error_click', 3000, { s: 'a.cta', m: 'x', src: 'tracker' }),
    signal('rage_click', 2100, { s: 'button#buy', n: 3, src: 'tracker' }),
  ];
  const markers = buildMarkers(meta, session, T0, 10_000);
  assert.deepEqual(
    markers.map((m) => [m.kind, m.ts, m.src]),
    [
      ['rage', 1040, 'replay'],
      ['rage', 2100, 'tracker'],
      ['error', 3000, 'tracker'],
      ['dead', 3100, 'tracker'],
      ['dead', 3900, 'replay'],
    ],
  );
  assert.deepEqual(dedupeSignals([{ kind: 'click', ts: 1 }]), [{ kind: 'click', ts: 1 }]);
});
