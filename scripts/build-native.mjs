// Builds the optional native /proc reader (native/proc_batch.c) with node-gyp at install.
// oomtop works without it (a JavaScript reader does the same work, slower): a machine
// without a C compiler or Node's headers gets a one-line note, and the install goes on.
// Node's headers are taken from beside this node (Debian's nodejs ships them in
// /usr/include/node), so node-gyp never needs to download them.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

if (process.env.OOMTOP_NATIVE === '0') {
  console.log('oomtop: OOMTOP_NATIVE=0, native /proc reader not built');
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
