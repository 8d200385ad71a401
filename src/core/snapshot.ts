// The snapshot: one sample ranked in one OOM domain, as the documented, versioned record
// every exporter and view reads (schema "oomtop.snapshot/1", docs/snapshot-schema.md).
import { globalTotalPages } from './badness.js';
import { type KernelModel, LATEST } from './kernel-model.js';
import { containerInfo } from './memcg.js';
import { memoize } from './memo.js';
import { systemdUnit } from './parse/proc-cgroup.js';
import { rankKillOrder, type RankOptions } from './rank.js';
import type { MemInfo, ProcSample, RankedProcess, SystemSample, UnkillableReason } from './types.js';

export const SNAPSHOT_SCHEMA = 'oomtop.snapshot/1';

export interface SnapshotDomain {
  /** "global" (RAM + swap) or "memcg" (a memory cgroup's limit). */
  kind: 'global' | 'memcg';
  /** cgroup path relative to its mount, null for global. */
  path: string | null;
  /** cgroup version of a memcg domain. */
  cgroupVersion: 1 | 2 | null;
  totalPages: number;
}

export interface SnapshotProcess {
  rank: number | null;
  pid: number;
  ppid: number;
  uid: number | null;
  user: string | null;
  comm: string;
  cmdline: string | null;
  state: string;
  killable: boolean | null;
  unkillableReason: UnkillableReason | null;
  unknownReason: string | null;
  badnessPages: number | null;
  oomScore: number | null;
  predictedOomScore: number | null;
  oomScoreAdj: number | null;
  rssPages: number | null;
  swapPages: number | null;
  pageTablePages: number | null;
  cgroup: string | null;
  unit: string | null;
  /** Kubernetes pod UID, QoS class and container id read from the cgroup path. */
  podUid: string | null;
  qosClass: string | null;
  containerId: string | null;
  startTime: number;
  startedAt: string | null;
}

/** The snapshot carries /proc/meminfo's totals as read (MemInfo). */
export interface Snapshot extends MemInfo {
  schema: typeof SNAPSHOT_SCHEMA;
  time: string;
  hostname: string | null;
  kernelRelease: string | null;
  pageSize: number;
  domain: SnapshotDomain;
  totalPages: number;
  globalTotalPages: number;
  sysctls: { panicOnOom: number | null; oomKillAllocatingTask: number | null };
  oomKillCount: number | null;
  pressureSomeAvg10: number | null;
  /** The kernel rules this ranking follows and how they were chosen (kernel-model.ts). */
  model: SnapshotModel;
  counts: { processes: number; killable: number; unkillable: number; unknown: number };
  processes: SnapshotProcess[];
}

export interface SnapshotModel {
  /** The generation's id ("5.9", "4.17", "rhel7", …) and range ("5.9+", "4.17–5.0"). */
  generation: string;
  label: string;
  /** "release" (the release string's guess, confirmed or unconfirmed) or "calibration" (the kernel's oom_score values overruled it). */
  chosenBy: 'release' | 'calibration';
  why: string;
  /** Killable processes whose /proc/PID/oom_score was compared, and how many the rules reproduce. */
  matched: number;
  compared: number;
  /** Every compared oom_score reproduced: the order is the kernel's. */
  exact: boolean;
}

/** The snapshot's model record; a sample without one is scored by the newest rules, unconfirmed. */
export function snapshotModel(m: KernelModel | undefined): SnapshotModel {
  if (!m)
    return {
      generation: LATEST.id,
      label: LATEST.label,
      chosenBy: 'release',
      why: 'not calibrated: the newest rules assumed',
      matched: 0,
      compared: 0,
      exact: false,
    };
  return {
    generation: m.rules.id,
    label: m.rules.label,
    chosenBy: m.chosenBy,
    why: m.why,
    matched: m.matched,
    compared: m.compared,
    exact: m.exact,
  };
}

export interface SnapshotOptions {
  users: ReadonlyMap<number, string>;
  limit?: number;
  /** A memcg domain; the sample's processes must already be that domain's candidates. */
  domain?: SnapshotDomain;
  scanIndex?: ReadonlyMap<number, number>;
  adjOverrides?: ReadonlyMap<number, number>;
}

function rankOptionsFor(
  sample: SystemSample,
  opts: Pick<SnapshotOptions, 'domain' | 'scanIndex' | 'adjOverrides'>,
): RankOptions {
  const global = globalTotalPages(sample.meminfo.memTotalKb, sample.meminfo.swapTotalKb, sample.pageSize);
  // One shape whatever is given (no spread): the ranking's hot code sees one kind of object.
  return {
    totalPages: opts.domain?.totalPages ?? global,
    globalTotalPages: global,
    pageSize: sample.pageSize,
    initIsGlobal: sample.initIsGlobal,
    adjOverrides: opts.adjOverrides,
    scanIndex: opts.scanIndex,
    rules: sample.model?.rules ?? LATEST,
  };
}

/** One string for equal start dates (processes started in the same hundredth of a second). */
const sharedText = memoize((text: string) => text);

/**
 * The last record made for each process sample. The dashboard and watch keep a process's
 * sample object while nothing it reads has moved (system/sampler.ts); its record is then
 * reused as long as its rank and badness are too, and its unit, container, user and start
 * date are not worked out again. A pure cache: same inputs, same record. The records hold
 * for one set of users, page size, boot time and clock ticks (one per sampler): another set
 * starts the cache anew, instead of keeping them beside each record (~1 MiB at 20,000).
 */
interface MadeFor {
  users: ReadonlyMap<number, string>;
  pageSize: number;
  bootTime: number | null;
  clockTicks: number;
}
let madeFor: MadeFor | null = null;
let made = new WeakMap<ProcSample, SnapshotProcess>();

function madeCache(users: ReadonlyMap<number, string>, sample: SystemSample): WeakMap<ProcSample, SnapshotProcess> {
  const m = madeFor;
  if (
    m === null ||
    m.users !== users ||
    m.pageSize !== sample.pageSize ||
    m.bootTime !== sample.bootTime ||
    m.clockTicks !== sample.clockTicks
  ) {
    madeFor = { users, pageSize: sample.pageSize, bootTime: sample.bootTime, clockTicks: sample.clockTicks };
    made = new WeakMap();
  }
  return made;
}

export function toSnapshotProcess(
  r: RankedProcess,
  sample: SystemSample,
  users: ReadonlyMap<number, string>,
): SnapshotProcess {
  const p = r.proc;
  const cache = madeCache(users, sample);
  const o = cache.get(p);
  if (o) {
    if (
      o.rank === r.rank &&
      o.killable === r.killable &&
      o.unkillableReason === r.unkillableReason &&
      o.unknownReason === r.unknownReason &&
      o.badnessPages === r.badnessPages &&
      o.predictedOomScore === r.predictedOomScore
    )
      return o;
    const pt = r.terms?.pageTablePages ?? o.pageTablePages;
    const record = makeRecord(r, p, o.user, o.swapPages, pt, o.unit, o, o.startedAt);
    cache.set(p, record);
    return record;
  }
  const kbPerPage = sample.pageSize / 1024;
  const started =
    sample.bootTime === null || p.state === '?'
      ? null
      : sharedText(new Date((sample.bootTime + p.startTime / sample.clockTicks) * 1000).toISOString());
  const record = makeRecord(
    r,
    p,
    p.uid === null ? null : (users.get(p.uid) ?? String(p.uid)),
    p.swapKb === null ? null : Math.floor(p.swapKb / kbPerPage),
    // As the generation counts them (VmPTE + VmPMD on 4.0–4.14).
    r.terms?.pageTablePages ?? (p.pteKb === null ? null : Math.floor(p.pteKb / kbPerPage)),
    unitOf(p.cgroupSystemd ?? p.cgroupV2 ?? p.cgroup),
    containerFields(p.cgroup),
    started,
  );
  cache.set(p, record);
  return record;
}

/**
 * A record, always made here (no spread): every record has one hidden class, so the code
 * that reads 5,000 of them a tick stays optimised (spread copies made new shapes, and V8
 * recompiled the ranking and the sampler a few times a tick).
 */
function makeRecord(
  r: RankedProcess,
  p: ProcSample,
  user: string | null,
  swapPages: number | null,
  pageTablePages: number | null,
  unit: string | null,
  c: ContainerFields,
  startedAt: string | null,
): SnapshotProcess {
  return {
    rank: r.rank,
    pid: p.pid,
    ppid: p.ppid,
    uid: p.uid,
    user,
    comm: p.comm,
    cmdline: p.cmdline,
    state: p.state,
    killable: r.killable,
    unkillableReason: r.unkillableReason,
    unknownReason: r.unknownReason,
    badnessPages: r.badnessPages,
    oomScore: p.oomScore,
    predictedOomScore: r.predictedOomScore,
    oomScoreAdj: p.oomScoreAdj,
    rssPages: p.rssPages,
    swapPages,
    pageTablePages,
    cgroup: p.cgroup,
    unit,
    podUid: c.podUid,
    qosClass: c.qosClass,
    containerId: c.containerId,
    startTime: p.startTime,
    startedAt,
  };
}

type ContainerFields = Pick<SnapshotProcess, 'podUid' | 'qosClass' | 'containerId'>;

// A host's processes share a few hundred cgroup paths at most: what a path says (its unit,
// its container) is worked out once per path.
const unitOf = memoize(systemdUnit);
const containerFields = memoize((cgroup: string | null): ContainerFields => {
  const c = containerInfo(cgroup);
  return { podUid: c.podUid, qosClass: c.qosClass, containerId: c.containerId };
});

/**
 * The kill order of a sample in its domain, without the records: for a caller that wants
 * only ranks (the dashboard's "what if" and its confirmations, as the user types).
 */
export function rankSample(
  sample: SystemSample,
  opts: Pick<SnapshotOptions, 'domain' | 'scanIndex' | 'adjOverrides'>,
): RankedProcess[] {
  return rankKillOrder(sample.processes, rankOptionsFor(sample, opts));
}

export function buildSnapshot(
  sample: SystemSample,
  opts: SnapshotOptions,
): { snapshot: Snapshot; ranked: RankedProcess[] } {
  const base = rankOptionsFor(sample, opts);
  const ranked = rankSample(sample, opts);
  const counts = { processes: ranked.length, killable: 0, unkillable: 0, unknown: 0 };
  for (const r of ranked) {
    if (r.killable === true) counts.killable++;
    else if (r.killable === false) counts.unkillable++;
    else counts.unknown++;
  }
  const shown = opts.limit === undefined ? ranked : ranked.slice(0, opts.limit);
  const domain: SnapshotDomain = opts.domain ?? {
    kind: 'global',
    path: null,
    cgroupVersion: null,
    totalPages: base.globalTotalPages,
  };
  const snapshot: Snapshot = {
    schema: SNAPSHOT_SCHEMA,
    time: new Date(sample.timeMs).toISOString(),
    hostname: sample.hostname,
    kernelRelease: sample.kernelRelease,
    pageSize: sample.pageSize,
    domain,
    totalPages: domain.totalPages,
    globalTotalPages: base.globalTotalPages,
    memTotalKb: sample.meminfo.memTotalKb,
    memAvailableKb: sample.meminfo.memAvailableKb,
    memFreeKb: sample.meminfo.memFreeKb,
    swapTotalKb: sample.meminfo.swapTotalKb,
    swapFreeKb: sample.meminfo.swapFreeKb,
    sysctls: { ...sample.sysctls },
    oomKillCount: sample.oomKillCount,
    pressureSomeAvg10: sample.pressure?.some.avg10 ?? null,
    model: snapshotModel(sample.model),
    counts,
    processes: shown.map((r) => toSnapshotProcess(r, sample, opts.users)),
  };
  return { snapshot, ranked };
}
