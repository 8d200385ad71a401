// `oomtop history`, `oomtop baseline save` and `oomtop check`: what the OOM killer did,
// what must be running, and whether to restart something or reboot.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { UserError, messageOf } from '../core/errors.js';
import { MetricWriter } from '../core/export/prometheus.js';
import { fit, formatBytes, printable, toJson } from '../core/format.js';
import { loggedKills, OomEventParser, type OomEvent } from '../core/parse/kernel-log.js';
import type { KillerKill } from '../core/parse/killer-log.js';
import { LogParser, type ParsedLog } from '../core/parse/log.js';
import { parseBootTime, parseVmstatCounter } from '../core/parse/meminfo.js';
import type { SnapshotModel, SnapshotProcess } from '../core/snapshot.js';
import { compileRegex, hasOwnMemory } from '../core/select.js';
import {
  check,
  criticalMatches,
  describeCritical,
  type Baseline,
  type CheckResult,
  type CriticalRule,
  checkWithoutBaseline,
  type CheckInput,
} from '../core/verdict.js';
import {
  buildTimeline,
  describeDomain,
  describeVictim,
  filterTimeline,
  KILLER_NAMES,
  missingMemcgKills,
  type MissingKills,
  type TimelineEntry,
} from '../core/timeline.js';
import { checkOutputPath, writeFileAtomic } from '../system/atomic-write.js';
import { findMemoryHierarchy, readCgroupTree } from '../system/cgroupfs.js';
import { walk, type CgroupNode } from '../core/memcg.js';
import { ensureStateDir, type Roots } from '../system/env.js';
import { ProcFs } from '../system/read/procfs.js';
import { streamKernelLog, streamKillerJournal, unreadableLog, type LogSource } from '../system/kernel-log.js';
import { parseFormat } from './args.js';
import { sampleRanked, type CommandIo } from './adjust.js';

export interface HistoryOptions {
  source?: string;
  from?: string;
  since?: string;
}

function readProc(roots: Roots, rel: string): string | null {
  return new ProcFs(roots.procRoot).readOrNull(rel);
}

/** This boot's id: a baseline from another boot means the machine rebooted since. */
function bootId(roots: Roots): string | null {
  return readProc(roots, 'sys/kernel/random/boot_id')?.trim() ?? null;
}

/**
 * --since: an ISO date or time (2026-11-26, 2026-11-26 14:00, 2026-11-26T14:00:00Z), or
 * "today", "yesterday", "N s|min|h|d ago". Anything else is an error, not "everything".
 * Returns the instant (ms) and the form journalctl takes (UTC).
 */
export function parseSince(text: string, now: Date): { ms: number; journal: string } {
  const t = text.trim();
  let ms = NaN;
  const rel = /^(\d+)\s*(s|sec|seconds?|m|min|minutes?|h|hours?|d|days?)\s+ago$/i.exec(t);
  const iso =
    /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?\s*(Z|UTC|[+-]\d{2}:?\d{2})?$/i.exec(t);
  if (/^today$/i.test(t)) ms = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  else if (/^yesterday$/i.test(t)) ms = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() - 1);
  else if (rel) {
    const unit = (rel[2] as string)[0]?.toLowerCase();
    const sec = unit === 's' ? 1 : unit === 'm' ? 60 : unit === 'h' ? 3600 : 86400;
    ms = now.getTime() - Number(rel[1]) * sec * 1000;
  } else if (iso) {
    const [y, mo, d, h, mi, se] = [1, 2, 3, 4, 5, 6].map((i) => Number(iso[i] ?? 0)) as [
      number,
      number,
      number,
      number,
      number,
      number,
    ];
    const utc = Date.UTC(y, mo - 1, d, h, mi, se);
    const back = new Date(utc);
    // 2020-13-45 or 25:61 does not come back as itself: not a date
    if (
      back.getUTCFullYear() === y &&
      back.getUTCMonth() === mo - 1 &&
      back.getUTCDate() === d &&
      h < 24 &&
      mi < 60 &&
      se < 60
    ) {
      const zone = iso[7]?.toUpperCase();
      const off =
        !zone || zone === 'Z' || zone === 'UTC'
          ? 0
          : (zone[0] === '-' ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(-2))) * 60_000;
      ms = utc - off;
    }
  }
  if (!Number.isFinite(ms)) {
    throw new UserError(
      `--since '${text}' is not a time: give an ISO date or time (2026-11-26, '2026-11-26 14:00', 2026-11-26T14:00:00Z; UTC unless it says otherwise), today, yesterday, or 'N min ago'`,
    );
  }
  return {
    ms,
    journal: new Date(ms)
      .toISOString()
      .replace('T', ' ')
      .replace(/\.\d+Z$/, ' UTC'),
  };
}

export interface LoadedHistory {
  source: LogSource;
  /** The kernel's OOM events. */
  events: OomEvent[];
  /** The user-space killers' kills. */
  kills: KillerKill[];
  dropped: number;
  skippedLong: number;
  /** Lines that named a killer but that the journal shows another sender wrote. */
  forged: number;
  /** What could not be read, and why: the kills there are unknown, not absent. */
  unread: Array<{ what: string; error: string }>;
}

/** The kernel log of one source through the parser; null (with the failure) when it cannot be read. */
function parseSource(
  roots: Roots,
  source: LogSource,
  o: HistoryOptions,
  since: string | undefined,
  year: number,
): { parsed: ParsedLog; skippedLong: number } {
  const parser = new LogParser({ year });
  const stats = streamKernelLog(source, { from: o.from, since, kmsgPath: roots.kmsgPath }, (line) => parser.push(line));
  return { parsed: parser.end(), skippedLong: stats.skippedLong };
}

/**
 * The user-space killers' kills from the journal (or the saved journal roots.journalPath);
 * when it cannot be read, why, so that the timeline says their kills are unknown.
 */
function killerJournal(
  roots: Roots,
  since: string | undefined,
  year: number,
): { parsed: ParsedLog | null; error: string | null } {
  const parser = new LogParser({ year });
  try {
    if (roots.journalPath !== undefined)
      streamKernelLog('file', { from: roots.journalPath }, (line) => parser.push(line));
    else streamKillerJournal({ since }, (line) => parser.push(line));
  } catch (e) {
    if (!(e instanceof UserError)) throw e;
    return { parsed: null, error: e.message };
  }
  return { parsed: parser.end(), error: null };
}

/**
 * Every kill of the chosen log, the kernel's and the user-space killers', with wall-clock
 * times where the boot time tells them. The kernel log is streamed through the parser, never
 * held; a saved file (--from) holds both; otherwise the killers' lines come from the
 * journal. When no kernel log source can be read, the error says what each said and how to
 * let oomtop look: never "no OOM kill".
 */
export function loadHistory(roots: Roots, o: HistoryOptions, now: Date): LoadedHistory {
  const since = o.since === undefined ? null : parseSince(o.since, now);
  const sources: LogSource[] =
    o.from !== undefined
      ? ['file']
      : o.source && o.source !== 'auto'
        ? [parseFormat(o.source, ['kmsg', 'dmesg', 'journal', 'file'] as const, '--source')]
        : ['kmsg', 'dmesg', 'journal'];
  const failures: Array<{ source: LogSource; error: string }> = [];
  const year = now.getUTCFullYear();
  for (const source of sources) {
    let read: { parsed: ParsedLog; skippedLong: number };
    try {
      read = parseSource(roots, source, o, since?.journal, year);
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      // a file the user named: its own error is the answer
      if (source === 'file') throw new UserError(e.message, 1, { cause: e });
      failures.push({ source, error: e.message });
      continue;
    }
    const { events } = read.parsed;
    let { kills, dropped, forged } = read.parsed;
    const unread: LoadedHistory['unread'] = [];
    if (source !== 'file') {
      const btime = parseBootTime(readProc(roots, 'stat') ?? '');
      if (btime !== null)
        for (const e of events)
          if (!e.wall && e.uptime !== null) e.wall = new Date((btime + e.uptime) * 1000).toISOString();
    }
    // a saved file holds what it holds; a saved journal given beside it (--journal) adds the killers'
    if (source !== 'file' || roots.journalPath !== undefined) {
      const j = killerJournal(roots, since?.journal, year);
      if (source === 'file') kills = [...kills, ...(j.parsed?.kills ?? [])];
      else if (j.parsed) ({ kills } = j.parsed);
      if (j.parsed) {
        forged += j.parsed.forged;
        dropped += j.parsed.dropped;
      } else
        unread.push({
          what: "the user-space killers' journal (systemd-oomd, earlyoom, nohang, kubelet)",
          error: j.error ?? '',
        });
    }
    const after = <T extends { wall: string | null }>(xs: T[]) =>
      since === null ? xs : xs.filter((e) => e.wall === null || Date.parse(e.wall) >= since.ms);
    return {
      source,
      events: source === 'journal' ? events : after(events),
      kills: after(kills),
      dropped,
      skippedLong: read.skippedLong,
      forged,
      unread,
    };
  }
  throw new UserError(unreadableLog(failures), 1);
}

function kernelVictims(e: OomEvent): string {
  if (!e.victims.length) return 'victim unknown (the log has no "Killed process" line)';
  return e.victims
    .map(
      (v) =>
        `${printable(v.comm)} ${v.pid}${v.uid !== null ? ` uid ${v.uid}` : ''}${v.memcg ? ` in ${printable(v.memcg)}` : ''} (rss ${formatBytes(((v.anonRssKb ?? 0) + (v.fileRssKb ?? 0) + (v.shmemRssKb ?? 0)) * 1024)}${v.adj !== null ? `, adj ${v.adj}` : ''})${v.oomGroup ? ' [oom.group]' : ''}${v.reaped ? ' reaped' : ''}`,
    )
    .join('; ');
}

/** A kernel event's lines under its heading. */
function kernelLines(e: OomEvent): string[] {
  const out = [`  killed: ${kernelVictims(e)}`];
  if (e.memcg)
    out.push(`  memcg usage ${formatBytes(e.memcg.usageKb * 1024)} of limit ${formatBytes(e.memcg.limitKb * 1024)}`);
  if (e.ruleVictim)
    out.push(
      `  the kernel's rule on its tasks table (${e.tasks.length} tasks) picks ${printable(e.ruleVictim.comm)} ${e.ruleVictim.pid}: ${e.matchesRule ? 'matches' : e.matchesRule === false ? 'DOES NOT match' : 'not comparable'}`,
    );
  return out;
}

/** A user-space killer's kill under its heading. */
function killerLines(k: KillerKill): string[] {
  const t = k.target;
  const v = describeVictim({ ...t, withOther: false });
  const extra = [
    t.uid !== null ? `uid ${t.uid}` : null,
    t.rssKb !== null ? `VmRSS ${formatBytes(t.rssKb * 1024)}` : null,
    k.processes !== null ? `${k.processes} process(es)` : null,
    k.outcome,
  ].filter(Boolean);
  return [`  killed: ${v}${extra.length ? ` (${extra.join(', ')})` : ''}`];
}

/** The timeline in text: a heading per kill (time, killer, domain, why), then what died. */
export function renderTimeline(entries: readonly TimelineEntry[], source: string): string {
  if (!entries.length) return `no kill in the log (${source})\n`;
  const out: string[] = [];
  for (const e of entries) {
    const when = `${e.wall ?? '?'}${e.uptime !== null ? ` (${e.uptime.toFixed(3)} s after boot)` : ''}`;
    const k = e.kernel;
    const why = k?.invoker
      ? `invoked by ${printable(k.invoker.comm)} (order ${k.invoker.order}${k.invoker.gfpFlags ? `, ${printable(k.invoker.gfpFlags)}` : ''})`
      : e.user
        ? [e.user.signal, e.user.reason === null ? null : printable(e.user.reason)].filter(Boolean).join(', ')
        : '';
    out.push(`${when}  ${e.killer}  ${describeDomain(e)}${why ? `  ${why}` : ''}`);
    out.push(...(k ? kernelLines(k) : e.user ? killerLines(e.user) : []));
    if (e.incomplete) out.push(`  incomplete: missing ${e.missing.join(', ')}`);
  }
  return `${out.join('\n')}\n`;
}

/**
 * Memory cgroups whose kill counters exceed the kills the log shows in them, and what could
 * not be compared: the hierarchy unreadable, or cgroups whose counter file was unreadable.
 * No memory hierarchy at all (no memory controller) is no counters, not a failure.
 */
function memcgMissing(roots: Roots, events: readonly OomEvent[]): { missing: MissingKills[]; notes: string[] } {
  if (!findMemoryHierarchy(roots.sysRoot)) return { missing: [], notes: [] };
  let tree: CgroupNode;
  try {
    tree = readCgroupTree(roots.sysRoot, '/').root;
  } catch (e) {
    return {
      missing: [],
      notes: [`note: the memory cgroups' kill counters were not compared with the log: ${messageOf(e)}`],
    };
  }
  const all: CgroupNode[] = [];
  const notes: string[] = [];
  walk(tree, (n) => {
    if (n.path !== '/') all.push(n);
    const counter = n.unreadable?.find((u) => /^memory\.(events|oom_control):/.test(u));
    if (counter)
      notes.push(
        `note: memory cgroup ${printable(n.path)}: ${printable(counter)}: its kills were not compared with the log`,
      );
  });
  return { missing: missingMemcgKills(all, events), notes };
}

/** How complete the log is: the kernel's own kill counters against the kills it shows, and what could not be read. */
export interface Evidence {
  /** /proc/vmstat oom_kill since boot; null when not comparable (a saved file, --since) or unreadable. */
  countedSinceBoot: number | null;
  /** The kernel kills the log shows (every process killed, as the kernel counts them). */
  logged: number;
  /** Memory cgroups whose counters hold kills the log does not. */
  memcg: MissingKills[];
  /** Kills the kernel counted since boot that the log does not hold. */
  missing: number;
  unread: LoadedHistory['unread'];
  forged: number;
  notes: string[];
}

export function gatherEvidence(roots: Roots, h: LoadedHistory, o: HistoryOptions): Evidence {
  const counted =
    h.source === 'file' || o.since !== undefined
      ? null
      : parseVmstatCounter(readProc(roots, 'vmstat') ?? '', 'oom_kill');
  const logged = loggedKills(h.events);
  const memcg = memcgMissing(roots, h.events);
  const notes: string[] = [];
  if (h.dropped)
    notes.push(`note: ${h.dropped} older kill(s) not shown (at most ${OomEventParser.MAX_EVENTS} are kept)`);
  if (h.skippedLong) notes.push(`note: ${h.skippedLong} line(s) longer than 64 KiB skipped (not kernel messages)`);
  notes.push(...memcg.notes);
  for (const m of memcg.missing)
    notes.push(
      `note: memory cgroup ${printable(m.path)} counted ${m.counted} OOM kill(s) (its memory.events / memory.oom_control), the log shows ${m.logged} in it: ${m.counted - m.logged} missing`,
    );
  const missing = counted !== null && counted > logged + h.dropped ? counted - logged - h.dropped : 0;
  if (missing)
    notes.push(
      `note: the kernel counted ${counted} OOM kill(s) since boot (/proc/vmstat oom_kill), the log (${h.source}) shows ${logged}: ${missing} are not in it (the ring buffer wrapped, or the lines were lost)`,
    );
  for (const u of h.unread)
    notes.push(`note: ${u.what} could not be read, so their kills are not shown: ${printable(u.error)}`);
  if (h.forged)
    notes.push(
      `note: ${h.forged} line(s) claimed to be a killer's but the journal shows another sender wrote them: not counted as kills`,
    );
  return {
    countedSinceBoot: counted,
    logged,
    memcg: memcg.missing,
    missing,
    unread: h.unread,
    forged: h.forged,
    notes,
  };
}

export function runHistory(roots: Roots, o: HistoryOptions & { format?: string; killer?: string }, now: Date): string {
  const format = parseFormat(o.format ?? 'table', ['table', 'json'] as const);
  const killer = o.killer === undefined ? undefined : parseFormat(o.killer, KILLER_NAMES, '--killer');
  const h = loadHistory(roots, o, now);
  const timeline = filterTimeline(buildTimeline(h.events, h.kills), { killer });
  const ev = gatherEvidence(roots, h, o);
  if (format === 'json')
    return `${toJson(
      {
        schema: 'oomtop.history/1',
        time: now.toISOString(),
        source: h.source,
        eventsDropped: h.dropped,
        linesSkipped: h.skippedLong,
        killsCountedSinceBoot: ev.countedSinceBoot,
        events: killer === undefined || killer === 'kernel' ? h.events : [],
        timeline: timeline.map(({ kernel, ...rest }) => rest),
        evidence: { ...ev, notes: undefined },
      },
      2,
    )}\n`;
  const label = h.source === 'file' || h.unread.length ? h.source : `${h.source} and the journal`;
  return renderTimeline(timeline, label) + ev.notes.map((n) => `${n}\n`).join('');
}

// ---- baseline ----

export const BASELINE_FILE = 'baseline.yaml';

function descendants(p: SnapshotProcess, all: readonly SnapshotProcess[]): Array<{ pid: number; comm: string }> {
  const out: Array<{ pid: number; comm: string }> = [];
  const walk = (pid: number, depth: number) => {
    if (depth > 8) return;
    for (const c of all)
      if (c.ppid === pid && c.pid !== pid) {
        out.push({ pid: c.pid, comm: c.comm });
        walk(c.pid, depth + 1);
      }
  };
  walk(p.pid, 0);
  return out;
}

export function ruleFrom(
  sel: Pick<CriticalRule, 'name' | 'unit' | 'cmdline'>,
  procs: readonly SnapshotProcess[],
  started: (pid: number) => { argv: string[]; cwd: string | null } = () => ({ argv: [], cwd: null }),
): CriticalRule {
  const rule: CriticalRule = { ...sel, seen: [] };
  const matched = criticalMatches(rule, procs);
  rule.seen = matched.map((p) => {
    const s = started(p.pid);
    return {
      pid: p.pid,
      startTime: p.startTime,
      comm: p.comm,
      ppid: p.ppid,
      children: descendants(p, procs),
      ...(s.argv.length ? { argv: s.argv, user: p.user, cwd: s.cwd } : {}),
    };
  });
  const unit = matched.map((p) => p.unit).find((u) => u?.endsWith('.service'));
  rule.restartUnit = sel.unit ?? unit ?? null;
  return rule;
}

/** Long-running daemons now: children of init (not kernel threads), up for over a minute. */
export function proposeCritical(
  procs: readonly SnapshotProcess[],
  nowMs: number,
): Array<Pick<CriticalRule, 'name' | 'unit'>> {
  const seen = new Set<string>();
  const out: Array<Pick<CriticalRule, 'name' | 'unit'>> = [];
  for (const p of procs) {
    if (p.ppid !== 1 || !hasOwnMemory(p)) continue;
    if (p.startedAt && nowMs - Date.parse(p.startedAt) < 60_000) continue;
    const key = p.unit?.endsWith('.service') ? `unit:${p.unit}` : `name:${p.comm}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(p.unit?.endsWith('.service') ? { unit: p.unit } : { name: p.comm });
  }
  return out;
}

export async function runBaselineSave(
  roots: Roots,
  io: CommandIo,
  o: { critical?: string[]; criticalUnit?: string[]; criticalCmdline?: string[]; yes?: boolean },
): Promise<number> {
  const { snapshot } = sampleRanked(roots, io.now());
  const procs = snapshot.processes;
  let selectors: Array<Pick<CriticalRule, 'name' | 'unit' | 'cmdline'>> = [
    ...(o.critical ?? []).map((name) => ({ name })),
    ...(o.criticalUnit ?? []).map((unit) => ({ unit })),
    ...(o.criticalCmdline ?? []).map((cmdline) => {
      compileRegex(cmdline, '--critical-cmdline'); // a one-line error now, not a rule that never matches
      return { cmdline };
    }),
  ];
  if (!selectors.length) {
    selectors = proposeCritical(procs, io.now().getTime());
    io.out(
      `proposed critical processes (long-running daemons found now):\n${selectors.map((s) => `  ${describeCritical({ ...s, seen: [] })}`).join('\n')}\n`,
    );
    if (!o.yes && !(await io.confirm('save these as the baseline? [y/N] '))) {
      throw new UserError(
        'baseline not saved: confirm, add --yes, or name them with --critical, --critical-unit, --critical-cmdline',
        1,
      );
    }
  }
  const proc = new ProcFs(roots.procRoot);
  // what started each process, so that check can tell how to start it again when no unit does
  const started = (pid: number) => ({
    argv: (proc.readOrNull(`${pid}/cmdline`) ?? '').split('\0').filter((a, i, all) => a !== '' || i < all.length - 1),
    cwd: proc.readlinkOrNull(`${pid}/cwd`),
  });
  const rules = selectors.map((s) => ruleFrom(s, procs, started));
  for (const r of rules)
    if (!r.seen.length)
      io.out(`note: nothing matches ${describeCritical(r)} now; it is recorded and will be reported missing\n`);
  const baseline: Baseline = {
    version: 1,
    savedAt: io.now().toISOString(),
    host: snapshot.hostname,
    bootId: bootId(roots),
    uptime: Number(readProc(roots, 'uptime')?.split(' ')[0] ?? NaN) || null,
    oomKillCount: snapshot.oomKillCount,
    critical: rules,
  };
  const path = join(io.stateDir, BASELINE_FILE);
  const text =
    '# oomtop baseline: the processes that must be running. Edit freely: `oomtop check` reads it.\n' +
    '# A rule matches by name (exact comm), unit (systemd unit) and/or cmdline (regular expression);\n' +
    '# restartUnit is what `oomtop check` tells you to restart; seen is what ran when this was saved.\n' +
    toYaml(baseline, { lineWidth: 0 });
  ensureStateDir(io.stateDir);
  writeFileAtomic(path, text);
  io.out(
    `baseline saved to ${path}: ${rules.length} critical rule(s), ${rules.reduce((n, r) => n + r.seen.length, 0)} process(es) running now\n`,
  );
  return 0;
}

export function loadBaseline(stateDir: string): Baseline {
  const path = join(stateDir, BASELINE_FILE);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new UserError(`no baseline at ${path}: run 'oomtop baseline save' first (or set OOMTOP_STATE_DIR)`, 3);
  }
  try {
    const b = parseYaml(text) as Baseline;
    if (!b || !Array.isArray(b.critical)) throw new Error('no "critical:" list');
    for (const r of b.critical) r.seen = Array.isArray(r.seen) ? r.seen : [];
    return b;
  } catch (e) {
    throw new UserError(`${path} is not a valid baseline (${messageOf(e)}): fix it or save a new one`, 3);
  }
}

export interface CheckReport extends CheckResult {
  /** OOM kills since boot as the kernel counts them (/proc/vmstat oom_kill), when it can be read. */
  oomKills: number | null;
  pageSize: number;
  lastEvent: { wall: string | null; top: Array<{ pid: number; name: string; rssPages: number }> } | null;
  topNow: Array<{ pid: number; name: string; rssPages: number }>;
  /** The kernel rules oomtop's order follows here, and their agreement with the kernel's oom_score. */
  model: SnapshotModel;
}

export function buildCheckReport(
  roots: Roots,
  io: CommandIo,
  o: HistoryOptions,
): { report: CheckReport; events: OomEvent[] } {
  const baseline = existsSync(join(io.stateDir, BASELINE_FILE)) ? loadBaseline(io.stateDir) : null;
  let h: LoadedHistory;
  try {
    h = loadHistory(roots, o, io.now());
  } catch (e) {
    throw new UserError(`cannot tell what the OOM killer did: ${messageOf(e)}`, 3);
  }
  const { events } = h;
  const ev = gatherEvidence(roots, h, o);
  const { snapshot } = sampleRanked(roots, io.now());
  const input: CheckInput = {
    now: snapshot.processes,
    timeline: buildTimeline(h.events, h.kills),
    bootId: bootId(roots),
    // a saved log is taken as this machine's since boot; with --since the counter is not comparable
    killsCounted: o.since === undefined ? snapshot.oomKillCount : null,
    killsLogged: ev.logged + h.dropped,
    memcgMissing: ev.memcg,
    nowMs: io.now().getTime(),
    memAvailable:
      snapshot.memAvailableKb !== null && snapshot.memTotalKb ? snapshot.memAvailableKb / snapshot.memTotalKb : null,
  };
  const result = baseline ? check(baseline, input) : checkWithoutBaseline(input);
  for (const u of h.unread) result.reasons.push(`note: ${u.what} could not be read: their kills are unknown`);
  if (h.forged) result.reasons.push(`note: ${h.forged} forged killer line(s) ignored (see oomtop history)`);
  const last = events.at(-1);
  if (snapshot.model.compared > 0 && !snapshot.model.exact)
    result.reasons.push(
      `note: the kernel's oom_score values follow no known rules (${printable(snapshot.model.why)}): oomtop's kill order here is not exact`,
    );
  const report: CheckReport = {
    ...result,
    model: snapshot.model,
    oomKills: snapshot.oomKillCount,
    pageSize: snapshot.pageSize,
    lastEvent: last
      ? {
          wall: last.wall,
          top: [...last.tasks]
            .sort((a, b) => b.rss - a.rss)
            .slice(0, 5)
            .map((t) => ({ pid: t.tgid, name: t.name, rssPages: t.rss })),
        }
      : null,
    topNow: [...snapshot.processes]
      .filter((p) => p.rssPages !== null)
      .sort((a, b) => (b.rssPages ?? 0) - (a.rssPages ?? 0))
      .slice(0, 5)
      .map((p) => ({ pid: p.pid, name: p.comm, rssPages: p.rssPages as number })),
  };
  return { report, events };
}

/** Each kill since the baseline (or boot), labelled, with what would have spared its victim. */
function killLines(r: CheckReport): string[] {
  if (!r.kills.length) return [];
  const out = ['', `kills since ${r.critical.length ? 'the baseline' : 'boot'}:`];
  out.push(`  ${fit('TIME', 26)} ${fit('KILLER', 13)} ${fit('DOMAIN', 30)} VICTIM`);
  const SHOWN = 20;
  if (r.kills.length > SHOWN) out.push(`  (${r.kills.length - SHOWN} earlier kill(s): oomtop history)`);
  for (const k of r.kills.slice(-SHOWN)) {
    out.push(
      `  ${fit(k.wall ?? '?', 26)} ${fit(k.killer, 13)} ${fit(k.domain, 30)} ${k.victims.join('; ') || 'unknown'}`,
    );
    if (k.spare) {
      out.push(`    would have spared it: ${k.spare.change}`);
      if (k.spare.rule)
        out.push('    as a policy rule:', ...k.spare.rule.split('\n').map((l) => `      ${printable(l)}`));
    }
  }
  return out;
}

export function renderCheck(r: CheckReport): string {
  const head = { 0: 'OK', 1: 'WARNING', 2: 'CRITICAL', 3: 'UNKNOWN' }[r.exitCode];
  // Nagios plugin perfdata after '|' on the first line: the kills the verdict is based on and the critical processes missing.
  const missing = r.critical.filter((c) => c.state === 'missing' || c.state === 'killed by the OOM killer').length;
  const perf = `'oom_kills'=${r.oomKills ?? r.oomEventsSince};;;0 'missing_critical'=${missing};;;0 'critical'=${r.critical.length};;;0`;
  const lines = [`OOMTOP ${head} - ${r.verdict}: ${r.reasons[0] ?? ''} | ${perf}`];
  for (const reason of r.reasons.slice(1)) lines.push(`  ${reason}`);
  if (r.restart.units.length) lines.push(`  restart: systemctl restart ${r.restart.units.join(' ')}`);
  for (const c of r.restart.commands) lines.push(`  start again: ${printable(c)}`);
  lines.push(...killLines(r));
  if (r.critical.length) lines.push('', 'critical processes:', `  ${fit('STATE', 40)} RULE`);
  for (const c of r.critical)
    lines.push(
      `  ${fit(c.state, 40)} ${c.rule}${c.pids.length ? ` (pid ${c.pids.join(', ')})` : ''}${c.unit ? ` unit ${printable(c.unit)}` : ''}`,
    );
  if (r.lastEvent) {
    lines.push('', `what was using the memory at the last OOM, beside the top now:`);
    lines.push(`  ${fit(`AT THE LAST OOM (${r.lastEvent.wall ?? '?'})`, 36)}  NOW`);
    for (let i = 0; i < Math.max(r.lastEvent.top.length, r.topNow.length); i++) {
      const a = r.lastEvent.top[i];
      const b = r.topNow[i];
      // the tasks table counts pages of the kernel that logged it: this machine's
      lines.push(
        `  ${fit(a ? `${a.name} ${a.pid} ${formatBytes(a.rssPages * r.pageSize)}` : '', 36)}  ${b ? `${printable(b.name)} ${b.pid} ${formatBytes(b.rssPages * r.pageSize)}` : ''}`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}

export function checkToPrometheus(r: CheckReport, events: readonly OomEvent[] = []): string {
  const w = new MetricWriter();
  w.metric('oomtop_check_status', 'oomtop check: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN', 'gauge', [[{}, r.exitCode]]);
  w.metric(
    'oomtop_check_verdict',
    'the verdict of oomtop check (1 for the current one)',
    'gauge',
    (['ok', 'warning', 'restart', 'reboot recommended'] as const).map((v) => [{ verdict: v }, r.verdict === v ? 1 : 0]),
  );
  w.metric('oomtop_critical_processes', 'critical processes in the baseline', 'gauge', [[{}, r.critical.length]]);
  w.metric('oomtop_critical_missing', 'critical processes not running (killed or missing)', 'gauge', [
    [{}, r.critical.filter((c) => c.state === 'missing' || c.state === 'killed by the OOM killer').length],
  ]);
  w.metric('oomtop_oom_events_since_baseline', 'OOM events in the kernel log since the baseline', 'gauge', [
    [{}, r.oomEventsSince],
  ]);
  // oomtop_oom_kills_total is the snapshot's: one name in one textfile only (node_exporter refuses duplicates)
  const byKiller = new Map<string, number>(KILLER_NAMES.map((k) => [k, 0]));
  for (const k of r.kills) byKiller.set(k.killer, (byKiller.get(k.killer) ?? 0) + 1);
  w.metric(
    'oomtop_kills_since_baseline',
    'kills in the logs since the baseline (since boot without one), by killer',
    'gauge',
    [...byKiller].map(([killer, n]) => [{ killer }, n]),
  );
  const byVictim = new Map<string, number>();
  for (const e of events) for (const v of e.victims) byVictim.set(v.comm, (byVictim.get(v.comm) ?? 0) + 1);
  w.metric(
    'oomtop_oom_kills_by_victim',
    'OOM kills in the kernel log, by victim name',
    'gauge',
    [...byVictim].map(([comm, n]) => [{ comm }, n]),
  );
  return w.toString();
}

export function runCheck(
  roots: Roots,
  io: CommandIo,
  o: HistoryOptions & { format?: string; output?: string },
): number {
  const format = parseFormat(o.format ?? 'table', ['table', 'json', 'prometheus'] as const);
  if (o.output !== undefined) checkOutputPath(o.output);
  const emit = (text: string) => (o.output !== undefined ? writeFileAtomic(o.output, text) : io.out(text));
  let built: { report: CheckReport; events: OomEvent[] };
  try {
    built = buildCheckReport(roots, io, o);
  } catch (e) {
    if (e instanceof UserError && e.exitCode === 3) {
      // monitoring plugins say UNKNOWN on stdout and exit 3
      const text =
        format === 'json'
          ? `${toJson({ schema: 'oomtop.check/1', verdict: 'unknown', exitCode: 3, reasons: [e.message] })}\n`
          : format === 'prometheus'
            ? unknownMetrics()
            : `OOMTOP UNKNOWN - ${e.message}\n`;
      emit(text);
      return 3;
    }
    throw e;
  }
  const { report, events } = built;
  const text =
    format === 'json'
      ? `${toJson({ schema: 'oomtop.check/1', time: io.now().toISOString(), ...report }, 2)}\n`
      : format === 'prometheus'
        ? checkToPrometheus(report, events)
        : renderCheck(report);
  emit(text);
  return report.exitCode;
}

function unknownMetrics(): string {
  const w = new MetricWriter();
  w.metric('oomtop_check_status', 'oomtop check: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN', 'gauge', [[{}, 3]]);
  return w.toString();
}
