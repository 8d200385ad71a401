// The package as an operator installs it: `npm pack` (its prepack builds the native reader
// for linux-x64 and linux-arm64 into prebuilds/), then `npm install -g` of the tarball into
// temporary prefixes, with and without install scripts, on a PATH that has no compiler.
// The working tree is not touched: the package is packed from a copy of it.
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VERSION } from '../src/version.js';

const ROOT = join(import.meta.dirname, '..');
const FIXTURE = join(ROOT, 'test/fixtures/basic');
const work = mkdtempSync(join(tmpdir(), 'oomtop-package-'));
const copy = join(work, 'src');
let tarball = '';
let files: string[] = [];

function run(cmd: string, args: string[], o: SpawnSyncOptions = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 240_000, ...o });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}${r.stdout}`);
  return r.stdout as string;
}

/** A PATH with node and sh only: no cc, gcc, make or python. */
function bareBin(): string {
  const bin = join(work, 'bare-bin');
  if (existsSync(bin)) return bin;
  mkdirSync(bin);
  symlinkSync(process.execPath, join(bin, 'node'));
  symlinkSync('/bin/sh', join(bin, 'sh'));
  return bin;
}

beforeAll(() => {
  const skip = new Set(['node_modules', 'build', 'prebuilds', '.git', 'tmp', 'completions']);
  cpSync(ROOT, copy, { recursive: true, filter: (src) => !skip.has(src.slice(ROOT.length + 1).split('/')[0] ?? '') });
  // the copy builds with this checkout's tools (tsc, prebuildify, node-gyp, marked-man)
  symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules'));
  const out = run('npm', ['pack', '--json', '--pack-destination', work], { cwd: copy });
  const packed = JSON.parse(out.slice(out.indexOf('[')))[0] as { filename: string; files: { path: string }[] };
  tarball = join(work, packed.filename);
  files = packed.files.map((f) => f.path).sort();
}, 300_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('the packed tarball', () => {
  it('holds what runs and nothing else', () => {
    for (const f of [
      'package.json',
      'README.md',
      'LICENSE',
      'dist/bin/oomtop.js',
      'man/oomtop.1',
      'completions/oomtop.bash',
      'completions/_oomtop',
      'completions/oomtop.fish',
      'native/proc_batch.c',
      'binding.gyp',
      'scripts/build-native.mjs',
      'prebuilds/linux-x64/oomtop.glibc.node',
      'prebuilds/linux-arm64/oomtop.glibc.node',
      'examples/policy.yaml',
    ])
      expect(files, f).toContain(f);
    const stray = files.filter((f) => /^(test|src|docs|\.ci|tmp|build)\/|\.map$|^dist\/bench\/|\.tsbuildinfo$/.test(f));
    expect(stray).toEqual([]);
  });
  it('ships a linux-arm64 reader that needs only Node-API and the C library', () => {
    const elf = run('readelf', ['-h', '--dyn-syms', '-W', join(copy, 'prebuilds/linux-arm64/oomtop.glibc.node')]);
    expect(elf).toMatch(/Machine:\s+AArch64/);
    expect(elf).toMatch(/ napi_register_module_v1$/m);
    // what it needs from the process that loads it (weak ones such as __gmon_start__ are optional)
    const undefinedSyms = [...elf.matchAll(/ GLOBAL +DEFAULT +UND (\S+)$/gm)].map((m) => m[1] as string);
    expect(undefinedSyms.length).toBeGreaterThan(5);
    expect(undefinedSyms.filter((s) => !/^napi_|@GLIBC_/.test(s))).toEqual([]);
  });
});

describe('npm install -g of the tarball', () => {
  for (const ignoreScripts of [false, true])
    it(`works ${ignoreScripts ? 'with --ignore-scripts' : 'with its install script'}, with no compiler on PATH`, () => {
      const prefix = join(work, ignoreScripts ? 'prefix-noscripts' : 'prefix');
      const env: NodeJS.ProcessEnv = { ...process.env, PATH: bareBin(), npm_config_update_notifier: 'false' };
      delete env.npm_config_nodedir;
      // npm itself, run by node: the bare PATH has no npm
      const npmCli = realpathSync(run('sh', ['-c', 'command -v npm']).trim());
      const args = [npmCli, 'install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund'];
      const mode = ignoreScripts ? ['--ignore-scripts'] : ['--foreground-scripts'];
      const out = run(process.execPath, [...args, ...mode, tarball], { env, cwd: work });
      if (!ignoreScripts)
        expect(out).toContain(
          `oomtop: using the prebuilt native /proc reader (prebuilds/linux-${process.arch}/oomtop.glibc.node)`,
        );
      const bin = join(prefix, 'bin/oomtop');
      const [version, reader] = run(bin, ['--version'], { env }).split('\n');
      expect(version).toBe(VERSION);
      expect(reader).toBe(
        `native reader (prebuilt: ${join(prefix, 'lib/node_modules/oomtop/prebuilds', `linux-${process.arch}`, 'oomtop.glibc.node')})`,
      );
      const snap = JSON.parse(
        run(
          bin,
          ['snapshot', '--format', 'json', '--proc-root', join(FIXTURE, 'proc'), '--sys-root', join(FIXTURE, 'sys')],
          {
            env,
          },
        ),
      );
      expect(snap.processes.length).toBeGreaterThan(3);
      // a table measures its non-ASCII cells ('—' for an unkillable rank) with string-width,
      // which the bundle loads from the installed package's node_modules on first use
      const table = run(
        bin,
        ['snapshot', '--format', 'table', '--proc-root', join(FIXTURE, 'proc'), '--sys-root', join(FIXTURE, 'sys')],
        { env },
      );
      expect(table).toMatch(/^ +— +1 root +systemd +— /m);
      expect(existsSync(join(prefix, 'lib/node_modules/oomtop/build'))).toBe(false);
      // npm links the man page into the prefix; man renders it
      const page = join(prefix, 'share/man/man1/oomtop.1');
      expect(run('man', ['-l', page], { env: { ...process.env, MANWIDTH: '80', PAGER: 'cat' } })).toMatch(/SYNOPSIS/);
      // no prebuilt reader for this machine: the JavaScript one, said in one line, same answers
      const elsewhere = { ...env, npm_config_arch: 'riscv64' };
      const [, fallback] = run(bin, ['--version'], { env: elsewhere }).split('\n');
      expect(fallback).toMatch(
        /^JavaScript reader \(native reader not loaded: No native build was found for platform=linux arch=riscv64 .*\)$/,
      );
      const snapJs = JSON.parse(
        run(
          bin,
          ['snapshot', '--format', 'json', '--proc-root', join(FIXTURE, 'proc'), '--sys-root', join(FIXTURE, 'sys')],
          {
            env: elsewhere,
          },
        ),
      );
      expect(snapJs.processes).toEqual(snap.processes);
    }, 300_000);

  it('npx runs it from the tarball', () => {
    const out = run(
      'npx',
      [
        '--yes',
        '--prefer-offline',
        `--package=${tarball}`,
        '--',
        'oomtop',
        'snapshot',
        '--format',
        'json',
        '--limit',
        '2',
      ],
      { env: { ...process.env, npm_config_update_notifier: 'false' }, cwd: work },
    );
    const snap = JSON.parse(out);
    expect(snap.processes).toHaveLength(2);
  }, 300_000);
});
