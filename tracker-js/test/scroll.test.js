import assert from 'node:assert/strict';
import { test } from 'node:test';
import { open } from './harness.js';

// Issue 15: scroll depth, found by /t/x.js. The deepest tenth of the page seen in the page
// session (1..10), recorded as a `scroll_depth` event {d} when the page is hidden or left, and
// only when it grew since the last one. jsdom lays nothing out: the page's height, the viewport
// and the scroll position are set by hand here.
async function page({ height = 4000, viewport = 800 } = {}) {
  const p = await open();
  const w = p.window;
  Object.defineProperty(w.document.documentElement, 'scrollHeight', { get: () => p.height, configurable: true });
  Object.defineProperty(w, 'innerHeight', { value: viewport, configurable: true, writable: true });
  p.height = height;
  p.scrollTo = (y) => {
    Object.defineProperty(w, 'scrollY', { value: y, configurable: true });
    w.dispatchEvent(new w.Event('scroll'));
  };
  p.depths = async () => (await p.events()).filter((e) => e.t === 'scroll_depth').map((e) => e.d);
  await p.advance(1000); // the first beacon has gone
  return p;
}

test('hiding the page records the deepest tenth seen, in the beacon the hiding sends', async () => {
  const p = await page();
  p.scrollTo(1200); // bottom edge at 2000 of 4000: half the page
  p.scrollTo(300);
  p.hide();
  assert.deepEqual(await p.depths(), [{ d: 5 }]); // no time passed: sent with t.js's flush
  assert.deepEqual(p.warnings, []);
  p.close();
});

test('a depth is recorded again only when it grew', async () => {
  const p = await page();
  p.scrollTo(1201); // 2001 of 4000: into the sixth tenth
  p.hide();
  p.hide(); // hidden again, no deeper
  p.scrollTo(3200); // the bottom
  p.hide();
  assert.deepEqual(await p.depths(), [{ d: 6 }, { d: 10 }]);
  p.close();
});

test('a page shorter than the window is seen whole; a page with no height records nothing', async () => {
  const short = await page({ height: 500 });
  short.hide();
  assert.deepEqual(await short.depths(), [{ d: 10 }]);
  short.close();
  const none = await page({ height: 0 });
  none.hide();
  assert.deepEqual(await none.depths(), []);
  none.close();
});

test('leaving the page records the depth too; it goes out with the visibilitychange that follows', async () => {
  const p = await page();
  p.scrollTo(400); // 1200 of 4000
  p.leave(); // t.js's pagehide flush ran before x.js's listener: queued
  assert.deepEqual(await p.depths(), []);
  p.hide();
  assert.deepEqual(await p.depths(), [{ d: 3 }]);
  p.close();
});

test('a page restored from the back/forward cache measures its new page session from the start', async () => {
  const p = await page();
  p.scrollTo(3200);
  p.hide();
  p.scrollTo(0);
  p.window.dispatchEvent(new p.window.PageTransitionEvent('pageshow', { persisted: true }));
  p.hide();
  const sent = (await p.sent()).filter((b) => b.e.some((e) => e.t === 'scroll_depth'));
  assert.deepEqual(
    sent.map((b) => b.e.filter((e) => e.t === 'scroll_depth').map((e) => e.d.d)),
    [[10], [2]],
  );
  assert.notEqual(sent[0].p, sent[1].p); // two page sessions
  p.close();
});

test('a page whose height cannot be read cannot be broken by it', async () => {
  const p = await page();
  Object.defineProperty(p.window.document.documentElement, 'scrollHeight', {
    get() {
      throw new p.window.Error('no layout');
    },
  });
  p.scrollTo(100);
  p.hide();
  assert.deepEqual(await p.depths(), []);
  assert.deepEqual(p.errors, []);
  assert.ok(p.warnings.some((w) => w.includes('no layout')));
  p.close();
});
