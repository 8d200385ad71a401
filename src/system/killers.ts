// What the killer race needs from the box: which killers run (the process table), their
// settings (argv, config files under --etc-root, systemd unit files and drop-ins), and the
// cgroup files their rules read (memory.current, memory.swap.current, memory.pressure,
// memory.stat pgscan, memory.oom.group, owners and the ManagedOOMPreference xattrs). Only
// files and the process table are read; as a normal user what cannot be read is said.
import { statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { constants } from 'node:os';
import { join } from 'node:path';
import { messageOf } from '../core/errors.js';
import type { Pod } from '../core/killers/kubelet.js';
import type { ConfigRead, FoundProcess, KillerInputs } from '../core/killers/race.js';
import { type OomdCgroup, type PgscanRead, parseOomdConf, parseUnitOom } from '../core/killers/systemd-oomd.js';
import { type CgroupNode, containerInfo, parseKeyValues, parseLimit } from '../core/memcg.js';
import { parsePressure } from '../core/parse/meminfo.js';
import type { Snapshot } from '../core/snapshot.js';
import type { ProcSample, SystemSample } from '../core/types.js';
import { findMemoryHierarchy, type MemoryHierarchy, readCgroupSubtree } from './cgroupfs.js';
import { hostPath, type Roots } from './env.js';
import { fileNames, readText, readTextOrNull, subfolders } from './files.js';
import { nativeReader } from './native.js';

function readConfig(path: string, shown = path): ConfigRead {
  const r = readText(path);
  return r.ok ? { path: shown, text: r.value } : { path: shown, error: r.code };
}

// ---- the daemons in the process table -----------------------------------------------

type Daemon = 'earlyoom' | 'nohang' | 'systemd-oomd' | 'kubelet';
const DAEMONS: readonly string[] = ['earlyoom', 'nohang', 'systemd-oomd', 'kubelet'];

const base = (s: string) => s.slice(s.lastIndexOf('/') + 1);
const interpreter = (arg0: string) => /^(python|perl)/.test(base(arg0));

/** argv of a process, split at its NULs (the sample keeps a spaced string for display). */
function argvOf(procRoot: string, p: ProcSample): string[] {
  const raw = readTextOrNull(join(procRoot, String(p.pid), 'cmdline'));
  if (raw === null || raw === '') return [p.comm];
  const parts = raw.split('\0');
  if (parts.at(-1) === '') parts.pop();
  return parts;
}

/** The script an interpreter runs (its second word), else ''; without splitting the whole line. */
function scriptOf(cmdline: string): string {
  const sp = cmdline.indexOf(' ');
  if (sp < 0 || !interpreter(cmdline.slice(0, sp))) return '';
  const end = cmdline.indexOf(' ', sp + 1);
  return base(cmdline.slice(sp + 1, end < 0 ? cmdline.length : end));
}

/** `nohang --tasks`, `--check` and `--help` print and exit: not the daemon. */
const oneShot = (name: string, argv: readonly string[]) =>
  name === 'nohang' && argv.some((x) => /^--(tasks|check|help|version)$/.test(x));

/**
 * The killer daemons, in one pass over the sample: a binary by its comm, a script by the
 * script its interpreter runs ("#! /usr/bin/python3" nohang: argv[0] the interpreter,
 * argv[1] the script). Only the processes that may be one have their argv read.
 */
function findDaemons(s: SystemSample, procRoot: string): Map<Daemon, FoundProcess> {
  const out = new Map<Daemon, FoundProcess>();
  for (const p of s.processes) {
    if (p.hasMm !== true) continue;
    const script = scriptOf(p.cmdline ?? '');
    const name = DAEMONS.includes(p.comm) ? p.comm : DAEMONS.includes(script) ? script : null;
    if (name === null || out.has(name as Daemon)) continue;
    const argv = argvOf(procRoot, p);
    const viaInterpreter = interpreter(argv[0] ?? '') && base(argv[1] ?? '') === name;
    if (p.comm !== name && !viaInterpreter) continue;
    if (oneShot(name, argv)) continue;
    out.set(name as Daemon, { pid: p.pid, argv: viaInterpreter ? argv.slice(1) : argv });
  }
  return out;
}

function optionValue(argv: readonly string[], names: readonly string[]): string | null {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    for (const n of names) {
      if (a === n) return argv[i + 1] ?? null;
      if (a.startsWith(`${n}=`)) return a.slice(n.length + 1);
    }
  }
  return null;
}

function earlyoomInputs(roots: Roots, process: FoundProcess | null): KillerInputs['earlyoom'] {
  // Its defaults file only says it is installed when it is not running.
  const defaults = process ? null : readConfig(hostPath(roots, '/etc/default/earlyoom'), '/etc/default/earlyoom');
  return { process, defaults: defaults && 'text' in defaults ? defaults : null };
}

function nohangInputs(roots: Roots, process: FoundProcess | null): KillerInputs['nohang'] {
  if (!process) return { process, config: null };
  const path = optionValue(process.argv, ['-c', '--config']) ?? '/etc/nohang/nohang.conf';
  return { process, config: readConfig(hostPath(roots, path), path) };
}

// ---- systemd-oomd -------------------------------------------------------------------

const UNIT_DIRS = ['/etc/systemd/system', '/run/systemd/system', '/usr/lib/systemd/system', '/lib/systemd/system'];

/** Config files of one name in systemd's search path, first dir winning, drop-ins by file name. */
function dropIns(roots: Roots, dirs: readonly string[], sub: string): string[] {
  const byName = new Map<string, string>();
  for (const d of dirs)
    for (const f of fileNames(hostPath(roots, join(d, sub))))
      if (f.endsWith('.conf') && !byName.has(f)) byName.set(f, hostPath(roots, join(d, sub, f)));
  return [...byName.keys()].sort().map((f) => readTextOrNull(byName.get(f) as string) ?? '');
}

/** The first of a file's copies in systemd's search path. */
function firstOf(roots: Roots, dirs: readonly string[], name: string): string {
  for (const d of dirs) {
    const t = readTextOrNull(hostPath(roots, join(d, name)));
    if (t !== null) return t;
  }
  return '';
}

/** Unit names (or templates "user@.service") whose files set ManagedOOM*, with those files in order. */
function managedUnits(roots: Roots): Map<string, string[]> {
  const names = new Set<string>();
  for (const d of UNIT_DIRS)
    for (const f of fileNames(hostPath(roots, d))) {
      const unit = f.endsWith('.d') ? f.slice(0, -2) : f;
      if (/\.(service|slice|scope)$/.test(unit)) names.add(unit);
    }
  const out = new Map<string, string[]>();
  for (const unit of names) {
    const texts = [firstOf(roots, UNIT_DIRS, unit), ...dropIns(roots, UNIT_DIRS, `${unit}.d`)];
    if (texts.some((t) => /^\s*ManagedOOM(Swap|MemoryPressure)\s*=/m.test(t))) out.set(unit, texts);
  }
  return out;
}

/** Cgroups named after a unit (a template "user@.service" matches "user@1000.service"); "-.slice" is the root. */
function unitCgroups(mount: string, unit: string): string[] {
  if (unit === '-.slice') return ['/'];
  const template = /^(.+@)\.(service|scope|slice)$/.exec(unit);
  const matches = (name: string) =>
    template ? name.startsWith(template[1] as string) && name.endsWith(`.${template[2]}`) : name === unit;
  const out: string[] = [];
  const walk = (rel: string, depth: number) => {
    if (depth > 12) return;
    for (const e of subfolders(join(mount, rel))) {
      const child = rel === '/' ? `/${e}` : `${rel}/${e}`;
      if (matches(e)) out.push(child);
      else walk(child, depth + 1);
    }
  };
  walk('/', 0);
  return out;
}

const ENODATA = constants.errno.ENODATA;

/** A boolean cgroup xattr as systemd's cg_get_xattr_bool() reads it; null when it cannot be read. */
function xattrBool(path: string, name: string): boolean | null {
  const native = nativeReader();
  if (!native) return null;
  const v = native.getXattr(path, name);
  if (typeof v === 'number') return v === -ENODATA ? false : null;
  return /^(1|yes|y|true|t|on)$/i.test(v.toString('utf8').trim());
}

/** A cgroup subtree (cgroupfs.ts read it) with what systemd-oomd reads besides. */
function oomdCgroup(mount: string, n: CgroupNode, comms: ReadonlyMap<number, ProcSample>): OomdCgroup {
  const dir = join(mount, n.path);
  const f = (name: string) => readTextOrNull(join(dir, name));
  let owner: number | null = null;
  try {
    owner = statSync(dir).uid;
  } catch {}
  const pressure = f('memory.pressure');
  return {
    path: n.path,
    ownerUid: owner,
    avoid: xattrBool(dir, 'user.oomd_avoid'),
    omit: xattrBool(dir, 'user.oomd_omit'),
    memoryCurrent: n.usageBytes,
    swapCurrent: parseLimit(f('memory.swap.current')),
    pgscan: parseKeyValues(f('memory.stat')).get('pgscan') ?? null,
    pressureFullAvg10: pressure === null ? null : (parsePressure(pressure)?.full?.avg10 ?? null),
    oomGroup: n.oomGroup,
    procs: n.procs.map((pid) => ({ pid, comm: comms.get(pid)?.comm ?? '?' })),
    children: n.children.map((c) => oomdCgroup(mount, c, comms)),
  };
}

function oomdInputs(
  roots: Roots,
  s: SystemSample,
  h: MemoryHierarchy | null,
  process: FoundProcess | null,
  lastPgscan: PgscanRead | null,
): KillerInputs['systemdOomd'] {
  const v2Memory = h?.version === 2;
  const unreadable: string[] = [];
  const units: KillerInputs['systemdOomd']['units'] = [];
  const confDirs = ['/etc/systemd', '/run/systemd', '/usr/lib/systemd'];
  const conf = parseOomdConf(
    process ? [firstOf(roots, confDirs, 'oomd.conf'), ...dropIns(roots, confDirs, 'oomd.conf.d')] : [],
  );
  if (!process || !h || !v2Memory) return { process, conf, units, v2Memory, unreadable, lastPgscan };
  if (!nativeReader()) unreadable.push('cgroup xattrs (ManagedOOMPreference): the native reader is not built');
  const comms = new Map(s.processes.map((p) => [p.pid, p]));
  for (const [name, texts] of managedUnits(roots)) {
    const nodes = unitCgroups(h.mount, name).flatMap((path) => readCgroupSubtree(h, path) ?? []);
    if (!nodes.length) units.push({ unit: parseUnitOom(name, texts), cgroup: null });
    for (const n of nodes)
      units.push({
        unit: parseUnitOom(n.path.split('/').at(-1) || name, texts),
        cgroup: oomdCgroup(h.mount, n, comms),
      });
  }
  return { process, conf, units, v2Memory, unreadable, lastPgscan };
}

/**
 * The second read of systemd-oomd's pressure rule: only its watched cgroups again (their
 * pgscan now), compared with `last`; the process table, configs and units are kept.
 */
export function rereadOomdCgroups(
  roots: Roots,
  sample: SystemSample,
  inputs: KillerInputs,
  last: PgscanRead,
): KillerInputs {
  const h = findMemoryHierarchy(roots.sysRoot);
  const comms = new Map(sample.processes.map((p) => [p.pid, p]));
  const units = inputs.systemdOomd.units.map((u) => {
    const n = h && u.cgroup ? readCgroupSubtree(h, u.cgroup.path) : null;
    // A cgroup gone between the reads keeps its first read: no growth.
    return h && n ? { ...u, cgroup: oomdCgroup(h.mount, n, comms) } : u;
  });
  return { ...inputs, systemdOomd: { ...inputs.systemdOomd, units, lastPgscan: last } };
}

/** This killer's daemon is in the process table (argv read only for processes that may be one). */
export function daemonRunning(roots: Roots, sample: SystemSample, name: Daemon): boolean {
  return findDaemons(sample, roots.procRoot).has(name);
}

// ---- kubelet ----------------------------------------------------------------------------

/** A cgroup's working set as the kubelet counts it: usage − inactive_file. */
function workingSet(h: MemoryHierarchy, n: CgroupNode): number | null {
  const stat = parseKeyValues(readTextOrNull(join(h.mount, n.path, 'memory.stat')));
  const inactive = stat.get(h.version === 2 ? 'inactive_file' : 'total_inactive_file') ?? 0;
  return n.usageBytes === null ? null : Math.max(0, n.usageBytes - inactive);
}

/** The pods under kubepods (Guaranteed directly, Burstable and BestEffort one level down). */
function podsOf(h: MemoryHierarchy, s: SystemSample): Pod[] {
  const top = ['/kubepods.slice', '/kubepods'].map((p) => readCgroupSubtree(h, p, 3)).find((n) => n !== null);
  if (!top) return [];
  const byCgroup = new Map<string, ProcSample[]>();
  for (const p of s.processes) if (p.cgroup) byCgroup.set(p.cgroup, [...(byCgroup.get(p.cgroup) ?? []), p]);
  const pod = (n: CgroupNode): Pod | null => {
    const info = containerInfo(n.path);
    if (!/pod[0-9a-f]{8}[-_]/.test(n.path.split('/').at(-1) ?? '') || !info.podUid || !info.qosClass) return null;
    const containers = n.children.map((c) => {
      const procs = [...(byCgroup.get(c.path) ?? [])].sort((a, b) => (b.rssPages ?? 0) - (a.rssPages ?? 0));
      return {
        cgroup: c.path,
        adj: procs[0]?.oomScoreAdj ?? null,
        processes: procs.map((p) => ({ pid: p.pid, comm: p.comm })),
      };
    });
    return {
      uid: info.podUid,
      qos: info.qosClass,
      cgroup: n.path,
      usageBytes: workingSet(h, n),
      limitBytes: n.limitBytes,
      containers,
    };
  };
  const qos = top.children.filter((c) => /(burstable|besteffort)/.test(c.path.split('/').at(-1) ?? ''));
  return [...top.children, ...qos.flatMap((q) => q.children)].flatMap((n) => pod(n) ?? []);
}

/** capacity − working set (helpers.go): v1 root usage − total_inactive_file; null on v2 (no root memory.current). */
function memoryAvailable(h: MemoryHierarchy | null, s: SystemSample): number | null {
  if (h?.version !== 1) return null;
  const usage = parseLimit(readTextOrNull(join(h.mount, 'memory.usage_in_bytes')));
  const inactive = parseKeyValues(readTextOrNull(join(h.mount, 'memory.stat'))).get('total_inactive_file');
  if (usage === null || inactive === undefined) return null;
  return s.meminfo.memTotalKb * 1024 - Math.max(0, usage - inactive);
}

function kubeletInputs(
  roots: Roots,
  s: SystemSample,
  h: MemoryHierarchy | null,
  process: FoundProcess | null,
): KillerInputs['kubelet'] {
  const unreadable: string[] = [];
  if (!process) return { process, config: null, parsed: null, pods: [], memoryAvailableBytes: null, unreadable };
  const path = optionValue(process.argv, ['--config']);
  const config = path === null ? null : readConfig(hostPath(roots, path), path);
  let parsed: unknown = null;
  if (config && 'text' in config) {
    try {
      // yaml is loaded only here, for a running kubelet: a snapshot's start-up does not pay for it.
      const { parse } = createRequire(import.meta.url)('yaml') as typeof import('yaml');
      parsed = parse(config.text);
    } catch (e) {
      unreadable.push(`${config.path}: not YAML (${messageOf(e).split('\n')[0]})`);
    }
  }
  if (!h) unreadable.push(`no memory cgroup hierarchy under ${roots.sysRoot}`);
  const pods = h ? podsOf(h, s) : [];
  return { process, config, parsed, pods, memoryAvailableBytes: memoryAvailable(h, s), unreadable };
}

/** Everything the killers' rules read, for one sample and its global snapshot. */
export function readKillerInputs(
  roots: Roots,
  sample: SystemSample,
  snapshot: Snapshot,
  lastPgscan: PgscanRead | null = null,
): KillerInputs {
  const hidden = sample.processes.filter((p) => p.cmdline === null && p.hasMm === true).length;
  const daemons = findDaemons(sample, roots.procRoot);
  const found = (d: Daemon) => daemons.get(d) ?? null;
  const h = found('systemd-oomd') || found('kubelet') ? findMemoryHierarchy(roots.sysRoot) : null;
  return {
    snapshot,
    processTableUnreadable: hidden
      ? `${hidden} processes' command lines could not be read (run as root to see every killer)`
      : null,
    earlyoom: earlyoomInputs(roots, found('earlyoom')),
    nohang: nohangInputs(roots, found('nohang')),
    systemdOomd: oomdInputs(roots, sample, h, found('systemd-oomd'), lastPgscan),
    kubelet: kubeletInputs(roots, sample, h, found('kubelet')),
  };
}
