// What the killer race needs from the box: which killers run (the process table), their
// settings (argv, config files under --etc-root, systemd unit files and drop-ins), and the
// cgroup files their rules read (memory.current, memory.swap.current, memory.pressure,
// memory.stat pgscan, memory.oom.group, owners and the ManagedOOMPreference xattrs). Only
// files and the process table are read; as a normal user what cannot be read is said.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { messageOf } from '../core/errors.js';
import type { ConfigRead, FoundProcess, KillerInputs } from '../core/killers/race.js';
import type { Pod, PodContainer } from '../core/killers/kubelet.js';
import { type OomdCgroup, parseOomdConf, parseUnitOom } from '../core/killers/systemd-oomd.js';
import type { VictimProcess } from '../core/killers/types.js';
import { containerInfo, parseKeyValues, parseLimit } from '../core/memcg.js';
import { parsePressure } from '../core/parse/meminfo.js';
import type { Snapshot } from '../core/snapshot.js';
import type { ProcSample, SystemSample } from '../core/types.js';
import { hostPath, type Roots } from './env.js';
import { errnoCode } from './errno.js';
import { findMemoryHierarchy } from './cgroupfs.js';
import { nativeReader } from './native.js';

function readConfig(path: string, shown = path): ConfigRead {
  try {
    return { path: shown, text: readFileSync(path, 'utf8') };
  } catch (e) {
    return { path: shown, error: errnoCode(e) };
  }
}

function textOrNull(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

function listDir(path: string): string[] {
  try {
    return readdirSync(path).sort();
  } catch {
    return [];
  }
}

/** argv of a process, split at its NULs (the sample keeps a spaced string for display). */
function argvOf(procRoot: string, p: ProcSample): string[] {
  const raw = textOrNull(join(procRoot, String(p.pid), 'cmdline'));
  if (raw === null || raw === '') return [p.comm];
  const parts = raw.split('\0');
  if (parts.at(-1) === '') parts.pop();
  return parts;
}

const base = (s: string) => s.slice(s.lastIndexOf('/') + 1);

/** The killer daemons by how they run: the binary's comm, or a script run by its interpreter. */
function findDaemon(
  s: SystemSample,
  procRoot: string,
  name: string,
  skip?: (argv: string[]) => boolean,
): FoundProcess | null {
  for (const p of s.processes) {
    if (p.hasMm !== true) continue;
    const argv = p.comm === name || p.comm.startsWith('python') || p.comm === 'perl' ? argvOf(procRoot, p) : null;
    if (!argv) continue;
    // A script ("#! /usr/bin/python3" nohang): argv[0] is the interpreter, argv[1] the script.
    const viaInterpreter = /^(python|perl)/.test(base(argv[0] ?? '')) && base(argv[1] ?? '') === name;
    if (p.comm !== name && !viaInterpreter) continue;
    if (skip?.(argv)) continue;
    return { pid: p.pid, argv: viaInterpreter ? argv.slice(1) : argv };
  }
  return null;
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

function earlyoomInputs(roots: Roots, s: SystemSample): KillerInputs['earlyoom'] {
  const process = findDaemon(s, roots.procRoot, 'earlyoom');
  const defaults = readConfig(hostPath(roots, '/etc/default/earlyoom'), '/etc/default/earlyoom');
  return { process, defaults: 'text' in defaults ? defaults : null };
}

function nohangInputs(roots: Roots, s: SystemSample): KillerInputs['nohang'] {
  // `nohang --tasks`, `--check` and `--help` print and exit: not the daemon.
  const process = findDaemon(s, roots.procRoot, 'nohang', (a) =>
    a.some((x) => /^--(tasks|check|help|version)$/.test(x)),
  );
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
    for (const f of listDir(hostPath(roots, join(d, sub))))
      if (f.endsWith('.conf') && !byName.has(f)) byName.set(f, hostPath(roots, join(d, sub, f)));
  return [...byName.keys()].sort().map((f) => textOrNull(byName.get(f) as string) ?? '');
}

/** Unit names (or templates "user@.service", type drop-ins "slice") whose files set ManagedOOM*. */
function managedUnits(roots: Roots): Map<string, string[]> {
  const names = new Set<string>();
  for (const d of UNIT_DIRS)
    for (const f of listDir(hostPath(roots, d))) {
      const unit = f.endsWith('.d') ? f.slice(0, -2) : f;
      if (/\.(service|slice|scope)$/.test(unit)) names.add(unit);
    }
  const out = new Map<string, string[]>();
  for (const unit of names) {
    let main: string | null = null;
    for (const d of UNIT_DIRS) main ??= textOrNull(hostPath(roots, join(d, unit)));
    const texts = [main ?? '', ...dropIns(roots, UNIT_DIRS, `${unit}.d`)];
    if (texts.some((t) => /^\s*ManagedOOM(Swap|MemoryPressure)\s*=/m.test(t))) out.set(unit, texts);
  }
  return out;
}

/** Cgroup dirs named after a unit (a template "user@.service" matches "user@1000.service"); "-.slice" is the root. */
function unitCgroups(mount: string, unit: string): string[] {
  if (unit === '-.slice') return ['/'];
  const template = /^(.+@)\.(service|scope|slice)$/.exec(unit);
  const matches = (name: string) =>
    template ? name.startsWith(template[1] as string) && name.endsWith(`.${template[2]}`) : name === unit;
  const out: string[] = [];
  const walk = (rel: string, depth: number) => {
    if (depth > 12) return;
    for (const e of listDir(join(mount, rel))) {
      const child = rel === '/' ? `/${e}` : `${rel}/${e}`;
      let isDir = false;
      try {
        isDir = statSync(join(mount, child)).isDirectory();
      } catch {}
      if (!isDir) continue;
      if (matches(e)) out.push(child);
      else walk(child, depth + 1);
    }
  };
  walk('/', 0);
  return out;
}

function xattrBool(path: string, name: string): boolean | null {
  const native = nativeReader();
  if (!native) return null;
  const v = native.getXattr(path, name);
  if (typeof v === 'number') return v === -61 /* ENODATA */ ? false : null;
  return /^(1|yes|y|true|t|on)$/i.test(v.toString('utf8').trim());
}

function procsOf(dir: string, comms: ReadonlyMap<number, ProcSample>): VictimProcess[] {
  const t = textOrNull(join(dir, 'cgroup.procs'));
  if (!t) return [];
  return t
    .split('\n')
    .filter((x) => /^\d+$/.test(x))
    .map((x) => ({ pid: Number(x), comm: comms.get(Number(x))?.comm ?? '?' }));
}

function readOomdCgroup(mount: string, rel: string, comms: ReadonlyMap<number, ProcSample>, depth = 0): OomdCgroup {
  const dir = join(mount, rel);
  const f = (n: string) => textOrNull(join(dir, n));
  let owner: number | null = null;
  try {
    owner = statSync(dir).uid;
  } catch {}
  const pressure = f('memory.pressure');
  const children: OomdCgroup[] = [];
  if (depth < 16)
    for (const e of listDir(dir)) {
      try {
        if (statSync(join(dir, e)).isDirectory())
          children.push(readOomdCgroup(mount, rel === '/' ? `/${e}` : `${rel}/${e}`, comms, depth + 1));
      } catch {}
    }
  return {
    path: rel,
    ownerUid: owner,
    avoid: xattrBool(dir, 'user.oomd_avoid'),
    omit: xattrBool(dir, 'user.oomd_omit'),
    memoryCurrent: parseLimit(f('memory.current')),
    swapCurrent: parseLimit(f('memory.swap.current')),
    pgscan: parseKeyValues(f('memory.stat')).get('pgscan') ?? null,
    pressureFullAvg10: pressure === null ? null : (parsePressure(pressure)?.full?.avg10 ?? null),
    oomGroup: (f('memory.oom.group') ?? '0').trim() === '1',
    procs: procsOf(dir, comms),
    children,
  };
}

function oomdInputs(
  roots: Roots,
  s: SystemSample,
  lastPgscan: ReadonlyMap<string, number> | null,
): KillerInputs['systemdOomd'] {
  const process = findDaemon(s, roots.procRoot, 'systemd-oomd');
  const confDirs = ['/etc/systemd', '/run/systemd', '/usr/lib/systemd'];
  let main: string | null = null;
  for (const d of confDirs) main ??= textOrNull(hostPath(roots, join(d, 'oomd.conf')));
  const conf = parseOomdConf([main ?? '', ...dropIns(roots, confDirs, 'oomd.conf.d')]);
  const h = findMemoryHierarchy(roots.sysRoot);
  const v2Memory = h?.version === 2;
  const unreadable: string[] = [];
  const units: KillerInputs['systemdOomd']['units'] = [];
  if (!process || !h || !v2Memory) return { process, conf, units, v2Memory, unreadable, lastPgscan };
  if (!nativeReader()) unreadable.push('cgroup xattrs (ManagedOOMPreference): the native reader is not built');
  const comms = new Map(s.processes.map((p) => [p.pid, p]));
  for (const [name, texts] of managedUnits(roots)) {
    const paths = unitCgroups(h.mount, name);
    if (!paths.length) units.push({ unit: parseUnitOom(name, texts), cgroup: null });
    for (const path of paths)
      units.push({
        unit: parseUnitOom(path.split('/').at(-1) || name, texts),
        cgroup: readOomdCgroup(h.mount, path, comms),
      });
  }
  return { process, conf, units, v2Memory, unreadable, lastPgscan };
}

// ---- kubelet ----------------------------------------------------------------------------

function podsOf(roots: Roots, s: SystemSample, unreadable: string[]): Pod[] {
  const h = findMemoryHierarchy(roots.sysRoot);
  if (!h) {
    unreadable.push(`no memory cgroup hierarchy under ${roots.sysRoot}`);
    return [];
  }
  const top = ['kubepods.slice', 'kubepods'].find((d) => listDir(h.mount).includes(d));
  if (!top) return [];
  const byCgroup = new Map<string, ProcSample[]>();
  for (const p of s.processes) if (p.cgroup) byCgroup.set(p.cgroup, [...(byCgroup.get(p.cgroup) ?? []), p]);
  const pods: Pod[] = [];
  const file = (rel: string, v2: string, v1: string) =>
    parseLimit(textOrNull(join(h.mount, rel, h.version === 2 ? v2 : v1)));
  const visit = (rel: string, depth: number) => {
    for (const e of listDir(join(h.mount, rel))) {
      const child = `${rel}/${e}`;
      const info = containerInfo(child);
      if (/pod[0-9a-f]{8}[-_]/.test(e) && info.podUid && info.qosClass) {
        const containers: PodContainer[] = listDir(join(h.mount, child))
          .filter((c) => {
            try {
              return statSync(join(h.mount, child, c)).isDirectory();
            } catch {
              return false;
            }
          })
          .map((c) => {
            const procs = byCgroup.get(`${child}/${c}`) ?? [];
            const sorted = [...procs].sort((a, b) => (b.rssPages ?? 0) - (a.rssPages ?? 0));
            return {
              cgroup: `${child}/${c}`,
              adj: sorted[0]?.oomScoreAdj ?? null,
              processes: sorted.map((p) => ({ pid: p.pid, comm: p.comm })),
            };
          });
        pods.push({
          uid: info.podUid,
          qos: info.qosClass,
          cgroup: child,
          usageBytes: workingSet(join(h.mount, child), h.version),
          limitBytes: file(child, 'memory.max', 'memory.limit_in_bytes'),
          containers,
        });
      } else if (depth < 2 && /(burstable|besteffort)/.test(e)) visit(child, depth + 1);
    }
  };
  visit(`/${top}`, 0);
  return pods;
}

/** A cgroup's working set as the kubelet counts it: usage − inactive_file. */
function workingSet(dir: string, version: 1 | 2): number | null {
  const usage = parseLimit(textOrNull(join(dir, version === 2 ? 'memory.current' : 'memory.usage_in_bytes')));
  const stat = parseKeyValues(textOrNull(join(dir, 'memory.stat')));
  const inactive = stat.get(version === 2 ? 'inactive_file' : 'total_inactive_file') ?? 0;
  return usage === null ? null : Math.max(0, usage - inactive);
}

/** capacity − working set (helpers.go): v1 root usage − total_inactive_file; null on v2 (no root memory.current). */
function memoryAvailable(roots: Roots, s: SystemSample): number | null {
  const h = findMemoryHierarchy(roots.sysRoot);
  if (h?.version !== 1) return null;
  const usage = parseLimit(textOrNull(join(h.mount, 'memory.usage_in_bytes')));
  const inactive = parseKeyValues(textOrNull(join(h.mount, 'memory.stat'))).get('total_inactive_file');
  if (usage === null || inactive === undefined) return null;
  return s.meminfo.memTotalKb * 1024 - Math.max(0, usage - inactive);
}

function kubeletInputs(roots: Roots, s: SystemSample): KillerInputs['kubelet'] {
  const process = findDaemon(s, roots.procRoot, 'kubelet');
  const unreadable: string[] = [];
  if (!process) return { process, config: null, parsed: null, pods: [], memoryAvailableBytes: null, unreadable };
  const path = optionValue(process.argv, ['--config']);
  const config = path === null ? null : readConfig(hostPath(roots, path), path);
  let parsed: unknown = null;
  if (config && 'text' in config) {
    try {
      parsed = parseYaml(config.text);
    } catch (e) {
      unreadable.push(`${config.path}: not YAML (${messageOf(e).split('\n')[0]})`);
    }
  }
  return {
    process,
    config,
    parsed,
    pods: podsOf(roots, s, unreadable),
    memoryAvailableBytes: memoryAvailable(roots, s),
    unreadable,
  };
}

/** Everything the killers' rules read, for one sample and its global snapshot. */
export function readKillerInputs(
  roots: Roots,
  sample: SystemSample,
  snapshot: Snapshot,
  lastPgscan: ReadonlyMap<string, number> | null = null,
): KillerInputs {
  const hidden = sample.processes.filter((p) => p.cmdline === null && p.hasMm === true).length;
  return {
    snapshot,
    processTableUnreadable: hidden
      ? `${hidden} processes' command lines could not be read (run as root to see every killer)`
      : null,
    earlyoom: earlyoomInputs(roots, sample),
    nohang: nohangInputs(roots, sample),
    systemdOomd: oomdInputs(roots, sample, lastPgscan),
    kubelet: kubeletInputs(roots, sample),
  };
}
