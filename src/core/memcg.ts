// OOM domains: the global one and every memory cgroup with a limit. A memcg OOM considers
// only the tasks of the cgroup's subtree (mem_cgroup_scan_tasks(): a pre-order walk of the
// descendants, tasks of each in iterator order) and weighs adj against the cgroup's limit
// (mem_cgroup_get_max() in mm/memcontrol.c), not the machine's memory.
import type { SystemSample } from './types.js';

export interface CgroupNode {
  /** Path relative to the memory hierarchy's mount ("/" for its root). */
  path: string;
  version: 1 | 2;
  /** memory.max / memory.limit_in_bytes; null when unlimited. */
  limitBytes: number | null;
  /** v2 swap.max; null when unlimited or absent. */
  swapMaxBytes: number | null;
  /** v1 memory.memsw.limit_in_bytes; null when unlimited or absent. */
  memswLimitBytes: number | null;
  usageBytes: number | null;
  /** v1 memory.swappiness of the cgroup; v2 uses vm.swappiness. */
  swappiness: number | null;
  /** v2 memory.oom.group. */
  oomGroup: boolean;
  /** v1 memory.oom_control oom_kill_disable: the kernel pauses instead of killing. */
  oomKillDisable: boolean;
  underOom: boolean;
  /** memory.events oom / oom_kill / oom_group_kill; v1 oom_control oom_kill. */
  oomEvents: number | null;
  oomKills: number | null;
  oomGroupKills: number | null;
  /** cgroup.procs, in the order the file lists them. */
  procs: number[];
  /** In creation order (the kernel's sibling order). */
  children: CgroupNode[];
  /** Files that exist but could not be read ("memory.events: EACCES"): their fields above are unknown, not 0. */
  unreadable?: string[];
}

/** Limits at or above this are "unlimited" (PAGE_COUNTER_MAX * PAGE_SIZE is ~2^63). */
export const UNLIMITED_BYTES = 2 ** 60;

export function parseLimit(text: string | null): number | null {
  if (text === null) return null;
  const t = text.trim();
  if (t === 'max' || t === '') return null;
  if (!/^\d+$/.test(t)) return null;
  const v = Number(t);
  return v >= UNLIMITED_BYTES ? null : v;
}

/** "key value" lines (memory.events, memory.oom_control, memory.stat). */
export function parseKeyValues(text: string | null): Map<string, number> {
  const m = new Map<string, number>();
  for (const line of (text ?? '').split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined && /^\d+$/.test(v)) m.set(k, Number(v));
  }
  return m;
}

/**
 * mem_cgroup_get_max(): the limit in pages, plus the swap the cgroup may use when its
 * swappiness is not 0 (v1: memsw limit - limit; v2: swap.max), at most the swap there is.
 */
export function memcgTotalPages(
  n: CgroupNode,
  totalSwapPages: number,
  pageSize: number,
  globalSwappiness: number | null,
): number | null {
  if (n.limitBytes === null) return null;
  const max = Math.floor(n.limitBytes / pageSize);
  const swappiness = n.version === 1 ? (n.swappiness ?? globalSwappiness ?? 60) : (globalSwappiness ?? 60);
  if (!swappiness) return max || 1;
  let swap: number;
  if (n.version === 1)
    swap = n.memswLimitBytes === null ? Infinity : Math.max(0, Math.floor(n.memswLimitBytes / pageSize) - max);
  else swap = n.swapMaxBytes === null ? Infinity : Math.floor(n.swapMaxBytes / pageSize);
  return max + Math.min(swap, totalSwapPages) || 1;
}

export function walk(n: CgroupNode, visit: (n: CgroupNode, depth: number) => void, depth = 0): void {
  visit(n, depth);
  for (const c of n.children) walk(c, visit, depth + 1);
}

export function normalizeCgroupPath(path: string): string {
  const p = `/${path.split('/').filter(Boolean).join('/')}`;
  return p;
}

/**
 * The kernel's scan order of a memcg domain: the cgroup itself, then its descendants in
 * pre-order, tasks of each in cgroup.procs order. (v1 lists cgroup.procs sorted by pid;
 * the iterator's order there is migration order, which start-time order approximates.)
 */
export function domainScanOrder(node: CgroupNode, sample: SystemSample): number[] {
  const byPid = new Map(sample.processes.map((p) => [p.pid, p]));
  const out: number[] = [];
  walk(node, (n) => {
    let pids = n.procs.filter((pid) => byPid.has(pid));
    if (n.version === 1) {
      pids = [...pids].sort((a, b) => {
        const pa = byPid.get(a)!;
        const pb = byPid.get(b)!;
        return pa.startTime - pb.startTime || a - b;
      });
    }
    out.push(...pids);
  });
  return out;
}

/** Which cgroup each candidate pid is in (for oom.group). */
export function cgroupOfPids(node: CgroupNode): Map<number, CgroupNode> {
  const m = new Map<number, CgroupNode>();
  walk(node, (n) => {
    for (const pid of n.procs) m.set(pid, n);
  });
  return m;
}

/**
 * mem_cgroup_get_oom_group(): from the victim's cgroup up to the OOM domain, the HIGHEST
 * ancestor with memory.oom.group set (v2 only); null when none.
 */
export function oomGroupOf(domain: CgroupNode, victimCgroup: CgroupNode): CgroupNode | null {
  if (domain.version !== 2) return null;
  const chain: CgroupNode[] = [];
  const find = (n: CgroupNode, trail: CgroupNode[]): boolean => {
    const t = [...trail, n];
    if (n === victimCgroup) {
      chain.push(...t);
      return true;
    }
    return n.children.some((c) => find(c, t));
  };
  if (!find(domain, [])) return null;
  return chain.find((n) => n.oomGroup) ?? null;
}

export function headroomBytes(n: CgroupNode): number | null {
  return n.limitBytes === null || n.usageBytes === null ? null : n.limitBytes - n.usageBytes;
}

/** Kubernetes and container facts a cgroup path carries. */
export interface ContainerInfo {
  podUid: string | null;
  qosClass: 'guaranteed' | 'burstable' | 'besteffort' | null;
  containerId: string | null;
  runtime: string | null;
}

export function containerInfo(path: string | null): ContainerInfo {
  const out: ContainerInfo = { podUid: null, qosClass: null, containerId: null, runtime: null };
  if (!path) return out;
  const parts = path.split('/').filter(Boolean);
  const kube = parts.findIndex((p) => p === 'kubepods' || p === 'kubepods.slice');
  if (kube >= 0) {
    const next = parts[kube + 1] ?? '';
    const qos = /(burstable|besteffort)/.exec(next)?.[1] as 'burstable' | 'besteffort' | undefined;
    out.qosClass = qos ?? (next ? 'guaranteed' : null);
    for (const p of parts) {
      const m = /pod([0-9a-f]{8}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{12})/.exec(p);
      if (m) out.podUid = (m[1] as string).replace(/_/g, '-');
    }
  }
  const last = parts.at(-1) ?? '';
  const scoped = /^(?:(cri-containerd|crio|docker|libpod|cri-o)-)?([0-9a-f]{64})(?:\.scope)?$/.exec(last);
  if (scoped) {
    out.containerId = (scoped[2] as string).slice(0, 12);
    out.runtime =
      scoped[1] === 'cri-containerd'
        ? 'containerd'
        : scoped[1] === 'libpod'
          ? 'podman'
          : (scoped[1] ?? (parts.includes('docker') ? 'docker' : kube >= 0 ? 'cri' : null));
  }
  return out;
}
