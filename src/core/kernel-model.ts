// The kernel's OOM rules, per generation, as data plus small functions. Each row was read
// off the kernel sources (mm/oom_kill.c oom_badness(), oom_evaluate_task() /
// select_bad_process(), oom_kill_process(); fs/proc/base.c proc_oom_score()) at the
// versions named; ../shared/docs/kernel-oom.md section 2b has the commit subjects.
// Which generation a box runs is guessed from its release string, then proven by the
// kernel's own /proc/PID/oom_score numbers (calibrate()): a distro kernel's release string
// cannot tell its backports.

/** How oom_badness() counts page tables. */
export type PageTableTerm =
  /** mm->nr_ptes (pages): VmPTE kB * 1024 / PAGE_SIZE (3.5–3.13, RHEL 7). */
  | 'ptes'
  /** nr_ptes + nr_pmds (pages): VmPTE + VmPMD (3.14–4.14; VmPMD exists from 4.0). */
  | 'ptes+pmds'
  /** mm_pgtables_bytes(mm) / PAGE_SIZE: VmPTE is every level (4.15+). */
  | 'bytes';

export interface KernelRules {
  id: GenerationId;
  /** Short, for a header: "5.9+". */
  label: string;
  /** Where each rule was read. */
  source: string;
  pageTables: PageTableTerm;
  /**
   * The CAP_SYS_ADMIN bonus: 'adj-30' (3.5–3.13: adj -= 30 before normalising),
   * '3%' (3.14–4.16 and RHEL 7: points -= points * 3 / 100), or none (4.17+: "mm, oom:
   * remove 3% bonus for CAP_SYS_ADMIN processes").
   */
  adminBonus: 'adj-30' | '3%' | null;
  /** unsigned long with "points > 0 ? points : 1" (before 5.9), or a signed long (5.9+). */
  clampToOne: boolean;
  /** proc_oom_score(): badness * 1000 / totalpages (before 5.9), or (1000 + b*1000/T) * 2/3 (5.9+). */
  oomScore: 'permille' | 'shifted';
  /**
   * Which of two equal scores wins: the task scanned first ("points > chosen", and 3.14–5.2
   * "prefer thread group leaders") or last (5.3+: "points < chosen" skips, so >= replaces).
   */
  ties: 'first' | 'last';
  /** oom_kill_process() kills the chosen task's child with the highest badness and its own mm instead (before 5.1). */
  childSacrifice: boolean;
}

export type GenerationId = '3.5' | 'rhel7' | '3.14' | '4.15' | '4.17' | '5.1' | '5.3' | '5.9';

/** Oldest first. The next change (the pending "exact rss in oom_badness") becomes one more row. */
export const GENERATIONS: readonly KernelRules[] = [
  {
    id: '3.5',
    label: '3.5–3.13',
    source:
      'v3.10 mm/oom_kill.c oom_badness(), select_bad_process(), oom_kill_process(); fs/proc/base.c proc_oom_score()',
    pageTables: 'ptes',
    adminBonus: 'adj-30',
    clampToOne: true,
    oomScore: 'permille',
    ties: 'first',
    childSacrifice: true,
  },
  {
    id: 'rhel7',
    label: 'RHEL 7 3.10',
    source: 'v3.10 as above, with the v3.14 root bonus ("mm, oom: base root bonus on current usage") backported',
    pageTables: 'ptes',
    adminBonus: '3%',
    clampToOne: true,
    oomScore: 'permille',
    ties: 'first',
    childSacrifice: true,
  },
  {
    id: '3.14',
    label: '3.14–4.14',
    source:
      'v4.14 mm/oom_kill.c oom_badness() (nr_ptes + nr_pmds, 3% bonus), oom_evaluate_task() (prefer thread group leaders)',
    pageTables: 'ptes+pmds',
    adminBonus: '3%',
    clampToOne: true,
    oomScore: 'permille',
    ties: 'first',
    childSacrifice: true,
  },
  {
    id: '4.15',
    label: '4.15–4.16',
    source: 'v4.15 mm/oom_kill.c oom_badness() ("mm: consolidate page table accounting": mm_pgtables_bytes)',
    pageTables: 'bytes',
    adminBonus: '3%',
    clampToOne: true,
    oomScore: 'permille',
    ties: 'first',
    childSacrifice: true,
  },
  {
    id: '4.17',
    label: '4.17–5.0',
    source: 'v4.19 mm/oom_kill.c oom_badness() (no bonus), oom_evaluate_task(), oom_kill_process() (sacrifice child)',
    pageTables: 'bytes',
    adminBonus: null,
    clampToOne: true,
    oomScore: 'permille',
    ties: 'first',
    childSacrifice: true,
  },
  {
    id: '5.1',
    label: '5.1–5.2',
    source: 'v5.1 mm/oom_kill.c ("mm, oom: remove \'prefer children over parent\' heuristic")',
    pageTables: 'bytes',
    adminBonus: null,
    clampToOne: true,
    oomScore: 'permille',
    ties: 'first',
    childSacrifice: false,
  },
  {
    id: '5.3',
    label: '5.3–5.8',
    source: 'v5.4 mm/oom_kill.c oom_evaluate_task() (no leader preference: the later of equals wins)',
    pageTables: 'bytes',
    adminBonus: null,
    clampToOne: true,
    oomScore: 'permille',
    ties: 'last',
    childSacrifice: false,
  },
  {
    id: '5.9',
    label: '5.9+',
    source:
      'v5.9 ("mm, oom: make the calculation of oom badness more accurate"), checked on 6.18: oom_badness() signed, proc_oom_score() shifted',
    pageTables: 'bytes',
    adminBonus: null,
    clampToOne: false,
    oomScore: 'shifted',
    ties: 'last',
    childSacrifice: false,
  },
];

export function rulesById(id: GenerationId): KernelRules {
  return GENERATIONS.find((g) => g.id === id) as KernelRules;
}

/** The rules oomtop assumes when nothing says otherwise: this kernel's generation. */
export const LATEST = rulesById('5.9');

/** C's signed integer division truncates toward zero. */
export function cdiv(a: number, b: number): number {
  return Math.trunc(a / b);
}

/** Global OOM: totalpages = totalram_pages() + total_swap_pages (constrained_alloc()). */
export function globalTotalPages(memTotalKb: number, swapTotalKb: number, pageSize: number): number {
  const kbPerPage = pageSize / 1024;
  return Math.floor(memTotalKb / kbPerPage) + Math.floor(swapTotalKb / kbPerPage);
}

/** What oom_badness() reads of one process, in the units /proc shows them. */
export interface BadnessInput {
  rssPages: number;
  swapKb: number;
  /** status VmPTE. */
  pteKb: number;
  /** status VmPMD (4.0–4.14); null where the kernel does not print it. */
  pmdKb: number | null;
  /** CapEff bit 21; null when unknown (counted as without). */
  capSysAdmin: boolean | null;
  adj: number;
}

/** The terms of oom_badness() in pages, and the result. */
export interface BadnessParts {
  rssPages: number;
  swapPages: number;
  pageTablePages: number;
  /** The CAP_SYS_ADMIN discount in pages (3%), or 0. */
  bonusPages: number;
  /** The adj (after the 3.x root bonus of -30) times totalpages / 1000. */
  adjPages: number;
  badness: number;
}

/** Page-table pages as this generation counts them. */
export function pageTablePages(rules: KernelRules, pteKb: number, pmdKb: number | null, pageSize: number): number {
  const kb = rules.pageTables === 'ptes+pmds' ? pteKb + (pmdKb ?? 0) : pteKb;
  return Math.floor((kb * 1024) / pageSize);
}

/**
 * oom_badness() for a killable task (the unkillable cases return 0 / LONG_MIN before this):
 *   points = rss + swap + page tables;
 *   3.5–3.13: if CAP_SYS_ADMIN, adj -= 30;   3.14–4.16: points -= points * 3 / 100;
 *   adj *= totalpages / 1000; points += adj;
 *   before 5.9: return points > 0 ? points : 1;
 */
export function badnessParts(rules: KernelRules, p: BadnessInput, totalPages: number, pageSize: number): BadnessParts {
  const swapPages = Math.floor((p.swapKb * 1024) / pageSize);
  const ptPages = pageTablePages(rules, p.pteKb, p.pmdKb, pageSize);
  let points = p.rssPages + swapPages + ptPages;
  let adj = p.adj;
  let bonusPages = 0;
  if (p.capSysAdmin === true && rules.adminBonus === 'adj-30') adj -= 30;
  if (p.capSysAdmin === true && rules.adminBonus === '3%') {
    bonusPages = cdiv(points * 3, 100);
    points -= bonusPages;
  }
  const adjPages = adj * Math.floor(totalPages / 1000);
  points += adjPages;
  const badness = rules.clampToOne && points <= 0 ? 1 : points;
  return { rssPages: p.rssPages, swapPages, pageTablePages: ptPages, bonusPages, adjPages, badness };
}

/**
 * proc_oom_score(), always with the global totalpages. An unkillable task reads 0 in every
 * generation. Before 5.9: badness * 1000 / totalpages (unsigned). 5.9+:
 * (1000 + badness * 1000 / totalpages) * 2 / 3 with long arithmetic.
 */
export function oomScoreOf(rules: KernelRules, badness: number | null, globalTotal: number): number {
  if (badness === null) return 0;
  if (rules.oomScore === 'permille') return Math.floor((badness * 1000) / globalTotal);
  return cdiv((1000 + cdiv(badness * 1000, globalTotal)) * 2, 3);
}

// ---- which generation: the release string's guess ----

/** The generation a release string suggests, with why. Distro backports are known for RHEL and 5.4.y. */
export function guessFromRelease(release: string | null): { rules: KernelRules; why: string } {
  const m = release ? /^(\d+)\.(\d+)(?:\.(\d+))?(?:-(\d+))?/.exec(release) : null;
  if (!release || !m) return { rules: LATEST, why: 'release unknown: assumed the newest rules' };
  const [major, minor, sub, build] = [Number(m[1]), Number(m[2]), Number(m[3] ?? 0), Number(m[4] ?? 0)];
  const v = major * 1000 + minor;
  if (/\.el7/.test(release) && v === 3010) return { rules: rulesById('rhel7'), why: `${release}: RHEL 7` };
  if (/\.el8/.test(release) && v === 4018)
    return build >= 394
      ? { rules: rulesById('5.9'), why: `${release}: RHEL 8.7+ carries the 5.9 rules (4.18.0-394 on)` }
      : { rules: rulesById('4.17'), why: `${release}: RHEL 8 before 4.18.0-394 runs the 4.18 rules` };
  // Ubuntu's 5.4.0-N does not carry the stable sublevel: only an upstream 5.4.y names it.
  if (v === 5004 && sub >= 144) return { rules: LATEST, why: `${release}: 5.4.144+ carries the 5.9 rules` };
  const byVersion: Array<[number, GenerationId]> = [
    [5009, '5.9'],
    [5003, '5.3'],
    [5001, '5.1'],
    [4017, '4.17'],
    [4015, '4.15'],
    [3014, '3.14'],
    [0, '3.5'],
  ];
  const id = byVersion.find(([from]) => v >= from)?.[1] ?? '3.5';
  const older = v < 3005 ? ' (older than 3.5: the nearest rules, not exact)' : '';
  return { rules: rulesById(id), why: `${release}: upstream ${major}.${minor}${older}` };
}

// ---- which generation: proven by the kernel's own oom_score ----

/** One process the kernel scored: what it read, and /proc/PID/oom_score. */
export interface Observation extends BadnessInput {
  oomScore: number;
}

export interface KernelModel {
  rules: KernelRules;
  /** release: the release string's guess; calibration: what the kernel's oom_score values showed. */
  chosenBy: 'release' | 'calibration';
  /** Why, in one line. */
  why: string;
  /** Killable processes whose oom_score was compared, and how many the chosen rules reproduce. */
  compared: number;
  matched: number;
  /** Every compared oom_score reproduced (and at least one compared). */
  exact: boolean;
}

export function agreementOf(
  rules: KernelRules,
  obs: readonly Observation[],
  globalTotal: number,
  pageSize: number,
): number {
  let n = 0;
  for (const o of obs)
    if (oomScoreOf(rules, badnessParts(rules, o, globalTotal, pageSize).badness, globalTotal) === o.oomScore) n++;
  return n;
}

/**
 * The generation whose rules reproduce the kernel's oom_score of every observed process.
 * Generations that score alike (4.17–5.8 differ only in ties and child sacrifice) are told
 * apart by the release string: the guess wins among those that reproduce everything, else
 * the one nearest to it. With nothing to compare, the guess stands, unconfirmed. When no
 * generation reproduces them all, the best one is used and the model is not exact.
 */
export function calibrate(
  release: string | null,
  obs: readonly Observation[],
  globalTotal: number,
  pageSize: number,
): KernelModel {
  const guess = guessFromRelease(release);
  const compared = obs.length;
  const base = { compared };
  if (!compared) return { ...base, rules: guess.rules, chosenBy: 'release', why: guess.why, matched: 0, exact: false };
  // The guess wins every tie: when it reproduces everything, no other generation can be chosen.
  if (agreementOf(guess.rules, obs, globalTotal, pageSize) === compared)
    return {
      ...base,
      rules: guess.rules,
      chosenBy: 'release',
      why: `${guess.why}; its rules reproduce all ${compared} oom_score values`,
      matched: compared,
      exact: true,
    };
  const agreement = GENERATIONS.map((g) => ({ id: g.id, matched: agreementOf(g, obs, globalTotal, pageSize) }));
  const best = Math.max(...agreement.map((a) => a.matched));
  const at = (id: GenerationId) => GENERATIONS.findIndex((g) => g.id === id);
  const guessAt = at(guess.rules.id);
  const top = agreement
    .filter((a) => a.matched === best)
    .sort((a, b) => Math.abs(at(a.id) - guessAt) - Math.abs(at(b.id) - guessAt) || at(b.id) - at(a.id));
  const rules = rulesById((top[0] as { id: GenerationId }).id);
  const exact = best === compared;
  const sameAsGuess = rules.id === guess.rules.id;
  const why = !exact
    ? `no generation reproduces every oom_score: the best, ${rules.label}, ${best} of ${compared}`
    : sameAsGuess
      ? `${guess.why}; its rules reproduce all ${compared} oom_score values`
      : `${guess.why}, but only the ${rules.label} rules reproduce the kernel's oom_score values (${best} of ${compared})`;
  return { ...base, rules, chosenBy: sameAsGuess ? 'release' : 'calibration', why, matched: best, exact };
}

/** One short line for a header: "kernel rules 5.9+ (calibrated: 412/412 oom_score)". */
export function modelLine(m: KernelModel): string {
  if (!m.compared) return `kernel rules ${m.rules.label} (from the release; no oom_score read to confirm)`;
  if (!m.exact)
    return `kernel rules UNCERTAIN: best ${m.rules.label}, ${m.matched}/${m.compared} oom_score match: the order is not exact`;
  return `kernel rules ${m.rules.label} (${m.chosenBy === 'calibration' ? 'calibrated, not the release' : 'confirmed'}: ${m.matched}/${m.compared} oom_score)`;
}
