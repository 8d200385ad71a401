// Bundles, after tsc, the command line into dist/bin/: oomtop.js (the package's bin) and one
// chunk per lazily loaded command. Start-up is most of a one-shot command's cost: resolving,
// reading and linking ~85 modules (our own and commander's, string-width's, re2js's) cost
// ~40 ms of `oomtop snapshot` at 3,000 processes (hyperfine; docs/performance.md).
//
// Left outside the bundle, loaded from node_modules as before: the TUI libraries (blessed
// reads its terminfo and widget files by path; the conventions want their default imports
// as Node resolves them), node-gyp-build (finds the native reader beside the package),
// prom-client (the exporter's), and what the code loads with createRequire (yaml,
// csv-stringify, blessed-contrib's line chart). dist/bin/ is two levels below the package
// root, as dist/system/ is: the native reader is found from either.
import { chmodSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const outdir = join(root, 'dist/bin');
rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: { oomtop: join(root, 'dist/cli.js') },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: ['blessed', 'blessed-contrib', 'node-gyp-build', 'prom-client', '@xterm/headless'],
  // commander is CommonJS: its require('node:events') needs a require in an ES module
  banner: {
    js: "import { createRequire as __oomtopCreateRequire } from 'node:module';\nconst require = __oomtopCreateRequire(import.meta.url);",
  },
  logLevel: 'warning',
});
chmodSync(join(outdir, 'oomtop.js'), 0o755);
