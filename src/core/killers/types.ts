// The killer race: every killer that may act on this box (the kernel, systemd-oomd,
// earlyoom, nohang, the kubelet), each read by its own rule from its own sources, and
// which one fires first as memory falls (race.ts). Shapes of the versioned JSON object
// "oomtop.killers/1" (docs/killers-schema.md), and the one constructor of a process victim.

export type KillerName = 'kernel' | 'systemd-oomd' | 'earlyoom' | 'nohang' | 'kubelet';
/** The killers that run in user space and log their kills themselves. */
export type UserKiller = Exclude<KillerName, 'kernel'>;

/**
 * When a killer acts, in its own terms (text) and as numbers: it fires once MemAvailable is
 * at or below `memAvailableBytes` and SwapFree at or below `swapFreeBytes` (null: that
 * condition is not part of its rule). A pressure trigger has `psi`; `never` says why it
 * cannot fire on this box (no swap for systemd-oomd's swap rule, panic_on_oom for the kernel).
 */
export interface Trigger {
  text: string;
  memAvailableBytes: number | null;
  swapFreeBytes: number | null;
  psi: { cgroup: string; limitPercent: number; durationSec: number; nowPercent: number | null } | null;
  never: string | null;
}

/**
 * How far the trigger is now: `bytes` is how much more memory can be taken before it fires
 * (MemAvailable above its threshold, plus the free swap that must fill first when its rule
 * needs swap low too: earlyoom's own headroom sum in sleep_time_ms); psiPoints: how far
 * pressure is below the limit. null where the trigger does not depend on it.
 */
export interface Distance {
  bytes: number | null;
  psiPoints: number | null;
  /**
   * Time to the trigger at the sustained fall of MemAvailable, with its bounds; null when
   * there is no sustained fall (one read: `oomtop killers`), or it is over an hour away.
   */
  seconds: number | null;
  secondsRange: { low: number; high: number } | null;
  /** Already at or past the trigger. */
  firing: boolean;
  text: string;
}

export interface VictimProcess {
  pid: number;
  comm: string;
}

/** Whom the killer takes now by its own rule, and what dies with it. */
export interface Victim {
  kind: 'process' | 'cgroup' | 'pod';
  /** The process it picks (process), or the largest process of the cgroup or pod. */
  pid: number | null;
  comm: string | null;
  /** The cgroup (systemd-oomd, a kernel oom.group) or pod (kubelet) taken whole. */
  cgroup: string | null;
  pod: string | null;
  /** The killer's own score for it ("badness 1866 = oom_score 1566 + 300 (--prefer)"). */
  score: number | null;
  why: string;
  /** Every process that dies with it (the whole cgroup, the pod, the oom.group). */
  processes: VictimProcess[];
}

export interface KillerReport {
  name: KillerName;
  /** It runs (a process, or the kernel itself) and can act on this box. */
  active: boolean;
  /** How it was found ("process 812: earlyoom -m 5 --avoid sshd"), or why it is not active. */
  detected: string;
  /** Its settings as read (argv, config files), named as the killer names them. */
  settings: Record<string, string | number | boolean | null>;
  trigger: Trigger | null;
  distance: Distance | null;
  victim: Victim | null;
  /** It ignores oom_score_adj (systemd-oomd, the kubelet): −1000 does not protect from it. */
  ignoresAdj: boolean;
  /** What it could not read (so "none" is never said where oomtop could not look). */
  unreadable: string[];
  notes: string[];
}

/** A process as the user-space killers read it from /proc (each rule takes the fields it reads). */
export interface KillerCandidate {
  pid: number;
  ppid: number;
  comm: string;
  uid: number | null;
  /** /proc/PID/oom_score: the kernel's number, or the model's where it was not read. */
  oomScore: number | null;
  rssKb: number | null;
  adj: number | null;
  cmdline: string | null;
  cgroup: string | null;
}

/** "badness 1266 = oom_score 966 +300 (--prefer)". */
export function badnessWhy(badness: number, oomScore: number | null, marks: readonly string[]): string {
  return `badness ${badness} = oom_score ${oomScore}${marks.length ? ` ${marks.join(' ')}` : ''}`;
}

/** A single process taken by a killer's rule. */
export function processVictim(p: VictimProcess, score: number | null, why: string): Victim {
  return {
    kind: 'process',
    pid: p.pid,
    comm: p.comm,
    cgroup: null,
    pod: null,
    score,
    why,
    processes: [{ pid: p.pid, comm: p.comm }],
  };
}
