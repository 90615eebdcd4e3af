// Bundle src/ into collector/static/dashboard/app.js and app.css (uPlot's styles plus ours) and
// copy the shell src/index.html beside them; the collector serves them at /dashboard/. Prints
// the sizes and fails when app.js is over its gzip budget (issue 12: 60 KB for the overview).
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const BUDGET_GZIP_BYTES = 60_000;
const outdir = fileURLToPath(new URL('../../collector/static/dashboard/', import.meta.url));
const src = (name) => fileURLToPath(new URL(`../src/${name}`, import.meta.url));

mkdirSync(outdir, { recursive: true });
await build({
  entryPoints: { app: src('main.js') },
  outdir,
  bundle: true,
  minify: true,
  format: 'esm',
  target: 'es2020',
  legalComments: 'none',
  logLevel: 'warning',
});
copyFileSync(src('index.html'), `${outdir}index.html`);

let over = false;
for (const name of ['app.js', 'app.css']) {
  const body = readFileSync(outdir + name);
  const gzip = gzipSync(body, { level: 9 }).length;
  console.log(`${name}: ${body.length} B raw, ${gzip} B gzip`);
  if (name === 'app.js' && gzip > BUDGET_GZIP_BYTES) {
    console.error(`app.js is ${gzip} B gzipped: over the budget of ${BUDGET_GZIP_BYTES} B`);
    over = true;
  }
}
if (over) process.exit(1);
