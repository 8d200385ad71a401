// The killer race on fixture trees (/proc, a cgroup v2 hierarchy with the memory controller,
// /etc and /usr/lib/systemd under one root, xattrs set with setfattr on the temp file
// system): systemd-oomd and the kubelet cannot run on these machines, so their rules are
// checked on the files they read, each case citing the source function it follows.
import { spawnSync } from 'node:child_process';
import { chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { killersOf, runKillers } from '../../src/commands/killers.js';
import { buildSnapshot } from '../../src/core/snapshot.js';
import type { FallRate } from '../../src/core/trend.js';
import { Sampler } from '../../src/system/sampler.js';
import { runSimulate } from '../../src/commands/domains.js';
import { runApply, runExportSystemd } from '../../src/commands/policy.js';
import type { KillerSimulation } from '../../src/core/killers/sequence.js';
import { fakeIo } from '../helpers/io.js';
import type { KillersReport } from '../../src/core/killers/race.js';
import { nativeReader } from '../../src/system/native.js';
import { type FixtureCgroup, type FixtureProc, writeCgroupV2Tree, writeProcTree } from '../helpers/proc-tree.js';
import { needKernel } from '../helpers/kernel.js';

const tmp = mkdtempSync(join(tmpdir(), 'oomtop-killers-fx-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const GiB = 2 ** 30;

function files(root: string, f: Record<string, string>): void {
  for (const [path, text] of Object.entries(f)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
}

function tree(
  name: string,
  procs: FixtureProc[],
  cgroups: FixtureCgroup[],
  etc: Record<string, string>,
  mem: { avail: number; swap: number; swapFree: number },
) {
  const root = join(tmp, name);
  writeProcTree(
    join(root, 'proc'),
    { memTotalKb: 16 * 1024 * 1024, memAvailableKb: mem.avail, swapTotalKb: mem.swap, swapFreeKb: mem.swapFree },
    procs,
  );
  writeCgroupV2Tree(join(root, 'sys'), cgroups);
  files(root, etc);
  const roots = {
    procRoot: join(root, 'proc'),
    sysRoot: join(root, 'sys'),
    etcRoot: join(root, 'etc'),
    passwdFile: '/nonexistent',
  };
  return {
    root,
    roots,
    json: (extra: { protected?: boolean; pause?: () => void } = {}) =>
      JSON.parse(runKillers(roots, { format: 'json', ...extra }, 0)) as KillersReport & {
        protected?: Array<{ pid: number; killers: Array<{ killer: string; safe: boolean; fix: string | null }> }>;
      },
  };
}

const setfattr = (path: string, name: string) => spawnSync('setfattr', ['-n', name, '-v', '1', path]).status === 0;

describe('systemd-oomd (oomd-manager.c, oomd-util.c) on a desktop-like tree', () => {
  // SwapUsedLimit=80%: the swap rule fires below 20% MemAvailable and 20% SwapFree.
  // MemAvailable 1 GiB of 16 (6%), SwapFree 1 GiB of 8 (12.5%): firing.
  const procs: FixtureProc[] = [
    { pid: 1, comm: 'init', rssPages: 1000 },
    {
      pid: 500,
      comm: 'systemd-oomd',
      rssPages: 500,
      cmdline: ['/usr/lib/systemd/systemd-oomd'],
      cgroup: '/system.slice/systemd-oomd.service',
    },
    { pid: 600, comm: 'java', rssPages: 1_500_000, adj: -900, cgroup: '/system.slice/java.service' },
    { pid: 601, comm: 'postgres', rssPages: 800_000, adj: -1000, cgroup: '/system.slice/postgresql.service' },
    {
      pid: 700,
      comm: 'firefox',
      rssPages: 900_000,
      uid: 1000,
      cgroup: '/user.slice/user-1000.slice/user@1000.service/app.slice/firefox.scope',
    },
    {
      pid: 701,
      comm: 'make',
      rssPages: 200_000,
      uid: 1000,
      cgroup: '/user.slice/user-1000.slice/user@1000.service/app.slice/build.scope',
    },
  ];
  const cgroups: FixtureCgroup[] = [
    { path: '/system.slice/systemd-oomd.service', procs: [500] },
    { path: '/system.slice/java.service', current: 6 * GiB, swapCurrent: 2 * GiB, procs: [600] },
    { path: '/system.slice/postgresql.service', current: 3 * GiB, swapCurrent: 3 * GiB, procs: [601] },
    { path: '/user.slice/user-1000.slice/user@1000.service', current: 4 * GiB, pressureFull: 12.5 },
    {
      path: '/user.slice/user-1000.slice/user@1000.service/app.slice/firefox.scope',
      current: 4 * GiB,
      swapCurrent: 1 * GiB,
      procs: [700],
    },
    // Smaller than firefox, but the one reclaim scans while it runs (the pgscan-rate case)
    {
      path: '/user.slice/user-1000.slice/user@1000.service/app.slice/build.scope',
      current: 1 * GiB,
      pgscan: 1000,
      procs: [701],
    },
  ];
  const etc = {
    'etc/systemd/oomd.conf': '[OOM]\nSwapUsedLimit=80%\n',
    'usr/lib/systemd/system/-.slice.d/10-oomd-root-slice-defaults.conf': '[Slice]\nManagedOOMSwap=kill\n',
    'usr/lib/systemd/system/user@.service.d/10-oomd-user-service-defaults.conf':
      '[Service]\nManagedOOMMemoryPressure=kill\nManagedOOMMemoryPressureLimit=50%\n',
    'etc/systemd/system/postgresql.service.d/oom.conf': '[Service]\nManagedOOMPreference=omit\n',
  };
  const t = tree('oomd', procs, cgroups, etc, { avail: 1024 * 1024, swap: 8 * 1024 * 1024, swapFree: 1024 * 1024 });
  const xattrs = (ctx: { skip: (n?: string) => void }) => {
    needKernel(ctx, nativeReader() !== null, 'the native reader is not built (it reads xattrs)');
    const pg = join(t.roots.sysRoot, 'system.slice/postgresql.service');
    needKernel(
      ctx,
      setfattr(pg, 'user.oomd_omit'),
      'setfattr (attr) is missing or the temp file system has no user xattrs',
    );
    // A user-owned cgroup's avoid is not honoured for the swap rule (oomd_fetch_cgroup_oom_preference).
    const ff = join(t.roots.sysRoot, 'user.slice/user-1000.slice/user@1000.service/app.slice/firefox.scope');
    setfattr(ff, 'user.oomd_avoid');
    chownSync(ff, 1000, 1000);
  };

  it('swap rule: the most swap above 5% of SwapTotal, omit skipped, the whole cgroup dies; adj is ignored', (ctx) => {
    xattrs(ctx);
    const r = t.json();
    const o = r.killers.find((k) => k.name === 'systemd-oomd');
    expect(o?.active).toBe(true);
    expect(o?.ignoresAdj).toBe(true);
    expect(o?.trigger?.text).toContain('MemAvailable < 20% and SwapFree < 20%');
    expect(o?.distance?.firing).toBe(true);
    // postgresql.service has more swap (3 GiB) but user.oomd_omit on a root-owned cgroup
    expect(o?.victim).toMatchObject({ kind: 'cgroup', cgroup: '/system.slice/java.service', pid: 600 });
    expect(r.firstToAct).toBe('systemd-oomd');
    // the kernel would take java too? No: adj −900 makes firefox the kernel's victim
    expect(r.killers.find((k) => k.name === 'kernel')?.victim?.pid).toBe(700);
  });

  it('says java (adj −900) is not safe from systemd-oomd and how to fix it; postgres is safe (omit)', (ctx) => {
    xattrs(ctx);
    const p = t.json({ protected: true }).protected ?? [];
    const java = p.find((x) => x.pid === 600);
    expect(java?.killers.find((k) => k.killer === 'systemd-oomd')).toMatchObject({ safe: false });
    expect(java?.killers.find((k) => k.killer === 'systemd-oomd')?.fix).toContain('ManagedOOMPreference=omit');
    const pg = p.find((x) => x.pid === 601);
    expect(pg?.killers.find((k) => k.killer === 'systemd-oomd')).toMatchObject({ safe: true });
    expect(pg?.killers.find((k) => k.killer === 'kernel')).toMatchObject({ safe: true });
  });

  it('apply --dry-run warns that protect cannot hold against systemd-oomd; export-systemd writes omit', async (ctx) => {
    xattrs(ctx);
    const policy = join(t.root, 'policy.yaml');
    writeFileSync(
      policy,
      'rules:\n  - unit: java.service\n    protect: true\n  - unit: postgresql.service\n    protect: true\n',
    );
    // oomtop's own status in the fixture (CAP_SYS_RESOURCE held): the plan does not depend on the test's pid
    files(t.root, { 'proc/self/status': 'Name:\tnode\nCapEff:\t000001ffffffffff\n' });
    const io = fakeIo(join(t.root, 'state'));
    expect(await runApply(t.roots, io, { policy, dryRun: true })).toBe(0);
    const warnings = io
      .text()
      .split('\n')
      .filter((l) => l.startsWith('warning:'));
    // java.service is under -.slice, which systemd-oomd watches; postgresql.service is omitted
    expect(warnings).toEqual([
      expect.stringMatching(
        /^warning: java \(pid 600\): protect cannot hold against systemd-oomd: .*ManagedOOMPreference=omit in java\.service/,
      ),
    ]);
    const out = fakeIo(join(t.root, 'state'));
    runExportSystemd(t.roots, out, { policy });
    expect(out.text()).toContain('[Service]\nOOMScoreAdjust=-1000\nManagedOOMPreference=omit\n');
  });

  it('simulate --killer systemd-oomd: whole cgroups by swap, omit never taken, until none is above 5%', (ctx) => {
    xattrs(ctx);
    const sim = JSON.parse(runSimulate(t.roots, { killer: 'systemd-oomd', format: 'json' }, 0)) as KillerSimulation;
    expect(sim.sequence.map((s) => s.victim.cgroup)).toEqual([
      '/system.slice/java.service',
      '/user.slice/user-1000.slice/user@1000.service/app.slice/firefox.scope',
    ]);
    expect(sim.sequence[0]?.freedBytes).toBe(1_500_000 * 4096);
    expect(sim.sequence[1]?.cumulativeFreedBytes).toBe(2_400_000 * 4096);
    expect(sim.end).toBe('its rule picks nobody more');
    const table = runSimulate(t.roots, { killer: 'systemd-oomd' }, 0);
    expect(table).toMatch(/^ +1 +5\.7 GiB +5\.7 GiB +cgroup \/system\.slice\/java\.service \(1 process, java 600\)/m);
  });

  it('simulate --killer says why it cannot: a killer not running, an unknown name, --cgroup', () => {
    expect(() => runSimulate(t.roots, { killer: 'earlyoom' }, 0)).toThrow(
      /^--killer earlyoom: no earlyoom process; it cannot act here/,
    );
    expect(() => runSimulate(t.roots, { killer: 'oomd' }, 0)).toThrow(
      '--killer oomd: not a killer oomtop knows; use one of kernel, systemd-oomd, earlyoom, nohang, kubelet',
    );
    expect(() => runSimulate(t.roots, { killer: 'systemd-oomd', cgroup: '/system.slice' }, 0)).toThrow(
      /acts on the whole box: --cgroup is for the kernel's memcg OOM/,
    );
  });

  it('without swap the swap rule never fires: the pressure rule of user@.service is shown', () => {
    const u = tree('oomd-noswap', procs, cgroups, etc, { avail: 1024 * 1024, swap: 0, swapFree: 0 });
    let pauses = 0;
    const o = u.json({ pause: () => pauses++ }).killers.find((k) => k.name === 'systemd-oomd');
    expect(o?.trigger?.psi).toMatchObject({ limitPercent: 50, durationSec: 30, nowPercent: 12.5 });
    expect(o?.distance?.psiPoints).toBe(37.5);
    expect(o?.notes).toContain(
      'both rules are on: without swap the swap rule cannot fire, so the pressure rule is shown',
    );
    // oomd_select_by_pgscan_rate(): two reads, no pgscan growth between them: by memory.current
    expect(pauses).toBe(1);
    expect(o?.victim?.cgroup).toBe('/user.slice/user-1000.slice/user@1000.service/app.slice/firefox.scope');
    expect(o?.victim?.why).toContain('pgscan growth 0 pages in 1 s, then memory.current');
  });

  it('pressure rule: the cgroup whose pgscan grew most between two reads, before the larger one', () => {
    const u = tree('oomd-pgscan', procs, cgroups, etc, { avail: 1024 * 1024, swap: 0, swapFree: 0 });
    const stat = join(
      u.roots.sysRoot,
      'user.slice/user-1000.slice/user@1000.service/app.slice/build.scope/memory.stat',
    );
    // reclaim scans 4000 pages of build.scope between systemd-oomd's two reads, none of firefox's
    const o = u
      .json({ pause: () => writeFileSync(stat, `anon ${GiB}\nfile 0\npgscan 5000\npgsteal 0\n`) })
      .killers.find((k) => k.name === 'systemd-oomd');
    expect(o?.victim).toMatchObject({
      kind: 'cgroup',
      cgroup: '/user.slice/user-1000.slice/user@1000.service/app.slice/build.scope',
      pid: 701,
    });
    expect(o?.victim?.why).toContain('pgscan growth 4000 pages in 1 s');
  });
});

describe('the kubelet (eviction/helpers.go rankMemoryPressure, qos/policy.go)', () => {
  const pod = (uid: string) => uid.replace(/-/g, '_');
  const bu = '11111111-2222-3333-4444-555555555555';
  const be = '66666666-7777-8888-9999-000000000000';
  const gu = 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee';
  const c = (n: string) => `cri-containerd-${n.repeat(64).slice(0, 64)}.scope`;
  const burst = `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${pod(bu)}.slice`;
  const best = `/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${pod(be)}.slice`;
  const guar = `/kubepods.slice/kubepods-pod${pod(gu)}.slice`;
  // Burstable request 1 GiB of 16: adj 1000 − 1000·1/16 = 938 (integer division, policy.go)
  const procs: FixtureProc[] = [
    { pid: 1, comm: 'systemd', rssPages: 1000 },
    {
      pid: 800,
      comm: 'kubelet',
      rssPages: 20_000,
      adj: -999,
      cmdline: ['/usr/bin/kubelet', '--config=/var/lib/kubelet/config.yaml', '--v=2'],
    },
    { pid: 810, comm: 'api', rssPages: 786_432, adj: 938, cgroup: `${burst}/${c('a')}` },
    { pid: 811, comm: 'batch', rssPages: 131_072, adj: 1000, cgroup: `${best}/${c('b')}` },
    { pid: 812, comm: 'db', rssPages: 1_048_576, adj: -997, cgroup: `${guar}/${c('c')}` },
  ];
  const cgroups: FixtureCgroup[] = [
    { path: burst, current: 3 * GiB },
    { path: `${burst}/${c('a')}`, current: 3 * GiB, procs: [810] },
    // 0.5 GiB resident, 3.5 GiB with its page cache: the kubelet counts the cgroup's usage
    { path: best, current: 3.5 * GiB },
    { path: `${best}/${c('b')}`, current: 3.5 * GiB, procs: [811] },
    { path: guar, current: 4 * GiB, max: String(8 * GiB) },
    { path: `${guar}/${c('c')}`, current: 4 * GiB, procs: [812] },
  ];
  const t = tree(
    'kube',
    procs,
    cgroups,
    { 'var/lib/kubelet/config.yaml': 'kind: KubeletConfiguration\nevictionHard:\n  memory.available: "500Mi"\n' },
    { avail: 2 * 1024 * 1024, swap: 0, swapFree: 0 },
  );

  it('gives the time to its trigger at a sustained fall of MemAvailable, with bounds, and none without one', () => {
    const sample = new Sampler(t.roots.procRoot).sample(0);
    const { snapshot } = buildSnapshot(sample, { users: new Map() });
    const MiB = 2 ** 20;
    const at = (fall: FallRate | null) =>
      killersOf(t.roots, sample, snapshot, { fall }).report.killers.find((k) => k.name === 'kubelet')?.distance;
    // MemAvailable 2 GiB, evictionHard 500Mi: 1548 MiB more can be taken; at 10 MiB/s, 154.8 s
    const steady = at({ perSec: 10 * MiB, se: 0 });
    expect(steady?.bytes).toBe(1548 * MiB);
    expect(steady?.seconds).toBeCloseTo(154.8, 6);
    expect(steady?.text).toBe('1.5 GiB more can be taken: ~3 min at the current fall');
    const noisy = at({ perSec: 10 * MiB, se: 2.5 * MiB });
    expect(noisy?.secondsRange?.low).toBeCloseTo(1548 / 15, 6);
    expect(noisy?.secondsRange?.high).toBeCloseTo(1548 / 5, 6);
    expect(noisy?.text).toContain('(103 s–5 min)');
    // over an hour away at 0.1 MiB/s: too far to matter
    expect(at({ perSec: 0.1 * MiB, se: 0 })?.seconds).toBeNull();
    expect(at(null)?.seconds).toBeNull();
  });

  it('simulate --killer kubelet evicts pod after pod by its ranking, the Guaranteed one last', () => {
    const sim = JSON.parse(runSimulate(t.roots, { killer: 'kubelet', format: 'json' }, 0)) as KillerSimulation;
    expect(sim.sequence.map((s) => s.victim.cgroup)).toEqual([best, burst, guar]);
    expect(sim.sequence.map((s) => s.victim.processes.map((p) => p.pid))).toEqual([[811], [810], [812]]);
  });

  it('evicts the pod furthest over its request (requests read back from adj), not the kernel’s choice', () => {
    const r = t.json();
    const k = r.killers.find((x) => x.name === 'kubelet');
    expect(k?.active).toBe(true);
    expect(k?.ignoresAdj).toBe(true);
    expect(k?.trigger?.text).toContain('memory.available < 500Mi');
    // BestEffort: 3.5 GiB over its (zero) request; Burstable: 3 GiB used, ~1 GiB requested
    expect(k?.victim).toMatchObject({ kind: 'pod', pod: be, pid: 811 });
    // the kernel weighs resident pages: the Burstable api process (3 GiB, adj 938)
    expect(r.killers.find((x) => x.name === 'kernel')?.victim?.pid).toBe(810);
    // 2 GiB available: the kubelet fires 500 MiB before the kernel would
    expect(r.order).toEqual(['kubelet', 'kernel']);
    expect(k?.distance?.bytes).toBe(2 * GiB - 500 * 2 ** 20);
  });

  it('a Guaranteed pod and a process outside any pod are safe from eviction (protection)', () => {
    const p = t.json({ protected: true }).protected ?? [];
    expect(p.find((x) => x.pid === 812)?.killers.find((k) => k.killer === 'kubelet')).toMatchObject({ safe: true });
    expect(p.find((x) => x.pid === 800)?.killers.find((k) => k.killer === 'kubelet')).toMatchObject({ safe: true });
  });
});

describe('earlyoom and nohang found by their process and argv', () => {
  const procs: FixtureProc[] = [
    { pid: 1, comm: 'init', rssPages: 1000 },
    {
      pid: 900,
      comm: 'earlyoom',
      rssPages: 300,
      adj: -100,
      cmdline: ['/usr/bin/earlyoom', '-m', '5,2', '-s100', '--avoid=^(sshd|postgres)$', '-r', '3600'],
    },
    {
      pid: 901,
      comm: 'nohang',
      rssPages: 4000,
      cmdline: ['/usr/bin/python3', '/usr/sbin/nohang', '--monitor', '--config', '/etc/nohang/nohang.conf'],
    },
    {
      pid: 902,
      comm: 'nohang',
      rssPages: 4000,
      cmdline: ['/usr/bin/python3', '/usr/sbin/nohang', '-c', '/etc/nohang/nohang.conf', '--tasks'],
    },
    { pid: 910, comm: 'postgres', rssPages: 2_000_000, oomScore: 700 },
    { pid: 911, comm: 'worker', rssPages: 1_000_000, oomScore: 600 },
  ];
  const t = tree(
    'user-space',
    procs,
    [],
    {
      'etc/nohang/nohang.conf':
        'soft_threshold_min_mem = 8 %\nsoft_threshold_min_swap = 10 %\nmin_badness = 1\n@BADNESS_ADJ_RE_NAME -500 /// ^postgres$\n',
    },
    { avail: 1024 * 1024, swap: 0, swapFree: 0 },
  );

  it('reads earlyoom’s getopt argv and nohang’s config; skips a one-shot nohang --tasks', () => {
    const r = t.json();
    const eo = r.killers.find((k) => k.name === 'earlyoom');
    expect(eo?.detected).toContain('process 900');
    expect(eo?.settings).toMatchObject({ m: 5, mKill: 2, s: 100, avoid: '^(sshd|postgres)$' });
    // --avoid takes 300 off postgres (700 → 400): worker (600) is its victim
    expect(eo?.victim?.pid).toBe(911);
    const nh = r.killers.find((k) => k.name === 'nohang');
    expect(nh?.detected).toContain('process 901');
    expect(nh?.settings).toMatchObject({ soft_threshold_min_mem: '8 %', badness_rules: 1 });
    expect(nh?.victim?.pid).toBe(911);
    // 1 GiB of 16 available: nohang (8%, 1.28 GiB) fires now; earlyoom (5%) 0.2 GiB later
    expect(r.order).toEqual(['nohang', 'earlyoom', 'kernel']);
    expect(nh?.distance?.firing).toBe(true);
    expect(eo?.distance?.bytes).toBeCloseTo(0.2 * GiB, -3);
    expect(r.killers.find((k) => k.name === 'kernel')?.victim?.pid).toBe(910);
  });

  it('prints one escaped table and never a raw control byte from argv', () => {
    const out = runKillers(t.roots, {}, 0, 120);
    expect(out).toMatch(/^MemAvailable 1(\.0)? GiB/);
    expect(out).toMatch(/earlyoom +yes/);
    expect(out).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f]/);
  });
});
