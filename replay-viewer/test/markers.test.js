// Pure parts of the viewer: timeline markers, inactive periods, share links, time format.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiError, shareFromLocation } from '../src/api.js';
import { clock, shortUrl } from '../src/dom.js';
import { buildMarkers, inactivePeriods } from '../src/markers.js';

const T0 = Date.parse('2024-12-10T09:00:00.000Z');
const iso = (ms) => new Date(T0 + ms).toISOString();

test('markers: clicks from the replay, page views and custom events from the session', () => {
  const meta = {
    events: [
      { type: 'mousemove', x: 1, y: 2, ts: 100 },
      { type: 'click', x: 10, y: 20, ts: 4000, target: 'main > div.cta > button#buy' },
    ],
  };
  const session = [
    { type: 'page_view', url: 'https://shop.example/p?x=1', timestamp: iso(-300), data: {} },
    { type: 'click', url: 'https://shop.example/p', timestamp: iso(4000), data: { text: 'Buy' } },
    { type: 'signup', url: 'https://shop.example/p', timestamp: iso(6000), data: { plan: 'pro' } },
    { type: 'page_view', url: 'https://shop.example/other', timestamp: iso(60_000), data: {} },
  ];
  const markers = buildMarkers(meta, session, T0, 10_000);
  assert.deepEqual(
    markers.map((m) => [m.kind, m.ts, m.label]),
    [
      ['page_view', 0, '/p?x=1'],
      ['click', 4000, 'button#buy'],
      ['custom', 6000, 'signup'],
    ],
  );
  assert.equal(markers[2].detail, 'signup {"plan":"pro"}');
});

test('markers: without clicks in the replay, the session clicks are used', () => {
  const session = [{ type: 'click', url: 'u', timestamp: iso(2000), data: { text: 'Buy now', selector: 'a' } }];
  assert.deepEqual(
    buildMarkers({ events: [] }, session, T0, 5000).map((m) => [m.kind, m.ts, m.label]),
    [['click', 2000, 'Buy now']],
  );
});

test('markers: a scroll depth reads as how far the visitor scrolled', () => {
  const session = [{ type: 'scroll_depth', url: 'u', timestamp: iso(3000), data: { d: 6 } }];
  assert.deepEqual(
    buildMarkers({ events: [] }, session, T0, 5000).map((m) => [m.kind, m.ts, m.label]),
    [['custom', 3000, 'Scrolled 60% of the page']],
  );
});

test('inactive periods: gaps over 10 s between user input, including the tail', () => {
  const ev = (ms, source) => ({ type: 3, data: { source }, timestamp: T0 + ms });
  const events = [
    { type: 4, data: {}, timestamp: T0 },
    ev(1000, 1),
    ev(5000, 0), // a DOM mutation is not user input
    ev(20_000, 2),
    ev(21_000, 3),
  ];
  assert.deepEqual(inactivePeriods(events, T0, 40_000), [
    { start: 1000, end: 20_000 },
    { start: 21_000, end: 40_000 },
  ]);
});

test('share link: the claims are read from the fragment', () => {
  const claims = { b: 7, s: '01jcz4x7m8r9t0v1w2x3y4z5s0', r: '01jcz4x7m8r9t0v1w2x3y4z5a6', e: 1_900_000_000 };
  const token = `${Buffer.from(JSON.stringify(claims)).toString('base64url')}.c2ln`;
  const share = shareFromLocation({ hash: `#share=${token}` });
  assert.deepEqual(share, { token, brand: '7', session: claims.s, replay: claims.r, expires: claims.e });
  assert.equal(shareFromLocation({ hash: '' }), null);
  assert.equal(shareFromLocation({ hash: '#other=1' }), null);
  assert.throws(() => shareFromLocation({ hash: '#share=%%%.x' }), ApiError);
  assert.throws(() => shareFromLocation({ hash: '#share=bm90anNvbg.x' }), ApiError);
});

test('formatting', () => {
  assert.equal(clock(0), '0:00');
  assert.equal(clock(83_400), '1:23');
  assert.equal(clock(3_723_000), '1:02:03');
  assert.equal(shortUrl('https://a.example/x/y?q=1#h'), '/x/y?q=1#h');
  assert.equal(shortUrl('not a url'), 'not a url');
});

test('markers: events of another page of the session (another tab) are left out', () => {
  const meta = { page_session_id: 'page-a', events: [] };
  const session = [
    { type: 'signup', url: 'u', timestamp: iso(1000), data: {}, click_id: 'page-a' },
    { type: 'checkout', url: 'u', timestamp: iso(2000), data: {}, click_id: 'page-b' },
  ];
  assert.deepEqual(
    buildMarkers(meta, session, T0, 5000).map((m) => m.label),
    ['signup'],
  );
});
