// `oomtop set | protect | reset | undo | log`: choose processes, show old → new and the
// kill order before and after, then write through the one adjuster (or, with --dry-run,
// write nothing).
import { originalAdj, processKey, type AuditRecord } from '../core/audit.js';
import { parseAdjValue, parsePid } from '../core/adj.js';
import { OOM_SCORE_ADJ_MIN } from '../core/badness.js';
import { UserError } from '../core/errors.js';
import { adjFloor, checkFloor, type AdjFloor } from '../core/floor.js';
import { fit, printable, toJson } from '../core/format.js';
import { compileRegex, isEmptySelector, matches, type Selector } from '../core/select.js';
import { buildSnapshot, type Snapshot, type SnapshotProcess } from '../core/snapshot.js';
import type { SystemSample } from '../core/types.js';
import { Adjuster, canLowerBelowFloor, type AdjustResult, type AdjustTarget } from '../system/adjuster.js';
import { AuditLog, changesToUndoIn, trustedRecordsFor, type BadLine } from '../system/audit-log.js';
import { loadUsers, type Roots } from '../system/env.js';
import { ProcFs } from '../system/read/procfs.js';
import { Sampler } from '../system/sampler.js';
import { parseFormat, parsePositiveInt } from './args.js';
import type { CommandIo } from './context.js';

export type { CommandIo } from './context.js';

export interface SelectOptions {
  name?: string;
  cmdline?: string;
  user?: string;
  cgroup?: string;
  yes?: boolean;
  dryRun?: boolean;
}

export interface Planned {
  proc: SnapshotProcess;
  target: AdjustTarget;
  value: number;
}

export interface Ranked {
  sample: SystemSample;
  /** The global kill order now (the "before" of any change). */
  snapshot: Snapshot;
  users: ReadonlyMap<number, string>;
}

/** Samples once and ranks globally: the state every adjust command starts from. */
export function sampleRanked(roots: Roots, now: Date, sampler = new Sampler(roots.procRoot)): Ranked {
  const sample = sampler.sample(now.getTime());
  const users = loadUsers(roots.passwdFile);
  const { snapshot } = buildSnapshot(sample, { users });
  return { sample, snapshot, users };
}

export function selectorFrom(o: SelectOptions): Selector {
  return {
    name: o.name === undefined ? undefined : compileRegex(o.name, '--name'),
    cmdline: o.cmdline === undefined ? undefined : compileRegex(o.cmdline, '--cmdline'),
    user: o.user,
    cgroup: o.cgroup,
  };
}

/** Explicit pids plus selector matches; fails when nothing is chosen or a pid is absent. */
export function chooseProcesses(snapshot: Snapshot, pids: string[], o: SelectOptions): SnapshotProcess[] {
  const byPid = new Map(snapshot.processes.map((p) => [p.pid, p]));
  const chosen = new Map<number, SnapshotProcess>();
  for (const text of pids) {
    const pid = parsePid(text);
    const p = byPid.get(pid);
    if (!p) throw new UserError(`no process with pid ${pid}: check the pid with 'oomtop snapshot'`);
    chosen.set(pid, p);
  }
  const sel = selectorFrom(o);
  if (!isEmptySelector(sel)) {
    const found = snapshot.processes.filter((p) => p.pid !== process.pid && matches(sel, p));
    if (found.length === 0)
      throw new UserError('no process matches the --name/--cmdline/--user/--cgroup selection: nothing to do', 1);
    for (const p of found) chosen.set(p.pid, p);
  }
  if (chosen.size === 0) throw new UserError('choose processes: give PIDs or --name, --cmdline, --user, --cgroup');
  return [...chosen.values()];
}

export function targetOf(p: SnapshotProcess): AdjustTarget {
  return { pid: p.pid, startTime: p.startTime, comm: p.comm };
}

/** The kill order before and after hypothetical adj values, top `n` plus the changed rows. */
export function killOrderChange(now: Ranked, plan: readonly Planned[], n = 10): string {
  const overrides = new Map(plan.map((p) => [p.target.pid, p.value]));
  const after = buildSnapshot(now.sample, { users: now.users, adjOverrides: overrides }).snapshot.processes;
  const rankBefore = new Map(now.snapshot.processes.map((p) => [p.pid, p.rank]));
  const show = after.filter((p) => (p.rank !== null && p.rank <= n) || overrides.has(p.pid));
  const lines = ['kill order after (rank before → after):'];
  for (const p of show) {
    const b = rankBefore.get(p.pid);
    const mark = overrides.has(p.pid) ? '*' : ' ';
    const rank = (r: number | null | undefined) => (r === null || r === undefined ? '—' : String(r));
    const adj = overrides.has(p.pid)
      ? `${p.oomScoreAdj ?? '?'} → ${overrides.get(p.pid)}`
      : String(p.oomScoreAdj ?? '?');
    lines.push(
      `${mark} ${fit(`${rank(b)} → ${rank(p.rank)}`, 12)} ${fit(String(p.pid), 7, 'right')} ${fit(p.comm, 16)} adj ${adj}` +
        `${p.unkillableReason ? `  (${p.unkillableReason})` : ''}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

export function describePlan(plan: readonly Planned[]): string {
  return `${plan.map((p) => `  ${fit(String(p.proc.pid), 7, 'right')} ${fit(p.proc.comm, 16)} ${fit(p.proc.user ?? '?', 9)} adj ${p.proc.oomScoreAdj ?? '?'} → ${p.value}`).join('\n')}\n`;
}

async function confirmMany(
  plan: readonly Planned[],
  o: SelectOptions,
  io: CommandIo,
  explicitOnly: boolean,
): Promise<void> {
  if (plan.length <= 1 || o.yes || o.dryRun || explicitOnly) return;
  io.out(`${plan.length} processes match:\n${describePlan(plan)}`);
  if (!(await io.confirm(`change all ${plan.length}? [y/N] `))) {
    throw new UserError(
      `${plan.length} processes match and nothing was confirmed: add --yes to change them all, or narrow the selection`,
      1,
    );
  }
}

const POINTLESS = new Set(['kernel thread', 'no mm (zombie or exiting)', 'global init']);

export function reportResults(results: readonly AdjustResult[], io: CommandIo): number {
  let failed = 0;
  for (const r of results) {
    io.out(`${r.result === 'ok' ? 'ok' : 'refused'}: ${r.message}\n`);
    if (r.result !== 'ok') failed++;
  }
  return failed ? 1 : 0;
}

/** Applies or previews a plan; returns the exit code. */
export async function executePlan(
  roots: Roots,
  io: CommandIo,
  o: SelectOptions,
  planned: Planned[],
  source: string,
  ctx: { now: Ranked; explicitOnly: boolean },
  extra: (p: Planned) => { undoes?: string; floor?: AdjFloor; rule?: string } = () => ({}),
): Promise<number> {
  // The OOM killer never chooses a kernel thread, a zombie or init: a value changes nothing.
  const skipped = planned.filter((p) => POINTLESS.has(p.proc.unkillableReason ?? ''));
  for (const p of skipped) {
    const what =
      p.proc.unkillableReason === 'global init'
        ? 'init'
        : p.proc.unkillableReason === 'kernel thread'
          ? 'a kernel thread'
          : 'a zombie or exiting (it has no memory of its own)';
    io.out(
      `skipped: ${printable(p.proc.comm)} (pid ${p.proc.pid}) is ${what}: the OOM killer never chooses it, so oom_score_adj ${p.value} changes nothing the OOM killer does; nothing written\n`,
    );
  }
  const plan = planned.filter((p) => !skipped.includes(p));
  if (skipped.length && !plan.length) return 1;
  const changes = plan.filter((p) => p.proc.oomScoreAdj !== p.value);
  for (const p of plan)
    if (p.proc.oomScoreAdj === p.value)
      io.out(`unchanged: ${printable(p.proc.comm)} (pid ${p.proc.pid}) already has adj ${p.value}\n`);
  if (changes.length === 0) return 0;
  if (o.dryRun) {
    io.out(`dry run: nothing written\n${describePlan(changes)}${killOrderChange(ctx.now, changes)}`);
    return 0;
  }
  await confirmMany(changes, o, io, ctx.explicitOnly);
  const log = new AuditLog(io.stateDir);
  log.ensureWritable();
  const adjuster = new Adjuster(new ProcFs(roots.procRoot), log, io.actor, io.now);
  const results = changes.map((p) => {
    const more = extra(p);
    // A value the kernel refused for this process before is not tried again: said, not written.
    const verdict = more.floor ? checkFloor(more.floor, p.value) : null;
    if (verdict?.kind === 'refused') {
      return {
        target: p.target,
        old: p.proc.oomScoreAdj,
        new: p.value,
        result: 'below-floor' as const,
        message: `${printable(p.proc.comm)} (pid ${p.proc.pid}): ${verdict.message}: nothing written`,
      };
    }
    return adjuster.write(p.target, p.value, source, more);
  });
  const code = reportResults(results, io);
  const done = changes.filter((_, i) => results[i]?.result === 'ok');
  if (done.length) io.out(killOrderChange(ctx.now, done));
  return code;
}

export async function runSet(
  roots: Roots,
  io: CommandIo,
  pids: string[],
  o: SelectOptions & { adj?: string },
  mode: 'set' | 'protect',
): Promise<number> {
  if (mode === 'set' && o.adj === undefined) throw new UserError('set needs --adj N (an integer from -1000 to 1000)');
  const value = o.adj === undefined ? OOM_SCORE_ADJ_MIN : parseAdjValue(o.adj);
  const now = sampleRanked(roots, io.now());
  const procs = chooseProcesses(now.snapshot, pids, o);
  const plan = procs.map((p) => ({ proc: p, target: targetOf(p), value }));
  const records = new AuditLog(io.stateDir).readFor(new Set(procs.map((p) => processKey(p.pid, p.startTime))));
  const cap = canLowerBelowFloor(new ProcFs(roots.procRoot));
  return executePlan(roots, io, o, plan, mode, { now, explicitOnly: isEmptySelector(selectorFrom(o)) }, (p) => ({
    floor: adjFloor(p.proc, records, cap),
  }));
}

export async function runReset(roots: Roots, io: CommandIo, pids: string[], o: SelectOptions): Promise<number> {
  const now = sampleRanked(roots, io.now());
  const procs = chooseProcesses(now.snapshot, pids, o);
  const records = trustedRecordsFor(
    new AuditLog(io.stateDir),
    new Set(procs.map((p) => processKey(p.pid, p.startTime))),
    'reset',
  );
  const plan: Planned[] = [];
  for (const p of procs) {
    const orig = originalAdj(records, p.pid, p.startTime);
    if (orig === null) io.out(`nothing to reset: oomtop never changed ${printable(p.comm)} (pid ${p.pid})\n`);
    else plan.push({ proc: p, target: targetOf(p), value: orig });
  }
  return executePlan(roots, io, o, plan, 'reset', { now, explicitOnly: isEmptySelector(selectorFrom(o)) });
}

export async function runUndo(roots: Roots, io: CommandIo, o: { last?: string; dryRun?: boolean }): Promise<number> {
  const n = parsePositiveInt(o.last ?? '1', '--last');
  const todo = changesToUndoIn(new AuditLog(io.stateDir), n);
  if (todo.length === 0) {
    io.out('nothing to undo: the audit log has no change that is not undone yet\n');
    return 0;
  }
  const now = sampleRanked(roots, io.now());
  const live = new Map(now.snapshot.processes.map((p) => [processKey(p.pid, p.startTime), p]));
  const plan: Array<Planned & { rec: AuditRecord }> = [];
  for (const rec of todo) {
    const p = live.get(processKey(rec.pid, rec.startTime));
    if (!p)
      io.out(
        `cannot undo ${printable(String(rec.comm))} (pid ${rec.pid}) ${rec.old} → ${rec.new}: the process is gone\n`,
      );
    else
      plan.push({
        proc: p,
        target: { pid: rec.pid, startTime: rec.startTime, comm: rec.comm },
        value: rec.old as number,
        rec,
      });
  }
  return executePlan(roots, io, { yes: true, dryRun: o.dryRun }, plan, 'undo', { now, explicitOnly: true }, (p) => ({
    undoes: (p as Planned & { rec: AuditRecord }).rec.id,
  }));
}

export function runLog(io: CommandIo, o: { format?: string; limit?: string }): number {
  const format = parseFormat(o.format ?? 'table', ['table', 'json'] as const);
  const limit = o.limit === undefined ? null : parsePositiveInt(o.limit, '--limit');
  const log = new AuditLog(io.stateDir);
  // Streamed: a record is printed as it is read (in batches), never the whole log held.
  let batch: string[] = [];
  let shown = 0;
  const flush = () => {
    if (batch.length) io.out(batch.join(''));
    batch = [];
  };
  const emit = (r: AuditRecord) => {
    if (!shown++ && format === 'table') {
      batch.push(
        `${fit('TIME', 24)} ${fit('USER', 8)} ${fit('SOURCE', 9)} ${fit('PID', 7, 'right')} ${fit('NAME', 15)} ${fit('OLD→NEW', 12)} RESULT\n`,
      );
    }
    batch.push(
      format === 'json'
        ? `${toJson(r)}\n`
        : `${fit(r.time, 24)} ${fit(r.user, 8)} ${fit(r.source, 9)} ${fit(String(r.pid), 7, 'right')} ${fit(r.comm, 15)} ` +
            `${fit(`${r.old ?? '?'}→${r.new}`, 12)} ${r.result}${r.message && r.result !== 'ok' ? `: ${printable(r.message)}` : ''}\n`,
    );
    if (batch.length >= 512) flush();
  };
  const bad: BadLine[] = [];
  if (limit === null) {
    log.scan((r, b) => {
      if (b) bad.push(b);
      else if (r && r.result !== 'pending') emit(r);
    });
  } else {
    const last: AuditRecord[] = [];
    log.scanBackward((r, b) => {
      if (b) bad.push(b);
      else if (r && r.result !== 'pending') last.push(r);
      return last.length < limit;
    });
    for (const r of last.reverse()) emit(r);
  }
  flush();
  if (!shown && format === 'table') io.out(`the audit log is empty (${log.path})\n`);
  if (bad.length && format === 'table')
    io.out(
      `note: ${bad.length} line(s) of the log are not valid records and were skipped (first: ${bad[0]?.file} at byte ${bad[0]?.offset}: ${bad[0]?.why})\n`,
    );
  return 0;
}
