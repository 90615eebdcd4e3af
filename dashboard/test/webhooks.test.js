import assert from 'node:assert/strict';
import { test } from 'node:test';
import { attemptResult, destinationBody, destinationState, eventsText, outcomeText, refusal } from '../src/webhooks.js';

const form = (values) => ({
  get: (name) => (Array.isArray(values[name]) ? values[name][0] : (values[name] ?? null)),
  getAll: (name) => [values[name] ?? []].flat(),
});

test('the body of a new destination: trimmed, events as checked, the header only when given', () => {
  const body = destinationBody(form({ url: ' https://hooks.example/in ', method: 'PUT', events: ['click', 'sale'] }));
  assert.deepEqual(body, { url: 'https://hooks.example/in', method: 'PUT', events: ['click', 'sale'] });
  const withHeader = destinationBody(
    form({ url: 'https://h.example', events: [], header_key: ' X-Auth ', header_value: ' s3cret ' }),
  );
  assert.deepEqual(withHeader, {
    url: 'https://h.example',
    method: 'POST',
    events: [],
    header_key: 'X-Auth',
    header_value: 's3cret',
  });
});

test('a refusal names the form field its param points at', () => {
  assert.deepEqual(refusal({ param: 'url', message: '`url`: resolves to a loopback address' }), {
    field: 'url',
    text: 'URL: resolves to a loopback address',
  });
  assert.deepEqual(refusal({ param: 'header_value', message: 'too long' }).text, 'Auth header value: too long');
  assert.equal(refusal({ param: 'events', message: '`events` is empty' }).text, 'Events: is empty');
  assert.deepEqual(refusal({ param: 'other', message: 'no' }), { field: null, text: 'no' });
  assert.deepEqual(refusal({ message: 'at most 20' }), { field: null, text: 'at most 20' });
});

test('a destination reads as enabled, failing, or disabled with why and since when', () => {
  assert.equal(destinationState({ enabled: true }).text, 'Enabled');
  assert.match(
    destinationState({ enabled: true, failing_since: '2026-01-02T03:04:00Z' }).text,
    /^Enabled, failing since 2 Jan 2026/,
  );
  assert.equal(destinationState({ enabled: false, disabled_reason: null }).text, 'Disabled by an admin');
  const gone = destinationState({
    enabled: false,
    disabled_reason: 'the receiver answered 410',
    disabled_at: '2026-01-02T03:04:00Z',
  });
  assert.match(gone.text, /^Disabled: the receiver answered 410 \(since 2 Jan 2026, \d\d:\d\d\)$/);
  assert.equal(gone.tone, 'bad');
});

test('an attempt reads as its status or its error; outcomes and events in words', () => {
  assert.equal(attemptResult({ status: 200, error: null }), '200');
  assert.equal(attemptResult({ status: null, error: 'timed out after 15 s' }), 'timed out after 15 s');
  assert.equal(attemptResult({ status: null, error: null }), 'No answer');
  assert.equal(outcomeText('gave_up'), 'Gave up');
  assert.equal(outcomeText('new_kind'), 'new_kind');
  assert.equal(eventsText(['sale', 'click']), 'click, sale');
  assert.equal(eventsText([]), '–');
});
