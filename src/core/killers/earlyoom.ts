// earlyoom's rule, read from its sources (rfjakob/earlyoom v1.7, the Debian 12 package, and
// v1.9.0): main.c (getopt_long over -m/-s/-M/-S/--prefer/--avoid; -M and -S merged into
// percentages, the lower of the two), meminfo.c parse_meminfo() (MemAvailablePercent;
// SwapFreePercent is 0 without swap, so the swap condition always holds), main.c
// lowmem_sig() (SIGTERM when both are at or below their limits, SIGKILL at the kill
// limits, default half of each) and kill.c find_largest_process() / is_larger() (the /proc
// scan in directory order, pid ascending; the victim is the largest
// oom_score + 300 for --prefer − 300 for --avoid on comm, ties to the larger VmRSS,
// skipping pid <= 1 (<= 2 and ppid 2 from 1.8), rss 0, adj −1000, --ignore and
// --ignore-root-user (1.8+), and never itself).
import { compileOrNull, type Pattern } from '../pattern.js';
import type { MemInfo } from '../types.js';
import { getopt } from './getopt.js';
import { badnessWhy, type KillerCandidate, processVictim, type Trigger, type Victim } from './types.js';

export interface EarlyoomSettings {
  memTermPercent: number;
  memKillPercent: number;
  swapTermPercent: number;
  swapKillPercent: number;
  prefer: string | null;
  avoid: string | null;
  ignore: string | null;
  ignoreRootUser: boolean;
  sortByRss: boolean;
  dryrun: boolean;
  /** Options it could not read, said as problems instead of guessed. */
  problems: string[];
}

/** A candidate as earlyoom reads it: oom_score, comm, VmRSS, adj, euid, ppid. */
export type EarlyoomCandidate = Pick<KillerCandidate, 'pid' | 'ppid' | 'comm' | 'uid' | 'oomScore' | 'rssKb' | 'adj'>;

const SHORT = 'm:s:M:S:kingN:P:dvr:ph'; // v1.9.0 main.c short_opt (v1.7: without P:)
const LONG = ['prefer=', 'avoid=', 'ignore=', 'dryrun', 'ignore-root-user', 'sort-by-rss', 'syslog', 'help', 'debug'];

/** "PERCENT[,KILL_PERCENT]": main.c parse_term_kill_tuple(); kill defaults to half of term. */
function tuple(v: string, max: number): { term: number; kill: number } | null {
  const m = /^\s*([0-9.]+)\s*(?:,\s*([0-9.]+)\s*)?$/.exec(v);
  if (!m) return null;
  const term = Number(m[1]);
  const kill = m[2] === undefined ? term / 2 : Number(m[2]);
  if (!Number.isFinite(term) || !Number.isFinite(kill) || term > max || kill > term) return null;
  return { term, kill };
}

/** earlyoom's settings from its argv (argv[0] excluded), against this box's totals. */
export function parseEarlyoomArgs(argv: readonly string[], mem: MemInfo): EarlyoomSettings {
  const s: EarlyoomSettings = {
    memTermPercent: 10,
    memKillPercent: 5,
    swapTermPercent: 10,
    swapKillPercent: 5,
    prefer: null,
    avoid: null,
    ignore: null,
    ignoreRootUser: false,
    sortByRss: false,
    dryrun: false,
    problems: [],
  };
  const kib: { M?: { term: number; kill: number }; S?: { term: number; kill: number } } = {};
  const seen = new Set<string>();
  for (const o of getopt(argv, SHORT, LONG)) {
    if (o.problem) {
      s.problems.push(o.problem);
      continue;
    }
    seen.add(o.name);
    applyOption(s, kib, o.name, o.value ?? '', mem);
  }
  // "Merge -M with -m": both given, the lower of each; only -M, its percentage.
  const merge = (which: 'mem' | 'swap', t: { term: number; kill: number }, total: number, flag: string) => {
    const term = (100 * t.term) / total;
    const kill = (100 * t.kill) / total;
    const both = seen.has(flag);
    if (which === 'mem') {
      s.memTermPercent = both ? Math.min(s.memTermPercent, term) : term;
      s.memKillPercent = both ? Math.min(s.memKillPercent, kill) : kill;
    } else {
      s.swapTermPercent = both ? Math.min(s.swapTermPercent, term) : term;
      s.swapKillPercent = both ? Math.min(s.swapKillPercent, kill) : kill;
    }
  };
  if (kib.M) merge('mem', kib.M, mem.memTotalKb, 'm');
  if (kib.S && mem.swapTotalKb > 0) merge('swap', kib.S, mem.swapTotalKb, 's');
  return s;
}

function applyOption(
  s: EarlyoomSettings,
  kib: { M?: { term: number; kill: number }; S?: { term: number; kill: number } },
  name: string,
  value: string,
  mem: MemInfo,
): void {
  const bad = (): void => {
    s.problems.push(`-${name} ${value}: not a value earlyoom accepts`);
  };
  switch (name) {
    case 'm':
    case 's': {
      const t = tuple(value, name === 'm' ? 99 : 100);
      if (!t) {
        bad();
        return;
      }
      if (name === 'm') [s.memTermPercent, s.memKillPercent] = [t.term, t.kill];
      else [s.swapTermPercent, s.swapKillPercent] = [t.term, t.kill];
      return;
    }
    case 'M':
    case 'S': {
      const t = tuple(value, ((name === 'M' ? mem.memTotalKb : mem.swapTotalKb) * 100) / 99);
      if (!t) {
        bad();
        return;
      }
      kib[name] = t;
      return;
    }
    case 'prefer':
    case 'avoid':
    case 'ignore':
      s[name] = value;
      return;
    case 'ignore-root-user':
      s.ignoreRootUser = true;
      return;
    case 'sort-by-rss':
      s.sortByRss = true;
      return;
    case 'dryrun':
      s.dryrun = true;
      return;
  }
}

/** lowmem_sig(): SIGTERM at MemAvailable% <= -m and SwapFree% <= -s (0% without swap). */
export function earlyoomTrigger(s: EarlyoomSettings, mem: MemInfo): Trigger {
  const memBytes = (mem.memTotalKb * 1024 * s.memTermPercent) / 100;
  const swapBytes = mem.swapTotalKb > 0 ? (mem.swapTotalKb * 1024 * s.swapTermPercent) / 100 : null;
  const pct = (n: number) => `${Number(n.toFixed(2))}%`;
  const text =
    `SIGTERM at MemAvailable ≤ ${pct(s.memTermPercent)}` +
    (mem.swapTotalKb > 0
      ? ` and SwapFree ≤ ${pct(s.swapTermPercent)}`
      : ' (no swap: the swap condition always holds)') +
    `; SIGKILL at ${pct(s.memKillPercent)}` +
    (mem.swapTotalKb > 0 ? `/${pct(s.swapKillPercent)}` : '');
  return { text, memAvailableBytes: memBytes, swapFreeBytes: swapBytes, psi: null, never: null };
}

interface Scored {
  c: EarlyoomCandidate;
  badness: number;
  rssKb: number;
  marks: string[];
}

/** is_larger(): cur replaces victim unless it is smaller (oom_score, then VmRSS). */
function larger(cur: Scored, victim: Scored, byRss: boolean): boolean {
  if (byRss) {
    if (cur.rssKb !== victim.rssKb) return cur.rssKb > victim.rssKb;
    return cur.badness > victim.badness;
  }
  if (cur.badness !== victim.badness) return cur.badness > victim.badness;
  return cur.rssKb > victim.rssKb;
}

/** Badness as is_larger() computes it, or null when the process is skipped. */
function scoreOf(c: EarlyoomCandidate, s: EarlyoomSettings, re: Record<'prefer' | 'avoid' | 'ignore', Pattern | null>) {
  if (c.pid <= 2 || c.ppid === 2) return null; // init, kthreadd and kernel threads
  if (s.ignoreRootUser && c.uid === 0) return null;
  if (c.oomScore === null || c.rssKb === null || c.rssKb === 0 || c.adj === null || c.adj === -1000) return null;
  const marks: string[] = [];
  let badness = c.oomScore;
  let rssKb = c.rssKb;
  const bump = s.sortByRss ? (n: number) => (rssKb += n * 1024 * 1024) : (n: number) => (badness += n);
  if (re.prefer?.test(c.comm)) {
    bump(300);
    marks.push('+300 (--prefer)');
  }
  if (re.avoid?.test(c.comm)) {
    bump(-300);
    marks.push('−300 (--avoid)');
  }
  if (re.ignore?.test(c.comm)) return null;
  return { c, badness, rssKb, marks };
}

/**
 * The process earlyoom would signal now: the /proc scan in pid order (find_largest_process),
 * starting from an empty victim (badness 0, rss 0), so a negative badness is never chosen.
 * `selfPid`: earlyoom's own pid; if it would pick itself it picks nobody.
 */
export function earlyoomVictim(
  candidates: readonly EarlyoomCandidate[],
  s: EarlyoomSettings,
  selfPid: number | null,
): Victim | null {
  const re = earlyoomPatterns(s);
  let best: Scored = {
    c: { pid: 0, ppid: 0, comm: '', uid: null, oomScore: 0, rssKb: 0, adj: 0 },
    badness: 0,
    rssKb: 0,
    marks: [],
  };
  for (const c of [...candidates].sort((a, b) => a.pid - b.pid)) {
    const cur = scoreOf(c, s, re);
    if (cur && (best.c.pid === 0 ? cur.badness >= 0 && cur.rssKb > 0 : larger(cur, best, s.sortByRss))) best = cur;
  }
  if (best.c.pid === 0 || best.c.pid === selfPid) return null;
  const why =
    badnessWhy(best.badness, best.c.oomScore, best.marks) +
    `, VmRSS ${Math.round(best.rssKb / 1024)} MiB${s.sortByRss ? ' (--sort-by-rss: the largest VmRSS)' : ''}`;
  return processVictim(best.c, best.badness, why);
}

/** --prefer, --avoid and --ignore compiled; null where oomtop cannot compile one (said in unsupported). */
function earlyoomPatterns(s: EarlyoomSettings): Record<'prefer' | 'avoid' | 'ignore', Pattern | null> {
  return { prefer: compileOrNull(s.prefer), avoid: compileOrNull(s.avoid), ignore: compileOrNull(s.ignore) };
}

/** Its regexes that oomtop cannot evaluate (POSIX syntax RE2 lacks): its choice is then unknown. */
export function unsupportedPatterns(s: EarlyoomSettings): string[] {
  const re = earlyoomPatterns(s);
  return (['prefer', 'avoid', 'ignore'] as const)
    .filter((k) => s[k] !== null && re[k] === null)
    .map((k) => `--${k} ${s[k]}: a regex oomtop cannot evaluate`);
}
