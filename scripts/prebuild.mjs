// Builds the native /proc reader for every platform the package ships it for, into
// prebuilds/<platform>-<arch>/ (prebuildify, loaded at run time by node-gyp-build), so
// that `npm install -g oomtop` needs no compiler: linux-x64 with the host's cc, linux-arm64
// with Debian's cross compiler (gcc-aarch64-linux-gnu). The reader uses Node-API only, so
// one binary serves every Node from 20 on. Run by `npm pack` / `npm publish` (prepack).
// Node's headers come from beside this node (Debian's nodejs ships /usr/include/node):
// node-gyp never downloads them.
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const prefix = dirname(dirname(process.execPath));
const nodedir = process.env.npm_config_nodedir ?? prefix;
if (!existsSync(join(nodedir, 'include', 'node', 'node_api.h'))) {
  console.error(`oomtop prebuild: no Node headers under ${nodedir}/include/node: set npm_config_nodedir`);
  process.exit(1);
}
const targets = [
  { arch: 'x64', cc: 'x86_64-linux-gnu-gcc', strip: 'x86_64-linux-gnu-strip' },
  { arch: 'arm64', cc: 'aarch64-linux-gnu-gcc', strip: 'aarch64-linux-gnu-strip' },
];
const bin = join(root, 'node_modules', '.bin', 'prebuildify');
rmSync(join(root, 'prebuilds'), { recursive: true, force: true });
let failed = 0;
for (const t of targets) {
  const host = process.arch === t.arch;
  const cc = host ? (process.env.CC ?? 'cc') : t.cc;
  const strip = host ? 'strip' : t.strip;
  const env = { ...process.env, npm_config_nodedir: nodedir, CC: cc, CXX: cc, LINK: cc };
  const r = spawnSync(
    bin,
    ['--napi', '--strip', '--tag-libc', `--arch=${t.arch}`, `--strip-bin=${strip}`, '--platform=linux'],
    { cwd: root, env, stdio: ['ignore', 'ignore', 'inherit'] },
  );
  if (r.status === 0) console.log(`oomtop prebuild: linux-${t.arch} built with ${cc}`);
  else {
    failed++;
    console.error(`oomtop prebuild: linux-${t.arch} failed (${r.error?.message ?? `exit ${r.status}`}; needs ${cc})`);
  }
}
// The build folder of the last cross build is not this machine's: rebuild the local one.
rmSync(join(root, 'build'), { recursive: true, force: true });
process.exit(failed ? 1 : 0);
