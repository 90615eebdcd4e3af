// Size budget of the built tracker, shared by the build and the tests.
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';

export const BUDGET_GZIP = 2500; // bytes, gzip -9
export const OUTFILE = fileURLToPath(new URL('../../collector/static/t.js', import.meta.url));

export const sizes = (buf) => ({
  raw: buf.length,
  gzip: gzipSync(buf, { level: 9 }).length,
  brotli: brotliCompressSync(buf, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length,
});
