import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import {
  BUDGET_GZIP,
  INSIGHTS_BUDGET_GZIP,
  INSIGHTS_OUTFILE,
  OUTFILE,
  REPLAY_BUDGET_GZIP,
  REPLAY_OUTFILE,
  sizes,
} from '../scripts/size.mjs';

test('the built t.js is within its gzip size budget', () => {
  const s = sizes(readFileSync(OUTFILE)); // `npm test` builds first
  assert.ok(s.gzip <= BUDGET_GZIP, `t.js is ${s.gzip} B gzip, budget ${BUDGET_GZIP} B`);
});

test('the built t/replay.js is within its gzip size budget', () => {
  const s = sizes(readFileSync(REPLAY_OUTFILE));
  assert.ok(s.gzip <= REPLAY_BUDGET_GZIP, `t/replay.js is ${s.gzip} B gzip, budget ${REPLAY_BUDGET_GZIP} B`);
});

test('the built t/x.js is within its gzip size budget', () => {
  const s = sizes(readFileSync(INSIGHTS_OUTFILE));
  assert.ok(s.gzip <= INSIGHTS_BUDGET_GZIP, `t/x.js is ${s.gzip} B gzip, budget ${INSIGHTS_BUDGET_GZIP} B`);
});

test('the built scripts are each one IIFE that leaks no variables', () => {
  for (const f of [OUTFILE, REPLAY_OUTFILE, INSIGHTS_OUTFILE]) {
    const code = readFileSync(f, 'utf8').trim();
    assert.match(code, /^\(\(\)=>\{.*\}\)\(\);$/s, f);
  }
});
