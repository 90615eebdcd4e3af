import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  change,
  clock,
  formatCompact,
  formatDuration,
  formatMoney,
  formatNumber,
  formatPercent,
  shortUrl,
} from '../src/format.js';

test('numbers', () => {
  assert.equal(formatNumber(1234567), '1,234,567');
  assert.equal(formatNumber(null), '–');
  assert.equal(formatCompact(9999), '9,999');
  assert.equal(formatCompact(12345), '12.3K');
});

test('percentages, durations and money', () => {
  assert.equal(formatPercent(0.4237), '42%');
  assert.equal(formatPercent(0.053), '5.3%');
  assert.equal(formatPercent(0), '0%');
  assert.equal(formatPercent(null), '–');
  assert.equal(formatDuration(45.4), '45s');
  assert.equal(formatDuration(185), '3m 05s');
  assert.equal(formatDuration(7440), '2h 04m');
  assert.equal(formatMoney(123450), '1,234.50');
});

test('change against the previous period', () => {
  assert.deepEqual(change(150, 100), { text: '+50%', trend: 'up' });
  assert.deepEqual(change(50, 100), { text: '-50%', trend: 'down' });
  assert.deepEqual(change(100, 100), { text: '0%', trend: 'flat' });
  assert.deepEqual(change(5, 0), { text: 'new', trend: 'up' });
  assert.deepEqual(change(0, 0), { text: '', trend: null });
  assert.deepEqual(change(5, null), { text: '', trend: null });
});

test('short URLs and the replay clock', () => {
  assert.equal(shortUrl('https://shop.example/pricing?x=1'), '/pricing?x=1');
  assert.equal(shortUrl('https://shop.example'), '/');
  assert.equal(shortUrl('not a url'), 'not a url');
  assert.equal(clock(65_400), '1:05');
  assert.equal(clock(-5), '0:00');
});
