// The lowest oom_score_adj this user may set on a process: the one rule behind the CLI, the
// dashboard, apply and watch. The kernel (fs/proc/base.c, __set_oom_adj(), 3.3 to 6.x)
// refuses a value below the task's signal->oom_score_adj_min unless the writer has
// CAP_SYS_RESOURCE, and a writer that has it sets oom_score_adj_min to the value it wrote
// (systemd's OOMScoreAdjust= does); fork() copies both. The floor is not shown anywhere in
// /proc, so without the capability what is known is: it is at most the lowest value the
// process was seen at (the current one, or one oomtop wrote or read back, from the audit
// log), and above any value the kernel refused for it.
import type { AuditRecord } from './audit.js';
import { OOM_SCORE_ADJ_MIN } from './badness.js';

export interface AdjFloor {
  /** The lowest value known to be allowed: -1000 with CAP_SYS_RESOURCE. */
  allowed: number;
  /** The highest value the kernel refused for this process (audit log), or null. */
  refused: number | null;
  /** `allowed` is the floor itself (the capability, or a refusal just below it). */
  exact: boolean;
  /** CAP_SYS_RESOURCE in oomtop's effective set (null: unknown). */
  canLower: boolean | null;
}

export interface FloorProcess {
  pid: number;
  startTime: number;
  oomScoreAdj: number | null;
}

export function adjFloor(p: FloorProcess, records: readonly AuditRecord[], canLower: boolean | null): AdjFloor {
  if (canLower === true) return { allowed: OOM_SCORE_ADJ_MIN, refused: null, exact: true, canLower };
  let allowed = p.oomScoreAdj ?? 0;
  let refused: number | null = null;
  for (const r of records) {
    if (r.pid !== p.pid || r.startTime !== p.startTime) continue;
    if (r.result === 'ok') {
      if (typeof r.new === 'number') allowed = Math.min(allowed, r.new);
      if (typeof r.old === 'number') allowed = Math.min(allowed, r.old);
    } else if (r.result === 'below-floor' && typeof r.new === 'number') refused = Math.max(refused ?? r.new, r.new);
  }
  if (refused !== null && refused >= allowed) refused = allowed - 1; // a later CAP holder lowered it
  return {
    allowed,
    refused,
    exact: allowed <= OOM_SCORE_ADJ_MIN || (refused !== null && refused === allowed - 1),
    canLower,
  };
}

export type FloorVerdict =
  /** At or above what is known to be allowed (or oomtop has the capability). */
  | { kind: 'allowed' }
  /** The kernel refused this value (or a higher one) for this process before: it will again. */
  | { kind: 'refused'; message: string }
  /** Below what is known to be allowed, above what was refused: the kernel may refuse. */
  | { kind: 'unknown'; message: string };

export const CAP_HINT = "systemd's OOMScoreAdjust= or running with that capability can";

/** Whether `value` can be written, said before anything is written. */
export function checkFloor(f: AdjFloor, value: number): FloorVerdict {
  if (f.canLower === true || value >= f.allowed) return { kind: 'allowed' };
  if (f.refused !== null && value <= f.refused) {
    return {
      kind: 'refused',
      message: `the kernel refused ${f.refused} for this process before: its floor is ${f.exact ? f.allowed : `above ${f.refused}`}, and going below the floor needs CAP_SYS_RESOURCE (oomtop lacks it; ${CAP_HINT})`,
    };
  }
  return {
    kind: 'unknown',
    message: `${value} is below ${f.allowed}, the lowest value known to be allowed: without CAP_SYS_RESOURCE the kernel refuses anything below the process's floor, which /proc does not show`,
  };
}

/** What "protect" aims for: -1000, or without the capability the lowest value known to be allowed. */
export function protectTarget(f: AdjFloor): number {
  return f.canLower === true ? OOM_SCORE_ADJ_MIN : f.allowed;
}

/** The kernel refused `value`: the message, with what is now known of the floor. */
export function refusalMessage(f: AdjFloor, value: number, who: string): string {
  return `lowering below ${f.allowed} needs CAP_SYS_RESOURCE (this process lacks it; ${CAP_HINT}): the kernel refused ${value} for ${who}, below its floor (oom_score_adj_min, which /proc does not show)`;
}
