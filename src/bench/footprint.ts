// Part (e) of `npm run bench`: oomtop's own footprint on a box short of memory, each goal
// printed with the measured figure, the peer's from the same run and the ratio:
//   the dashboard's resident memory after 60 s and its CPU beside htop's at the same 2 s
//   refresh, at 3,000 and at 20,000 processes (idle.c, a few pages each); the per-tick cost
//   per process at both sizes (flat: linear in the process count); the first screen at
//   20,000; `oomtop snapshot --format json` beside oom-sort and above Node's start-up beside
//   the C floor; and (part f) the dashboard inside a memory cgroup whose page cache is being
//   evicted, answering keys.
//   OOMTOP_BENCH_FOOTPRINT_SECONDS  seconds each live program runs (default 60)
//   OOMTOP_BENCH_FOOTPRINT_SIZES    process counts (default 3000,20000)
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openFileLimit } from '../system/read/held-files.js';

const here = dirname(fileURLToPath(import.meta.url));
const CLI = join(here, '..', 'bin', 'oomtop.js');
const SECONDS = Number(process.env.OOMTOP_BENCH_FOOTPRINT_SECONDS ?? 60);
const SIZES = (process.env.OOMTOP_BENCH_FOOTPRINT_SIZES ?? '3000,20000').split(',').map(Number);

const procCount = () => readdirSync('/proc').filter((n) => /^\d+$/.test(n)).length;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

function compile(name: string): string | null {
  const src = join(here, '../../src/bench', `${name}.c`);
  const bin = join(mkdtempSync(join(tmpdir(), 'oomtop-bench-')), name);
  if (!existsSync(src) || spawnSync('gcc', ['-O2', '-o', bin, src], { stdio: 'inherit' }).status !== 0) return null;
  return bin;
}

/** `n` idle processes (idle.c), ended by closing its input: it kills its own children by pid. */
async function startIdle(bin: string, n: number): Promise<() => Promise<void>> {
  if (n <= 0) return async () => {};
  const child = spawn(bin, [String(n)], { stdio: ['pipe', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      if (d.toString().startsWith('up')) resolve();
    });
    child.on('exit', (code) => reject(new Error(`idle exited ${code}`)));
  });
  return () =>
    new Promise<void>((r) => {
      child.removeAllListeners('exit');
      child.on('exit', () => r());
      child.stdin.end();
    });
}

interface Live {
  rssMiB: number;
  peakMiB: number;
  cpuPercent: number;
  firstScreenMs: number | null;
  /** Milliseconds from a key press to the screen's answer, median, when keys were sent. */
  keyMs: number | null;
  /** Refreshes drawn after the key presses (bursts of output 300 ms apart), and over how many seconds. */
  refreshes: number;
  seconds: number;
  /** Descriptors it held at the end, and its open-file limit (soft, which Node raises to the hard one). */
  fds: number | null;
  fdLimit: number | null;
}

/** How many descriptors a process holds, and its soft open-file limit; nulls when unreadable. */
function descriptors(pid: number): { fds: number | null; fdLimit: number | null } {
  let fds: number | null = null;
  try {
    fds = readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    // the process is gone
  }
  return { fds, fdLimit: openFileLimit(pid) };
}

function statusMiB(pid: number, key: string): number {
  const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? NaN) / 1024;
}

function cpuTicks(pid: number): number {
  const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A program live in a 160×50 pseudo-terminal for SECONDS: CPU over all but the first 10 s,
 * resident memory at the end, the first screen (the first row drawn), and optionally the
 * time the screen takes to answer j/k presses.
 */
async function live(
  cmd: string,
  args: string[],
  o: { keys?: boolean; setup?: (pid: number) => void } = {},
): Promise<Live | null> {
  let pty: typeof import('@lydell/node-pty');
  try {
    pty = (await import('@lydell/node-pty')).default as unknown as typeof import('@lydell/node-pty');
  } catch {
    return null;
  }
  const t0 = Date.now();
  const child = pty.spawn(cmd, args, {
    name: 'xterm-256color',
    cols: 160,
    rows: 50,
    env: { ...process.env, TERM: 'xterm-256color' } as Record<string, string>,
  });
  let first: number | null = null;
  let waiting: ((t: number) => void) | null = null;
  // blessed sends only the cells that changed: a refresh is a burst of output, the clock at least
  let countFrom = Number.POSITIVE_INFINITY;
  let lastData = 0;
  let bursts = 0;
  child.onData((d) => {
    const now = Date.now();
    if (first === null && d.includes('▶')) first = now - t0;
    if (now >= countFrom && now - lastData > 300) bursts++;
    lastData = now;
    waiting?.(now);
  });
  const warm = Math.min(10, SECONDS / 3);
  await sleep(warm * 1000);
  const c0 = cpuTicks(child.pid);
  const keyTimes: number[] = [];
  if (o.keys)
    for (let i = 0; i < 20; i++) {
      const sent = Date.now();
      const answered = new Promise<number>((r) => {
        waiting = r;
      });
      child.write(i % 2 ? 'k' : 'j');
      keyTimes.push((await Promise.race([answered, sleep(5000).then(() => NaN)])) - sent);
      waiting = null;
      await sleep(250);
    }
  countFrom = Date.now() + 500;
  await sleep(Math.max(0, SECONDS * 1000 - (Date.now() - t0)));
  const counted = (Date.now() - countFrom) / 1000;
  const c1 = cpuTicks(child.pid);
  const measured = (Date.now() - t0) / 1000 - warm;
  const r: Live = {
    rssMiB: statusMiB(child.pid, 'VmRSS'),
    peakMiB: statusMiB(child.pid, 'VmHWM'),
    cpuPercent: ((c1 - c0) / 100 / measured) * 100,
    firstScreenMs: first,
    keyMs: keyTimes.length ? median(keyTimes) : null,
    refreshes: bursts,
    seconds: counted,
    ...descriptors(child.pid),
  };
  child.kill();
  return r;
}

function goal(label: string, value: string, target: string, peer?: string): void {
  console.log(`  ${label.padEnd(58)} ${value.padStart(10)}   goal ${target}${peer ? `   ${peer}` : ''}`);
}

function timeCommand(cmd: string, args: string[], rounds: number): number | null {
  const probe = spawnSync(cmd, args, { stdio: 'ignore' });
  if (probe.error || probe.status !== 0) return null;
  const xs: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const t = process.hrtime.bigint();
    spawnSync(cmd, args, { stdio: 'ignore' });
    xs.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return median(xs);
}

/** snapshot, oom-sort, node -e 0 and the C floor, in turns. */
function snapshotGoals(n: number, floorBin: string | null, empty: string): void {
  const rounds = n > 10000 ? 5 : 9;
  const fns: Array<[string, string, string[]]> = [
    ['oomtop', 'node', [CLI, 'snapshot', '--format', 'json']],
    ['oom-sort', 'oom-sort', []],
    ['node', 'node', ['-e', '0']],
    ...(floorBin
      ? ([['floor', floorBin, ['/proc']] as [string, string, string[]], ['floor0', floorBin, [empty]]] as Array<
          [string, string, string[]]
        >)
      : []),
  ];
  const xs = new Map<string, number[]>(fns.map(([k]) => [k, []]));
  for (let r = 0; r < rounds; r++)
    for (const [k, cmd, args] of fns) {
      const t = timeCommand(cmd, args, 1);
      if (t !== null) xs.get(k)?.push(t);
    }
  const m = (k: string) => (xs.get(k)?.length ? median(xs.get(k) as number[]) : null);
  const ours = m('oomtop');
  const sort = m('oom-sort');
  const node = m('node');
  const floor = m('floor') !== null ? Math.max(0.01, (m('floor') as number) - (m('floor0') ?? 0)) : null;
  goal(
    `snapshot --format json at ${n}: vs oom-sort`,
    ours === null ? 'n/a' : `${ours.toFixed(0)} ms`,
    '< 1.00× oom-sort',
    sort === null
      ? 'oom-sort n/a (apt-get install nohang)'
      : `oom-sort ${sort.toFixed(0)} ms: ${((ours ?? NaN) / sort).toFixed(2)}×`,
  );
  if (ours !== null && node !== null && floor !== null)
    goal(
      `snapshot at ${n}: work above Node's start-up vs the C floor`,
      `${(ours - node).toFixed(0)} ms`,
      '≤ 1.50× floor',
      `node -e 0 ${node.toFixed(0)} ms, C floor ${floor.toFixed(0)} ms: ${((ours - node) / floor).toFixed(2)}×`,
    );
}

/**
 * A v1 memory cgroup of `limitMiB` in which a file three times the limit is written and then
 * read in a loop (its pages are charged there): reclaim evicts file pages the whole time.
 * Returns the cgroup and what removes it, the churning shell and the file.
 */
async function churningCgroup(limitMiB: number): Promise<{ cg: string; remove: () => Promise<void> }> {
  const cg = join('/sys/fs/cgroup/memory', `oomtop-bench-${process.pid}`);
  mkdirSync(cg);
  try {
    writeFileSync(join(cg, 'memory.limit_in_bytes'), String(limitMiB * 1048576));
  } catch (e) {
    rmdirSync(cg);
    throw e;
  }
  const dir = mkdtempSync(join(tmpdir(), 'oomtop-pressure-'));
  const big = join(dir, 'big');
  const loop = `echo $$ > ${join(cg, 'cgroup.procs')}; dd if=/dev/zero of=${big} bs=1M count=${limitMiB * 3} 2>/dev/null; while :; do cat ${big} > /dev/null; done`;
  const churn = spawn('sh', ['-c', loop], { stdio: 'ignore', detached: true });
  await new Promise((r) => setTimeout(r, 3000));
  const remove = async () => {
    try {
      process.kill(-(churn.pid as number), 'SIGKILL'); // its own process group, by pid
    } catch {
      /* gone */
    }
    await new Promise((r) => setTimeout(r, 300));
    spawnSync('rm', ['-rf', dir]);
    for (let i = 0; i < 20; i++) {
      try {
        rmdirSync(cg);
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  };
  return { cg, remove };
}

/** The dashboard inside a memory cgroup whose page cache is being evicted: does it still answer? */
async function underPressure(baseline: Live | null): Promise<void> {
  if (!existsSync('/sys/fs/cgroup/memory/cgroup.procs') || process.getuid?.() !== 0) {
    console.log('  (f) skipped: needs root and the cgroup v1 memory controller at /sys/fs/cgroup/memory');
    return;
  }
  const limitMiB = Math.ceil((baseline?.rssMiB ?? 100) + 48);
  const { cg, remove } = await churningCgroup(limitMiB);
  try {
    // started inside the cgroup, so that all its memory is charged there (v1 charges a page
    // where it was first used, and moving charges is gone from recent kernels)
    const start = `echo $$ > ${join(cg, 'cgroup.procs')} && exec node ${CLI} --read-only --interval 2`;
    const r = await live('sh', ['-c', start], { keys: true });
    const usage = Number(readFileSync(join(cg, 'memory.usage_in_bytes'), 'utf8')) / 1048576;
    const stat = readFileSync(join(cg, 'memory.stat'), 'utf8');
    const faults = Number(/^total_pgmajfault (\d+)/m.exec(stat)?.[1] ?? Number.NaN);
    const evicted = Number(/^total_pgpgout (\d+)/m.exec(stat)?.[1] ?? Number.NaN) / 256;
    console.log(
      `  (f) in a ${limitMiB} MiB memory cgroup, ${usage.toFixed(0)} MiB used at the end, ${evicted.toFixed(0)} MiB paged out and ${faults} major faults meanwhile:`,
    );
    const without = (x: string | null) => (x === null ? '' : `without pressure ${x}`);
    goal(
      '    key press → screen answer, median of 20',
      r?.keyMs == null ? 'n/a' : `${r.keyMs.toFixed(0)} ms`,
      '< 100 ms',
      without(baseline?.keyMs == null ? null : `${baseline.keyMs.toFixed(0)} ms`),
    );
    goal(
      '    refreshes drawn at the 2 s interval',
      r ? `${r.refreshes} in ${r.seconds.toFixed(0)} s` : 'n/a',
      `≈ ${Math.floor((r?.seconds ?? SECONDS) / 2)}`,
      without(baseline ? `${baseline.refreshes} in ${baseline.seconds.toFixed(0)} s` : null),
    );
    goal(
      '    CPU at the 2 s refresh',
      r ? `${r.cpuPercent.toFixed(1)}%` : 'n/a',
      '—',
      without(baseline ? `${baseline.cpuPercent.toFixed(1)}%` : null),
    );
  } finally {
    await remove();
  }
}

function floorBinary(): string | null {
  const src = [
    join(here, '../../../shared/bench/proc-floor.c'),
    join(process.cwd(), '../shared/bench/proc-floor.c'),
  ].find(existsSync);
  if (!src) return null;
  const bin = join(mkdtempSync(join(tmpdir(), 'oomtop-bench-')), 'proc-floor');
  return spawnSync('gcc', ['-O2', '-o', bin, src], { stdio: 'inherit' }).status === 0 ? bin : null;
}

/** The dashboard beside htop at one size: memory, CPU, per-process cost, first screen, keys. */
async function dashboardGoals(n: number, total: number): Promise<{ ours: Live | null; us: number | null }> {
  const ours = await live('node', [CLI, '--read-only', '--interval', '2'], { keys: true });
  const htop = existsSync('/usr/bin/htop') ? await live('htop', ['-d', '20']) : null;
  console.log(` ${total} processes:`);
  goal(
    `dashboard resident memory after ${SECONDS} s`,
    ours ? `${ours.rssMiB.toFixed(1)} MiB` : 'n/a',
    `≤ ${n >= 20000 ? 90 : 60} MiB`,
    htop && ours
      ? `htop ${htop.rssMiB.toFixed(1)} MiB: ${(ours.rssMiB / htop.rssMiB).toFixed(1)}×; peak ${ours.peakMiB.toFixed(0)} MiB`
      : '',
  );
  goal(
    'dashboard CPU beside htop at the same refresh',
    ours ? `${ours.cpuPercent.toFixed(1)}%` : 'n/a',
    '≤ 0.30× htop',
    htop && ours
      ? `htop ${htop.cpuPercent.toFixed(1)}%: ${(ours.cpuPercent / htop.cpuPercent).toFixed(2)}×`
      : 'htop n/a',
  );
  if (!ours) return { ours, us: null };
  const us = ((ours.cpuPercent / 100) * 2_000_000) / total;
  goal('per-tick CPU per process', `${us.toFixed(1)} µs`, 'flat from 1,000 to 20,000');
  // Two files a process are held open within the open-file limit less 1,024; past it a
  // process's stat and oom_score_adj are opened, read and closed each tick (~3.6× the kernel's
  // work of a held read): on a machine whose hard limit is 20,000 that is half of 20,000.
  if (ours.fds !== null)
    console.log(
      `    descriptors the dashboard held: ${ours.fds} of an open-file limit of ${ours.fdLimit ?? '?'} (2 a process within the limit less 1,024; the rest read by path each tick)`,
    );
  goal(
    'first screen (first row drawn)',
    ours.firstScreenMs === null ? 'n/a' : `${ours.firstScreenMs} ms`,
    n >= 20000 ? '≤ 1000 ms' : '—',
  );
  goal(
    'key press → screen answer, median of 20',
    ours.keyMs === null ? 'n/a' : `${ours.keyMs.toFixed(0)} ms`,
    '< 100 ms',
  );
  return { ours, us };
}

export async function benchFootprint(): Promise<void> {
  const idle = compile('idle');
  if (!idle) {
    console.log('(e) skipped: gcc is needed to build src/bench/idle.c');
    return;
  }
  const floorBin = floorBinary();
  const empty = mkdtempSync(join(tmpdir(), 'oomtop-empty-'));
  console.log(`\n(e) footprint, each program live ${SECONDS} s in a 160×50 pseudo-terminal at a 2 s refresh`);
  const perProcess: Array<{ n: number; us: number }> = [];
  for (const n of SIZES) {
    const stop = await startIdle(idle, Math.max(0, n - procCount()));
    try {
      const total = procCount();
      const { ours, us } = await dashboardGoals(n, total);
      if (us !== null) perProcess.push({ n: total, us });
      snapshotGoals(total, floorBin, empty);
      // under pressure with the same process table as the first size's figures
      if (n === SIZES[0]) await underPressure(ours);
    } finally {
      await stop();
    }
  }
  if (perProcess.length > 1) {
    const [a, b] = [perProcess[0], perProcess.at(-1)] as [{ n: number; us: number }, { n: number; us: number }];
    goal(`per-process tick cost, ${b.n} vs ${a.n} processes`, `${(b.us / a.us).toFixed(2)}×`, '≈ 1× (linear)');
  }
}
