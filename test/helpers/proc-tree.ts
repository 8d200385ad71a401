// Writes fixture /proc trees in the kernel's own formats (fs/proc/array.c, base.c), so the
// sampler reads them exactly as it reads the real /proc. Used to (re)generate the committed
// trees under test/fixtures/ and, in tests, to build throwaway variants.
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface FixtureProc {
  pid: number;
  comm: string;
  ppid?: number;
  state?: string;
  flags?: number;
  startTime?: number;
  rssPages?: number;
  swapKb?: number;
  pteKb?: number;
  uid?: number;
  adj?: number;
  /** The kernel's oom_score as the fixture's kernel shows it. */
  oomScore?: number;
  cmdline?: string[];
  cgroup?: string;
  threads?: number;
  kthread?: boolean;
  /** No mm: no Vm* lines in status (zombie). */
  noMm?: boolean;
  /** Replace status wholesale (malformed status). */
  statusText?: string;
  /** Files left out, as if unreadable or gone. */
  omit?: string[];
  /** Directory exists with no files: the process vanished mid-read. */
  vanished?: boolean;
  /** status VmPMD in kB (kernels 4.0–4.14 print it). */
  pmdKb?: number;
  /** status CapEff (16 hex digits); default every capability (root). */
  capEff?: string;
}

export interface FixtureSystem {
  memTotalKb: number;
  swapTotalKb: number;
  memAvailableKb?: number;
  swapFreeKb?: number;
  panicOnOom?: number;
  oomKillAllocatingTask?: number;
  oomKill?: number;
  release?: string;
  hostname?: string;
  psi?: boolean;
  /** Link target of 1/ns/pid; default the initial pid namespace. */
  initNs?: string;
  btime?: number;
  swappiness?: number;
  /** PAGE_SIZE of the fixture's kernel (statm, stat vsize, status kB); default 4096. */
  pageSize?: number;
}

export const PF_KTHREAD = 0x00200000;

export function statLine(p: FixtureProc, pageSize = 4096): string {
  const kthread = p.kthread ?? false;
  const flags = p.flags ?? (kthread ? 0x00208040 : 0x00400100);
  const vsize = kthread || p.noMm ? 0 : Math.max(1, (p.rssPages ?? 0) * 2) * pageSize;
  // 52 fields; field 3 state, 4 ppid, 9 flags, 22 starttime, 23 vsize, 24 rss.
  const f: (string | number)[] = [
    p.pid,
    `(${p.comm})`,
    p.state ?? 'S',
    p.ppid ?? 1,
    p.pid,
    p.pid,
    0,
    -1,
    flags,
    100,
    0,
    0,
    0,
    10,
    5,
    0,
    0,
    20,
    0,
    p.threads ?? 1,
    0,
    p.startTime ?? 1000,
    vsize,
    kthread || p.noMm ? 0 : (p.rssPages ?? 0),
    '18446744073709551615',
  ];
  while (f.length < 52) f.push(0);
  return `${f.join(' ')}\n`;
}

export function statusText(p: FixtureProc, pageSize = 4096): string {
  if (p.statusText !== undefined) return p.statusText;
  const uid = p.uid ?? 0;
  const lines = [
    `Name:\t${p.comm.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`,
    'Umask:\t0022',
    `State:\t${p.state ?? 'S'} (sleeping)`,
    `Tgid:\t${p.pid}`,
    'Ngid:\t0',
    `Pid:\t${p.pid}`,
    `PPid:\t${p.ppid ?? 1}`,
    'TracerPid:\t0',
    `Uid:\t${uid}\t${uid}\t${uid}\t${uid}`,
    `Gid:\t${uid}\t${uid}\t${uid}\t${uid}`,
    'FDSize:\t64',
    'Groups:\t ',
    `NStgid:\t${p.pid}`,
    `NSpid:\t${p.pid}`,
    `Kthread:\t${p.kthread ? 1 : 0}`,
  ];
  if (!p.kthread && !p.noMm) {
    const rssKb = ((p.rssPages ?? 0) * pageSize) / 1024;
    lines.push(
      `VmPeak:\t${String(rssKb * 2).padStart(8)} kB`,
      `VmSize:\t${String(rssKb * 2).padStart(8)} kB`,
      `VmRSS:\t${String(rssKb).padStart(8)} kB`,
      `RssAnon:\t${String(Math.floor(rssKb * 0.75)).padStart(8)} kB`,
      `RssFile:\t${String(rssKb - Math.floor(rssKb * 0.75)).padStart(8)} kB`,
      `RssShmem:\t${String(0).padStart(8)} kB`,
      `VmPTE:\t${String(p.pteKb ?? 48).padStart(8)} kB`,
      ...(p.pmdKb === undefined ? [] : [`VmPMD:\t${String(p.pmdKb).padStart(8)} kB`]),
      `VmSwap:\t${String(p.swapKb ?? 0).padStart(8)} kB`,
    );
  }
  lines.push(`Threads:\t${p.threads ?? 1}`, `CapEff:\t${p.capEff ?? '000001fffeffffff'}`, 'Cpus_allowed_list:\t0-1');
  return `${lines.join('\n')}\n`;
}

function write(path: string, text: string): void {
  writeFileSync(path, text);
}

export function writeProcTree(root: string, sys: FixtureSystem, procs: FixtureProc[]): void {
  mkdirSync(join(root, 'sys/vm'), { recursive: true });
  mkdirSync(join(root, 'sys/kernel'), { recursive: true });
  write(
    join(root, 'meminfo'),
    [
      `MemTotal:       ${sys.memTotalKb} kB`,
      `MemFree:        ${Math.floor(sys.memTotalKb / 2)} kB`,
      `MemAvailable:   ${sys.memAvailableKb ?? Math.floor(sys.memTotalKb * 0.6)} kB`,
      'Buffers:            1024 kB',
      'Cached:           204800 kB',
      `SwapTotal:      ${sys.swapTotalKb} kB`,
      `SwapFree:       ${sys.swapFreeKb ?? sys.swapTotalKb} kB`,
      '',
    ].join('\n'),
  );
  write(join(root, 'sys/vm/panic_on_oom'), `${sys.panicOnOom ?? 0}\n`);
  write(join(root, 'sys/vm/oom_kill_allocating_task'), `${sys.oomKillAllocatingTask ?? 0}\n`);
  write(join(root, 'sys/vm/swappiness'), `${sys.swappiness ?? 60}\n`);
  write(join(root, 'sys/kernel/osrelease'), `${sys.release ?? '6.18.44-fixture'}\n`);
  write(join(root, 'sys/kernel/hostname'), `${sys.hostname ?? 'fixture'}\n`);
  write(join(root, 'vmstat'), `nr_free_pages 1000\noom_kill ${sys.oomKill ?? 0}\n`);
  write(join(root, 'stat'), `cpu  1 2 3 4\nbtime ${sys.btime ?? 1_780_000_000}\nprocesses 100\n`);
  if (sys.psi !== false) {
    mkdirSync(join(root, 'pressure'), { recursive: true });
    write(
      join(root, 'pressure/memory'),
      'some avg10=1.50 avg60=0.80 avg300=0.20 total=123456\nfull avg10=0.50 avg60=0.10 avg300=0.00 total=23456\n',
    );
  }
  for (const p of procs) {
    const dir = join(root, String(p.pid));
    mkdirSync(dir, { recursive: true });
    // A listed pid whose files are gone (git keeps no empty folder, hence the marker).
    if (p.vanished) {
      write(join(dir, '.gitkeep'), '');
      continue;
    }
    const omit = new Set(p.omit ?? []);
    const files: Record<string, string> = {
      stat: statLine(p, sys.pageSize),
      status: statusText(p, sys.pageSize),
      oom_score: `${p.oomScore ?? 0}\n`,
      oom_score_adj: `${p.adj ?? 0}\n`,
      cmdline: p.kthread ? '' : (p.cmdline ?? [p.comm]).map((a) => `${a}\0`).join(''),
      cgroup: `0::${p.cgroup ?? '/'}\n`,
      statm: `${Math.max(1, (p.rssPages ?? 0) * 2)} ${p.rssPages ?? 0} 0 0 0 0 0\n`,
    };
    for (const [name, text] of Object.entries(files)) if (!omit.has(name)) write(join(dir, name), text);
    if (p.pid === 1) {
      mkdirSync(join(dir, 'ns'), { recursive: true });
      symlinkSync(sys.initNs ?? 'pid:[4026531836]', join(dir, 'ns/pid'));
    }
  }
}

/** The kernel's formula, written out independently of src/core for fixture oom_score files. */
export function kernelOomScore(
  rssPages: number,
  swapKb: number,
  pteKb: number,
  adj: number,
  totalPages: number,
): number {
  if (adj === -1000) return 0;
  const points = rssPages + Math.floor(swapKb / 4) + Math.floor(pteKb / 4) + adj * Math.floor(totalPages / 1000);
  return Math.trunc(((1000 + Math.trunc((points * 1000) / totalPages)) * 2) / 3);
}

export interface FixtureCgroup {
  path: string;
  /** memory.max ("max" or bytes). */
  max?: string;
  swapMax?: string;
  current?: number;
  oomGroup?: boolean;
  events?: { oom?: number; oom_kill?: number; oom_group_kill?: number };
  procs?: number[];
  /** memory.swap.current, memory.stat pgscan, memory.pressure full avg10 (systemd-oomd's inputs). */
  swapCurrent?: number;
  pgscan?: number;
  pressureFull?: number;
}

/** A cgroup v2 hierarchy with the memory controller, in the kernel's file formats. */
export function writeCgroupV2Tree(root: string, cgroups: FixtureCgroup[]): void {
  mkdirSync(root, { recursive: true });
  write(join(root, 'cgroup.controllers'), 'cpuset cpu io memory hugetlb pids rdma misc\n');
  write(join(root, 'cgroup.procs'), '');
  for (const c of cgroups) {
    const dir = join(root, c.path);
    mkdirSync(dir, { recursive: true });
    if (c.path === '/' || c.path === '') continue;
    write(join(dir, 'memory.max'), `${c.max ?? 'max'}\n`);
    write(join(dir, 'memory.swap.max'), `${c.swapMax ?? 'max'}\n`);
    write(join(dir, 'memory.current'), `${c.current ?? 0}\n`);
    write(join(dir, 'memory.oom.group'), `${c.oomGroup ? 1 : 0}\n`);
    const e = c.events ?? {};
    write(
      join(dir, 'memory.events'),
      `low 0\nhigh 0\nmax 0\noom ${e.oom ?? 0}\noom_kill ${e.oom_kill ?? 0}\noom_group_kill ${e.oom_group_kill ?? 0}\n`,
    );
    write(join(dir, 'cgroup.procs'), (c.procs ?? []).map((p) => `${p}\n`).join(''));
    write(join(dir, 'memory.swap.current'), `${c.swapCurrent ?? 0}\n`);
    write(join(dir, 'memory.stat'), `anon ${c.current ?? 0}\nfile 0\npgscan ${c.pgscan ?? 0}\npgsteal 0\n`);
    const full = (c.pressureFull ?? 0).toFixed(2);
    write(
      join(dir, 'memory.pressure'),
      `some avg10=${full} avg60=0.00 avg300=0.00 total=0\nfull avg10=${full} avg60=0.00 avg300=0.00 total=0\n`,
    );
  }
}
