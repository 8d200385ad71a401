// After an OOM: compare what runs now with the baseline of critical processes and with every
// killer's kills since, weigh how complete the log is, and say what to do: ok, restart
// (exactly what: the unit, or the recorded command line, user and directory), or reboot,
// only when the evidence says a reboot is the safe answer.
import { type Spare, spareOf } from './counterfactual.js';
import { printable } from './format.js';
import { compilePattern } from './pattern.js';
import { describeDomain, describeVictim, type MissingKills, type TimelineEntry } from './timeline.js';
import { exactly, isEmptySelector, matches, type Selector } from './select.js';
import type { SnapshotProcess } from './snapshot.js';

export interface CriticalRule {
  name?: string;
  unit?: string;
  cmdline?: string;
  /** The systemd unit that restarts it, when known. */
  restartUnit?: string | null;
  /** What matched when the baseline was saved. */
  seen: SeenProcess[];
}

export interface SeenProcess {
  pid: number;
  startTime: number;
  comm: string;
  ppid: number;
  children: Array<{ pid: number; comm: string }>;
  /** What started it, to start it again when no unit does: argv, user and working directory. */
  argv?: string[];
  user?: string | null;
  cwd?: string | null;
}

export interface Baseline {
  version: 1;
  savedAt: string;
  host: string | null;
  bootId: string | null;
  /** Seconds since boot when saved: OOM events after it (same boot) count. */
  uptime: number | null;
  /** /proc/vmstat oom_kill when saved: the kernel's kills since are the count now minus this. */
  oomKillCount?: number | null;
  critical: CriticalRule[];
}

export type Verdict = 'ok' | 'warning' | 'restart' | 'reboot recommended' | 'unknown';

export interface CriticalStatus {
  rule: string;
  state: 'running' | 'restarted' | 'killed by the OOM killer' | 'missing' | 'killed by the OOM killer, running again';
  pids: number[];
  unit: string | null;
  goneChildren: Array<{ pid: number; comm: string }>;
}

export interface CheckResult {
  verdict: Verdict;
  /** Monitoring-plugin exit code: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN. */
  exitCode: 0 | 1 | 2 | 3;
  reasons: string[];
  critical: CriticalStatus[];
  /** units: systemctl restart them; commands: what starts a critical process no unit runs. */
  restart: { units: string[]; processes: string[]; commands: string[] };
  oomEventsSince: number;
  /** Each kill since, with what would have spared its victim. */
  kills: KillVerdict[];
}

export interface KillVerdict {
  killer: TimelineEntry['killer'];
  wall: string | null;
  uptime: number | null;
  domain: string;
  victims: string[];
  spare: Spare | null;
}

/** What the verdict weighs besides the baseline. */
export interface CheckInput {
  now: readonly SnapshotProcess[];
  /** Every kill the logs hold, oldest first (kernel's and user-space killers'). */
  timeline: readonly TimelineEntry[];
  bootId: string | null;
  /** /proc/vmstat oom_kill now; null when unread. */
  killsCounted: number | null;
  /** The kernel kills the log holds since boot (for the count above). */
  killsLogged: number;
  /** Memory cgroups whose counters hold kills the log does not. */
  memcgMissing: readonly MissingKills[];
  nowMs: number;
  /** MemAvailable / MemTotal now, 0..1; null when unknown. */
  memAvailable: number | null;
}

export const INIT_CRITICAL = new Set([
  'systemd',
  'init',
  'systemd-journal',
  'systemd-udevd',
  'dbus-daemon',
  'dbus-broker',
  'systemd-logind',
  'systemd-network',
  'systemd-resolve',
]);

export function describeCritical(r: CriticalRule): string {
  return [
    r.name && `name ${printable(r.name)}`,
    r.unit && `unit ${printable(r.unit)}`,
    r.cmdline && `cmdline /${printable(r.cmdline)}/`,
  ]
    .filter(Boolean)
    .join(', ');
}

/**
 * The processes a critical rule matches now (never kernel threads). A rule with no
 * matcher, or an invalid regex edited into the baseline by hand, matches nothing.
 */
export function criticalMatches(r: CriticalRule, procs: readonly SnapshotProcess[]): SnapshotProcess[] {
  let sel: Selector;
  try {
    sel = {
      name: r.name === undefined ? undefined : exactly(r.name),
      unit: r.unit,
      cmdline: r.cmdline === undefined ? undefined : compilePattern(r.cmdline),
    };
  } catch {
    return [];
  }
  if (isEmptySelector(sel)) return [];
  return procs.filter((p) => p.unkillableReason !== 'kernel thread' && matches(sel, p));
}

/** Kills after the baseline was saved (same boot: by uptime or wall clock; a new boot: all of this boot's). */
export function entriesSince(
  entries: readonly TimelineEntry[],
  b: Baseline,
  currentBootId: string | null,
): TimelineEntry[] {
  if (b.bootId && currentBootId && b.bootId !== currentBootId) return [...entries];
  const savedMs = Date.parse(b.savedAt);
  return entries.filter((e) =>
    e.uptime !== null && b.uptime !== null && e.killer === 'kernel'
      ? e.uptime >= b.uptime
      : e.wall !== null
        ? Date.parse(e.wall) >= savedMs
        : true,
  );
}

/** One piece of evidence and what it demands: a reboot, a restart, or a warning. */
interface Finding {
  level: 'reboot' | 'restart' | 'warn' | 'note';
  reason: string;
  /** With restart: the unit to restart, or the command that starts the process. */
  unit?: string;
  command?: string;
  process?: string;
}

/** When and where, for a verdict line: "(kernel, 2026-12-02T21:41:05.665Z, memcg /x)". */
function whenWhere(e: TimelineEntry): string {
  return `(${e.killer}, ${e.wall ?? (e.uptime !== null ? `${e.uptime.toFixed(0)} s after boot` : 'time unknown')}, ${describeDomain(e)})`;
}

/** POSIX shell single quotes: the exact bytes, safe to paste. */
function shq(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * The command that starts a process again as it was recorded: its directory, its user and
 * its argv, quoted. Null when nothing was recorded, or when an argument holds a control
 * character (it could not be shown as it is).
 */
export function restartCommand(s: SeenProcess): string | null {
  if (!s.argv?.length || s.argv.some((a) => /[\p{Cc}]/u.test(a))) return null;
  const user = s.user && s.user !== 'root' && /^[\w.-]+$/.test(s.user) ? `runuser -u ${s.user} -- ` : '';
  const cd = s.cwd && !/[\p{Cc}]/u.test(s.cwd) ? `cd ${shq(s.cwd)} && ` : '';
  return `${cd}${user}${s.argv.map(shq).join(' ')}`;
}

/** What the kills since show, besides the critical processes. */
interface Evidence {
  rebooted: boolean;
  killedPids: ReadonlySet<number>;
  killedComms: ReadonlySet<string>;
  livePids: ReadonlySet<number>;
  since: readonly TimelineEntry[];
}

/** The kill that took one of these pids, for its time and domain. */
function killOf(since: readonly TimelineEntry[], pids: ReadonlyArray<number>): TimelineEntry | undefined {
  return since.find((e) => e.victims.some((v) => v.pid !== null && pids.includes(v.pid)));
}

/** A critical rule that runs no more: restart its unit, or its recorded command; else a reboot. */
function missingFinding(r: CriticalRule, state: string, kill: TimelineEntry | undefined): Finding {
  const what = describeCritical(r);
  const at = kill ? ` ${whenWhere(kill)}` : '';
  const unit = r.restartUnit ?? r.unit ?? null;
  if (unit) return { level: 'restart', reason: `${what} is ${state}${at}: restart ${unit}`, unit, process: what };
  const cmd = r.seen.map(restartCommand).find((c) => c !== null);
  if (cmd)
    return {
      level: 'restart',
      reason: `${what} is ${state}${at}; no unit runs it: start it again as recorded (its environment was not recorded)`,
      command: cmd,
      process: what,
    };
  return {
    level: 'reboot',
    reason: `${what} is ${state}${at} and nothing is known to restart it (no systemd unit, no recorded command line)`,
  };
}

/** One critical rule: its state now and what that demands. */
function criticalFindings(r: CriticalRule, now: readonly SnapshotProcess[], ev: Evidence): [CriticalStatus, Finding[]] {
  const running = criticalMatches(r, now);
  const seenAlive = r.seen.filter((s) => running.some((p) => p.pid === s.pid && p.startTime === s.startTime));
  const seenPids = r.seen.map((s) => s.pid);
  const oomKilled =
    (!ev.rebooted && r.seen.some((s) => ev.killedPids.has(s.pid))) ||
    (r.seen.length === 0 && r.name !== undefined && ev.killedComms.has(r.name));
  const kill = ev.rebooted ? undefined : killOf(ev.since, seenPids);
  const goneChildren = r.seen
    .filter((s) => ev.killedPids.has(s.pid))
    .flatMap((s) => s.children.filter((c) => !ev.livePids.has(c.pid)));
  const unit = r.restartUnit ?? r.unit ?? null;
  const what = describeCritical(r);
  const out: Finding[] = [];
  let state: CriticalStatus['state'] = 'running';
  if (running.length === 0) {
    state = oomKilled ? 'killed by the OOM killer' : 'missing';
    out.push(missingFinding(r, state, kill));
  } else if (r.seen.length && seenAlive.length === 0 && !ev.rebooted) {
    state = oomKilled ? 'killed by the OOM killer, running again' : 'restarted';
    out.push({ level: 'warn', reason: `${what} ${state} (new start time)${kill ? ` ${whenWhere(kill)}` : ''}` });
  }
  if (goneChildren.length) {
    const names = goneChildren.map((c) => `${printable(c.comm)} ${c.pid}`).join(', ');
    out.push({ level: 'note', reason: `children of a killed ${what} are gone: ${names}` });
  }
  return [{ rule: what, state, pids: running.map((p) => p.pid), unit, goneChildren }, out];
}

/** Names of the kernel's own threads: one that had to invoke the OOM killer means the kernel itself ran out. */
const KERNEL_THREAD = /^(kworker|kswapd|kcompactd|khugepaged|ksoftirqd|kthreadd|kblockd|jbd2|xfs|btrfs|writeback|rcu_)/;

/** The kills themselves: one whose victim is unknown, a hit on what the system depends on. */
function killFindings(since: readonly TimelineEntry[]): Finding[] {
  const out: Finding[] = [];
  for (const e of since) {
    if (e.killer === 'kernel' && !e.victims.length)
      out.push({
        level: 'reboot',
        reason: `an OOM kill ${whenWhere(e)} has no victim in the log: what died is unknown`,
      });
    const inv = e.kernel?.invoker?.comm;
    if (inv && KERNEL_THREAD.test(inv))
      out.push({
        level: 'reboot',
        reason: `the kernel's own thread ${printable(inv)} ran out of memory ${whenWhere(e)}: kernel work may have failed with it`,
      });
    for (const v of e.victims)
      if ((v.comm !== null && INIT_CRITICAL.has(v.comm)) || v.pid === 1)
        out.push({
          level: 'reboot',
          reason: `${describeVictim(v)}, a process the system itself depends on, was killed ${whenWhere(e)}`,
        });
  }
  return out;
}

function timeOf(e: TimelineEntry): number | null {
  return e.wall !== null ? Date.parse(e.wall) : e.uptime !== null ? e.uptime * 1000 : null;
}

/** Whether a kill answered a shortage of the whole machine's memory (not of one cgroup's limit). */
function hostWide(e: TimelineEntry): boolean {
  return e.domain === 'global' && e.killer !== 'systemd-oomd';
}

/** The first three kills within 10 minutes of each other, if any. */
function threeWithin10Min(times: number[]): boolean {
  for (let k = 2; k < times.length; k++) if ((times[k] as number) - (times[k - 2] as number) <= 600_000) return true;
  return false;
}

/**
 * Kills in a row (three within 10 minutes). Of the whole machine's memory: a reboot when
 * they left the box unstable, that is when the last was under 10 minutes ago or memory is
 * still short (MemAvailable under 10%); a warning when memory has been fine since. In one
 * memory cgroup: that cgroup keeps running out of its limit, a warning (the box is fine).
 */
function burstFindings(since: readonly TimelineEntry[], i: CheckInput): Finding[] {
  const out: Finding[] = [];
  const groups = new Map<string, TimelineEntry[]>();
  for (const e of since) {
    const key = hostWide(e) ? 'host' : e.domain === null ? null : `memcg ${e.domain}`;
    if (key !== null) groups.set(key, [...(groups.get(key) ?? []), e]);
  }
  for (const [key, entries] of groups) {
    const times = entries.flatMap((e) => {
      const t = timeOf(e);
      return t === null ? [] : [t];
    });
    times.sort((x, y) => x - y);
    if (!threeWithin10Min(times)) continue;
    const head = `${times.length} kills, three of them within 10 minutes`;
    if (key !== 'host') {
      out.push({
        level: 'warn',
        reason: `${printable(key)}: ${head}: it keeps running out of its limit (raise it, or find what grows)`,
      });
      continue;
    }
    const lastWall = entries
      .map((e) => e.wall)
      .filter((w): w is string => w !== null)
      .at(-1);
    const recent = lastWall === undefined || i.nowMs - Date.parse(lastWall) < 600_000;
    const short = i.memAvailable !== null && i.memAvailable < 0.1;
    if (recent || short)
      out.push({
        level: 'reboot',
        reason: `${head}, ${short ? `and only ${(100 * (i.memAvailable as number)).toFixed(1)}% of memory is available now` : 'the last under 10 minutes ago'}: the machine keeps running out of memory`,
      });
    else
      out.push({
        level: 'warn',
        reason: `${head}; none in the last 10 minutes${i.memAvailable !== null ? ` and ${(100 * i.memAvailable).toFixed(0)}% of memory is available now` : ''}`,
      });
  }
  return out;
}

/** Other victims: the restart a victim's unit needs when nothing of it runs now. */
function victimFindings(
  since: readonly TimelineEntry[],
  now: readonly SnapshotProcess[],
  critical: ReadonlySet<number>,
): Finding[] {
  const out: Finding[] = [];
  const units = new Set(now.map((p) => p.unit).filter((u): u is string => u !== null));
  for (const e of since)
    for (const v of e.victims) {
      if (v.pid !== null && critical.has(v.pid)) continue;
      if (!v.unit?.endsWith('.service') || units.has(v.unit)) continue;
      out.push({
        level: 'warn',
        reason: `${describeVictim(v)} was killed ${whenWhere(e)}; nothing of ${printable(v.unit)} runs now: systemctl restart ${printable(v.unit)}`,
      });
    }
  return out;
}

/**
 * Kills the kernel counted since the baseline that the log does not hold. Harmless when
 * every critical process is still the very process the baseline saw; otherwise what died
 * with them is unknown: a reboot.
 */
function unaccountedFinding(
  b: Baseline,
  i: CheckInput,
  logged: number,
  statuses: CriticalStatus[],
  rebooted: boolean,
): Finding | null {
  const sinceCount = rebooted
    ? i.killsCounted
    : i.killsCounted !== null && b.oomKillCount != null
      ? i.killsCounted - b.oomKillCount
      : null;
  const lost = sinceCount === null ? 0 : sinceCount - logged;
  const memcg = i.memcgMissing.map((m) => `${printable(m.path)} counted ${m.counted}, the log shows ${m.logged}`);
  if (lost <= 0 && !memcg.length) return null;
  const what = [
    lost > 0 ? `${lost} OOM kill(s) the kernel counted since the baseline are not in the log` : null,
    memcg.length ? `memory cgroup ${memcg.join('; ')}` : null,
  ]
    .filter(Boolean)
    .join('; ');
  const intact = statuses.every((s) => s.state === 'running');
  return intact
    ? {
        level: 'warn',
        reason: `${what}; every critical process is still the one the baseline saw, so none of them died`,
      }
    : { level: 'reboot', reason: `${what}: what died besides the critical processes is unknown` };
}

function killVerdicts(since: readonly TimelineEntry[]): KillVerdict[] {
  return since.map((e) => ({
    killer: e.killer,
    wall: e.wall,
    uptime: e.uptime,
    domain: describeDomain(e),
    victims: e.victims.map(describeVictim),
    spare: spareOf(e),
  }));
}

function decide(
  findings: Finding[],
  okReason: string,
): Pick<CheckResult, 'verdict' | 'exitCode' | 'reasons' | 'restart'> {
  const has = (level: Finding['level']) => findings.some((f) => f.level === level);
  const restarts = findings.filter((f) => f.level === 'restart');
  const verdict: Verdict = has('reboot')
    ? 'reboot recommended'
    : restarts.length
      ? 'restart'
      : has('warn')
        ? 'warning'
        : 'ok';
  // the first reason is the one that decided the verdict
  const order = { reboot: 0, restart: 1, warn: 2, note: 3 };
  const reasons = [...findings].sort((a, b) => order[a.level] - order[b.level]).map((f) => f.reason);
  if (verdict === 'ok') reasons.unshift(okReason);
  return {
    verdict,
    exitCode: verdict === 'ok' ? 0 : verdict === 'warning' ? 1 : 2,
    reasons: [...new Set(reasons)],
    restart: {
      units: [...new Set(restarts.flatMap((f) => (f.unit ? [f.unit] : [])))].sort(),
      processes: restarts.map((f) => f.process as string),
      commands: restarts.flatMap((f) => (f.command ? [f.command] : [])),
    },
  };
}

export function check(b: Baseline, i: CheckInput): CheckResult {
  const since = entriesSince(i.timeline, b, i.bootId);
  const rebooted = Boolean(b.bootId && i.bootId && b.bootId !== i.bootId);
  const ev: Evidence = {
    rebooted,
    killedPids: new Set(since.flatMap((e) => e.victims.flatMap((v) => (v.pid === null ? [] : [v.pid])))),
    killedComms: new Set(since.flatMap((e) => e.victims.flatMap((v) => (v.comm === null ? [] : [v.comm])))),
    livePids: new Set(i.now.map((p) => p.pid)),
    since,
  };
  const statuses: CriticalStatus[] = [];
  const findings: Finding[] = [];
  for (const r of b.critical) {
    const [status, found] = criticalFindings(r, i.now, ev);
    statuses.push(status);
    findings.push(...found);
  }
  const criticalPids = new Set(rebooted ? [] : b.critical.flatMap((r) => r.seen.map((s) => s.pid)));
  findings.push(...killFindings(since), ...victimFindings(since, i.now, criticalPids));
  findings.push(...burstFindings(since, i));
  const others = since.filter((e) => !e.victims.some((v) => v.pid !== null && criticalPids.has(v.pid))).length;
  if (others && statuses.every((st) => st.state === 'running'))
    findings.push({ level: 'warn', reason: `${others} OOM kill(s) since the baseline, none of a critical process` });
  const loggedSince = since.filter((e) => e.killer === 'kernel').reduce((n, e) => n + e.victims.length, 0);
  const lost = unaccountedFinding(b, i, loggedSince, statuses, rebooted);
  if (lost) findings.push(lost);
  if (rebooted) findings.push({ level: 'note', reason: 'the machine rebooted since the baseline was saved' });
  return {
    ...decide(findings, `all ${b.critical.length} critical processes are running; no OOM kill since the baseline`),
    critical: statuses,
    oomEventsSince: since.length,
    kills: killVerdicts(since),
  };
}

/**
 * `check` without a baseline: every kill since boot and the evidence check (WARNING when
 * there were kills, a reboot when the kills themselves demand one), and how to save a
 * baseline so that `check` can also tell what is missing.
 */
export function checkWithoutBaseline(i: CheckInput): CheckResult {
  const kills = Math.max(i.killsLogged, i.killsCounted ?? 0) + i.timeline.filter((e) => e.killer !== 'kernel').length;
  const hint =
    "no baseline yet: 'oomtop baseline save' records what must be running, so that check can say what is missing";
  const findings: Finding[] = [...killFindings(i.timeline), ...victimFindings(i.timeline, i.now, new Set())];
  findings.push(...burstFindings(i.timeline, i));
  if (kills) findings.unshift({ level: 'warn', reason: `${kills} OOM kill(s) since boot` });
  if (i.killsCounted !== null && i.killsCounted > i.killsLogged)
    findings.push({
      level: 'warn',
      reason: `${i.killsCounted - i.killsLogged} kill(s) the kernel counted are not in the log: what died is unknown`,
    });
  for (const m of i.memcgMissing)
    findings.push({
      level: 'warn',
      reason: `memory cgroup ${printable(m.path)} counted ${m.counted} OOM kill(s), the log shows ${m.logged}`,
    });
  findings.push({ level: 'note', reason: hint });
  const okReason = `no OOM kill since boot (the kernel counted ${i.killsCounted ?? '?'})`;
  return {
    ...decide(findings, okReason),
    critical: [],
    oomEventsSince: i.timeline.length,
    kills: killVerdicts(i.timeline),
  };
}
