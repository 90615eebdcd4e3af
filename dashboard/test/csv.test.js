import assert from 'node:assert/strict';
import { test } from 'node:test';
import { csvCell, csvName, toCsv } from '../src/csv.js';

test('cells are quoted when they hold a comma, a quote or a line break', () => {
  assert.equal(csvCell('plain'), 'plain');
  assert.equal(csvCell('a,b'), '"a,b"');
  assert.equal(csvCell('say "hi"'), '"say ""hi"""');
  assert.equal(csvCell('two\nlines'), '"two\nlines"');
  assert.equal(csvCell(' padded '), '" padded "');
});

test('null and undefined are empty; numbers stay numbers, negative ones too', () => {
  assert.equal(csvCell(null), '');
  assert.equal(csvCell(undefined), '');
  assert.equal(csvCell(0), '0');
  assert.equal(csvCell(-12.5), '-12.5');
  assert.equal(csvCell(true), 'true');
});

test('text a spreadsheet would run as a formula gets a leading quote', () => {
  assert.equal(csvCell('=HYPERLINK("http://x")'), '"\'=HYPERLINK(""http://x"")"');
  assert.equal(csvCell('+1'), "'+1");
  assert.equal(csvCell('-cmd'), "'-cmd");
  assert.equal(csvCell('@SUM(A1)'), "'@SUM(A1)");
  assert.equal(csvCell('\tx'), "'\tx");
  assert.equal(csvCell('a=b'), 'a=b');
});

test('toCsv writes a header and one line per row, CRLF ended', () => {
  const csv = toCsv(
    [
      { key: 'url', label: 'Page' },
      { key: (r) => r.n * 2, label: 'double' },
    ],
    [
      { url: '/a,b', n: 1 },
      { url: null, n: 2 },
    ],
  );
  assert.equal(csv, 'Page,double\r\n"/a,b",2\r\n,4\r\n');
});

test('file names are plain', () => {
  assert.equal(csvName('Top pages'), 'top-pages.csv');
  assert.equal(csvName('UTM source', 'page-2'), 'utm-source-page-2.csv');
  assert.equal(csvName('../..'), 'data.csv');
});
