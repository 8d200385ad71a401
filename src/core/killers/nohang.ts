// nohang's rule, read from its source (nohang 0.2.0, the Debian 12 package: /usr/sbin/nohang):
// the config parser ("key = value" lines; "@BADNESS_ADJ_RE_<WHAT> adj /// regex" lines),
// calculate_percent() ("5 %" of MemTotal or "300 M"), check_mem_swap_ex() (SIGTERM at
// MemAvailable <= soft_threshold_min_mem and SwapFree <= soft_threshold_min_swap, SIGKILL at
// the hard ones; without swap 0 <= 0 holds), pid_to_badness() (oom_score; minus a positive
// adj with ignore_positive_oom_score_adj; each matching regex rule adds its adj, a positive one
// only where adj >= 0; clamped at 0) and fast_find_victim() / badness_pid_list() (processes
// with oom_score >= 1 except pid 1 and itself, in /proc order; a stable sort by badness, so of
// equal ones the first in pid order; nothing below min_badness).
import { compileOrNull, type Pattern } from '../pattern.js';
import type { MemInfo } from '../types.js';
import { badnessWhy, type KillerCandidate, processVictim, type Trigger, type Victim } from './types.js';

export type NohangProperty = 'NAME' | 'CMDLINE' | 'UID' | 'CGROUP_V1' | 'CGROUP_V2' | 'REALPATH' | 'CWD' | 'ENVIRON';

export interface NohangRule {
  property: NohangProperty;
  adj: number;
  pattern: string;
}

export interface NohangSettings {
  softMem: string;
  softSwap: string;
  hardMem: string;
  hardSwap: string;
  ignorePositiveAdj: boolean;
  minBadness: number;
  psi: boolean;
  rules: NohangRule[];
  problems: string[];
}

const PROPERTIES: readonly NohangProperty[] = [
  'NAME',
  'CMDLINE',
  'UID',
  'CGROUP_V1',
  'CGROUP_V2',
  'REALPATH',
  'CWD',
  'ENVIRON',
];

/** The config file as nohang's own parser reads it (lines starting with a blank are skipped). */
export function parseNohangConfig(text: string): NohangSettings {
  const kv = new Map<string, string>();
  const rules: NohangRule[] = [];
  const problems: string[] = [];
  for (const line of text.split('\n')) {
    const rule = /^@BADNESS_ADJ_RE_([A-Z0-9_]+)\s(.*)$/.exec(line);
    if (rule) {
      const property = rule[1] as NohangProperty;
      const [adj, pattern] = (rule[2] as string)
        .trim()
        .split(/\/\/\/(.*)/s, 2)
        .map((x) => x?.trim() ?? '');
      if (!PROPERTIES.includes(property) || !/^-?\d+$/.test(adj ?? '') || !pattern)
        problems.push(`a badness rule nohang would refuse: ${line.trim()}`);
      else rules.push({ property, adj: Number(adj), pattern });
      continue;
    }
    if (/^[#@\s]/.test(line) || line === '') continue;
    const at = line.indexOf('=');
    if (at < 0) continue;
    kv.set(line.slice(0, at).trim(), line.slice(at + 1).trim());
  }
  const str = (k: string, d: string) => kv.get(k) ?? d;
  return {
    softMem: str('soft_threshold_min_mem', '5 %'),
    softSwap: str('soft_threshold_min_swap', '10 %'),
    hardMem: str('hard_threshold_min_mem', '2 %'),
    hardSwap: str('hard_threshold_min_swap', '4 %'),
    ignorePositiveAdj: str('ignore_positive_oom_score_adj', 'False') === 'True',
    minBadness: Number(str('min_badness', '1')) || 0,
    psi: str('psi_checking_enabled', 'False') === 'True',
    rules,
    problems,
  };
}

/** calculate_percent(): "5 %" of the total, or "300 M" MiB; kB, or null when nohang would refuse it. */
export function thresholdKb(value: string, totalKb: number): number | null {
  const m = /^([0-9.]+)\s*(%|M)$/.exec(value.trim());
  if (!m) return null;
  const n = Number(m[1]);
  return m[2] === '%' ? (n / 100) * totalKb : n * 1024;
}

export function nohangTrigger(s: NohangSettings, mem: MemInfo): Trigger {
  const memKb = thresholdKb(s.softMem, mem.memTotalKb);
  const swapKb = thresholdKb(s.softSwap, mem.swapTotalKb);
  const never = memKb === null || swapKb === null ? 'its thresholds do not parse: nohang would not start' : null;
  return {
    text:
      `SIGTERM at MemAvailable ≤ ${s.softMem} and SwapFree ≤ ${s.softSwap}; SIGKILL at ${s.hardMem} / ${s.hardSwap}` +
      (s.psi ? '; PSI rules too (psi_checking_enabled)' : ''),
    memAvailableBytes: memKb === null ? null : memKb * 1024,
    swapFreeBytes: mem.swapTotalKb > 0 && swapKb !== null ? swapKb * 1024 : null,
    psi: null,
    never,
  };
}

/** A candidate with what pid_to_badness() may read about it. */
export type NohangCandidate = Pick<KillerCandidate, 'pid' | 'comm' | 'oomScore' | 'adj' | 'uid' | 'cmdline' | 'cgroup'>;

function textOf(c: NohangCandidate, p: NohangProperty): string | null {
  switch (p) {
    case 'NAME':
      return c.comm;
    case 'CMDLINE':
      return c.cmdline;
    case 'UID':
      return c.uid === null ? null : String(c.uid);
    case 'CGROUP_V1':
    case 'CGROUP_V2':
      return c.cgroup; // the memory cgroup path oomtop reads: v1's on v1, the unified one on v2
    default:
      return null; // realpath, cwd, environ: not read by oomtop
  }
}

/**
 * pid_to_badness(), with the rules that matched. A rule whose text oomtop does not read
 * (realpath, cwd, environ) or cannot compile is left out (nohangReport says which).
 */
function nohangBadness(
  c: NohangCandidate,
  s: NohangSettings,
  compiled: ReadonlyArray<{ rule: NohangRule; re: Pattern | null }>,
): { badness: number; marks: string[] } | null {
  if (c.oomScore === null) return null;
  if (c.oomScore === 0) return { badness: 0, marks: [] };
  let badness = c.oomScore;
  const marks: string[] = [];
  if (s.ignorePositiveAdj && c.adj !== null && c.adj > 0) {
    badness -= c.adj;
    marks.push(`−${c.adj} (ignore_positive_oom_score_adj)`);
  }
  for (const { rule, re } of compiled) {
    const text = textOf(c, rule.property);
    if (text === null || re === null || !re.test(text)) continue;
    if (rule.adj > 0 && (c.adj === null || c.adj < 0)) continue;
    badness += rule.adj;
    marks.push(`${rule.adj > 0 ? '+' : '−'}${Math.abs(rule.adj)} (${rule.property.toLowerCase()} ${rule.pattern})`);
  }
  return { badness: Math.max(0, badness), marks };
}

function compileRules(rules: readonly NohangRule[]): Array<{ rule: NohangRule; re: Pattern | null }> {
  return rules.map((rule) => ({ rule, re: compileOrNull(rule.pattern) }));
}

/** Rules nohangVictim() leaves out: on text oomtop does not read, or a regex RE2 cannot compile. */
export function unevaluatedRules(rules: readonly NohangRule[]): string[] {
  return rules
    .filter((r) => ['REALPATH', 'CWD', 'ENVIRON'].includes(r.property) || compileOrNull(r.pattern) === null)
    .map((r) => `@BADNESS_ADJ_RE_${r.property} ${r.adj} /// ${r.pattern}`);
}

/** fast_find_victim(): the highest badness, first in pid order; none below min_badness. */
export function nohangVictim(
  cands: readonly NohangCandidate[],
  s: NohangSettings,
  selfPid: number | null,
): Victim | null {
  const compiled = compileRules(s.rules);
  let best: { c: NohangCandidate; badness: number; marks: string[] } | null = null;
  for (const c of [...cands].sort((a, b) => a.pid - b.pid)) {
    if (c.pid === 1 || c.pid === selfPid || c.oomScore === null || c.oomScore < 1) continue;
    const b = nohangBadness(c, s, compiled);
    if (b && (best === null || b.badness > best.badness)) best = { c, badness: b.badness, marks: b.marks };
  }
  if (!best || best.badness < s.minBadness) return null;
  return processVictim(best.c, best.badness, badnessWhy(best.badness, best.c.oomScore, best.marks));
}
