// The Heatmaps page's pure parts: URL state, time parameters, the map messages both ways.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { heatmapMessage, mapUrl, placeText, readHeatmapState, readMapMessage, timeParams } from '../src/heatmap.js';

test('state: page, width and layer from the URL, defaults otherwise', () => {
  assert.deepEqual(readHeatmapState(''), { pageUrl: '', width: 1280, layer: 'clicks' });
  assert.deepEqual(readHeatmapState('?pageUrl=https%3A%2F%2Fx.test%2Fa&width=375&layer=scroll'), {
    pageUrl: 'https://x.test/a',
    width: 375,
    layer: 'scroll',
  });
  assert.equal(readHeatmapState('?width=1000').width, 1280);
  assert.equal(readHeatmapState('?layer=paint').layer, 'clicks');
  assert.equal(readHeatmapState(`?pageUrl=${'a'.repeat(5000)}`).pageUrl.length, 2048);
});

test('time parameters: the range, bots and zone, never the filters', () => {
  const state = { interval: '7d', start: '', end: '', bots: 'exclude', filters: { country: 'GB' } };
  assert.deepEqual(timeParams(state, 'Europe/Paris'), { bots: 'exclude', timezone: 'Europe/Paris', interval: '7d' });
  const dated = { ...state, start: '2026-01-01', end: '2026-01-31' };
  assert.deepEqual(timeParams(dated, 'UTC'), {
    bots: 'exclude',
    timezone: 'UTC',
    start: '2026-01-01',
    end: '2026-01-31',
  });
});

test('message to the map: the rows without extra fields, signals default to 0', () => {
  const clicks = [{ selector: '#a', clicks: 3, visitors: 2, rage: 1 }];
  const depths = [{ depth: 10, pageViews: 2, share: 1 }];
  assert.deepEqual(heatmapMessage('scroll', clicks, depths, 700), {
    source: 'clicktrail-dashboard',
    type: 'heatmap',
    mode: 'scroll',
    fitHeight: 700,
    clicks: [{ selector: '#a', clicks: 3, rage: 1, dead: 0, error: 0 }],
    depths: [{ depth: 10, share: 1 }],
  });
});

test('messages from the map: drawn boxes by selector; anything else is ignored', () => {
  const drawn = readMapMessage({
    source: 'clicktrail-map',
    type: 'drawn',
    mode: 'clicks',
    height: 900,
    boxes: [
      { selector: '#a', status: 'found', x: 1, y: 2, width: 30, height: 40 },
      { selector: '#b', status: 'missing' },
    ],
  });
  assert.equal(drawn.type, 'drawn');
  assert.equal(drawn.height, 900);
  assert.equal(drawn.boxes.get('#a').width, 30);
  assert.equal(drawn.boxes.get('#b').status, 'missing');
  assert.deepEqual(readMapMessage({ source: 'clicktrail-map', type: 'ready', height: 1e9 }), {
    type: 'ready',
    height: 200_000,
  });
  assert.equal(
    readMapMessage({ source: 'clicktrail-map', type: 'error', message: 'x'.repeat(900) }).message.length,
    500,
  );
  for (const bad of [
    null,
    'drawn',
    { source: 'other', type: 'ready' },
    { source: 'clicktrail-map', type: 'nope' },
    { source: 'clicktrail-map', type: 'drawn', boxes: [{ selector: '#a', status: 'found', x: 1 }] },
    { source: 'clicktrail-map', type: 'drawn', boxes: [{ selector: '#a', status: 'elsewhere' }] },
    { source: 'clicktrail-map', type: 'drawn', boxes: 'x' },
  ]) {
    assert.equal(readMapMessage(bad), null, JSON.stringify(bad));
  }
});

test('place in words', () => {
  assert.equal(placeText({ status: 'found', x: 10.4, y: 20.6, width: 100, height: 40 }), 'Yes, at 10, 21');
  assert.equal(placeText({ status: 'missing' }), 'Not on this snapshot');
  assert.equal(placeText({ status: 'hidden' }), 'Hidden at this width');
  assert.equal(placeText(undefined), '…');
});

test('map URL: the share link with ?map=WIDTH, its fragment kept', () => {
  assert.equal(
    mapUrl('http://c.test/replay/01abc#share=t.k', 375, 'http://c.test/heatmaps'),
    '/replay/01abc?map=375#share=t.k',
  );
  assert.equal(mapUrl('/replay/01abc#share=t', 1280, 'http://c.test/heatmaps'), '/replay/01abc?map=1280#share=t');
});
