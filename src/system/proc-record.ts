// The one place a ProcSample is made. Every record has the same fields in the same order
// (one hidden class): a spread copy beside a literal made V8 deoptimise and recompile the
// code reading 5,000 records a tick (see docs/performance.md).
import type { StatFields } from '../core/parse/stat.js';
import type { ProcCgroups } from '../core/parse/proc-cgroup.js';
import type { StatusFields } from '../core/parse/status.js';
import type { ProcSample } from '../core/types.js';

/** What a kernel thread's status would say: no mm, root, one thread. */
export const KTHREAD_STATUS: StatusFields = {
  name: null,
  uid: 0,
  swapKb: null,
  pteKb: null,
  pmdKb: null,
  capSysAdmin: null,
  rssAnonKb: null,
  rssFileKb: null,
  rssShmemKb: null,
  threads: 1,
  hasMm: false,
};

export const NO_CGROUP: ProcCgroups = { v2: null, v1Memory: null, systemd: null };

/**
 * The unreadable list of every record that could read all it asked for: one frozen array,
 * not an empty one per process (20,000 of them, ~1 MiB).
 */
const NOTHING_UNREADABLE: readonly string[] = Object.freeze([]);

/** A process's record from its parsed files (null: not read, or unreadable). */
export function procRecord(
  pid: number,
  st: StatFields | null,
  status: StatusFields | null,
  oomScore: number | null,
  oomScoreAdj: number | null,
  cmdline: string | null,
  cg: ProcCgroups,
  unreadable: string[],
): ProcSample {
  return {
    pid,
    comm: st?.comm ?? status?.name ?? '?',
    state: st?.state ?? '?',
    ppid: st?.ppid ?? 0,
    flags: st?.flags ?? 0,
    startTime: st?.startTime ?? 0,
    rssPages: st?.rssPages ?? null,
    vsizeBytes: st?.vsizeBytes ?? 0,
    uid: status?.uid ?? null,
    swapKb: status?.swapKb ?? null,
    pteKb: status?.pteKb ?? null,
    pmdKb: status?.pmdKb ?? null,
    capSysAdmin: status?.capSysAdmin ?? null,
    rssAnonKb: status?.rssAnonKb ?? null,
    rssFileKb: status?.rssFileKb ?? null,
    rssShmemKb: status?.rssShmemKb ?? null,
    threads: status?.threads ?? null,
    hasMm: status === null || st === null ? null : status.hasMm,
    oomScore,
    oomScoreAdj,
    cmdline,
    cgroup: cg.v1Memory ?? cg.v2,
    cgroupV2: cg.v2,
    cgroupV1Memory: cg.v1Memory,
    cgroupSystemd: cg.systemd,
    unreadable: unreadable.length ? unreadable : NOTHING_UNREADABLE,
  };
}

/**
 * The status fields a record was made from (procRecord() with a stat and a status read):
 * what the sampler reuses while stat shows the memory unmoved, instead of keeping each
 * process's parsed status beside its record (~2 MiB at 20,000 processes).
 */
export function statusOf(p: ProcSample): StatusFields {
  return {
    // in parseStatus()'s order: one hidden class for procRecord() to read
    name: p.comm,
    uid: p.uid,
    swapKb: p.swapKb,
    pteKb: p.pteKb,
    pmdKb: p.pmdKb,
    rssAnonKb: p.rssAnonKb,
    rssFileKb: p.rssFileKb,
    rssShmemKb: p.rssShmemKb,
    threads: p.threads,
    hasMm: p.hasMm === true,
    capSysAdmin: p.capSysAdmin,
  };
}

/** p with another oom_score: the same fields in the same order as procRecord(). */
export function withOomScore(p: ProcSample, oomScore: number | null): ProcSample {
  return {
    pid: p.pid,
    comm: p.comm,
    state: p.state,
    ppid: p.ppid,
    flags: p.flags,
    startTime: p.startTime,
    rssPages: p.rssPages,
    vsizeBytes: p.vsizeBytes,
    uid: p.uid,
    swapKb: p.swapKb,
    pteKb: p.pteKb,
    pmdKb: p.pmdKb,
    capSysAdmin: p.capSysAdmin,
    rssAnonKb: p.rssAnonKb,
    rssFileKb: p.rssFileKb,
    rssShmemKb: p.rssShmemKb,
    threads: p.threads,
    hasMm: p.hasMm,
    oomScore,
    oomScoreAdj: p.oomScoreAdj,
    cmdline: p.cmdline,
    cgroup: p.cgroup,
    cgroupV2: p.cgroupV2,
    cgroupV1Memory: p.cgroupV1Memory,
    cgroupSystemd: p.cgroupSystemd,
    unreadable: p.unreadable,
  };
}

/** Two records of one process read alike, field for field (the unreadable list empty in both). */
export function sameRecord(a: ProcSample, b: ProcSample): boolean {
  for (const k in b) {
    if (k !== 'unreadable' && a[k as keyof ProcSample] !== b[k as keyof ProcSample]) return false;
  }
  return a.unreadable.length === 0 && b.unreadable.length === 0;
}
