// Kill order in one OOM domain: select_bad_process() / oom_evaluate_task() in
// mm/oom_kill.c pick the maximum oom_badness(); of equal ones, the task scanned later wins
// on 5.3+ ("points < chosen_points" skips, so ">=" replaces), the first one before
// (kernel-model.ts `ties`). Repeating the choice with the victim removed gives the order.
import { badnessFromTerms, badnessTerms, oomScoreFromBadness, unkillableReason } from './badness.js';
import { type KernelRules, LATEST } from './kernel-model.js';
import type { ProcSample, RankedProcess } from './types.js';

export interface RankOptions {
  /** totalpages of the domain: weighs adj (global: RAM + swap; memcg: the limit). */
  totalPages: number;
  /** RAM + swap, for the predicted /proc/PID/oom_score (always global). */
  globalTotalPages: number;
  pageSize: number;
  initIsGlobal: boolean;
  /** Hypothetical oom_score_adj values by pid ("what if"). */
  adjOverrides?: ReadonlyMap<number, number>;
  /**
   * Position of each pid in the kernel's scan. Default: fork order of the task list
   * (for_each_process()), which is start time order; pids break ties inside one tick.
   */
  scanIndex?: ReadonlyMap<number, number>;
  /** The kernel generation's rules (kernel-model.ts); default the newest. */
  rules?: KernelRules;
}

export function forkOrderCompare(a: ProcSample, b: ProcSample): number {
  return a.startTime - b.startTime || a.pid - b.pid;
}

/** The adj a process is weighed with: a "what if" value when given, else the one read. */
export function effectiveAdj(
  p: Pick<ProcSample, 'pid' | 'oomScoreAdj'>,
  overrides?: ReadonlyMap<number, number>,
): number | null {
  return overrides?.get(p.pid) ?? p.oomScoreAdj;
}

/** Evaluates one process in a domain: badness, predicted oom_score, reasons. */
export function evaluateProcess(p: ProcSample, opts: RankOptions): RankedProcess {
  const adj = effectiveAdj(p, opts.adjOverrides);
  const reason = unkillableReason(p, opts.initIsGlobal, adj);
  if (reason) {
    return {
      proc: p,
      rank: null,
      killable: false,
      unkillableReason: reason,
      unknownReason: null,
      badnessPages: null,
      predictedOomScore: 0,
      terms: null,
    };
  }
  const rules = opts.rules ?? LATEST;
  const terms = p.hasMm === null || adj === null ? null : badnessTerms(p, adj, opts.totalPages, opts.pageSize, rules);
  if (!terms) {
    const missing = [p.hasMm === null ? 'status' : null, adj === null ? 'oom_score_adj' : null].filter(
      (m) => m !== null,
    );
    return {
      proc: p,
      rank: null,
      killable: null,
      unkillableReason: null,
      unknownReason: `unreadable: ${missing.length ? missing.join(', ') : 'status VmSwap/VmPTE'}`,
      badnessPages: null,
      predictedOomScore: null,
      terms: null,
    };
  }
  const badness = badnessFromTerms(terms);
  const globalTerms =
    opts.globalTotalPages === opts.totalPages
      ? terms
      : badnessTerms(p, adj, opts.globalTotalPages, opts.pageSize, rules);
  const globalBadness = globalTerms ? badnessFromTerms(globalTerms) : null;
  return {
    proc: p,
    rank: null,
    killable: true,
    unkillableReason: null,
    unknownReason: null,
    badnessPages: badness,
    predictedOomScore: oomScoreFromBadness(globalBadness, opts.globalTotalPages, rules),
    terms,
  };
}

/**
 * The last evaluation of each process sample, per set of options that weigh it (the
 * domain's totalpages, RAM + swap, page size, whose init, the generation's rules). The
 * dashboard and watch keep a sample object while nothing it reads has moved, and rank
 * 20,000 of them each refresh: evaluating each anew made ~5 MiB of objects a refresh, which
 * live through the refresh and so fill the old generation. A pure cache: same sample and
 * options, same evaluation. "What if" rankings (adjOverrides) are evaluated anew.
 */
const evaluations = new WeakMap<KernelRules, Map<string, WeakMap<ProcSample, RankedProcess>>>();

function evaluationCache(opts: RankOptions): WeakMap<ProcSample, RankedProcess> | null {
  if (opts.adjOverrides?.size) return null;
  const rules = opts.rules ?? LATEST;
  let byOpts = evaluations.get(rules);
  if (!byOpts) evaluations.set(rules, (byOpts = new Map()));
  const key = `${opts.totalPages} ${opts.globalTotalPages} ${opts.pageSize} ${opts.initIsGlobal}`;
  let cache = byOpts.get(key);
  if (!cache) {
    // the global domain and a few memory cgroups at a time: not every limit ever seen
    if (byOpts.size >= 8) byOpts.clear();
    byOpts.set(key, (cache = new WeakMap()));
  }
  return cache;
}

/** r at another rank: the same fields in the same order (one hidden class), a new object. */
function withRank(r: RankedProcess, rank: number | null): RankedProcess {
  return {
    proc: r.proc,
    rank,
    killable: r.killable,
    unkillableReason: r.unkillableReason,
    unknownReason: r.unknownReason,
    badnessPages: r.badnessPages,
    predictedOomScore: r.predictedOomScore,
    terms: r.terms,
  };
}

/**
 * Ranks every process: killable ones by badness (highest first, ties to the later scanned
 * on 5.3+, to the earlier before),
 * then those whose badness is unknown, then the unkillable ones with their reason.
 */
export function rankKillOrder(procs: readonly ProcSample[], opts: RankOptions): RankedProcess[] {
  const scan = opts.scanIndex;
  const scanCompare = scan
    ? (a: ProcSample, b: ProcSample) => (scan.get(a.pid) ?? Infinity) - (scan.get(b.pid) ?? Infinity) || a.pid - b.pid
    : forkOrderCompare;
  const killable: RankedProcess[] = [];
  const unknown: RankedProcess[] = [];
  const unkillable: RankedProcess[] = [];
  const cache = evaluationCache(opts);
  for (const p of procs) {
    let r = cache?.get(p);
    if (!r) {
      r = evaluateProcess(p, opts);
      cache?.set(p, r);
    }
    (r.killable === true ? killable : r.killable === null ? unknown : unkillable).push(r);
  }
  const laterWins = (opts.rules ?? LATEST).ties === 'last';
  killable.sort(
    (a, b) =>
      (b.badnessPages as number) - (a.badnessPages as number) ||
      (laterWins ? scanCompare(b.proc, a.proc) : scanCompare(a.proc, b.proc)),
  );
  // An evaluation made now has no rank yet and is ranked in place; one an earlier ranking
  // returned (the cache) is shared with it: at another rank, this ranking has a copy.
  const out: RankedProcess[] = [];
  for (let i = 0; i < killable.length; i++) {
    const r = killable[i] as RankedProcess;
    let at = r;
    if (r.rank === null) r.rank = i + 1;
    else if (r.rank !== i + 1) {
      at = withRank(r, i + 1);
      cache?.set(r.proc, at);
    }
    out.push(at);
  }
  unknown.sort((a, b) => a.proc.pid - b.proc.pid);
  unkillable.sort((a, b) => a.proc.pid - b.proc.pid);
  for (const r of unknown) out.push(r);
  for (const r of unkillable) out.push(r);
  return out;
}
