// Map mode's pure parts: the width in the URL, the dashboard's message checked, heat and bands.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  bandLabel,
  clickTitle,
  depthBands,
  heatColour,
  mapScale,
  mapWidthFrom,
  readHeatmap,
  snapshotEvents,
  viewportHeightFor,
} from '../src/mapdata.js';

const message = (over) => ({
  source: 'clicktrail-dashboard',
  type: 'heatmap',
  mode: 'clicks',
  clicks: [{ selector: 'button#buy', clicks: 3, rage: 1, dead: 0, error: 0 }],
  depths: [{ depth: 10, share: 1 }],
  ...over,
});

test('map width: 200..4000 px from ?map=, else not map mode', () => {
  assert.equal(mapWidthFrom('?map=375'), 375);
  assert.equal(mapWidthFrom('?brand=1&map=1280'), 1280);
  for (const bad of ['', '?map=', '?map=199', '?map=4001', '?map=12px', '?map=-5', '?map=1e3', '?map=99999']) {
    assert.equal(mapWidthFrom(bad), null, bad);
  }
});

test('viewport height: a phone is laid out taller than wide, a desktop wider than tall', () => {
  assert.ok(viewportHeightFor(375) > 375);
  assert.ok(viewportHeightFor(1280) < 1280);
});

test('heatmap message: the shape the dashboard sends is read, missing signal counts are 0', () => {
  const read = readHeatmap(message({ clicks: [{ selector: 'a.x', clicks: 2 }] }));
  assert.deepEqual(read, {
    mode: 'clicks',
    clicks: [{ selector: 'a.x', clicks: 2, rage: 0, dead: 0, error: 0 }],
    depths: [{ depth: 10, share: 1 }],
    fitHeight: null,
  });
  assert.equal(readHeatmap(message({ mode: 'scroll' })).mode, 'scroll');
  assert.equal(readHeatmap(message({ fitHeight: 800 })).fitHeight, 800);
  assert.equal(readHeatmap(message({ fitHeight: 1e9 })).fitHeight, null);
});

test('heatmap message: anything else is refused whole', () => {
  const bad = [
    null,
    'heatmap',
    message({ source: 'someone' }),
    message({ type: 'other' }),
    message({ mode: 'paint' }),
    message({ clicks: 'x' }),
    message({ clicks: Array.from({ length: 501 }, (_, i) => ({ selector: `#a${i}`, clicks: 1 })) }),
    message({ clicks: [{ selector: '', clicks: 1 }] }),
    message({ clicks: [{ selector: 'a'.repeat(1001), clicks: 1 }] }),
    message({ clicks: [{ selector: 'a', clicks: -1 }] }),
    message({ clicks: [{ selector: 'a', clicks: 1.5 }] }),
    message({ clicks: [{ selector: 'a', clicks: 1, rage: '2' }] }),
    message({ clicks: [null] }),
    message({ depths: [{ depth: 15, share: 0.5 }] }),
    message({ depths: [{ depth: 10, share: 1.2 }] }),
    message({ depths: [{ depth: 10, share: Number.NaN }] }),
    message({ depths: Array.from({ length: 11 }, () => ({ depth: 10, share: 1 })) }),
  ];
  for (const data of bad) assert.equal(readHeatmap(data), null, JSON.stringify(data)?.slice(0, 80));
});

test('heat: blue for few clicks, red for the most; alpha kept', () => {
  assert.equal(heatColour(0), 'hsla(220, 85%, 45%, 1)');
  assert.equal(heatColour(1), 'hsla(0, 85%, 45%, 1)');
  assert.equal(heatColour(7), 'hsla(0, 85%, 45%, 1)');
  assert.equal(heatColour(1, 0.2), 'hsla(0, 85%, 45%, 0.2)');
});

test('scroll bands: ten tenths of the page, a missing depth is 0', () => {
  const bands = depthBands(
    [
      { depth: 10, share: 1 },
      { depth: 50, share: 0.5 },
    ],
    2000,
  );
  assert.equal(bands.length, 10);
  assert.deepEqual(bands[0], { depth: 10, share: 1, top: 0, height: 200 });
  assert.deepEqual(bands[4], { depth: 50, share: 0.5, top: 800, height: 200 });
  assert.equal(bands[9].share, 0);
  assert.equal(bands[9].top, 1800);
});

test('scale: the width fits; scroll bands fit the page height too, down to a third or 240 px', () => {
  const page = { width: 1280, pageHeight: 3600, room: 640, fitHeight: 900 };
  assert.equal(mapScale({ ...page, mode: 'clicks' }), 0.5);
  assert.equal(mapScale({ ...page, mode: 'scroll' }), 0.25);
  assert.equal(mapScale({ ...page, mode: 'scroll', pageHeight: 36000 }), 240 / 1280);
  assert.equal(mapScale({ ...page, width: 4000, room: 2000, mode: 'scroll', pageHeight: 90000 }), 0.5 / 3);
  assert.equal(mapScale({ ...page, mode: 'scroll', pageHeight: 600 }), 0.5);
  assert.equal(mapScale({ ...page, room: 2000, mode: 'clicks' }), 1);
  const phone = { width: 375, pageHeight: 3600, room: 330, fitHeight: 900, mode: 'scroll' };
  assert.equal(mapScale(phone), 240 / 375); // not 110 px wide
});

test('band label: the part of the page and the share that reached it', () => {
  assert.equal(bandLabel({ depth: 10, share: 0.923 }), '0–10%: 92% reached');
  assert.equal(bandLabel({ depth: 100, share: 0 }), '90–100%: 0% reached');
});

test('badge title: counts in words', () => {
  const row = { selector: 'a#go', clicks: 1, rage: 0, dead: 1, error: 0 };
  assert.equal(clickTitle(row, 4), 'a#go: 1 click (25%) · rage 0 · dead 1 · error 0');
});

test('snapshot events: the first full snapshot and its meta, resized', () => {
  const events = [
    { type: 4, timestamp: 1, data: { href: 'https://x.test/', width: 1440, height: 900 } },
    { type: 2, timestamp: 2, data: { node: {} } },
    { type: 3, timestamp: 3, data: {} },
    { type: 2, timestamp: 4, data: { node: {} } },
  ];
  assert.deepEqual(snapshotEvents(events, 375, 675), [
    { type: 4, timestamp: 1, data: { href: 'https://x.test/', width: 375, height: 675 } },
    events[1],
  ]);
  assert.equal(events[0].data.width, 1440); // the stream itself is left alone
  assert.equal(snapshotEvents([{ type: 3, timestamp: 1, data: {} }], 375, 675), null);
  assert.equal(snapshotEvents([events[1]], 375, 675)[0].data.width, 375);
});
