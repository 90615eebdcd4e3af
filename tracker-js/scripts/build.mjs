// Bundle src/ into one minified IIFE, collector/static/t.js, and check its size budget.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { BUDGET_GZIP, OUTFILE, sizes } from './size.mjs';

await build({
  entryPoints: [fileURLToPath(new URL('../src/index.js', import.meta.url))],
  outfile: OUTFILE,
  bundle: true,
  minify: true,
  format: 'iife',
  target: 'es2017',
  legalComments: 'none',
  logLevel: 'warning',
});

const s = sizes(readFileSync(OUTFILE));
console.log(`t.js: ${s.raw} B raw, ${s.gzip} B gzip -9, ${s.brotli} B brotli (budget ${BUDGET_GZIP} B gzip)`);
if (s.gzip > BUDGET_GZIP) {
  console.error(`t.js is over its size budget by ${s.gzip - BUDGET_GZIP} B gzip`);
  process.exit(1);
}
