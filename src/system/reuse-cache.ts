// What an incremental sampler (the dashboard, watch) keeps between samples, and the named
// policies by which a sample reuses it. Each policy has a reason the kernel gives:
//
// - pid list (reusablePids): a process appears only by fork or clone, which the kernel
//   counts (`processes` in /proc/stat); while the count stands, the last list is the list
//   (an exited process fails its held read). Every WALK_EVERY-th tick walks /proc anyway:
//   with hidepid a process becomes visible when its uid becomes ours, without a fork.
// - refresh slice (refreshDue): status, cmdline and cgroup of 1 process in REFRESH_SLICES
//   are re-read a tick even when nothing moved (setproctitle, setuid, a move to another
//   cgroup show nowhere else).
// - per-process entries (get/set): the stat bytes a record was made from, and the parsed
//   status and cgroup; the same stat bytes mean the same process with the same memory.
// - row hand-on (lastRows/handOn): when the pid list and the held files are last tick's row
//   for row, a row whose files read the same bytes hands on its last record, no lookup.
import type { ProcCgroups } from '../core/parse/proc-cgroup.js';
import type { ProcSample } from '../core/types.js';
import { hasSorted } from './read/procfs.js';

/** Re-read status, cmdline and cgroup of 1 in this many processes a tick (64 s at 2 s). */
export const REFRESH_SLICES = 32;
/** Walk /proc at least every this many ticks, fork or not. */
export const WALK_EVERY = REFRESH_SLICES;

export interface CacheEntry {
  /**
   * The stat text the record was made from, while no held slot keeps these bytes to compare
   * with (HeldFiles.sameAsLast): the same bytes next tick mean nothing moved.
   */
  statText: string | null;
  /** utime + stime from that stat (the CPU column of the rows on screen); null if not numbers. */
  cpuTicks: number | null;
  /**
   * Page faults from stat: when they, rss and vsize (in the sample) are unchanged, status
   * (swap, page tables) is too, and the sample's status fields stand (statusOf()).
   */
  minflt: number;
  majflt: number;
  /** Parsed /proc/PID/cgroup; null when it was not asked for. */
  cgroup: ProcCgroups | null;
  /** The record made last time (its cmdline is null when it was not asked for). */
  sample: ProcSample;
}

export class ReuseCache {
  private tick = 0;
  private forks: number | null = null;
  private live: number[] | null = null;
  private readonly entries = new Map<number, CacheEntry>();
  /** The record each row of the pid list handed on, and the needs they were made for ('' while a sample is under way). */
  private rows: (ProcSample | undefined)[] = [];
  private rowNeeds = '';

  /** A new sample begins. */
  nextTick(): void {
    this.tick++;
  }

  /** The last sample's pids when the fork count stands (and this is not a walk tick); null: walk /proc. */
  reusablePids(forks: number | null): number[] | null {
    const reuse = forks !== null && forks === this.forks && this.live !== null && this.tick % WALK_EVERY !== 0;
    this.forks = forks;
    return reuse ? this.live : null;
  }

  /** This tick re-reads the process's status, cmdline and cgroup even when nothing moved. */
  refreshDue(pid: number): boolean {
    return pid % REFRESH_SLICES === this.tick % REFRESH_SLICES;
  }

  get(pid: number): CacheEntry | undefined {
    return this.entries.get(pid);
  }

  set(pid: number, e: CacheEntry): void {
    this.entries.set(pid, e);
  }

  /** This process's last read made no record to keep. */
  forget(pid: number): void {
    this.entries.delete(pid);
  }

  /** After a sample: only its processes are kept, and its pids are the list to reuse. */
  retain(live: number[]): void {
    this.entries.forEach((_, pid) => {
      if (!hasSorted(live, pid)) this.entries.delete(pid);
    });
    this.live = live;
  }

  /**
   * The rows of the last sample to hand on from, when its rows are this sample's (`aligned`:
   * same pids and held files, row for row) and its needs the same; null otherwise. The
   * sample fills them in place as it goes (`track`: this sampler hands rows on at all).
   */
  startRows(length: number, aligned: boolean, needsKey: string, track: boolean): (ProcSample | undefined)[] | null {
    const last = aligned && needsKey === this.rowNeeds ? this.rows : null;
    if (track) this.rows = last ?? new Array<ProcSample | undefined>(length).fill(undefined);
    this.rowNeeds = '';
    return last;
  }

  /** The sample went through: its rows may be handed on next tick. */
  endRows(needsKey: string): void {
    this.rowNeeds = needsKey;
  }

  /** A record handed on (or made) for row `row`, remembered for that row next tick. */
  handOn(row: number, p: ProcSample, track: boolean): ProcSample {
    if (track) this.rows[row] = p;
    return p;
  }
}
