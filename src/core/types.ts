// Shared data shapes of the pure core. Values the sampler could not read are `null`
// ("unknown"), never a silent 0: an unreadable file under hidepid must not look like an
// empty process.
import type { KernelModel } from './kernel-model.js';

/** What one sample read of one process. Sizes are in the units /proc gives them. */
export interface ProcSample {
  pid: number;
  /** `comm` from /proc/PID/stat (raw, may contain spaces and parentheses). */
  comm: string;
  /** stat field 3. */
  state: string;
  /** stat field 4. */
  ppid: number;
  /** stat field 9: PF_* flags (PF_KTHREAD = 0x00200000). */
  flags: number;
  /** stat field 22: start time in clock ticks since boot. Identity guard with pid. */
  startTime: number;
  /** stat field 24: resident pages, the same approximate counter oom_badness() reads.
   *  null when stat could not be read. */
  rssPages: number | null;
  /** stat field 23: virtual size in bytes (0 for tasks without an mm). */
  vsizeBytes: number;
  /** Real uid from status (Uid: first field). */
  uid: number | null;
  /** VmSwap in kB; null when unknown. */
  swapKb: number | null;
  /** VmPTE in kB; null when unknown. */
  pteKb: number | null;
  /** VmPMD in kB (printed by 4.0–4.14 only); null where absent. */
  pmdKb: number | null;
  /** CapEff bit 21 (CAP_SYS_ADMIN): the root bonus of kernels before 4.17; null when unknown. */
  capSysAdmin: boolean | null;
  rssAnonKb: number | null;
  rssFileKb: number | null;
  rssShmemKb: number | null;
  threads: number | null;
  /** True when status shows Vm* lines, i.e. the task has an mm. null: status unreadable. */
  hasMm: boolean | null;
  /** /proc/PID/oom_score as read (the kernel's view). */
  oomScore: number | null;
  oomScoreAdj: number | null;
  /** NUL separators replaced with spaces; "" for kernel threads; null when unreadable. */
  cmdline: string | null;
  /** Memory cgroup path (v1 memory hierarchy, or the v2 unified path). */
  cgroup: string | null;
  /** The v2 unified path ("0::" line) when present. */
  cgroupV2: string | null;
  /** The v1 memory controller path when present. */
  cgroupV1Memory: string | null;
  /** systemd's name=systemd path when present (v1 hosts), for unit names. */
  cgroupSystemd: string | null;
  /** Files that could not be read, with the reason ("oom_score: EACCES"). */
  unreadable: readonly string[];
}

export interface MemInfo {
  memTotalKb: number;
  memAvailableKb: number | null;
  /** MemFree, for kernels before 3.14 that have no MemAvailable. */
  memFreeKb: number | null;
  swapTotalKb: number;
  swapFreeKb: number | null;
}

export interface Pressure {
  some: { avg10: number; avg60: number; avg300: number; total: number };
  full: { avg10: number; avg60: number; avg300: number; total: number } | null;
}

export interface OomSysctls {
  panicOnOom: number | null;
  oomKillAllocatingTask: number | null;
}

/** Everything one sample of the whole system read. */
export interface SystemSample {
  /** Milliseconds since the epoch, supplied by the system layer (core has no clock). */
  timeMs: number;
  kernelRelease: string | null;
  hostname: string | null;
  pageSize: number;
  meminfo: MemInfo;
  sysctls: OomSysctls;
  /** /proc/vmstat oom_kill; null before 4.13. */
  oomKillCount: number | null;
  pressure: Pressure | null;
  /** True when /proc/1 is the init of the initial pid namespace (is_global_init()). */
  initIsGlobal: boolean;
  /** Boot time (seconds since epoch) from /proc/stat btime, for wall-clock start times. */
  bootTime: number | null;
  /** Clock ticks per second for stat start times (USER_HZ). */
  clockTicks: number;
  processes: ProcSample[];
  /** Which kernel rules score this sample, and how that was proven (kernel-model.ts); absent: the newest. */
  model?: KernelModel;
}

export type UnkillableReason = 'kernel thread' | 'global init' | 'no mm (zombie or exiting)' | 'oom_score_adj -1000';

/** A process as the model sees it in one OOM domain. */
export interface RankedProcess {
  proc: ProcSample;
  /** 1-based kill order; null when unkillable or unknown. */
  rank: number | null;
  /** true, false, or null when the sample lacks what the kernel uses (unreadable files). */
  killable: boolean | null;
  unkillableReason: UnkillableReason | null;
  /** Why badness is unknown (unreadable files), when it is. */
  unknownReason: string | null;
  /** oom_badness() in pages; null when unkillable (LONG_MIN) or unknown. */
  badnessPages: number | null;
  /** The /proc/PID/oom_score the kernel should show (global totalpages). */
  predictedOomScore: number | null;
  /** Terms of badness, for "why" views. */
  terms: BadnessTerms | null;
}

export interface BadnessTerms {
  rssPages: number;
  swapPages: number;
  pageTablePages: number;
  /** The CAP_SYS_ADMIN discount in pages (kernels before 4.17), else 0. */
  bonusPages: number;
  /** adj * (totalpages / 1000), the adj contribution in pages. */
  adjPages: number;
  adj: number;
  totalPages: number;
  /** oom_badness(): the sum of the terms (clamped to 1 before 5.9). */
  badness: number;
}
