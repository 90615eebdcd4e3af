import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  apiParams,
  filterValue,
  hourlyBuckets,
  previousPeriod,
  readState,
  sharedSearch,
  shownFilterValue,
  withParams,
} from '../src/urlstate.js';

const DAY = 86_400_000;

test('the state is read from the query string with defaults', () => {
  const s = readState('?brand=3&interval=30d&country=GB&bots=include&unknown=1');
  assert.deepEqual(s, { brand: '3', interval: '30d', start: '', end: '', bots: 'include', filters: { country: 'GB' } });
  const d = readState('?interval=bogus');
  assert.equal(d.interval, '7d');
  assert.equal(d.bots, 'exclude');
});

test('the API gets the range, bots, zone and filters under their own names', () => {
  const s = readState('?interval=24h&utm_source=newsletter');
  assert.deepEqual(apiParams(s, 'Europe/Berlin'), {
    interval: '24h',
    bots: 'exclude',
    timezone: 'Europe/Berlin',
    utm_source: 'newsletter',
  });
  const custom = readState('?start=2026-01-01&end=2026-01-31&interval=7d');
  assert.deepEqual(apiParams(custom), { start: '2026-01-01', end: '2026-01-31', bots: 'exclude', timezone: 'UTC' });
});

test('changing a parameter keeps the others and goes back to page 1', () => {
  assert.equal(withParams('?brand=1&page=3&country=GB', { device: 'mobile' }), '?brand=1&country=GB&device=mobile');
  assert.equal(withParams('?brand=1&country=GB', { country: null }), '?brand=1');
  assert.equal(withParams('?brand=1', { page: 2 }), '?brand=1&page=2');
  assert.equal(withParams('', { country: '' }), '');
});

test('pages share only the brand, range, bots and filters', () => {
  assert.equal(sharedSearch('?brand=1&page=4&minPages=2&country=GB&interval=30d'), '?brand=1&interval=30d&country=GB');
});

test('a clicked value with a comma or a leading minus is quoted, and shown unquoted', () => {
  assert.equal(filterValue('GB'), 'GB');
  assert.equal(filterValue('Paris, TX'), '"Paris, TX"');
  assert.equal(filterValue('-x'), '"-x"');
  assert.equal(filterValue('say "a,b"'), '"say ""a,b"""');
  assert.equal(shownFilterValue('"Paris, TX"'), 'Paris, TX');
  assert.equal(shownFilterValue('"say ""a,b"""'), 'say "a,b"');
});

test('the previous period has the same length and ends just before', () => {
  const now = Date.UTC(2026, 11, 2, 12);
  const p = previousPeriod(readState('?interval=7d'), now);
  assert.equal(Date.parse(p.end), now - 7 * DAY);
  assert.equal(Date.parse(p.end) - Date.parse(p.start) + 1, 7 * DAY);
  assert.equal(previousPeriod(readState('?interval=all'), now), null);
  const custom = previousPeriod(readState('?start=2026-03-10&end=2026-03-19'), now);
  assert.deepEqual(custom, { start: '2026-02-28T00:00:00.000Z', end: '2026-03-09T23:59:59.999Z' });
  const ytd = previousPeriod(readState('?interval=ytd'), now);
  assert.equal(ytd.end, '2025-12-31T23:59:59.999Z');
});

test('a zone behind UTC moves a date range by its offset', () => {
  const p = previousPeriod(readState('?start=2026-03-10&end=2026-03-10'), 0, 5 * 3_600_000);
  assert.deepEqual(p, { start: '2026-03-09T05:00:00.000Z', end: '2026-03-10T04:59:59.999Z' });
});

test('hourly buckets up to two days', () => {
  const now = Date.UTC(2026, 11, 2);
  assert.equal(hourlyBuckets(readState('?interval=24h'), now), true);
  assert.equal(hourlyBuckets(readState('?interval=7d'), now), false);
  assert.equal(hourlyBuckets(readState('?interval=all'), now), false);
});
