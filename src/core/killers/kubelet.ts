// The kubelet's node-pressure eviction, read from kubernetes/kubernetes: pkg/kubelet/eviction
// (helpers.go: the memory.available signal = capacity − working set, thresholds from
// evictionHard / evictionSoft, "100Mi" or "10%", default hard memory.available<100Mi;
// rankMemoryPressure(): pods whose usage exceeds their requests first, then lower priority,
// then usage − request, largest first) and pkg/kubelet/qos/policy.go
// (GetContainerOOMScoreAdjust: Guaranteed −997, BestEffort 1000, Burstable
// 1000 − 1000 × request / capacity kept within 3..999). The node's files do not say a pod's
// memory request or priority: oomtop reads the request back from the adj the kubelet gave
// each container (inverting policy.go, to within capacity/1000), and takes priorities as
// equal, and says so. It evicts the whole pod and never reads adj for its choice.
import type { Trigger, Victim, VictimProcess } from './types.js';

export interface KubeletSettings {
  /** memory.available thresholds: bytes or a share of capacity. */
  hard: { bytes: number } | { percent: number };
  soft: ({ bytes: number } | { percent: number }) | null;
  softGrace: string | null;
  defaulted: boolean;
  problems: string[];
}

/** A resource.Quantity such as "100Mi", "1Gi", "500M", "1e9", or a percentage. */
export function parseQuantity(v: string): { bytes: number } | { percent: number } | null {
  const t = v.trim();
  const pct = /^([0-9.]+)%$/.exec(t);
  if (pct) return { percent: Number(pct[1]) };
  const m = /^([0-9.]+(?:e[0-9]+)?)(Ki|Mi|Gi|Ti|Pi|Ei|k|K|M|G|T|P|E)?$/.exec(t);
  if (!m) return null;
  const mult: Record<string, number> = {
    Ki: 2 ** 10,
    Mi: 2 ** 20,
    Gi: 2 ** 30,
    Ti: 2 ** 40,
    Pi: 2 ** 50,
    Ei: 2 ** 60,
    k: 1e3,
    K: 1e3,
    M: 1e6,
    G: 1e9,
    T: 1e12,
    P: 1e15,
    E: 1e18,
  };
  return { bytes: Number(m[1]) * (m[2] ? (mult[m[2]] as number) : 1) };
}

/** evictionHard / evictionSoft "memory.available" of a KubeletConfiguration (parsed YAML or JSON). */
export function kubeletSettings(config: unknown): KubeletSettings {
  const s: KubeletSettings = {
    hard: { bytes: 100 * 2 ** 20 },
    soft: null,
    softGrace: null,
    defaulted: true,
    problems: [],
  };
  const obj = (config ?? {}) as Record<string, unknown>;
  const get = (k: string) => {
    const m = obj[k];
    return m && typeof m === 'object' ? ((m as Record<string, unknown>)['memory.available'] as unknown) : undefined;
  };
  const hard = get('evictionHard');
  if (typeof hard === 'string') {
    const q = parseQuantity(hard);
    if (q) [s.hard, s.defaulted] = [q, false];
    else s.problems.push(`evictionHard memory.available: ${hard}: not a quantity`);
  }
  const soft = get('evictionSoft');
  if (typeof soft === 'string') {
    s.soft = parseQuantity(soft);
    if (!s.soft) s.problems.push(`evictionSoft memory.available: ${soft}: not a quantity`);
  }
  const grace = get('evictionSoftGracePeriod');
  if (typeof grace === 'string') s.softGrace = grace;
  return s;
}

function bytesOf(q: { bytes: number } | { percent: number }, capacity: number): number {
  return 'bytes' in q ? q.bytes : (capacity * q.percent) / 100;
}

/**
 * The trigger as a MemAvailable level: the kubelet fires when capacity − working set falls
 * to the threshold; `available` is that signal now. As memory is taken both fall together,
 * so the MemAvailable it fires at is MemAvailable now − (available − threshold).
 */
export function kubeletTrigger(s: KubeletSettings, capacity: number, available: number, memAvailable: number): Trigger {
  const hard = bytesOf(s.hard, capacity);
  const soft = s.soft ? bytesOf(s.soft, capacity) : null;
  const at = Math.max(hard, soft ?? 0);
  const q = (x: { bytes: number } | { percent: number }) =>
    'bytes' in x ? `${Math.round(x.bytes / 2 ** 20)}Mi` : `${x.percent}%`;
  return {
    text:
      `evicts at memory.available < ${q(s.hard)} (evictionHard${s.defaulted ? ', the default' : ''})` +
      (s.soft ? `, or < ${q(s.soft)} for ${s.softGrace ?? 'its grace period'} (evictionSoft)` : '') +
      '; memory.available = capacity − working set',
    memAvailableBytes: Math.max(0, memAvailable - (available - at)),
    swapFreeBytes: null,
    psi: null,
    never: null,
  };
}

export interface PodContainer {
  cgroup: string;
  /** The adj the kubelet gave its processes (policy.go), null when none was readable. */
  adj: number | null;
  processes: VictimProcess[];
}

export interface Pod {
  uid: string;
  qos: 'guaranteed' | 'burstable' | 'besteffort';
  cgroup: string;
  usageBytes: number | null;
  limitBytes: number | null;
  containers: PodContainer[];
}

/** A pod's memory request as policy.go encoded it in its containers' adj, with the uncertainty. */
export function podRequest(p: Pod, capacity: number): { bytes: number | null; note: string } {
  if (p.qos === 'besteffort') return { bytes: 0, note: 'BestEffort: no request' };
  if (p.qos === 'guaranteed')
    return p.limitBytes === null
      ? { bytes: null, note: 'Guaranteed, but its limit is unreadable' }
      : { bytes: p.limitBytes, note: 'Guaranteed: request = limit' };
  let sum = 0;
  for (const c of p.containers) {
    if (c.adj === null) return { bytes: null, note: `the adj of container ${c.cgroup} is unreadable` };
    if (c.adj < 3) continue; // the sandbox (pause) container
    sum += ((1000 - c.adj) * capacity) / 1000;
  }
  return {
    bytes: sum,
    note: `Burstable: request read back from adj (±${Math.round(capacity / 1000 / 2 ** 20)} MiB per container)`,
  };
}

/** rankMemoryPressure(): exceeds its request first, then (unknown, equal) priority, then usage − request. */
export function kubeletVictim(pods: readonly Pod[], capacity: number): Victim | null {
  const ranked = pods
    .map((p) => {
      const req = podRequest(p, capacity);
      const usage = p.usageBytes ?? 0;
      const over = req.bytes === null ? 0 : usage - req.bytes;
      return { p, req, usage, over, exceeds: req.bytes !== null && usage > req.bytes };
    })
    .sort((a, b) => Number(b.exceeds) - Number(a.exceeds) || b.over - a.over);
  const top = ranked[0];
  if (!top) return null;
  const procs = top.p.containers.flatMap((c) => c.processes);
  const biggest = procs[0];
  return {
    kind: 'pod',
    pid: biggest?.pid ?? null,
    comm: biggest?.comm ?? null,
    cgroup: top.p.cgroup,
    pod: top.p.uid,
    score: top.over,
    why:
      `${top.exceeds ? 'uses more than its request' : 'within its request'}: usage ${Math.round(top.usage / 2 ** 20)} MiB, ` +
      `${top.req.note}; priorities are not on the node's files: taken as equal`,
    processes: procs,
  };
}
