// The user-space killers' rules against the real programs, on the live /proc. earlyoom runs
// with --dryrun (it chooses and logs, and sends no signal) and thresholds that fire at once;
// nohang prints its choice with --tasks and exits. The test starts memory holders with
// names, sizes and (raised) adj values chosen so that the killer's choice and the kernel's
// differ, and requires oomtop's prediction to be the pid the killer itself names. Every
// process started here is stopped by pid, also when a test fails; no killer outlives it.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { buildSnapshot } from '../../src/core/snapshot.js';
import { killersReport } from '../../src/core/killers/race.js';
import { DEFAULT_ROOTS } from '../../src/system/env.js';
import { readKillerInputs } from '../../src/system/killers.js';
import { Sampler } from '../../src/system/sampler.js';
import { buildHolder, startCHolder, stopCHolders } from '../helpers/c-holder.js';
import { needKernel } from '../helpers/kernel.js';

const dir = mkdtempSync(join(tmpdir(), 'oomtop-killers-'));
const killers = new Set<ChildProcess>();
const tally: Record<string, { n: number; ok: number }> = { earlyoom: { n: 0, ok: 0 }, nohang: { n: 0, ok: 0 } };

afterEach(async () => {
  for (const k of killers) k.kill('SIGKILL');
  killers.clear();
  await stopCHolders();
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  for (const [name, { n, ok }] of Object.entries(tally))
    if (n) console.log(`real ${name}: ${ok} of ${n} victims named by ${name} itself matched oomtop's prediction`);
});

const have = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

/** A holder binary under a chosen name (its comm), so --prefer/--avoid and name rules can match it. */
function named(ctx: { skip: (note?: string) => void }, name: string): string {
  const bin = buildHolder();
  needKernel(ctx, bin !== null, 'no C compiler (cc) to build the memory holder');
  const to = join(dir, name);
  copyFileSync(bin as string, to);
  spawnSync('chmod', ['+x', to]);
  return to;
}

function predict(patch?: (i: ReturnType<typeof readKillerInputs>) => void) {
  const sample = new Sampler('/proc').sample(Date.now());
  const { snapshot } = buildSnapshot(sample, { users: new Map() });
  const inputs = readKillerInputs(DEFAULT_ROOTS, sample, snapshot);
  patch?.(inputs);
  return killersReport(inputs);
}

/** Starts earlyoom --dryrun and resolves with the pid of its first "sending SIGTERM to process N" line. */
function earlyoomChoice(args: string[]): Promise<{ pid: number; child: ChildProcess }> {
  const child = spawn('earlyoom', ['--dryrun', '-m', '99', '-s', '100', '-r', '0', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  killers.add(child);
  return new Promise((resolve, reject) => {
    let buf = '';
    const on = (d: Buffer) => {
      buf += d.toString();
      const m = /sending SIGTERM to process (\d+)/.exec(buf);
      if (m) resolve({ pid: Number(m[1]), child });
    };
    child.stdout?.on('data', on);
    child.stderr?.on('data', on);
    child.once('exit', (code) => reject(new Error(`earlyoom exited (${code}) before choosing: ${buf}`)));
    setTimeout(() => reject(new Error(`earlyoom chose nobody in 10 s: ${buf}`)), 10_000);
  });
}

describe('earlyoom --dryrun: its own choice against oomtop’s', () => {
  const cases: Array<{
    title: string;
    a: { adj: number; mib: number };
    b: { adj: number; mib: number };
    args: (a: string, b: string) => string[];
    winner: 'a' | 'b';
  }> = [
    // oom_score ~1333 vs ~1266: --avoid takes 300 off the kernel's choice
    {
      title: '--avoid turns its choice away from the kernel’s',
      a: { adj: 1000, mib: 32 },
      b: { adj: 900, mib: 16 },
      args: (a) => ['--avoid', `^${a}$`],
      winner: 'b',
    },
    // ~1333 vs ~1200 + 300
    {
      title: '--prefer adds 300 to a smaller process',
      a: { adj: 1000, mib: 32 },
      b: { adj: 800, mib: 16 },
      args: (_a, b) => ['--prefer', `^${b}$`],
      winner: 'b',
    },
    // both under totalpages/1000 pages: the same oom_score, the larger VmRSS wins
    {
      title: 'of equal oom_score, the larger VmRSS',
      a: { adj: 1000, mib: 8 },
      b: { adj: 1000, mib: 16 },
      args: () => [],
      winner: 'b',
    },
  ];
  for (const c of cases)
    it(c.title, async (ctx) => {
      needKernel(ctx, have('earlyoom'), 'earlyoom is not installed (apt-get install earlyoom)');
      const [na, nb] = ['oomtop-eo-a', 'oomtop-eo-b'];
      const a = await startCHolder(named(ctx, na), { mib: c.a.mib, adj: c.a.adj });
      const b = await startCHolder(named(ctx, nb), { mib: c.b.mib, adj: c.b.adj });
      if (c.a.adj === c.b.adj) {
        const score = (pid: number) => readFileSync(`/proc/${pid}/oom_score`, 'utf8').trim();
        expect(score(a.pid), 'the tie case needs equal oom_score values').toBe(score(b.pid));
      }
      const { pid } = await earlyoomChoice(c.args(na, nb));
      const r = predict();
      const eo = r.killers.find((k) => k.name === 'earlyoom');
      const kernel = r.killers.find((k) => k.name === 'kernel');
      (tally.earlyoom as { n: number }).n++;
      expect(eo?.active).toBe(true);
      expect(pid).toBe(c.winner === 'a' ? a.pid : b.pid);
      expect(eo?.victim?.pid).toBe(pid);
      (tally.earlyoom as { ok: number }).ok++;
      if (c.a.adj !== c.b.adj) expect(kernel?.victim?.pid).toBe(a.pid); // the kernel takes the other one
      expect(r.order[0]).toBe('earlyoom'); // -m 99: it fires now, long before the kernel
    });
});

describe('nohang --tasks: its own choice against oomtop’s', () => {
  const base = () => readFileSync('/etc/nohang/nohang.conf', 'utf8');
  const cases: Array<{
    title: string;
    extra: string;
    a: { adj: number; mib: number };
    b: { adj: number; mib: number };
  }> = [
    {
      title: 'a name rule adds badness to the smaller process',
      extra: '@BADNESS_ADJ_RE_NAME 200 /// ^oomtop-nh-b$\n',
      a: { adj: 1000, mib: 32 },
      b: { adj: 900, mib: 16 },
    },
    {
      title: 'ignore_positive_oom_score_adj takes the adj back off',
      extra: '@BADNESS_ADJ_RE_NAME 300 /// ^oomtop-nh-b$\n',
      a: { adj: 1000, mib: 32 },
      b: { adj: 0, mib: 16 },
    },
  ];
  for (const [i, c] of cases.entries())
    it(c.title, async (ctx) => {
      needKernel(ctx, have('nohang') && have('python3'), 'nohang is not installed (apt-get install nohang)');
      const a = await startCHolder(named(ctx, 'oomtop-nh-a'), { mib: c.a.mib, adj: c.a.adj });
      const b = await startCHolder(named(ctx, 'oomtop-nh-b'), { mib: c.b.mib, adj: c.b.adj });
      let text = base() + c.extra;
      if (i === 1)
        text = text.replace(/^ignore_positive_oom_score_adj\s*=.*$/m, 'ignore_positive_oom_score_adj = True');
      const conf = join(dir, `nohang-${i}.conf`);
      writeFileSync(conf, text);
      const run = spawnSync('nohang', ['-c', conf, '--tasks'], { encoding: 'utf8', timeout: 60_000 });
      const m = /PID: (\d+), Name: (.*), badness: (-?\d+)/.exec(`${run.stdout}${run.stderr}`);
      expect(m, `nohang printed no choice: ${run.stdout}${run.stderr}`).not.toBeNull();
      const chosen = Number((m as RegExpExecArray)[1]);
      const r = predict((inp) => {
        inp.nohang = { process: { pid: -1, argv: ['nohang', '--monitor', '-c', conf] }, config: { path: conf, text } };
      });
      const nh = r.killers.find((k) => k.name === 'nohang');
      (tally.nohang as { n: number }).n++;
      expect(chosen).toBe(b.pid);
      expect(nh?.victim?.pid).toBe(chosen);
      (tally.nohang as { ok: number }).ok++;
      expect(r.killers.find((k) => k.name === 'kernel')?.victim?.pid).toBe(a.pid);
    });
});
