// Bundle src/ into three minified IIFEs and check their size budgets:
//   collector/static/t.js         the tracker (src/index.js)
//   collector/static/t/replay.js  the replay recorder (src/replay/index.js, with @rrweb/record)
//   collector/static/t/x.js       dead and error clicks (src/insights/index.js)
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import {
  BUDGET_GZIP,
  INSIGHTS_BUDGET_GZIP,
  INSIGHTS_OUTFILE,
  OUTFILE,
  REPLAY_BUDGET_GZIP,
  REPLAY_OUTFILE,
  sizes,
} from './size.mjs';

const scripts = [
  { name: 't.js', entry: '../src/index.js', outfile: OUTFILE, budget: BUDGET_GZIP },
  { name: 't/replay.js', entry: '../src/replay/index.js', outfile: REPLAY_OUTFILE, budget: REPLAY_BUDGET_GZIP },
  { name: 't/x.js', entry: '../src/insights/index.js', outfile: INSIGHTS_OUTFILE, budget: INSIGHTS_BUDGET_GZIP },
];

let over = 0;
for (const s of scripts) {
  await build({
    entryPoints: [fileURLToPath(new URL(s.entry, import.meta.url))],
    outfile: s.outfile,
    bundle: true,
    minify: true,
    format: 'iife',
    target: 'es2017',
    legalComments: 'none',
    logLevel: 'warning',
  });
  const z = sizes(readFileSync(s.outfile));
  console.log(`${s.name}: ${z.raw} B raw, ${z.gzip} B gzip -9, ${z.brotli} B brotli (budget ${s.budget} B gzip)`);
  if (z.gzip > s.budget) {
    console.error(`${s.name} is over its size budget by ${z.gzip - s.budget} B gzip`);
    over = 1;
  }
}
process.exit(over);
