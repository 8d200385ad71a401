// The user-space killers' rules against the real programs, on the real kernel. Each case
// runs in a PID namespace of its own (unshare --pid --mount-proc): its /proc holds only the
// memory holders the test starts and the killer, so the killer's choice and oomtop's
// prediction (read from that /proc, /proc/NSINIT/root/proc) depend on nothing else on the
// machine. earlyoom runs with --dryrun (it chooses and logs, and sends no signal) and
// thresholds that fire at once; nohang prints its choice with --tasks and exits. Names,
// sizes and (raised) adj values make the killer's choice and the kernel's differ, and
// oomtop's prediction must be the pid the killer itself names. The namespace is killed by
// its init's pid when a case ends, also when it fails: nothing it started outlives it.
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { killersReport } from '../../src/core/killers/race.js';
import { buildSnapshot } from '../../src/core/snapshot.js';
import { readKillerInputs } from '../../src/system/killers.js';
import { Sampler } from '../../src/system/sampler.js';
import { buildHolder } from '../helpers/c-holder.js';
import { needKernel } from '../helpers/kernel.js';

const dir = mkdtempSync(join(tmpdir(), 'oomtop-killers-'));
const namespaces = new Set<Namespace>();
const tally: Record<string, { n: number; ok: number }> = { earlyoom: { n: 0, ok: 0 }, nohang: { n: 0, ok: 0 } };

afterEach(() => {
  for (const ns of namespaces) ns.stop();
  namespaces.clear();
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  for (const [name, { n, ok }] of Object.entries(tally))
    if (n) console.log(`real ${name}: ${ok} of ${n} victims named by ${name} itself matched oomtop's prediction`);
});

const have = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Holder {
  name: string;
  mib: number;
  adj: number;
}

interface Namespace {
  /** The namespace's /proc, as the host sees it. */
  procRoot: string;
  /** Each holder's pid inside the namespace (the pids its killer and oomtop see). */
  pids: Record<string, number>;
  /** The folder its script runs in (pid files, nohang's output). */
  work: string;
  output: () => string;
  stop: () => void;
}

function ready(ctx: { skip: (note?: string) => void }, killer: string): void {
  needKernel(ctx, process.getuid?.() === 0 && have('unshare'), 'a PID namespace needs root and unshare (util-linux)');
  needKernel(ctx, have(killer), `${killer} is not installed (apt-get install ${killer})`);
  needKernel(ctx, buildHolder() !== null, 'no C compiler (cc) to build the memory holder');
}

/**
 * Starts the holders (copies of the holder binary under their names, so comm matches the
 * killer's rules) in a new PID namespace, raises their adj, waits until each holds its
 * memory, then runs `then` there (which may exec the killer as the namespace's init).
 */
async function inNamespace(holders: readonly Holder[], then: string): Promise<Namespace> {
  const work = mkdtempSync(join(dir, 'ns-'));
  const lines = ['set -e', `cd ${work}`];
  for (const h of holders) {
    copyFileSync(buildHolder() as string, join(work, h.name));
    spawnSync('chmod', ['+x', join(work, h.name)]);
    lines.push(`echo a | ./${h.name} ${h.mib} 0 0 > ${h.name}.ready & echo $! > ${h.name}.pid`);
    lines.push(`echo ${h.adj} > /proc/$!/oom_score_adj`);
  }
  for (const h of holders) lines.push(`until grep -q ready ${h.name}.ready; do sleep 0.05; done`);
  lines.push('touch started', then);
  const child = spawn('unshare', ['--pid', '--fork', '--kill-child', '--mount-proc', 'sh', '-c', lines.join('\n')], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  let init = 0;
  const ns: Namespace = {
    procRoot: '',
    pids: {},
    work,
    output: () => out,
    stop: () => {
      // SIGKILL to the namespace's init takes every process in it (--kill-child: also if unshare dies first).
      if (init) spawnSync('kill', ['-KILL', String(init)]);
      child.kill('SIGKILL');
    },
  };
  namespaces.add(ns);
  for (let i = 0; i < 200 && !existsSync(join(work, 'started')); i++) {
    if (child.exitCode !== null) throw new Error(`the namespace ended before its holders were ready: ${out}`);
    await sleep(50);
  }
  if (!existsSync(join(work, 'started'))) throw new Error(`the holders were not ready in 10 s: ${out}`);
  init = Number(readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim());
  ns.procRoot = `/proc/${init}/root/proc`;
  for (const h of holders) ns.pids[h.name] = Number(readFileSync(join(work, `${h.name}.pid`), 'utf8'));
  return ns;
}

function predict(procRoot: string, patch?: (i: ReturnType<typeof readKillerInputs>) => void) {
  const roots = { procRoot, sysRoot: '/sys/fs/cgroup', etcRoot: '/etc', passwdFile: '/etc/passwd' };
  const sample = new Sampler(procRoot).sample(Date.now());
  const { snapshot } = buildSnapshot(sample, { users: new Map() });
  const inputs = readKillerInputs(roots, sample, snapshot);
  patch?.(inputs);
  return killersReport(inputs);
}

async function until<T>(what: string, ns: Namespace, get: () => T | null): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const v = get();
    if (v !== null) return v;
    await sleep(50);
  }
  throw new Error(`${what} in 10 s: ${ns.output()}`);
}

describe('earlyoom --dryrun: its own choice against oomtop’s', () => {
  const cases: Array<{
    title: string;
    a: Omit<Holder, 'name'>;
    b: Omit<Holder, 'name'>;
    args: string;
    winner: 'a' | 'b';
  }> = [
    // oom_score ~1333 vs ~1266: --avoid takes 300 off the kernel's choice
    {
      title: '--avoid turns its choice away from the kernel’s',
      a: { adj: 1000, mib: 32 },
      b: { adj: 900, mib: 16 },
      args: "--avoid '^oomtop-eo-a$'",
      winner: 'b',
    },
    // ~1333 vs ~1200 + 300
    {
      title: '--prefer adds 300 to a smaller process',
      a: { adj: 1000, mib: 32 },
      b: { adj: 800, mib: 16 },
      args: "--prefer '^oomtop-eo-b$'",
      winner: 'b',
    },
    // both under totalpages/1000 pages: the same oom_score, the larger VmRSS wins
    {
      title: 'of equal oom_score, the larger VmRSS',
      a: { adj: 1000, mib: 8 },
      b: { adj: 1000, mib: 16 },
      args: '',
      winner: 'b',
    },
  ];
  for (const c of cases)
    it(c.title, async (ctx) => {
      ready(ctx, 'earlyoom');
      // earlyoom becomes the namespace's init: pid 1, which it never picks.
      const ns = await inNamespace(
        [
          { name: 'oomtop-eo-a', ...c.a },
          { name: 'oomtop-eo-b', ...c.b },
        ],
        `exec earlyoom --dryrun -m 99 -s 100 -r 0 ${c.args}`,
      );
      const [a, b] = [ns.pids['oomtop-eo-a'] as number, ns.pids['oomtop-eo-b'] as number];
      if (c.a.adj === c.b.adj) {
        const score = (pid: number) => readFileSync(`${ns.procRoot}/${pid}/oom_score`, 'utf8').trim();
        expect(score(a), 'the tie case needs equal oom_score values').toBe(score(b));
      }
      const pid = await until('earlyoom chose nobody', ns, () => {
        const m = /sending SIGTERM to process (\d+)/.exec(ns.output());
        return m ? Number(m[1]) : null;
      });
      const r = predict(ns.procRoot);
      const eo = r.killers.find((k) => k.name === 'earlyoom');
      const kernel = r.killers.find((k) => k.name === 'kernel');
      (tally.earlyoom as { n: number }).n++;
      expect(eo?.active).toBe(true);
      expect(pid).toBe(c.winner === 'a' ? a : b);
      expect(eo?.victim?.pid).toBe(pid);
      (tally.earlyoom as { ok: number }).ok++;
      if (c.a.adj !== c.b.adj) expect(kernel?.victim?.pid).toBe(a); // the kernel takes the other one
      expect(r.order[0]).toBe('earlyoom'); // -m 99: it fires now, long before the kernel
    });
});

describe('nohang --tasks: its own choice against oomtop’s', () => {
  const cases: Array<{
    title: string;
    extra: string;
    ignorePositive: boolean;
    a: Omit<Holder, 'name'>;
    b: Omit<Holder, 'name'>;
  }> = [
    {
      title: 'a name rule adds badness to the smaller process',
      extra: '@BADNESS_ADJ_RE_NAME 200 /// ^oomtop-nh-b$\n',
      ignorePositive: false,
      a: { adj: 1000, mib: 32 },
      b: { adj: 900, mib: 16 },
    },
    {
      title: 'ignore_positive_oom_score_adj takes the adj back off',
      extra: '@BADNESS_ADJ_RE_NAME 300 /// ^oomtop-nh-b$\n',
      ignorePositive: true,
      a: { adj: 1000, mib: 32 },
      b: { adj: 0, mib: 16 },
    },
  ];
  for (const [i, c] of cases.entries())
    it(c.title, async (ctx) => {
      ready(ctx, 'nohang');
      let text = readFileSync('/etc/nohang/nohang.conf', 'utf8') + c.extra;
      if (c.ignorePositive)
        text = text.replace(/^ignore_positive_oom_score_adj\s*=.*$/m, 'ignore_positive_oom_score_adj = True');
      const conf = join(dir, `nohang-${i}.conf`);
      writeFileSync(conf, text);
      // nohang prints its choice and exits; the namespace then sleeps so oomtop reads the same table.
      const ns = await inNamespace(
        [
          { name: 'oomtop-nh-a', ...c.a },
          { name: 'oomtop-nh-b', ...c.b },
        ],
        `nohang -c ${conf} --tasks > nohang.out 2>&1 || true\necho '#done'\nexec sleep 600`,
      );
      await until('nohang did not finish', ns, () => (ns.output().includes('#done') ? true : null));
      const log = readFileSync(join(ns.work, 'nohang.out'), 'utf8');
      const m = /PID: (\d+), Name: (.*), badness: (-?\d+)/.exec(log);
      expect(m, `nohang printed no choice: ${log}`).not.toBeNull();
      const chosen = Number((m as RegExpExecArray)[1]);
      const r = predict(ns.procRoot, (inp) => {
        inp.nohang = { process: { pid: -1, argv: ['nohang', '--monitor', '-c', conf] }, config: { path: conf, text } };
      });
      const nh = r.killers.find((k) => k.name === 'nohang');
      (tally.nohang as { n: number }).n++;
      expect(chosen).toBe(ns.pids['oomtop-nh-b']);
      expect(nh?.victim?.pid).toBe(chosen);
      (tally.nohang as { ok: number }).ok++;
      expect(r.killers.find((k) => k.name === 'kernel')?.victim?.pid).toBe(ns.pids['oomtop-nh-a']);
    });
});
