// Loading a replay in windows (stream.js) and the scroll positions of a moment (scroll.js).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { scrollsAt } from '../src/scroll.js';
import { EventStream, gapsIn, withRange } from '../src/stream.js';

const T0 = 1_700_000_000_000;

test('gaps: what a set of loaded ranges misses of a window', () => {
  assert.deepEqual(gapsIn([], 0, 100), [[0, 100]]);
  assert.deepEqual(gapsIn([[0, 10]], 0, 100), [[11, 100]]);
  assert.deepEqual(
    gapsIn(
      [
        [0, 10],
        [50, 60],
      ],
      5,
      100,
    ),
    [
      [11, 49],
      [61, 100],
    ],
  );
  assert.deepEqual(gapsIn([[0, 100]], 20, 30), []);
});

test('ranges merge when they touch or overlap', () => {
  let ranges = withRange([], 0, 10);
  ranges = withRange(ranges, 20, 30);
  assert.deepEqual(ranges, [
    [0, 10],
    [20, 30],
  ]);
  assert.deepEqual(withRange(ranges, 11, 19), [[0, 30]]);
  assert.deepEqual(withRange(ranges, 5, 25), [[0, 30]]);
});

/** A replay of one event a second for 30 minutes, checkouts every 10 minutes, served in
 * windows as the collector does (both bounds included), counting the requests. */
function replay() {
  const events = [];
  for (let s = 0; s <= 1800; s++) events.push({ type: s % 600 === 0 ? 2 : 3, timestamp: T0 + s * 1000 });
  const asked = [];
  const fetchWindow = async (from, until) => {
    asked.push([from, until]);
    return events.filter((e) => e.timestamp - T0 >= from && e.timestamp - T0 <= until);
  };
  return { events, asked, fetchWindow, index: { duration_ms: 1_800_000, seek_points_ms: [0, 600_000, 1_200_000] } };
}

test('loads side by side never fetch a range twice', async () => {
  const r = replay();
  const got = [];
  const stream = new EventStream(r.fetchWindow, r.index, (events) => got.push(...events));
  await Promise.all([stream.load(0, 100_000), stream.load(50_000, 150_000), stream.next()]);
  const seen = got.map((e) => e.timestamp);
  assert.equal(new Set(seen).size, seen.length, 'no event twice');
  assert.deepEqual(r.asked, [
    [0, 100_000],
    [100_001, 150_000],
    [150_001, 210_000],
  ]);
});

test('the stream loads the rest in growing windows, each event once, in order', async () => {
  const r = replay();
  const got = [];
  const stream = new EventStream(r.fetchWindow, r.index, (events) => got.push(...events));
  stream.markLoaded(0, 10_000);
  got.push(...r.events.filter((e) => e.timestamp - T0 <= 10_000));
  while (await stream.next()) {}
  assert.ok(stream.complete);
  assert.deepEqual(got, r.events);
  assert.ok(r.asked.length <= 6, `${r.asked.length} windows`);
  assert.equal(stream.loadedFromStart(), 1_800_000);
});

test('a seek loads from its seek point, and the gap before it is filled later', async () => {
  const r = replay();
  const got = [];
  const stream = new EventStream(r.fetchWindow, r.index, (events) => got.push(...events));
  stream.markLoaded(0, 10_000);
  assert.equal(stream.covers(900_000), false);
  await stream.ensure(900_000);
  assert.deepEqual(r.asked[0], [600_000, 900_000]); // what the frame needs, first
  await stream.ahead(900_001);
  assert.deepEqual(r.asked.slice(1), [[900_001, 930_001]]); // asked once: ensure started it
  assert.equal(stream.covers(900_000), true);
  assert.equal(stream.seekPointAt(900_000), 600_000);
  while (await stream.next()) {}
  const seen = got.map((e) => e.timestamp);
  assert.equal(new Set(seen).size, seen.length, 'no event twice');
  assert.equal(seen.length, r.events.length - 11);
});

test('scroll positions of a moment: the last of each node since the last checkout', () => {
  const events = [
    { type: 4, timestamp: T0, data: {} },
    { type: 2, timestamp: T0, data: { node: { id: 1 }, initialOffset: { top: 0, left: 0 } } },
    { type: 3, timestamp: T0 + 100, data: { source: 3, id: 1, x: 0, y: 500 } },
    { type: 3, timestamp: T0 + 200, data: { source: 3, id: 42, x: 10, y: 20 } },
    { type: 3, timestamp: T0 + 300, data: { source: 3, id: 1, x: 0, y: 900 } },
    { type: 3, timestamp: T0 + 400, data: { source: 1, positions: [] } },
    { type: 3, timestamp: T0 + 500, data: { source: 3, id: 1, x: 0, y: 1200 } },
    { type: 2, timestamp: T0 + 600, data: { node: { id: 1 }, initialOffset: { top: 300, left: 0 } } },
  ];
  const at300 = scrollsAt(events, T0 + 300);
  assert.deepEqual(
    [...at300.positions],
    [
      [1, { x: 0, y: 900 }],
      [42, { x: 10, y: 20 }],
    ],
  );
  assert.equal(at300.until, T0 + 500);
  const atEnd = scrollsAt(events, T0 + 600);
  assert.deepEqual([...atEnd.positions], [[1, { x: 0, y: 300 }]]);
  assert.equal(atEnd.until, Infinity);
});
