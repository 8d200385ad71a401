// `npm run bench`: speed, measured side by side with the C floor, ps, oom-sort and htop on
// the same process table. A benchmark, not a test: it prints figures, it asserts nothing.
//   OOMTOP_BENCH_PROCS   processes to start for the run (default 3000)
//   OOMTOP_BENCH_ROUNDS  repetitions per measurement (default 15; the median is reported)
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
import { benchDashboard } from './dashboard.js';
import { startSleepers } from './sleepers.js';

const here = dirname(fileURLToPath(import.meta.url));
const CLI = join(here, '..', 'cli.js');
const ROUNDS = Number(process.env.OOMTOP_BENCH_ROUNDS ?? 15);
const PROCS = Number(process.env.OOMTOP_BENCH_PROCS ?? 3000);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

function timeMs(fn: () => void, rounds = ROUNDS): number {
  fn(); // warm up
  const xs: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const t = process.hrtime.bigint();
    fn();
    xs.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return median(xs);
}

function timeCommand(cmd: string, args: string[]): number | null {
  const probe = spawnSync(cmd, args, { stdio: 'ignore' });
  if (probe.error || probe.status !== 0) return null;
  return timeMs(() => { spawnSync(cmd, args, { stdio: 'ignore' }); });
}

function findFloorSource(): string | null {
  for (const c of [join(here, '../../../shared/bench/proc-floor.c'), join(process.cwd(), '../shared/bench/proc-floor.c')]) {
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

async function main(): Promise<void> {
  const stop = await startSleepers(PROCS);
  try {
    const procCount = readdirSync('/proc').filter((n) => /^\d+$/.test(n)).length;
    console.log(`oomtop bench: ${procCount} processes in /proc, median of ${ROUNDS} rounds; ${nativeStatus()}, ${readerThreads()} reader threads\n`);

    console.log('(a) one sample + rank, in process, beside the C floor (stat, status, oom_score, oom_score_adj)');
    const sampler = new Sampler('/proc');
    const jsSampler = new Sampler('/proc', { native: false });
    const model = timeMs(() => { buildSnapshot(sampler.sample(Date.now(), MODEL_NEEDS), { users: new Map() }); });
    const full = timeMs(() => { buildSnapshot(sampler.sample(Date.now(), ALL_NEEDS), { users: new Map() }); });
    const jsModel = timeMs(() => { buildSnapshot(jsSampler.sample(Date.now(), MODEL_NEEDS), { users: new Map() }); });
    const floorBin = buildFloor();
    let floor: number | null = null;
    if (floorBin) {
      const empty = mkdtempSync(join(tmpdir(), 'oomtop-empty-'));
      const startup = timeCommand(floorBin, [empty]) ?? 0;
      const whole = timeCommand(floorBin, ['/proc']);
      floor = whole === null ? null : Math.max(0.01, whole - startup);
      console.log(row('C floor (proc-floor.c, start-up subtracted)', floor));
    } else {
      console.log('  C floor: not measured (gcc or ../shared/bench/proc-floor.c missing)');
    }
    console.log(row(`oomtop sample+rank, same 4 files (${sampler.readerName})`, model, floor, 'C floor'));
    console.log(row('oomtop sample+rank, + cmdline + cgroup (6 files)', full, floor, 'C floor'));
    console.log(row('oomtop sample+rank, same 4 files, JavaScript reader', jsModel, floor, 'C floor'));

    console.log('\n(b) the whole command, beside ps and oom-sort');
    const ours = timeCommand('node', [CLI, 'snapshot', '--format', 'json']);
    const ps = timeCommand('ps', ['-eo', 'pid,oom,oomadj,rss']);
    const oomSort = timeCommand('oom-sort', []);
    const nodeStart = timeCommand('node', ['-e', '0']);
    console.log(row('ps -eo pid,oom,oomadj,rss', ps));
    console.log(row('oom-sort (nohang)', oomSort, ps, 'ps'));
    console.log(row('node -e 0 (Node start-up alone)', nodeStart, ps, 'ps'));
    console.log(row('oomtop snapshot --format json', ours, ps, 'ps'));
    if (ours !== null && oomSort !== null) console.log(`  oomtop snapshot vs oom-sort: ${(ours / oomSort).toFixed(2)}×`);
    if (oomSort === null) console.log('  oom-sort not installed: apt-get install nohang');

    console.log('\n(c) the dashboard');
    await benchDashboard(ROUNDS);
  } finally {
    stop();
  }
}

await main();
