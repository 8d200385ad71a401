// The one reader of the cgroup filesystem (or a fixture tree standing in for it). Finds the
// memory hierarchy (cgroup v2 with the memory controller, else v1's memory mount) under
// one root and reads each cgroup's limits, usage, OOM settings and tasks.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../core/errors.js';
import { readText, readTextOrNull } from './files.js';
import { normalizeCgroupPath, parseKeyValues, parseLimit, type CgroupNode } from '../core/memcg.js';

export interface MemoryHierarchy {
  version: 1 | 2;
  /** Where the memory hierarchy is mounted. */
  mount: string;
}

// A controller file this kernel or setup lacks is absent: readTextOrNull() gives null.
const read = readTextOrNull;

/** v2 at the root or at root/unified when its controllers include memory; else v1 root/memory. */
export function findMemoryHierarchy(sysRoot: string): MemoryHierarchy | null {
  for (const mount of [sysRoot, join(sysRoot, 'unified')]) {
    const controllers = read(join(mount, 'cgroup.controllers'));
    if (controllers?.split(/\s+/).includes('memory')) return { version: 2, mount };
  }
  for (const mount of [join(sysRoot, 'memory'), sysRoot]) {
    if (existsSync(join(mount, 'memory.limit_in_bytes')) || existsSync(join(mount, 'memory.usage_in_bytes')))
      return { version: 1, mount };
  }
  return null;
}

type FileOf = (name: string) => string | null;

/** cgroup v2: memory.max, memory.events (oom, oom_kill, oom_group_kill), memory.oom.group. */
function v2Node(rel: string, f: FileOf, procs: number[]): CgroupNode {
  const events = parseKeyValues(f('memory.events'));
  return {
    path: rel,
    version: 2,
    limitBytes: rel === '/' ? null : parseLimit(f('memory.max')),
    swapMaxBytes: parseLimit(f('memory.swap.max')),
    memswLimitBytes: null,
    usageBytes: parseLimit(f('memory.current')),
    swappiness: null,
    oomGroup: (f('memory.oom.group') ?? '0').trim() === '1',
    oomKillDisable: false,
    underOom: false,
    oomEvents: events.get('oom') ?? null,
    oomKills: events.get('oom_kill') ?? null,
    oomGroupKills: events.get('oom_group_kill') ?? null,
    procs,
    children: [],
  };
}

/** cgroup v1: memory.limit_in_bytes, memory.memsw.*, memory.oom_control (oom_kill_disable, under_oom, oom_kill). */
function v1Node(rel: string, f: FileOf, procs: number[]): CgroupNode {
  const ctl = parseKeyValues(f('memory.oom_control'));
  const swappiness = f('memory.swappiness');
  return {
    path: rel,
    version: 1,
    limitBytes: parseLimit(f('memory.limit_in_bytes')),
    swapMaxBytes: null,
    memswLimitBytes: parseLimit(f('memory.memsw.limit_in_bytes')),
    usageBytes: parseLimit(f('memory.usage_in_bytes')),
    swappiness: swappiness === null ? null : Number(swappiness.trim()),
    oomGroup: false,
    oomKillDisable: ctl.get('oom_kill_disable') === 1,
    underOom: ctl.get('under_oom') === 1,
    oomEvents: null,
    oomKills: ctl.get('oom_kill') ?? null,
    oomGroupKills: null,
    procs,
    children: [],
  };
}

function readNode(h: MemoryHierarchy, rel: string, depthLeft: number): CgroupNode {
  const dir = join(h.mount, rel);
  const failed: string[] = [];
  // Absent files are normal (no swap accounting, an older kernel); any other failure is said.
  const f = (name: string) => {
    const r = readText(join(dir, name));
    if (r.ok) return r.value;
    if (!r.gone) failed.push(`${name}: ${r.code}`);
    return null;
  };
  const procs = (f('cgroup.procs') ?? '')
    .split('\n')
    .filter((l) => /^\d+$/.test(l))
    .map(Number);
  const node = h.version === 2 ? v2Node(rel, f, procs) : v1Node(rel, f, procs);
  if (failed.length) node.unreadable = failed;
  if (depthLeft > 0) {
    let entries: Array<{ name: string; ino: number }> = [];
    try {
      entries = readdirSync(dir, { withFileTypes: true })
        .filter((e) => e.isDirectory())
        .map((e) => ({ name: e.name, ino: statSync(join(dir, e.name)).ino }));
    } catch {
      /* removed while reading */
    }
    // kernfs hands out inode numbers in creation order: the kernel walks siblings that way.
    entries.sort((a, b) => a.ino - b.ino || a.name.localeCompare(b.name));
    for (const e of entries) {
      const child = join(rel, e.name);
      if (existsSync(join(h.mount, child))) node.children.push(readNode(h, child, depthLeft - 1));
    }
  }
  return node;
}

/** Reads the subtree at `path` (relative to the memory mount); a UserError when absent. */
export function readCgroupTree(
  sysRoot: string,
  path = '/',
  maxDepth = 32,
): { hierarchy: MemoryHierarchy; root: CgroupNode } {
  const h = findMemoryHierarchy(sysRoot);
  if (!h)
    throw new UserError(
      `no memory cgroup hierarchy under ${sysRoot}: pass --sys-root pointing at the cgroup mount (default /sys/fs/cgroup)`,
    );
  const rel = normalizeCgroupPath(path);
  if (!existsSync(join(h.mount, rel))) {
    throw new UserError(
      `no cgroup ${rel} in the memory hierarchy at ${h.mount} (cgroup v${h.version}): give a path relative to it, e.g. /system.slice/nginx.service`,
    );
  }
  return { hierarchy: h, root: readNode(h, rel, maxDepth) };
}

/** The subtree at `rel` of a hierarchy already found, or null when it does not exist. */
export function readCgroupSubtree(h: MemoryHierarchy, rel: string, maxDepth = 32): CgroupNode | null {
  const path = normalizeCgroupPath(rel);
  return existsSync(join(h.mount, path)) ? readNode(h, path, maxDepth) : null;
}

export function readGlobalSwappiness(procRoot: string): number | null {
  const t = read(join(procRoot, 'sys/vm/swappiness'));
  return t === null || !/^\d+$/.test(t.trim()) ? null : Number(t.trim());
}
