// The dashboard's cost with many processes: CPU per refresh tick (sample + rank + render)
// and per key press, in process on fake streams; then oomtop's and htop's CPU use over the
// same wall time in a pseudo-terminal at the same 2 s interval.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { PassThrough, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { installCellWidths } from '../cell-widths.js';
import { globalContext } from '../core/domains.js';
import { loadUsers } from '../system/env.js';
import { Sampler } from '../system/sampler.js';
import { DashboardApp } from '../tui/app.js';
import { startSleepers } from './sleepers.js';

const here = dirname(fileURLToPath(import.meta.url));

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

function ticksOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]); // utime + stime
}

/**
 * CPU use of a program in a pseudo-terminal over `seconds`, after `warmup` seconds: oomtop's
 * start-up (the first sample, opening 10,000 files on the second, compiling its hot code)
 * is not what a dashboard left open costs.
 */
async function cpuPercentInPty(cmd: string, args: string[], warmup: number, seconds: number): Promise<number | null> {
  let pty: typeof import('@lydell/node-pty');
  try {
    pty = (await import('@lydell/node-pty')).default as unknown as typeof import('@lydell/node-pty');
  } catch {
    return null;
  }
  const child = pty.spawn(cmd, args, {
    name: 'xterm-256color',
    cols: 160,
    rows: 50,
    env: { ...process.env, TERM: 'xterm-256color' } as Record<string, string>,
  });
  child.onData(() => {});
  await new Promise((r) => setTimeout(r, warmup * 1000));
  let t0: number;
  try {
    t0 = ticksOf(child.pid);
  } catch {
    child.kill();
    return null;
  }
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const t1 = ticksOf(child.pid);
  child.kill();
  return ((t1 - t0) / 100 / seconds) * 100;
}

/**
 * The kernel's share of a refresh: held-floor.c keeps the same files open and reads them
 * as a tick does, one refresh per call, answering with its CPU ms. null without gcc.
 */
function heldFloor(): { tick: () => Promise<number>; stop: () => void } | null {
  const src = join(here, '../../src/bench/held-floor.c');
  const bin = join(mkdtempSync(join(tmpdir(), 'oomtop-bench-')), 'held-floor');
  if (!existsSync(src) || spawnSync('gcc', ['-O2', '-o', bin, src], { stdio: 'inherit' }).status !== 0) return null;
  const child = spawn(bin, ['/proc'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  return {
    tick: async () => {
      child.stdin.write('\n');
      const r = await lines.next();
      return r.done ? NaN : Number(String(r.value).split(' ')[0]);
    },
    stop: () => {
      child.stdin.end();
    }, // it ends at the end of its input
  };
}

/** The dashboard on a fake 160×50 terminal, driven by hand, reading the real /proc. */
function fakeDashboard(): { app: DashboardApp; sampler: Sampler } {
  const input = Object.assign(new PassThrough(), { isTTY: true, setRawMode: () => input });
  const output = Object.assign(new Writable({ write: (_c, _e, cb) => cb() }), {
    isTTY: true,
    columns: 160,
    rows: 50,
  });
  const sampler = new Sampler('/proc', { incremental: true });
  const app = new DashboardApp({
    sampler,
    adjuster: null,
    audit: null,
    users: loadUsers('/etc/passwd'),
    intervalMs: 2000,
    readOnly: true,
    cpu: false,
    exportDir: '/tmp',
    uid: 0,
    domainView: (s) => globalContext(s),
    input,
    output,
    timers: false,
  }).start();
  return { app, sampler };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

/** CPU of the dashboard and of htop, each live for a while in a pseudo-terminal. */
async function liveInPty(): Promise<void> {
  const secs = Number(process.env.OOMTOP_BENCH_LIVE_SECONDS ?? 30);
  const warmup = Number(process.env.OOMTOP_BENCH_LIVE_WARMUP ?? 10);
  const cli = join(here, '..', 'bin', 'oomtop.js');
  const ours = await cpuPercentInPty('node', [cli, '--read-only', '--interval', '2'], warmup, secs);
  const htop = existsSync('/usr/bin/htop') ? await cpuPercentInPty('htop', ['-d', '20'], warmup, secs) : null;
  console.log(
    `  live, ${secs} s in a pseudo-terminal at a 2 s interval, after ${warmup} s of start-up: oomtop ${ours === null ? 'n/a' : `${ours.toFixed(1)}%`} of one core   goal < 5%; htop ${htop === null ? 'n/a (apt-get install htop)' : `${htop.toFixed(1)}%`}`,
  );
}

export async function benchDashboard(rounds: number): Promise<void> {
  installCellWidths();
  // Top the table up to 5,000 processes for this part.
  const have = readFileSync('/proc/loadavg', 'utf8').split(' ')[3]?.split('/')[1];
  const extra = Math.max(0, 5000 - Number(have ?? 0));
  const stop = await startSleepers(extra);
  try {
    await tickAndKeys(rounds);
    await liveInPty();
  } finally {
    stop();
  }
}

/** CPU per refresh tick, beside the C floor of the same reads, and per key press. */
async function tickAndKeys(rounds: number): Promise<void> {
  const { app, sampler } = fakeDashboard();
  const n = app.state.snapshot?.processes.length ?? 0;
  // Taken in turns with the kernel floor of the same reads (one refresh each per round).
  const floor = heldFloor();
  await floor?.tick(); // its first refresh opens every file
  const ticks: number[] = [];
  const floors: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const c = cpuMs();
    app.tick();
    ticks.push(cpuMs() - c);
    if (floor) floors.push(await floor.tick());
  }
  floor?.stop();
  const keys: number[] = [];
  for (let i = 0; i < rounds * 10; i++) {
    const c = cpuMs();
    app.dispatch({ type: 'key', name: i % 20 < 10 ? 'j' : 'k' });
    keys.push(cpuMs() - c);
  }
  const held = sampler.heldCount;
  app.quit(0);
  const tick = median(ticks);
  console.log(
    `  ${n} processes on screen's table (160×50, fake terminal); ${sampler.readerName}, ${held} files held open`,
  );
  console.log(`  CPU per refresh tick (sample + rank + render): ${tick.toFixed(1)} ms   goal < 100 ms`);
  if (floors.length) {
    const f = median(floors);
    console.log(
      `    its floor: the same held files read from C (held-floor.c), 2 preads a process (and the list when a fork happened): ${f.toFixed(1)} ms (${(tick / f).toFixed(2)}×)`,
    );
  }
  console.log(`  CPU per key press (move):                      ${median(keys).toFixed(2)} ms   goal < 16 ms`);
  console.log(`  => at the default 2 s interval: ${((tick / 2000) * 100).toFixed(1)}% of one core   goal < 5%`);
}
