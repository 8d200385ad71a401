// systemd-oomd's rule, read from systemd's src/oom/: oomd-manager.c (the swap rule every
// 0.15 s: MemAvailable and SwapFree both below (100 − SwapUsedLimit)% of their totals,
// oomd_mem_available_below() / oomd_swap_free_below(), then oomd_select_by_swap_usage()
// over the candidates of every ManagedOOMSwap=kill unit, only above 5% of SwapTotal; the
// pressure rule every 1 s: a ManagedOOMMemoryPressure=kill unit's memory.pressure full
// avg10 above its limit for the whole duration, oomd_pressure_above(), with reclaim in the
// last 30 s, then oomd_select_by_pgscan_rate() over its descendants), oomd-util.c
// (candidates: the leaves of a monitored cgroup, or a cgroup with memory.oom.group=1 taken
// whole; oomd_fetch_cgroup_oom_preference(): user.oomd_omit / user.oomd_avoid xattrs,
// honoured on a root-owned cgroup or one owned by the monitored unit's owner;
// compare_swap_usage() and compare_pgscan_rate_and_memory_usage(): "avoid" sorts last) and
// oomd.conf(5) (SwapUsedLimit=90%, DefaultMemoryPressureLimit=60%,
// DefaultMemoryPressureDurationSec=30s). It kills the whole cgroup and never reads adj.
import type { MemInfo } from '../types.js';
import type { Trigger, Victim, VictimProcess } from './types.js';

export interface OomdConfig {
  swapUsedLimitPercent: number;
  pressureLimitPercent: number;
  pressureDurationSec: number;
  problems: string[];
}

/** A unit's ManagedOOM settings, from its unit file and drop-ins. */
export interface OomdUnit {
  unit: string;
  swap: boolean;
  pressure: boolean;
  pressureLimitPercent: number | null;
  pressureDurationSec: number | null;
  preference: 'none' | 'avoid' | 'omit';
}

/** A cgroup as systemd-oomd reads it (oomd_cgroup_context_acquire). */
export interface OomdCgroup {
  path: string;
  ownerUid: number | null;
  /** user.oomd_avoid / user.oomd_omit; null when the xattrs could not be read. */
  avoid: boolean | null;
  omit: boolean | null;
  memoryCurrent: number | null;
  swapCurrent: number | null;
  pgscan: number | null;
  /** memory.pressure full avg10, percent. */
  pressureFullAvg10: number | null;
  oomGroup: boolean;
  procs: VictimProcess[];
  children: OomdCgroup[];
}

/** "90%", "60.5%", "500‰", "5000‱" (parse_permyriad) → percent; null when not one. */
export function parsePercent(v: string): number | null {
  const m = /^\s*([0-9]+(?:\.[0-9]+)?)\s*(%|‰|‱)\s*$/.exec(v);
  if (!m) return null;
  const n = Number(m[1]);
  return m[2] === '%' ? n : m[2] === '‰' ? n / 10 : n / 100;
}

/** systemd time spans: "30s", "1min 30s", "2m", "500ms", a bare number of seconds. */
export function parseTimespan(v: string): number | null {
  const units: Record<string, number> = { us: 1e-6, ms: 1e-3, s: 1, sec: 1, m: 60, min: 60, h: 3600, hr: 3600 };
  const t = v.trim();
  if (/^\d+(\.\d+)?$/.test(t)) return Number(t);
  let total = 0;
  let rest = t;
  while (rest) {
    const m = /^(\d+(?:\.\d+)?)\s*([a-z]+)\s*/.exec(rest);
    if (!m || units[m[2] as string] === undefined) return null;
    total += Number(m[1]) * (units[m[2] as string] as number);
    rest = rest.slice(m[0].length);
  }
  return t ? total : null;
}

/** Assignments of an INI-style systemd file, "Key=value" by section, in order. */
function iniAssignments(text: string): Array<{ section: string; key: string; value: string }> {
  const out: Array<{ section: string; key: string; value: string }> = [];
  let section = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const s = /^\[(.+)\]$/.exec(line);
    if (s) {
      section = s[1] as string;
      continue;
    }
    const at = line.indexOf('=');
    if (at > 0) out.push({ section, key: line.slice(0, at).trim(), value: line.slice(at + 1).trim() });
  }
  return out;
}

/** oomd.conf and its drop-ins, in the order systemd applies them (later wins). */
export function parseOomdConf(texts: readonly string[]): OomdConfig {
  const c: OomdConfig = { swapUsedLimitPercent: 90, pressureLimitPercent: 60, pressureDurationSec: 30, problems: [] };
  for (const t of texts)
    for (const a of iniAssignments(t)) {
      if (a.section !== 'OOM') continue;
      const pct = () => parsePercent(a.value);
      if (a.key === 'SwapUsedLimit') c.swapUsedLimitPercent = pct() ?? kept(c, a, c.swapUsedLimitPercent);
      else if (a.key === 'DefaultMemoryPressureLimit')
        c.pressureLimitPercent = pct() ?? kept(c, a, c.pressureLimitPercent);
      else if (a.key === 'DefaultMemoryPressureDurationSec')
        c.pressureDurationSec = parseTimespan(a.value) ?? kept(c, a, c.pressureDurationSec);
    }
  return c;
}

/** A value systemd would reject: it keeps the previous one, and oomtop says so. */
function kept(c: { problems: string[] }, a: { key: string; value: string }, previous: number): number {
  c.problems.push(`${a.key}=${a.value}: not a value systemd accepts (ignored)`);
  return previous;
}

/** A unit's ManagedOOM*= settings from its files (unit file first, then drop-ins in order). */
export function parseUnitOom(unit: string, texts: readonly string[]): OomdUnit {
  const u: OomdUnit = {
    unit,
    swap: false,
    pressure: false,
    pressureLimitPercent: null,
    pressureDurationSec: null,
    preference: 'none',
  };
  for (const t of texts)
    for (const a of iniAssignments(t)) {
      if (a.key === 'ManagedOOMSwap') u.swap = a.value === 'kill';
      else if (a.key === 'ManagedOOMMemoryPressure') u.pressure = a.value === 'kill';
      else if (a.key === 'ManagedOOMMemoryPressureLimit') u.pressureLimitPercent = parsePercent(a.value);
      else if (a.key === 'ManagedOOMMemoryPressureDurationSec') u.pressureDurationSec = parseTimespan(a.value);
      else if (a.key === 'ManagedOOMPreference')
        u.preference = a.value === 'avoid' || a.value === 'omit' ? a.value : 'none';
    }
  return u;
}

/** Candidates under a monitored cgroup: leaves, or cgroups with memory.oom.group=1, whole. */
function candidatesOf(root: OomdCgroup): OomdCgroup[] {
  if (root.oomGroup || root.children.length === 0) return [root];
  return root.children.flatMap(candidatesOf);
}

type Pref = 'none' | 'avoid' | 'omit' | 'unknown';

/** oomd_fetch_cgroup_oom_preference(): xattrs count on root-owned cgroups (or the monitored unit owner's). */
function preferenceOf(c: OomdCgroup, prefixOwner: number | null): Pref {
  if (c.ownerUid === null) return 'unknown';
  if (c.ownerUid !== 0 && c.ownerUid !== prefixOwner) return 'none';
  if (c.omit === null || c.avoid === null) return 'unknown';
  return c.omit ? 'omit' : c.avoid ? 'avoid' : 'none';
}

function allProcs(c: OomdCgroup): VictimProcess[] {
  return [...c.procs, ...c.children.flatMap(allProcs)];
}

function cgroupVictim(c: OomdCgroup, why: string, score: number | null): Victim {
  const procs = allProcs(c);
  return {
    kind: 'cgroup',
    pid: procs[0]?.pid ?? null,
    comm: procs[0]?.comm ?? null,
    cgroup: c.path,
    pod: null,
    score,
    why,
    processes: procs,
  };
}

export function swapTrigger(conf: OomdConfig, mem: MemInfo): Trigger {
  const share = 100 - conf.swapUsedLimitPercent;
  const never = mem.swapTotalKb === 0 ? 'no swap: the swap rule never fires (SwapFree < 0 cannot hold)' : null;
  return {
    text: `kill at MemAvailable < ${share}% and SwapFree < ${share}% (SwapUsedLimit=${conf.swapUsedLimitPercent}%)`,
    memAvailableBytes: (mem.memTotalKb * 1024 * share) / 100,
    swapFreeBytes: (mem.swapTotalKb * 1024 * share) / 100,
    psi: null,
    never,
  };
}

/**
 * oomd_select_by_swap_usage(): omit dropped, "avoid" last, the largest memory.swap.current
 * first, only above 5% of SwapTotal (THRESHOLD_SWAP_USED_PERCENT).
 */
export function swapVictim(
  monitored: readonly OomdCgroup[],
  mem: MemInfo,
): { victim: Victim | null; unknown: string[] } {
  const threshold = (mem.swapTotalKb * 1024 * 5) / 100;
  const unknown: string[] = [];
  const cands = monitored.flatMap(candidatesOf).map((c) => ({ c, pref: preferenceOf(c, null) }));
  for (const x of cands) if (x.pref === 'unknown') unknown.push(`${x.c.path}: ManagedOOMPreference xattrs`);
  const ranked = cands
    .filter((x) => x.pref !== 'omit')
    .sort(
      (a, b) =>
        Number(a.pref === 'avoid') - Number(b.pref === 'avoid') || (b.c.swapCurrent ?? 0) - (a.c.swapCurrent ?? 0),
    );
  const top = ranked.find((x) => (x.c.swapCurrent ?? 0) > threshold);
  if (!top) return { victim: null, unknown };
  return {
    victim: cgroupVictim(
      top.c,
      `the most swap: memory.swap.current ${top.c.swapCurrent} bytes${top.pref === 'avoid' ? ' (avoid)' : ''}`,
      top.c.swapCurrent,
    ),
    unknown,
  };
}

/** pgscan of each cgroup at one read, and how long before the read it is compared with. */
export interface PgscanRead {
  values: ReadonlyMap<string, number>;
  seconds: number;
}

/** The pgscan of every cgroup under these roots, by path, for the next read's growth. */
export function pgscanOf(roots: readonly OomdCgroup[]): Map<string, number> {
  const out = new Map<string, number>();
  const visit = (c: OomdCgroup) => {
    if (c.pgscan !== null) out.set(c.path, c.pgscan);
    c.children.forEach(visit);
  };
  roots.forEach(visit);
  return out;
}

/**
 * oomd_select_by_pgscan_rate() inside one monitored cgroup: "avoid" last, the largest pgscan
 * growth since the last read (`last`; systemd-oomd compares reads MEM_PRESSURE_INTERVAL_USEC
 * = 1 s apart; unknown in a single read: 0 for all), then the largest memory.current;
 * cgroups with neither are skipped.
 */
export function pressureVictim(
  unitCgroup: OomdCgroup,
  last: PgscanRead | null,
): { victim: Victim | null; unknown: string[] } {
  const unknown: string[] = [];
  const rate = (c: OomdCgroup) => {
    const before = last?.values.get(c.path);
    return before === undefined || c.pgscan === null ? 0 : Math.max(0, c.pgscan - (before > c.pgscan ? 0 : before));
  };
  const cands = candidatesOf(unitCgroup).map((c) => ({ c, pref: preferenceOf(c, unitCgroup.ownerUid), rate: rate(c) }));
  for (const x of cands) if (x.pref === 'unknown') unknown.push(`${x.c.path}: ManagedOOMPreference xattrs`);
  const ranked = cands
    .filter((x) => x.pref !== 'omit' && !(x.rate === 0 && (x.c.memoryCurrent ?? 0) === 0))
    .sort(
      (a, b) =>
        Number(a.pref === 'avoid') - Number(b.pref === 'avoid') ||
        b.rate - a.rate ||
        (b.c.memoryCurrent ?? 0) - (a.c.memoryCurrent ?? 0),
    );
  const top = ranked[0];
  if (!top) return { victim: null, unknown };
  const by = last
    ? `pgscan growth ${top.rate} pages in ${+last.seconds.toFixed(1)} s, then`
    : 'pgscan growth unknown from one read: by';
  return {
    victim: cgroupVictim(
      top.c,
      `${by} memory.current ${top.c.memoryCurrent} bytes${top.pref === 'avoid' ? ' (avoid)' : ''}`,
      top.c.memoryCurrent,
    ),
    unknown,
  };
}
