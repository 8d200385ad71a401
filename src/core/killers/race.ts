// Every killer's report from what the system layer read (system/killers.ts), and the race:
// as available memory falls, whose trigger fires first, and so who dies first. A killer is
// one entry of KILLERS: its name and a function from the inputs to its report.
import { formatBytes, formatTimeRange, printable } from '../format.js';
import { type FallRate, timeTo } from '../trend.js';
import type { Snapshot, SnapshotProcess } from '../snapshot.js';
import type { MemInfo } from '../types.js';
import { earlyoomTrigger, earlyoomVictim, parseEarlyoomArgs, unsupportedPatterns } from './earlyoom.js';
import { kubeletSettings, kubeletTrigger, kubeletVictim, type Pod } from './kubelet.js';
import { nohangTrigger, nohangVictim, parseNohangConfig, unevaluatedRules } from './nohang.js';
import {
  type OomdCgroup,
  type OomdConfig,
  type OomdUnit,
  type PgscanRead,
  pressureVictim,
  swapTrigger,
  swapVictim,
} from './systemd-oomd.js';
import {
  type Distance,
  type KillerCandidate,
  type KillerName,
  type KillerReport,
  processVictim,
  type Trigger,
} from './types.js';

export const KILLERS_SCHEMA = 'oomtop.killers/1';

/** A killer's process as found in the process table. */
export interface FoundProcess {
  pid: number;
  argv: string[];
}

/** A file read for a killer: its path, and its text or why it could not be read. */
export type ConfigRead = { path: string; text: string } | { path: string; error: string };

export interface KillerInputs {
  /** How fast MemAvailable falls, in bytes per second, when the fall is sustained (the dashboard); else null. */
  fall?: FallRate | null;
  /** The global ranking, with every process's oom_score as read (killers read the kernel's number). */
  snapshot: Snapshot;
  /** The process table could not be read whole (hidepid, another user's processes). */
  processTableUnreadable: string | null;
  earlyoom: { process: FoundProcess | null; defaults: ConfigRead | null };
  nohang: { process: FoundProcess | null; config: ConfigRead | null };
  systemdOomd: {
    process: FoundProcess | null;
    conf: OomdConfig;
    units: Array<{ unit: OomdUnit; cgroup: OomdCgroup | null }>;
    /** cgroup v2 with the memory controller: what systemd-oomd needs. */
    v2Memory: boolean;
    unreadable: string[];
    /** pgscan of each cgroup at an earlier read, for the pressure rule's rate. */
    lastPgscan: PgscanRead | null;
  };
  kubelet: {
    process: FoundProcess | null;
    config: ConfigRead | null;
    /** The parsed config file (YAML or JSON), or null. */
    parsed: unknown;
    pods: Pod[];
    /** capacity − working set now, when the root cgroup could be read. */
    memoryAvailableBytes: number | null;
    unreadable: string[];
  };
}

export interface KillersReport {
  schema: typeof KILLERS_SCHEMA;
  time: string;
  hostname: string | null;
  memAvailableBytes: number | null;
  swapFreeBytes: number | null;
  /** The active killers in the order their triggers fire as memory falls. */
  order: KillerName[];
  /** The first of them, and whom it takes. */
  firstToAct: KillerName | null;
  killers: KillerReport[];
}

const score = (p: SnapshotProcess) => p.oomScore ?? p.predictedOomScore;

/** The processes as the user-space killers read them; the snapshot is its own MemInfo. */
function candidates(s: Snapshot): KillerCandidate[] {
  return s.processes.map((p) => ({
    pid: p.pid,
    ppid: p.ppid,
    comm: p.comm,
    uid: p.uid,
    oomScore: score(p),
    rssKb: p.rssPages === null ? null : (p.rssPages * s.pageSize) / 1024,
    adj: p.oomScoreAdj,
    cmdline: p.cmdline,
    cgroup: p.cgroup,
  }));
}

function base(name: KillerName, ignoresAdj: boolean): KillerReport {
  return {
    name,
    active: false,
    detected: '',
    settings: {},
    trigger: null,
    distance: null,
    victim: null,
    ignoresAdj,
    unreadable: [],
    notes: [],
  };
}

const argvText = (f: FoundProcess) => printable(f.argv.join(' '));

/** The killer runs as `f`: active, and said how it was found. */
function running(r: KillerReport, f: FoundProcess): void {
  r.active = true;
  r.detected = `process ${f.pid}: ${argvText(f)}`;
}

function notRunning(r: KillerReport, what: string, inputs: KillerInputs): KillerReport {
  r.detected = `no ${what} process`;
  if (inputs.processTableUnreadable) r.unreadable.push(`process table: ${inputs.processTableUnreadable}`);
  return r;
}

/**
 * Bytes that can still be taken before a MemAvailable/SwapFree trigger fires: the memory
 * headroom plus, where swap must be low too, the swap headroom (earlyoom's sleep_time_ms()
 * adds the two the same way).
 */
export function memoryDistance(t: Trigger, mem: MemInfo): Distance {
  if (t.never !== null || t.memAvailableBytes === null)
    return {
      bytes: null,
      psiPoints: null,
      seconds: null,
      secondsRange: null,
      firing: false,
      text: t.never ?? 'not a memory trigger',
    };
  const avail = (mem.memAvailableKb ?? mem.memFreeKb ?? 0) * 1024;
  const memHead = Math.max(0, avail - t.memAvailableBytes);
  const swapFree = (mem.swapFreeKb ?? 0) * 1024;
  const swapHead = t.swapFreeBytes === null ? 0 : Math.max(0, swapFree - t.swapFreeBytes);
  const firing = avail <= t.memAvailableBytes && (t.swapFreeBytes === null || swapFree <= t.swapFreeBytes);
  return { bytes: memHead + swapHead, psiPoints: null, seconds: null, secondsRange: null, firing, text: '' };
}

/** The distance, and the time to it at a sustained fall (within the hour). */
function withDistance(r: KillerReport, t: Trigger, mem: MemInfo, fall: FallRate | null = null): KillerReport {
  r.trigger = t;
  const d = memoryDistance(t, mem);
  const time = fall && d.bytes !== null && !d.firing ? timeTo(d.bytes, fall) : null;
  if (time) {
    d.seconds = time.seconds;
    d.secondsRange = { low: time.low, high: time.high };
  }
  r.distance = { ...d, text: distanceText(d, t) };
  return r;
}

function distanceText(d: Distance, t: Trigger): string {
  if (t.never) return t.never;
  if (d.firing) return 'firing now';
  if (d.bytes === null) return 'unknown';
  const left = `${formatBytes(d.bytes)} more can be taken`;
  if (d.seconds === null || !d.secondsRange) return left;
  return `${left}: ${formatTimeRange({ seconds: d.seconds, ...d.secondsRange })} at the current fall`;
}

function kernelReport(inputs: KillerInputs): KillerReport {
  const s = inputs.snapshot;
  const r = base('kernel', false);
  r.active = true;
  r.detected = `Linux ${s.kernelRelease ?? '(release unreadable)'}, rules ${s.model.label}${s.model.exact ? '' : ' (uncertain)'}`;
  r.settings = { panic_on_oom: s.sysctls.panicOnOom, oom_kill_allocating_task: s.sysctls.oomKillAllocatingTask };
  const never = s.sysctls.panicOnOom
    ? `panic_on_oom=${s.sysctls.panicOnOom}: the kernel panics instead of killing`
    : null;
  const t: Trigger = {
    text:
      'kills when an allocation finds nothing left to reclaim: MemAvailable near 0' +
      (s.swapTotalKb ? ' and swap full' : ''),
    memAvailableBytes: 0,
    swapFreeBytes: s.swapTotalKb ? 0 : null,
    psi: null,
    never,
  };
  withDistance(r, t, s, inputs.fall);
  const top = s.processes.find((p) => p.rank === 1);
  if (s.sysctls.oomKillAllocatingTask)
    r.notes.push('oom_kill_allocating_task=1: the task whose allocation failed dies, whoever it is');
  else if (top && !never)
    r.victim = processVictim(
      top,
      top.badnessPages,
      `the highest badness: ${top.badnessPages} pages, oom_score ${score(top)}`,
    );
  if (!s.model.exact) r.notes.push(`kernel rules uncertain: ${s.model.why}`);
  return r;
}

function earlyoomReport(inputs: KillerInputs): KillerReport {
  const r = base('earlyoom', false);
  const f = inputs.earlyoom.process;
  if (!f) {
    const d = inputs.earlyoom.defaults;
    if (d && 'text' in d) r.notes.push(`installed (${d.path}) but not running`);
    return notRunning(r, 'earlyoom', inputs);
  }
  const s = inputs.snapshot;
  const set = parseEarlyoomArgs(f.argv.slice(1), s);
  running(r, f);
  r.settings = {
    m: set.memTermPercent,
    mKill: set.memKillPercent,
    s: set.swapTermPercent,
    sKill: set.swapKillPercent,
    prefer: set.prefer,
    avoid: set.avoid,
    ignore: set.ignore,
    ignoreRootUser: set.ignoreRootUser,
    sortByRss: set.sortByRss,
    dryrun: set.dryrun,
  };
  r.notes.push(...set.problems, ...unsupportedPatterns(set));
  if (set.dryrun) r.notes.push('--dryrun: it chooses but sends no signal');
  withDistance(r, earlyoomTrigger(set, s), s, inputs.fall);
  r.victim = earlyoomVictim(candidates(s), set, f.pid);
  return r;
}

function nohangReport(inputs: KillerInputs): KillerReport {
  const r = base('nohang', false);
  const f = inputs.nohang.process;
  if (!f) return notRunning(r, 'nohang', inputs);
  const s = inputs.snapshot;
  running(r, f);
  const c = inputs.nohang.config;
  if (!c || 'error' in c) {
    r.unreadable.push(c ? `${c.path}: ${c.error}` : 'its config file: not found');
    r.notes.push('its thresholds and rules are unknown without its config file');
    return r;
  }
  const set = parseNohangConfig(c.text);
  r.settings = {
    config: c.path,
    soft_threshold_min_mem: set.softMem,
    soft_threshold_min_swap: set.softSwap,
    hard_threshold_min_mem: set.hardMem,
    hard_threshold_min_swap: set.hardSwap,
    ignore_positive_oom_score_adj: set.ignorePositiveAdj,
    min_badness: set.minBadness,
    badness_rules: set.rules.length,
  };
  r.notes.push(...set.problems);
  for (const rule of unevaluatedRules(set.rules))
    r.notes.push(`left out (oomtop does not read realpath/cwd/environ, or cannot compile it): ${rule}`);
  withDistance(r, nohangTrigger(set, s), s, inputs.fall);
  r.victim = nohangVictim(candidates(s), set, f.pid);
  return r;
}

function oomdReport(inputs: KillerInputs): KillerReport {
  const r = base('systemd-oomd', true);
  const o = inputs.systemdOomd;
  if (!o.process) return notRunning(r, 'systemd-oomd', inputs);
  const s = inputs.snapshot;
  running(r, o.process);
  r.unreadable.push(...o.unreadable);
  r.notes.push(...o.conf.problems);
  r.settings = {
    SwapUsedLimit: `${o.conf.swapUsedLimitPercent}%`,
    DefaultMemoryPressureLimit: `${o.conf.pressureLimitPercent}%`,
    DefaultMemoryPressureDurationSec: o.conf.pressureDurationSec,
    swapUnits: unitsWith(o.units, 'swap'),
    pressureUnits: unitsWith(o.units, 'pressure'),
  };
  if (!o.v2Memory) {
    r.active = false;
    r.detected += '; no cgroup v2 memory controller: it cannot act';
    return r;
  }
  r.active = o.units.length > 0;
  if (!r.active) r.notes.push('no unit has ManagedOOMSwap=kill or ManagedOOMMemoryPressure=kill: it watches nothing');
  for (const u of o.units) if (!u.cgroup) r.unreadable.push(`${u.unit.unit}: its cgroup was not found`);
  const swapRoots = o.units.filter((u) => u.unit.swap && u.cgroup).map((u) => u.cgroup as OomdCgroup);
  const pressure = o.units.filter((u) => u.unit.pressure && u.cgroup);
  const swap = swapRoots.length ? swapVictim(swapRoots, s) : null;
  r.unreadable.push(...(swap?.unknown ?? []));
  const firstPressure = pressure[0];
  const showSwap = swapRoots.length > 0 && (s.swapTotalKb > 0 || !firstPressure);
  if (showSwap) {
    withDistance(r, swapTrigger(o.conf, s), s, inputs.fall);
    r.victim = swap?.victim ?? null;
  } else if (firstPressure) {
    pressureReport(r, firstPressure.unit, firstPressure.cgroup as OomdCgroup, o);
  }
  if (swapRoots.length && pressure.length)
    r.notes.push(
      showSwap
        ? 'both rules are on: the swap rule is shown; the pressure rule may act first under heavy reclaim'
        : 'both rules are on: without swap the swap rule cannot fire, so the pressure rule is shown',
    );
  return r;
}

/** The units with this rule on, by name, for the settings; null when none. */
function unitsWith(units: KillerInputs['systemdOomd']['units'], rule: 'swap' | 'pressure'): string | null {
  return (
    units
      .filter((u) => u.unit[rule])
      .map((u) => u.unit.unit)
      .join(' ') || null
  );
}

function pressureReport(r: KillerReport, unit: OomdUnit, cg: OomdCgroup, o: KillerInputs['systemdOomd']): void {
  const limit = unit.pressureLimitPercent ?? o.conf.pressureLimitPercent;
  const duration = unit.pressureDurationSec ?? o.conf.pressureDurationSec;
  const now = cg.pressureFullAvg10;
  r.trigger = {
    text: `kills in ${unit.unit} when its memory pressure (full avg10) stays above ${limit}% for ${duration} s, with reclaim in the last 30 s`,
    memAvailableBytes: null,
    swapFreeBytes: null,
    psi: { cgroup: cg.path, limitPercent: limit, durationSec: duration, nowPercent: now },
    never: null,
  };
  const points = now === null ? null : limit - now;
  r.distance = {
    bytes: null,
    psiPoints: points,
    seconds: null,
    secondsRange: null,
    firing: points !== null && points < 0,
    text:
      points === null
        ? 'pressure unreadable'
        : points < 0
          ? `above the limit now (${now}%)`
          : `${points.toFixed(2)} PSI points below the limit`,
  };
  const v = pressureVictim(cg, o.lastPgscan);
  r.victim = v.victim;
  r.unreadable.push(...v.unknown);
}

function kubeletReport(inputs: KillerInputs): KillerReport {
  const r = base('kubelet', true);
  const k = inputs.kubelet;
  if (!k.process) return notRunning(r, 'kubelet', inputs);
  const s = inputs.snapshot;
  running(r, k.process);
  r.unreadable.push(...k.unreadable);
  if (k.config && 'error' in k.config) r.unreadable.push(`${k.config.path}: ${k.config.error}`);
  const set = kubeletSettings(k.parsed);
  r.notes.push(...set.problems);
  if (set.defaulted) r.notes.push('no evictionHard memory.available in its config: the default 100Mi');
  const capacity = s.memTotalKb * 1024;
  const memAvailable = (s.memAvailableKb ?? 0) * 1024;
  const available = k.memoryAvailableBytes ?? memAvailable;
  if (k.memoryAvailableBytes === null) r.notes.push('working set unreadable: memory.available taken as MemAvailable');
  r.settings = {
    config: k.config?.path ?? null,
    evictionHard: JSON.stringify(set.hard),
    evictionSoft: set.soft ? JSON.stringify(set.soft) : null,
    pods: k.pods.length,
  };
  withDistance(r, kubeletTrigger(set, capacity, available, memAvailable), s, inputs.fall);
  r.victim = kubeletVictim(k.pods, capacity);
  if (!k.pods.length) r.notes.push('no pod cgroups found: nothing to evict');
  return r;
}

/** The killers, in the order they are listed. To add one: an entry here and its rule module. */
export const KILLERS: ReadonlyArray<{ name: KillerName; report: (i: KillerInputs) => KillerReport }> = [
  { name: 'kernel', report: kernelReport },
  { name: 'systemd-oomd', report: oomdReport },
  { name: 'earlyoom', report: earlyoomReport },
  { name: 'nohang', report: nohangReport },
  { name: 'kubelet', report: kubeletReport },
];

/**
 * The race: active killers with a memory trigger by bytes left before they fire (firing ones
 * first; on equal distance the list order), then pressure triggers (they fire on reclaim,
 * not at a level of MemAvailable), never the ones that cannot fire.
 */
function raceOrder(reports: readonly KillerReport[]): KillerName[] {
  const key = (r: KillerReport) =>
    r.distance?.firing
      ? -1
      : r.trigger?.psi
        ? Number.MAX_SAFE_INTEGER
        : (r.distance?.bytes ?? Number.MAX_SAFE_INTEGER + 1);
  return reports
    .filter((r) => r.active && r.trigger !== null && r.trigger.never === null)
    .map((r, i) => ({ r, i, k: key(r) }))
    .sort((a, b) => a.k - b.k || a.i - b.i)
    .map((x) => x.r.name);
}

export function killersReport(inputs: KillerInputs): KillersReport {
  const s = inputs.snapshot;
  const killers = KILLERS.map((k) => k.report(inputs));
  const order = raceOrder(killers);
  return {
    schema: KILLERS_SCHEMA,
    time: s.time,
    hostname: s.hostname,
    memAvailableBytes: s.memAvailableKb === null ? null : s.memAvailableKb * 1024,
    swapFreeBytes: s.swapFreeKb === null ? null : s.swapFreeKb * 1024,
    order,
    firstToAct: order[0] ?? null,
    killers,
  };
}
