// After an OOM: compare what runs now with the baseline of critical processes and with the
// OOM events since, and say what to do: ok, restart (exactly what), or reboot recommended.
import { printable } from './format.js';
import { loggedKills, type OomEvent } from './parse/kernel-log.js';
import { compilePattern } from './pattern.js';
import { exactly, isEmptySelector, matches, type Selector } from './select.js';
import type { SnapshotProcess } from './snapshot.js';

export interface CriticalRule {
  name?: string;
  unit?: string;
  cmdline?: string;
  /** The systemd unit that restarts it, when known. */
  restartUnit?: string | null;
  /** What matched when the baseline was saved. */
  seen: Array<{
    pid: number;
    startTime: number;
    comm: string;
    ppid: number;
    children: Array<{ pid: number; comm: string }>;
  }>;
}

export interface Baseline {
  version: 1;
  savedAt: string;
  host: string | null;
  bootId: string | null;
  /** Seconds since boot when saved: OOM events after it (same boot) count. */
  uptime: number | null;
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
  restart: { units: string[]; processes: string[] };
  oomEventsSince: number;
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

/** OOM events after the baseline was saved (same boot: by uptime; a new boot: all of it). */
export function eventsSince(events: readonly OomEvent[], b: Baseline, currentBootId: string | null): OomEvent[] {
  if (b.bootId && currentBootId && b.bootId !== currentBootId) return [...events];
  const savedMs = Date.parse(b.savedAt);
  return events.filter((e) =>
    e.uptime !== null && b.uptime !== null
      ? e.uptime >= b.uptime
      : e.wall !== null
        ? Date.parse(e.wall) >= savedMs
        : true,
  );
}

/** One piece of evidence and what it demands: a reboot, a restart of a unit, or a warning. */
interface Finding {
  level: 'reboot' | 'restart' | 'warn' | 'note';
  reason: string;
  /** With restart: the unit and the rule it restarts. */
  unit?: string;
  process?: string;
}

/** What the OOM events since the baseline show, besides the critical processes. */
interface Evidence {
  rebooted: boolean;
  killedPids: ReadonlySet<number>;
  killedComms: ReadonlySet<string>;
  livePids: ReadonlySet<number>;
}

/** One critical rule: its state now and what that demands. */
function criticalFindings(r: CriticalRule, now: readonly SnapshotProcess[], ev: Evidence): [CriticalStatus, Finding[]] {
  const running = criticalMatches(r, now);
  const seenAlive = r.seen.filter((s) => running.some((p) => p.pid === s.pid && p.startTime === s.startTime));
  const oomKilled =
    (!ev.rebooted && r.seen.some((s) => ev.killedPids.has(s.pid))) ||
    (r.seen.length === 0 && r.name !== undefined && ev.killedComms.has(r.name));
  const goneChildren = r.seen
    .filter((s) => ev.killedPids.has(s.pid))
    .flatMap((s) => s.children.filter((c) => !ev.livePids.has(c.pid)));
  const unit = r.restartUnit ?? r.unit ?? null;
  const what = describeCritical(r);
  const out: Finding[] = [];
  let state: CriticalStatus['state'] = 'running';
  if (running.length === 0) {
    state = oomKilled ? 'killed by the OOM killer' : 'missing';
    out.push(
      unit
        ? { level: 'restart', reason: `${what} is ${state}: restart ${unit}`, unit, process: what }
        : { level: 'reboot', reason: `${what} is ${state} and no systemd unit is known to restart it` },
    );
  } else if (r.seen.length && seenAlive.length === 0 && !ev.rebooted) {
    state = oomKilled ? 'killed by the OOM killer, running again' : 'restarted';
    out.push({ level: 'warn', reason: `${what} ${state} (new start time)` });
  }
  if (goneChildren.length) {
    const names = goneChildren.map((c) => `${printable(c.comm)} ${c.pid}`).join(', ');
    out.push({ level: 'note', reason: `children of a killed ${what} are gone: ${names}` });
  }
  return [{ rule: what, state, pids: running.map((p) => p.pid), unit, goneChildren }, out];
}

/** The events themselves: a kill with no victim logged, a hit on what the system depends on, a burst. */
function eventFindings(since: readonly OomEvent[]): Finding[] {
  const out: Finding[] = [];
  for (const e of since) {
    if (e.incomplete && e.missing.some((m) => m.includes('victim unknown'))) {
      const at = e.wall ?? `${e.uptime ?? '?'} s after boot`;
      out.push({
        level: 'reboot',
        reason: `an OOM event at ${at} has no victim in the log (incomplete): what died is unknown`,
      });
    }
    for (const v of e.victims)
      if (INIT_CRITICAL.has(v.comm) || v.pid === 1)
        out.push({
          level: 'reboot',
          reason: `the OOM killer hit ${printable(v.comm)} (pid ${v.pid}), a process the system itself depends on`,
        });
  }
  const recent = since.flatMap((e) => (e.uptime === null ? [] : [e.uptime])).sort((a, b) => a - b);
  for (let i = 2; i < recent.length; i++) {
    if ((recent[i] as number) - (recent[i - 2] as number) <= 600) {
      out.push({
        level: 'reboot',
        reason: `${recent.length} OOM kills, three of them within 10 minutes: memory keeps running out`,
      });
      break;
    }
  }
  return out;
}

export function check(
  b: Baseline,
  now: readonly SnapshotProcess[],
  events: readonly OomEvent[],
  currentBootId: string | null,
): CheckResult {
  const since = eventsSince(events, b, currentBootId);
  const ev: Evidence = {
    rebooted: Boolean(b.bootId && currentBootId && b.bootId !== currentBootId),
    killedPids: new Set(since.flatMap((e) => e.victims.map((v) => v.pid))),
    killedComms: new Set(since.flatMap((e) => e.victims.map((v) => v.comm))),
    livePids: new Set(now.map((p) => p.pid)),
  };
  const statuses: CriticalStatus[] = [];
  const findings: Finding[] = [];
  for (const r of b.critical) {
    const [status, found] = criticalFindings(r, now, ev);
    statuses.push(status);
    findings.push(...found);
  }
  findings.push(...eventFindings(since));
  const kills = since.reduce((n, e) => n + e.victims.length, 0);
  if (kills && !statuses.some((s) => s.state !== 'running'))
    findings.push({ level: 'warn', reason: `${kills} OOM kill(s) since the baseline, none of a critical process` });
  if (ev.rebooted) findings.push({ level: 'note', reason: 'the machine rebooted since the baseline was saved' });
  const has = (level: Finding['level']) => findings.some((f) => f.level === level);
  const restarts = findings.filter((f) => f.level === 'restart');
  const verdict: Verdict = has('reboot')
    ? 'reboot recommended'
    : restarts.length
      ? 'restart'
      : has('warn')
        ? 'warning'
        : 'ok';
  const reasons = findings.map((f) => f.reason);
  if (verdict === 'ok')
    reasons.push(`all ${b.critical.length} critical processes are running; no OOM kill since the baseline`);
  return {
    verdict,
    exitCode: verdict === 'ok' ? 0 : verdict === 'warning' ? 1 : 2,
    reasons: [...new Set(reasons)],
    critical: statuses,
    restart: {
      units: [...new Set(restarts.map((f) => f.unit as string))].sort(),
      processes: restarts.map((f) => f.process as string),
    },
    oomEventsSince: since.length,
  };
}

/**
 * `check` without a baseline: what the kernel and its log say about OOM kills since boot
 * (WARNING when there were any), and how to save a baseline so that `check` can also tell
 * what is missing. `killsCounted`: /proc/vmstat oom_kill (null when it cannot be read).
 */
export function checkWithoutBaseline(events: readonly OomEvent[], killsCounted: number | null): CheckResult {
  const logged = loggedKills(events);
  const kills = Math.max(logged, killsCounted ?? 0);
  const hint =
    "no baseline yet: 'oomtop baseline save' records what must be running, so that check can say what is missing";
  const none = { critical: [], restart: { units: [], processes: [] } };
  if (!kills) {
    return {
      verdict: 'ok',
      exitCode: 0,
      reasons: [`no OOM kill since boot (the kernel counted ${killsCounted ?? '?'})`, hint],
      ...none,
      oomEventsSince: 0,
    };
  }
  const last = events.at(-1);
  const v = last?.victims[0];
  const reasons = [
    `${kills} OOM kill(s) since boot${v && last ? `, the last ${printable(v.comm)} ${v.pid} at ${last.wall ?? '?'} in ${printable(last.domain ?? 'an unknown domain')}` : ''}`,
  ];
  if (killsCounted !== null && killsCounted > logged)
    reasons.push(`${killsCounted - logged} kill(s) the kernel counted are not in the log`);
  reasons.push(hint);
  return { verdict: 'warning', exitCode: 1, reasons, ...none, oomEventsSince: events.length };
}
