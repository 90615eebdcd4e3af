// Bundle src/ into collector/static/replay-viewer/viewer.js and viewer.css (rrweb's player
// styles plus ours), served by the collector at /replay-viewer/. Prints the sizes.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const outdir = fileURLToPath(new URL('../../collector/static/replay-viewer/', import.meta.url));

await build({
  entryPoints: { viewer: fileURLToPath(new URL('../src/index.js', import.meta.url)) },
  outdir,
  bundle: true,
  minify: true,
  format: 'iife',
  target: 'es2020',
  legalComments: 'none',
  logLevel: 'warning',
});

for (const name of ['viewer.js', 'viewer.css']) {
  const body = readFileSync(outdir + name);
  console.log(`${name}: ${body.length} B raw, ${gzipSync(body, { level: 9 }).length} B gzip`);
}
