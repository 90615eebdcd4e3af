// Size budgets of the built scripts, shared by the build and the tests.
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

const out = (p) => fileURLToPath(new URL(`../../collector/static/${p}`, import.meta.url));

export const BUDGET_GZIP = 2500; // bytes, gzip -9: t.js, on every page
export const OUTFILE = out('t.js');
// The recorder, loaded only for sampled page sessions: rrweb's record plus our chunking.
export const REPLAY_BUDGET_GZIP = 26000; // bytes, gzip -9 (rrweb's record is most of it)
export const REPLAY_OUTFILE = out('t/replay.js');
// Dead and error clicks, loaded by t.js after the brand config (unless the brand turns them off).
export const INSIGHTS_BUDGET_GZIP = 1000; // bytes, gzip -9
export const INSIGHTS_OUTFILE = out('t/x.js');

export const sizes = (buf) => ({
  raw: buf.length,
  gzip: gzipSync(buf, { level: 9 }).length,
  brotli: brotliCompressSync(buf, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length,
});
