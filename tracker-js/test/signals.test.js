import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BRAND, bake, COLLECTOR, open } from './harness.js';

// Issue 15, replay off: dead clicks (a click on something clickable, then a second without a DOM
// change, a URL change or a request) and error clicks (an uncaught error within a second of a
// click), found by /t/x.js (loaded by t.js after the brand config) and sent through t.js's
// queue as events with the click's time and its {s, x, y}.
const BODY = `
  <button id="dead">Pay</button>
  <button id="grow">More</button>
  <a id="hash" href="#part2">Part 2</a>
  <div id="plain">text</div>
  <ul id="list"></ul>
`;

async function visit(act, options = {}) {
  const p = await open({ body: BODY, ...options });
  await p.advance(1000); // the first beacon has gone
  const t0 = p.now;
  await act(p);
  await p.advance(3000);
  const events = (await p.events()).filter((e) => e.t !== 'page_view');
  return { p, t0, events, kinds: events.map((e) => e.t) };
}

const $ = (p, sel) => p.document.querySelector(sel);

test('t.js loads /t/x.js once the brand config is in (x true, or no x), not before', async () => {
  for (const brand of [BRAND, { ...BRAND, x: true }]) {
    const p = await open({ brand: 'hold' });
    assert.deepEqual(p.xLoads, []);
    await p.answer(brand);
    assert.deepEqual(p.xLoads, [`${COLLECTOR}/t/x.js`]);
    assert.equal(p.window.clicktrail._x, 1);
    p.close();
  }
});

test('no /t/x.js when the brand turned it off, for an unknown site key, a failed config or honoured DNT', async () => {
  const off = [
    { brand: { ...BRAND, x: false } },
    { src: `${COLLECTOR}/t.js?site=SITE`, tag: '', baked: bake({ ...BRAND, k: 'SITE', x: false }) },
  ];
  for (const options of [...off, { brand: 404 }, { brand: 'reject' }, { brand: { ...BRAND, d: true }, dnt: '1' }]) {
    const p = await open(options);
    assert.deepEqual(p.xLoads, [], JSON.stringify(options));
    p.close();
  }
});

test('a click on a button that changes nothing for a second is a dead click at the click', async () => {
  const { p, t0, events } = await visit((p) => p.click($(p, '#dead'), 10, 20));
  const dead = events.find((e) => e.t === 'dead_click');
  assert.equal(dead.ts, t0);
  assert.deepEqual(dead.d, { s: 'button#dead', x: 10, y: 20 });
  assert.deepEqual(p.warnings, []);
  p.close();
});

test('a DOM change, a request or a URL change within the second: no dead click', async () => {
  for (const act of [
    (p) => {
      $(p, '#grow').addEventListener('click', () => $(p, '#list').append(p.document.createElement('li')));
      p.click($(p, '#grow'));
    },
    async (p) => {
      p.click($(p, '#dead'));
      await p.advance(500);
      p.entries.push({ name: 'https://api.shop.example/pay' });
    },
    (p) => {
      $(p, '#dead').addEventListener('click', () => p.window.history.pushState({}, '', '/paid'));
      p.click($(p, '#dead'));
    },
    (p) => {
      $(p, '#dead').addEventListener('click', () => $(p, '#dead').setAttribute('aria-busy', 'true'));
      p.click($(p, '#dead'));
    },
  ]) {
    const { p, kinds } = await visit(act);
    assert.ok(kinds.includes('click'));
    assert.ok(!kinds.includes('dead_click'), kinds.join());
    p.close();
  }
});

test('a click on something not clickable is never a dead click', async () => {
  const { p, kinds } = await visit((p) => p.click($(p, '#plain')));
  assert.deepEqual(kinds, ['click']);
  p.close();
});

test('an uncaught error within a second of a click is one error click, with its message', async () => {
  const { p, t0, events } = await visit(async (p) => {
    p.click($(p, '#plain'), 5, 6);
    await p.advance(300);
    const err = (m) => new p.window.ErrorEvent('error', { message: m });
    p.window.dispatchEvent(err(`Uncaught TypeError: ${'x'.repeat(300)}`));
    p.window.dispatchEvent(err('second error, same click'));
  });
  const errs = events.filter((e) => e.t === 'error_click');
  assert.equal(errs.length, 1);
  assert.equal(errs[0].ts, t0);
  assert.equal(errs[0].d.m.length, 200);
  assert.ok(errs[0].d.m.startsWith('Uncaught TypeError: xxx'));
  assert.deepEqual([errs[0].d.s, errs[0].d.x, errs[0].d.y], ['div#plain', 5, 6]);
  p.close();
});

test('a click whose handler throws is an error click, not also a dead click', async () => {
  const { p, kinds } = await visit(async (p) => {
    p.click($(p, '#dead'));
    await p.advance(200);
    p.window.dispatchEvent(new p.window.ErrorEvent('error', { message: 'boom' }));
  });
  assert.deepEqual(kinds.sort(), ['click', 'error_click']);
  p.close();
});

test('a burst of clicks on a dead button is one dead click, at its last click', async () => {
  const { p, events } = await visit(async (p) => {
    for (let i = 0; i < 3; i++) {
      p.click($(p, '#dead'), 10, 20);
      await p.advance(150);
    }
  });
  const dead = events.filter((e) => e.t === 'dead_click');
  const clicks = events.filter((e) => e.t === 'click');
  assert.equal(dead.length, 1);
  assert.equal(dead[0].ts, clicks[2].ts);
  p.close();
});

test('a rejection counts; an error long after the click, or a failed image, does not', async () => {
  const { p, kinds, events } = await visit(async (p) => {
    p.click($(p, '#plain'));
    await p.advance(1500);
    p.window.dispatchEvent(new p.window.ErrorEvent('error', { message: 'late' }));
    const img = p.document.createElement('img');
    p.document.body.append(img);
    p.click($(p, '#plain'));
    img.dispatchEvent(new p.window.Event('error')); // a resource error: not bubbling, not ours
    const rejection = new p.window.Event('unhandledrejection');
    rejection.reason = new p.window.Error('fetch failed');
    p.window.dispatchEvent(rejection);
  });
  assert.deepEqual(
    kinds.filter((k) => k === 'error_click'),
    ['error_click'],
  );
  assert.equal(events.find((e) => e.t === 'error_click').d.m, 'Error: fetch failed');
  p.close();
});

test('a broken performance API or a hostile error cannot throw into the page', async () => {
  const { p, kinds } = await visit(async (p) => {
    p.window.performance.getEntriesByType = () => {
      throw new p.window.Error('no timeline');
    };
    p.click($(p, '#dead'));
    const rejection = new p.window.Event('unhandledrejection');
    rejection.reason = {
      toString: () => {
        throw new p.window.Error('hostile');
      },
    };
    p.window.dispatchEvent(rejection);
  });
  assert.deepEqual(kinds, ['click']);
  assert.deepEqual(p.errors, []);
  assert.ok(p.warnings.length >= 2);
  p.close();
});
