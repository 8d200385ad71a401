// The kernel's oom_badness() and proc_oom_score() for a process sample, in integer
// arithmetic as the kernel does it (mm/oom_kill.c and fs/proc/base.c). The rules of each
// kernel generation are in kernel-model.ts; the newest (5.9+, checked on 6.18) by default.
import { badnessParts, type KernelRules, LATEST, oomScoreOf } from './kernel-model.js';
import { PF_KTHREAD } from './parse/stat.js';
import type { BadnessTerms, ProcSample, UnkillableReason } from './types.js';

export const OOM_SCORE_ADJ_MIN = -1000;
export const OOM_SCORE_ADJ_MAX = 1000;

export { cdiv, globalTotalPages } from './kernel-model.js';

/**
 * oom_unkillable_task() plus the LONG_MIN cases of oom_badness(): kernel threads, global
 * init, no mm (find_lock_task_mm() finds no thread with an mm), adj == OOM_SCORE_ADJ_MIN.
 * MMF_OOM_SKIP and in_vfork() are not visible in /proc.
 */
export function unkillableReason(p: ProcSample, initIsGlobal: boolean, adj: number | null): UnkillableReason | null {
  if (p.pid === 1 && initIsGlobal) return 'global init';
  if ((p.flags & PF_KTHREAD) !== 0) return 'kernel thread';
  if (p.hasMm === false) return 'no mm (zombie or exiting)';
  if (adj === OOM_SCORE_ADJ_MIN) return 'oom_score_adj -1000';
  return null;
}

/**
 * The terms of oom_badness() for a process with an mm, by the rules of `rules` (default:
 * the newest generation; kernel-model.ts has every generation's). rss is stat field 24 (the
 * same approximate per-CPU counter oom_badness() reads); swap and page tables come from
 * status in kB. Returns null when a term is unknown.
 */
export function badnessTerms(
  p: ProcSample,
  adj: number | null,
  totalPages: number,
  pageSize: number,
  rules: KernelRules = LATEST,
): BadnessTerms | null {
  if (adj === null || p.rssPages === null || p.swapKb === null || p.pteKb === null) return null;
  const parts = badnessParts(
    rules,
    {
      rssPages: p.rssPages,
      swapKb: p.swapKb,
      pteKb: p.pteKb,
      pmdKb: p.pmdKb,
      capSysAdmin: p.capSysAdmin,
      adj,
    },
    totalPages,
    pageSize,
  );
  return {
    rssPages: parts.rssPages,
    swapPages: parts.swapPages,
    pageTablePages: parts.pageTablePages,
    bonusPages: parts.bonusPages,
    adjPages: parts.adjPages,
    adj,
    totalPages,
    badness: parts.badness,
  };
}

export function badnessFromTerms(t: BadnessTerms): number {
  return t.badness;
}

/**
 * proc_oom_score() of the generation (kernel-model.ts oomScoreOf()), 0 for an unkillable
 * task. totalpages here is always the global one (RAM + swap).
 */
export function oomScoreFromBadness(badness: number | null, globalTotal: number, rules: KernelRules = LATEST): number {
  return oomScoreOf(rules, badness, globalTotal);
}
