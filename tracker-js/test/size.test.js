import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { BUDGET_GZIP, OUTFILE, sizes } from '../scripts/size.mjs';

test('the built t.js is within its gzip size budget', () => {
  const s = sizes(readFileSync(OUTFILE)); // `npm test` builds first
  assert.ok(s.gzip <= BUDGET_GZIP, `t.js is ${s.gzip} B gzip, budget ${BUDGET_GZIP} B`);
});

test('the built t.js is one IIFE that leaks no variables', () => {
  const code = readFileSync(OUTFILE, 'utf8').trim();
  assert.match(code, /^\(\(\)=>\{.*\}\)\(\);$/s);
});
