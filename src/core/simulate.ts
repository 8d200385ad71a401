// Kill sequences: what the kernel would do at each successive OOM in a domain. Take the
// victim (select_bad_process()), remove it with its memory.oom.group (v2: the highest
// ancestor with oom.group up to the domain; every task in it dies except adj -1000 ones,
// mem_cgroup_scan_tasks(oom_kill_memcg_member)), and repeat with the others unchanged.
import { cgroupOfPids, oomGroupOf, walk } from './memcg.js';
import type { DomainContext } from './domains.js';
import { OOM_SCORE_ADJ_MIN } from './badness.js';
import { LATEST, modelLine } from './kernel-model.js';
import { effectiveAdj } from './rank.js';
import { buildSnapshot, type SnapshotDomain, type SnapshotProcess } from './snapshot.js';

export interface KillStep {
  step: number;
  pid: number;
  comm: string;
  user: string | null;
  badnessPages: number;
  oomScoreAdj: number | null;
  /** Pages released: rss + swap + page tables of the victim and of everyone killed with it. */
  freedPages: number;
  /** Killed with the victim (memory.oom.group). */
  alsoKilled: number[];
  /**
   * Kernels before 5.1 kill the chosen task's child instead ("or sacrifice child"): the
   * task the kernel chose when its child died in its place, else null.
   */
  sacrificedFor: { pid: number; comm: string } | null;
  oomGroup: string | null;
  cumulativeFreedPages: number;
}

export interface Simulation {
  domain: SnapshotDomain & { label: string; headroomPages: number | null };
  notes: string[];
  sequence: KillStep[];
  /** Why the sequence ends. */
  end: string;
}

/** What a kill releases: rss + swap + page tables (the memory terms of badness; unknown counts 0). */
function memoryPages(p: SnapshotProcess): number {
  return (p.rssPages ?? 0) + (p.swapPages ?? 0) + (p.pageTablePages ?? 0);
}

/** What the OOM sysctls and cgroup settings change about the prediction. */
export function oomNotes(ctx: DomainContext): string[] {
  const s = ctx.sample.sysctls;
  const notes: string[] = [];
  const global = ctx.domain.kind === 'global';
  if (s.panicOnOom === 2)
    notes.push('vm.panic_on_oom=2: any OOM, this one included, panics the kernel: nobody is killed');
  else if (s.panicOnOom === 1 && global)
    notes.push('vm.panic_on_oom=1: a system-wide OOM panics the kernel: nobody is killed');
  else if (s.panicOnOom === 1)
    notes.push('vm.panic_on_oom=1 panics on a system-wide OOM only: this memcg OOM kills as predicted');
  if (s.oomKillAllocatingTask && global)
    notes.push(
      'vm.oom_kill_allocating_task=1: on a global OOM the task that is allocating dies instead of step 1, whoever it is',
    );
  const m = ctx.sample.model;
  if (m && (m.rules.id !== LATEST.id || (m.compared > 0 && !m.exact))) notes.push(modelLine(m));
  if (ctx.node?.oomKillDisable)
    notes.push('memory.oom_control oom_kill_disable=1: tasks of this cgroup wait for memory instead of being killed');
  return notes;
}

/**
 * oom_kill_process() before 5.1: of the chosen task's children with their own mm, the one
 * with the highest oom_badness() dies instead ("child_points > victim_points" from 0: the
 * first in fork order of equals; an unkillable child scores 0 and is never taken).
 */
export function sacrificedChild(procs: readonly SnapshotProcess[], chosen: SnapshotProcess): SnapshotProcess | null {
  let best: SnapshotProcess | null = null;
  const children = procs
    .filter((p) => p.ppid === chosen.pid && p.pid !== chosen.pid && p.rank !== null && p.badnessPages !== null)
    .sort((a, b) => a.startTime - b.startTime || a.pid - b.pid);
  for (const c of children) if (!best || (c.badnessPages as number) > (best.badnessPages as number)) best = c;
  return best;
}

export function simulateKills(
  ctx: DomainContext,
  opts: {
    users: ReadonlyMap<number, string>;
    adjOverrides?: ReadonlyMap<number, number>;
    freePages?: number;
    maxSteps?: number;
  },
): Simulation {
  const groupOf = ctx.node ? cgroupOfPids(ctx.node) : new Map();
  const rules = ctx.sample.model?.rules ?? LATEST;
  let remaining = ctx.sample.processes;
  const sequence: KillStep[] = [];
  let freed = 0;
  let end = 'no killable process is left in the domain';
  const max = opts.maxSteps ?? 1000;
  while (sequence.length < max) {
    if (opts.freePages !== undefined && freed >= opts.freePages) {
      end = `at least ${opts.freePages} pages freed`;
      break;
    }
    const { snapshot } = buildSnapshot(
      { ...ctx.sample, processes: remaining },
      { users: opts.users, domain: ctx.domain, scanIndex: ctx.scanIndex, adjOverrides: opts.adjOverrides },
    );
    const chosen = snapshot.processes.find((p) => p.rank === 1);
    if (!chosen) break;
    const child = rules.childSacrifice ? sacrificedChild(snapshot.processes, chosen) : null;
    const victim = child ?? chosen;
    const killed = new Set([victim.pid]);
    let group: string | null = null;
    const cg = groupOf.get(victim.pid);
    if (ctx.node && cg) {
      const g = oomGroupOf(ctx.node, cg);
      if (g) {
        group = g.path;
        const adjOf = new Map(snapshot.processes.map((p) => [p.pid, effectiveAdj(p, opts.adjOverrides)]));
        walk(g, (n) => {
          for (const pid of n.procs) if (adjOf.has(pid) && adjOf.get(pid) !== OOM_SCORE_ADJ_MIN) killed.add(pid);
        });
      }
    }
    const pages = snapshot.processes.reduce((sum, p) => sum + (killed.has(p.pid) ? memoryPages(p) : 0), 0);
    freed += pages;
    sequence.push({
      step: sequence.length + 1,
      pid: victim.pid,
      comm: victim.comm,
      user: victim.user,
      badnessPages: victim.badnessPages as number,
      oomScoreAdj: effectiveAdj(victim, opts.adjOverrides),
      freedPages: pages,
      alsoKilled: [...killed].filter((pid) => pid !== victim.pid).sort((a, b) => a - b),
      sacrificedFor: child ? { pid: chosen.pid, comm: chosen.comm } : null,
      oomGroup: group,
      cumulativeFreedPages: freed,
    });
    remaining = remaining.filter((p) => !killed.has(p.pid));
  }
  if (sequence.length >= max) end = `stopped after ${max} steps`;
  return {
    domain: { ...ctx.domain, label: ctx.label, headroomPages: ctx.headroomPages },
    notes: oomNotes(ctx),
    sequence,
    end,
  };
}
