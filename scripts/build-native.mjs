// Builds the optional native /proc reader (native/proc_batch.c) with node-gyp at install,
// unless the package's prebuilt one loads.
// oomtop works without it (a JavaScript reader does the same work, slower): a machine
// without a C compiler or Node's headers gets a one-line note, and the install goes on.
// Node's headers are taken from beside this node (Debian's nodejs ships them in
// /usr/include/node), so node-gyp never needs to download them.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

if (process.env.OOMTOP_NATIVE === '0') {
  console.log('oomtop: OOMTOP_NATIVE=0, native /proc reader not built');
  process.exit(0);
}
// The package ships prebuilt readers (prebuilds/<platform>-<arch>/, scripts/prebuild.mjs):
// when one loads here, nothing is compiled. A clone has none, and compiles.
const root = dirname(dirname(fileURLToPath(import.meta.url)));
const prebuilt = prebuiltReader();
if (prebuilt) {
  console.log(`oomtop: using the prebuilt native /proc reader (${prebuilt})`);
  process.exit(0);
}
const args = ['rebuild', '--release'];
const prefix = dirname(dirname(process.execPath));
if (!process.env.npm_config_nodedir && existsSync(join(prefix, 'include', 'node', 'node_api.h'))) {
  args.push(`--nodedir=${prefix}`);
}
const r = spawnSync('node-gyp', args, { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', shell: false });
if (r.status === 0) {
  console.log('oomtop: native /proc reader built (build/Release/oomtop_proc.node)');
} else {
  const why = r.error
    ? r.error.message
    : (r.stderr
        .trim()
        .split('\n')
        .filter((l) => /error/i.test(l))[0] ?? `node-gyp exited ${r.status}`);
  console.log(`oomtop: native /proc reader not built (${why}); using the JavaScript reader`);
}

/** The prebuilt reader for this platform, arch and libc when it loads here, else null. */
function prebuiltReader() {
  const require = createRequire(import.meta.url);
  try {
    const file = require('node-gyp-build').path(root);
    if (!file.includes('/prebuilds/')) return null;
    require(file);
    return relative(root, file);
  } catch {
    return null;
  }
}
