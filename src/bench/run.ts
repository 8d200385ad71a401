// `npm run bench`: speed, measured side by side with the C floor, ps, oom-sort and htop on
// the same process table. A benchmark, not a test: it prints figures, it asserts nothing.
//   OOMTOP_BENCH_PROCS   processes to start for the run (default 3000)
//   OOMTOP_BENCH_ROUNDS  repetitions per measurement (default 15; the median is reported)
//   OOMTOP_BENCH_PARTS   which parts to run (default a,b,c,d,e; d and e bring their own process tables)
//   OOMTOP_BENCH_BIG_MIB size of the audit log and kernel log of part d (default 1024)
//   OOMTOP_BENCH_LIVE_WARMUP, OOMTOP_BENCH_LIVE_SECONDS  the live dashboard run: seconds of
//                        start-up left out (default 10), then seconds measured (default 30)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSnapshot } from '../core/snapshot.js';
import { nativeStatus, readerThreads } from '../system/native.js';
import { MODEL_NEEDS, ALL_NEEDS, Sampler } from '../system/sampler.js';
import { benchBounded } from './bounded.js';
import { benchDashboard } from './dashboard.js';
import { benchFootprint } from './footprint.js';
import { startSleepers } from './sleepers.js';

const here = dirname(fileURLToPath(import.meta.url));
const CLI = join(here, '..', 'bin', 'oomtop.js');
const ROUNDS = Number(process.env.OOMTOP_BENCH_ROUNDS ?? 15);
const PROCS = Number(process.env.OOMTOP_BENCH_PROCS ?? 3000);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

/**
 * Wall-clock medians of several measurements taken in turns, one of each per round (after
 * one warm-up each): this VM has slow spells (the C floor alone read 107 ms in one run and
 * 153 ms in another), and taken in turns the ratios between them hold through one. A null
 * entry (a peer not installed) stays null.
 */
function interleaved(fns: ReadonlyArray<(() => void) | null>, rounds = ROUNDS): Array<number | null> {
  const xs = fns.map(() => [] as number[]);
  for (const f of fns) f?.();
  for (let r = 0; r < rounds; r++) {
    fns.forEach((f, i) => {
      if (!f) return;
      const t = process.hrtime.bigint();
      f();
      xs[i]?.push(Number(process.hrtime.bigint() - t) / 1e6);
    });
  }
  return xs.map((v, i) => (fns[i] ? median(v) : null));
}

/** A command to time, or null when it does not run here (not installed, fails). */
function command(cmd: string, args: string[]): (() => void) | null {
  const probe = spawnSync(cmd, args, { stdio: 'ignore' });
  if (probe.error || probe.status !== 0) return null;
  return () => {
    spawnSync(cmd, args, { stdio: 'ignore' });
  };
}

function findFloorSource(): string | null {
  for (const c of [
    join(here, '../../../shared/bench/proc-floor.c'),
    join(process.cwd(), '../shared/bench/proc-floor.c'),
  ]) {
    if (existsSync(c)) return c;
  }
  return null;
}

function buildFloor(): string | null {
  const src = findFloorSource();
  if (!src) return null;
  const bin = join(mkdtempSync(join(tmpdir(), 'oomtop-bench-')), 'proc-floor');
  const r = spawnSync('gcc', ['-O2', '-o', bin, src], { stdio: 'inherit' });
  return r.status === 0 ? bin : null;
}

function row(label: string, ms: number | null, base?: number | null, baseName?: string): string {
  const ratio = ms !== null && base ? `  ${(ms / base).toFixed(2)}× ${baseName}` : '';
  return `  ${label.padEnd(52)} ${ms === null ? 'n/a' : `${ms.toFixed(2)} ms`.padStart(10)}${ratio}`;
}

const PARTS = new Set((process.env.OOMTOP_BENCH_PARTS ?? 'a,b,c,d,e').split(',').map((p) => p.trim()));

async function main(): Promise<void> {
  if (!['a', 'b', 'c'].some((p) => PARTS.has(p))) {
    if (PARTS.has('d')) await benchBounded(CLI);
    if (PARTS.has('e')) await benchFootprint();
    return;
  }
  const stop = await startSleepers(PROCS);
  try {
    const procCount = readdirSync('/proc').filter((n) => /^\d+$/.test(n)).length;
    console.log(
      `oomtop bench: ${procCount} processes in /proc, median of ${ROUNDS} rounds; ${nativeStatus()}, ${readerThreads()} reader threads\n`,
    );

    console.log('(a) one sample + rank, in process, beside the C floor (stat, status, oom_score, oom_score_adj)');
    const sampler = new Sampler('/proc');
    const jsSampler = new Sampler('/proc', { native: false });
    const floorBin = buildFloor();
    const empty = mkdtempSync(join(tmpdir(), 'oomtop-empty-'));
    const [model, full, jsModel, floorStartup, floorWhole] = interleaved([
      () => {
        buildSnapshot(sampler.sample(Date.now(), MODEL_NEEDS), { users: new Map() });
      },
      () => {
        buildSnapshot(sampler.sample(Date.now(), ALL_NEEDS), { users: new Map() });
      },
      () => {
        buildSnapshot(jsSampler.sample(Date.now(), MODEL_NEEDS), { users: new Map() });
      },
      floorBin ? command(floorBin, [empty]) : null,
      floorBin ? command(floorBin, ['/proc']) : null,
    ]);
    const floor =
      floorWhole === null || floorWhole === undefined ? null : Math.max(0.01, floorWhole - (floorStartup ?? 0));
    if (floor !== null) console.log(row('C floor (proc-floor.c, start-up subtracted)', floor));
    else console.log('  C floor: not measured (gcc or ../shared/bench/proc-floor.c missing)');
    console.log(row(`oomtop sample+rank, same 4 files (${sampler.readerName})`, model ?? null, floor, 'C floor'));
    console.log(row('oomtop sample+rank, + cmdline + cgroup (6 files)', full ?? null, floor, 'C floor'));
    console.log(row('oomtop sample+rank, same 4 files, JavaScript reader', jsModel ?? null, floor, 'C floor'));

    console.log('\n(b) the whole command, beside ps and oom-sort (taken in turns)');
    const [ours, ps, oomSort, nodeStart] = interleaved([
      command('node', [CLI, 'snapshot', '--format', 'json']),
      command('ps', ['-eo', 'pid,oom,oomadj,rss']),
      command('oom-sort', []),
      command('node', ['-e', '0']),
    ]).map((x) => x ?? null);
    console.log(row('ps -eo pid,oom,oomadj,rss', ps ?? null));
    console.log(row('oom-sort (nohang)', oomSort ?? null, ps, 'ps'));
    console.log(row('node -e 0 (Node start-up alone)', nodeStart ?? null, ps, 'ps'));
    console.log(row('oomtop snapshot --format json', ours ?? null, ps, 'ps'));
    if (ours && oomSort) console.log(`  oomtop snapshot vs oom-sort: ${(ours / oomSort).toFixed(2)}×`);
    if (!oomSort) console.log('  oom-sort not installed: apt-get install nohang');

    console.log('\n(c) the dashboard');
    await benchDashboard(ROUNDS);
  } finally {
    stop();
  }
  if (PARTS.has('d')) await benchBounded(CLI);
  if (PARTS.has('e')) await benchFootprint();
}

await main();
