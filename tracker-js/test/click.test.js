import assert from 'node:assert/strict';
import { test } from 'node:test';
import { open } from './harness.js';

const BODY = `
  <button id="buy-now" class="btn"><span class="icon">*</span>  Buy
     now </button>
  <a href="#top" class="cta primary extra">Get started</a>
  <div><span id="plain">plain text</span></div>
  <section><div><p><span><b id="deep">deep</b></span></p></div></section>
  <div role="button" class="x:1 1st ok-class"><i>role button</i></div>
  <form>
    <input type="submit" value="Send my secret">
    <input type="text" id="email" value="me@example.com">
    <textarea id="msg">typed secret</textarea>
    <label for="email" class="lbl">E-mail <input id="inner" value="secret 2"></label>
  </form>
  <div data-ct-mask><button id="masked">4111 1111 1111 1111</button></div>
  <div id="editor" contenteditable="true"><p>draft words</p></div>
  <p id="long">${'word '.repeat(40)}</p>
  <svg><circle class="dot"></circle></svg>
  <div id=":r1:"><a class="hover:bg-x">react</a></div>
`;

async function clickOn(sel, x = 0, y = 0) {
  const p = await open({ body: BODY });
  const el = sel === 'body' ? p.document.body : p.document.querySelector(sel);
  p.click(el, x, y);
  await p.advance(2000); // a dead click (t/x.js) after a second puts the beacon off by one more
  const ev = (await p.events()).filter((e) => e.t === 'click');
  p.close();
  assert.ok(ev.length >= 1);
  if (sel === 'label' || sel === '#inner') return ev.map((e) => e.d);
  assert.equal(ev.length, 1);
  return ev[0].d;
}

test('a click on a button records its id selector, trimmed text and rounded page coordinates', async () => {
  assert.deepEqual(await clickOn('#buy-now', 300.4, 400.6), { s: 'button#buy-now', x: 300, y: 401, tx: '* Buy now' });
});

test('a click inside a button is recorded on the button', async () => {
  assert.equal((await clickOn('#buy-now .icon')).s, 'button#buy-now');
});

test('a link is named by up to two of its classes', async () => {
  assert.deepEqual(await clickOn('a.cta'), { s: 'a.cta.primary', x: 0, y: 0, tx: 'Get started' });
});

test('an element with no id or class is named with its parents, at most three levels', async () => {
  const p = await open({
    body: '<div><span>hi</span></div><section><div><p><span><b>deep</b></span></p></div></section>',
  });
  p.click(p.document.querySelector('div > span'));
  p.click(p.document.querySelector('b'));
  p.click(p.document.body);
  await p.advance(1000);
  const d = (await p.events()).filter((e) => e.t === 'click').map((e) => e.d);
  assert.deepEqual(
    d.map((x) => x.s),
    ['div > span', 'p > span > b', 'body'],
  );
  assert.deepEqual(
    d.map((x) => x.tx),
    ['hi', 'deep', 'hideep'],
  );
  p.close();
});

test('the parents walk stops at the first parent with an id', async () => {
  assert.equal((await clickOn('#plain')).s, 'span#plain');
  const p = await open({ body: '<div id="menu"><ul><li>One</li></ul></div>' });
  p.click(p.document.querySelector('li'));
  await p.advance(1000);
  assert.equal((await p.events())[1].d.s, 'div#menu > ul > li');
  p.close();
});

test('role=button targets count, and ids and classes that are not plain identifiers are skipped', async () => {
  const d = await clickOn('[role=button] i');
  assert.equal(d.s, 'div.ok-class');
  assert.equal(d.tx, 'role button');
  assert.equal((await clickOn('a.hover\\:bg-x')).s, 'div > a');
});

test('an input value is never sent as text', async () => {
  assert.deepEqual(await clickOn('input[type=submit]'), { s: 'form > input', x: 0, y: 0 });
  assert.equal((await clickOn('#email')).tx, undefined);
  assert.equal((await clickOn('#msg')).tx, undefined);
  // A label click is followed by the browser's click on its control, recorded as well.
  const [label, control] = await clickOn('label');
  assert.equal(label.s, 'label.lbl');
  assert.equal(label.tx, 'E-mail');
  assert.deepEqual(control, { s: 'input#email', x: 0, y: 0 });
  // A field inside a label counts as a click on the label: its text, never the field's value.
  const [inner] = await clickOn('#inner');
  assert.deepEqual(inner, { s: 'label.lbl', x: 0, y: 0, tx: 'E-mail' });
});

test('masked and editable content never gives its text', async () => {
  assert.deepEqual(await clickOn('#masked'), { s: 'button#masked', x: 0, y: 0 });
  assert.equal((await clickOn('#editor p')).tx, undefined);
});

test('click text is cut to 100 characters', async () => {
  const d = await clickOn('#long');
  assert.equal(d.tx.length, 100);
  assert.ok(d.tx.startsWith('word word'));
});

test('clicks on SVG elements are recorded', async () => {
  assert.equal((await clickOn('circle')).s, 'circle.dot');
});

test('clicks are seen even when the page stops propagation', async () => {
  const p = await open({ body: '<button id="b">x</button>' });
  p.document.getElementById('b').addEventListener('click', (e) => e.stopPropagation());
  p.document.body.addEventListener('click', (e) => e.stopImmediatePropagation(), true);
  p.click(p.document.getElementById('b'));
  await p.advance(1000);
  assert.equal((await p.events()).filter((e) => e.t === 'click').length, 1);
  p.close();
});
