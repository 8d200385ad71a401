// One OOM domain, ready to rank: its candidates, their scan order and its totalpages.
import { globalTotalPages } from './badness.js';
import { domainScanOrder, headroomBytes, memcgTotalPages, walk, type CgroupNode } from './memcg.js';
import type { SnapshotDomain } from './snapshot.js';
import type { SystemSample } from './types.js';

export interface DomainContext {
  domain: SnapshotDomain;
  /** The sample restricted to the domain's candidates. */
  sample: SystemSample;
  scanIndex?: ReadonlyMap<number, number>;
  /** The cgroup of a memcg domain (with its subtree). */
  node: CgroupNode | null;
  /** Pages left before the domain's limit (global: MemAvailable + free swap). */
  headroomPages: number | null;
  label: string;
}

/**
 * Memory available now, in kB: MemAvailable, or MemFree on kernels before 3.14 that have no
 * MemAvailable (the honest lower bound). Takes a MemInfo or a Snapshot.
 */
export function availableKb(m: { memAvailableKb: number | null; memFreeKb: number | null }): number {
  return m.memAvailableKb ?? m.memFreeKb ?? 0;
}

export function globalContext(sample: SystemSample): DomainContext {
  const total = globalTotalPages(sample.meminfo.memTotalKb, sample.meminfo.swapTotalKb, sample.pageSize);
  const availKb = availableKb(sample.meminfo) + (sample.meminfo.swapFreeKb ?? 0);
  return {
    domain: { kind: 'global', path: null, cgroupVersion: null, totalPages: total },
    sample,
    node: null,
    headroomPages: Math.floor(availKb / (sample.pageSize / 1024)),
    label: 'global (RAM+swap)',
  };
}

/**
 * A memory cgroup as an OOM domain. A cgroup without a limit of its own is still shown
 * (its subtree's order), weighed by the global totalpages, and says so in its label.
 */
export function memcgContext(sample: SystemSample, node: CgroupNode, globalSwappiness: number | null): DomainContext {
  const swapPages = Math.floor(sample.meminfo.swapTotalKb / (sample.pageSize / 1024));
  const total = memcgTotalPages(node, swapPages, sample.pageSize, globalSwappiness);
  const order = domainScanOrder(node, sample);
  const scanIndex = new Map(order.map((pid, i) => [pid, i]));
  const inDomain = new Set(order);
  const headroom = headroomBytes(node);
  return {
    domain: {
      kind: 'memcg',
      path: node.path,
      cgroupVersion: node.version,
      totalPages: total ?? globalTotalPages(sample.meminfo.memTotalKb, sample.meminfo.swapTotalKb, sample.pageSize),
    },
    sample: { ...sample, processes: sample.processes.filter((p) => inDomain.has(p.pid)) },
    scanIndex,
    node,
    headroomPages: headroom === null ? null : Math.floor(headroom / sample.pageSize),
    label: `${node.path} (cgroup v${node.version}${total === null ? ', no limit of its own' : ''})`,
  };
}

/** Every cgroup with a memory limit: the memcg OOM domains. */
export function limitedCgroups(root: CgroupNode): CgroupNode[] {
  const out: CgroupNode[] = [];
  walk(root, (n) => {
    if (n.limitBytes !== null) out.push(n);
  });
  return out;
}
