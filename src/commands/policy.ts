// `oomtop apply | watch | policy export-systemd`: keep a protection policy applied.
import { setTimeout as sleep } from 'node:timers/promises';
import { lastWritten, processKey, type AuditRecord } from '../core/audit.js';
import { adjFloor, protectTarget } from '../core/floor.js';
import { OOM_SCORE_ADJ_MIN } from '../core/badness.js';
import { decide, describeRule, systemdDropIns, type Policy, type PolicyDecision } from '../core/policy.js';
import { printable } from '../core/format.js';
import type { SnapshotProcess } from '../core/snapshot.js';
import { Adjuster, canLowerBelowFloor } from '../system/adjuster.js';
import { ProcFs } from '../system/read/procfs.js';
import { AuditLog, auditRecord } from '../system/audit-log.js';
import type { Roots } from '../system/env.js';
import { loadPolicyFile } from '../system/policy-file.js';
import { Sampler } from '../system/sampler.js';
import { oomdScope, protectionReport } from '../core/killers/protection.js';
import { daemonRunning } from '../system/killers.js';
import { executePlan, type Ranked, sampleRanked, targetOf, type CommandIo, type Planned } from './adjust.js';
import { killersOf } from './killers.js';
import { parseSeconds } from './args.js';

/**
 * The value a decision asks for: protect is -1000, or without CAP_SYS_RESOURCE the lowest
 * value known to be allowed (core/floor.ts). The audit log is read only for that case.
 */
export function desiredValue(
  d: PolicyDecision,
  canLower: boolean | null,
  records: () => readonly AuditRecord[],
): { value: number; note?: string } {
  if (!d.rule.protect || canLower !== false) return { value: d.rule.adj };
  const value = protectTarget(adjFloor(d.proc, records(), canLower));
  if (value <= OOM_SCORE_ADJ_MIN) return { value: OOM_SCORE_ADJ_MIN };
  return {
    value,
    note: `protect: -1000 needs CAP_SYS_RESOURCE, which oomtop lacks; held at ${value}, the lowest value known to be allowed (use systemd's OOMScoreAdjust= for -1000)`,
  };
}

export async function runApply(roots: Roots, io: CommandIo, o: { policy: string; dryRun?: boolean }): Promise<number> {
  const policy = loadPolicyFile(o.policy);
  const now = sampleRanked(roots, io.now());
  const cap = canLowerBelowFloor(new ProcFs(roots.procRoot));
  // The audit log is read only for protect rules without CAP_SYS_RESOURCE, and only for
  // the processes the policy matches.
  let records: AuditRecord[] | null = null;
  const decisions = decide(policy, now.snapshot.processes);
  const getRecords = () =>
    (records ??= new AuditLog(io.stateDir).readFor(
      new Set(decisions.map((d) => processKey(d.proc.pid, d.proc.startTime))),
    ));
  const plan: Planned[] = [];
  const ruleOf = new Map<number, string>();
  const protectedAs: SnapshotProcess[] = [];
  for (const d of decisions) {
    const { value, note } = desiredValue(d, cap, getRecords);
    if (note && d.proc.oomScoreAdj !== OOM_SCORE_ADJ_MIN)
      io.out(`note: ${printable(d.proc.comm)} (pid ${d.proc.pid}) ${note}\n`);
    if (d.rule.protect) protectedAs.push({ ...d.proc, oomScoreAdj: value });
    if (d.proc.oomScoreAdj !== value) {
      plan.push({ proc: d.proc, target: targetOf(d.proc), value });
      ruleOf.set(d.proc.pid, describeRule(d.rule));
    }
  }
  for (const w of protectWarnings(roots, now, protectedAs)) io.out(`warning: ${w}\n`);
  if (!plan.length) {
    io.out(`policy ${policy.file}: every matching process already has its value: nothing to change\n`);
    return 0;
  }
  return executePlan(roots, io, { yes: true, dryRun: o.dryRun }, plan, 'apply', { now, explicitOnly: true }, (p) => ({
    rule: ruleOf.get(p.proc.pid),
  }));
}

/**
 * A protect rule cannot hold against an active user-space killer that does not stop at
 * oom_score_adj −1000 (systemd-oomd, the kubelet) or reads it as badness: one line per such
 * killer and process, with the fix (killers/protection.ts). The kernel's case is the note above.
 */
export function protectWarnings(roots: Roots, now: Ranked, protectedAs: readonly SnapshotProcess[]): string[] {
  if (!protectedAs.length) return [];
  const { inputs, report } = killersOf(roots, now.sample, now.snapshot);
  return protectionReport(protectedAs, report, oomdScope(inputs)).flatMap((p) =>
    p.killers
      .filter((v) => !v.safe && v.killer !== 'kernel')
      .map(
        (v) =>
          `${printable(p.comm)} (pid ${p.pid}): protect cannot hold against ${v.killer}: ${v.why}; ${v.fix ?? 'no fix known'}`,
      ),
  );
}

export function runExportSystemd(roots: Roots, io: CommandIo, o: { policy: string; oomd?: boolean }): number {
  const policy = loadPolicyFile(o.policy);
  // ManagedOOMPreference=omit is written where systemd-oomd is in use (or asked for): elsewhere it does nothing.
  const oomd =
    o.oomd === true || daemonRunning(roots, new Sampler(roots.procRoot).sample(io.now().getTime()), 'systemd-oomd');
  io.out(systemdDropIns(policy, { oomd }));
  return 0;
}

export interface WatchState {
  /** pid@start -> the value oomtop last wrote. */
  written: Map<string, number>;
  /**
   * The first pass still has to learn, from the audit log, what oomtop wrote to the processes
   * the policy matches (before this watch started): done then, from that pass's sample.
   */
  seed?: boolean;
  /** Processes whose value the operator changed after oomtop: left alone. */
  overridden: Set<string>;
  /** Writes the kernel refused: not retried every interval. */
  refused: Set<string>;
}

/** One pass of watch: returns what it did, one line each. */
export function watchTick(
  policy: Policy,
  roots: Roots,
  io: CommandIo,
  state: WatchState,
  adjuster: Adjuster,
  log: AuditLog,
  cap: boolean | null,
  sampler?: Sampler,
): string[] {
  const { snapshot } = sampleRanked(roots, io.now(), sampler);
  // The audit log grows with every write: read it in a pass only if a decision needs it.
  let records: AuditRecord[] | null = null;
  const decisions = decide(policy, snapshot.processes);
  const getRecords = () =>
    (records ??= log.readFor(new Set(decisions.map((d) => processKey(d.proc.pid, d.proc.startTime)))));
  if (state.seed) {
    for (const [k, v] of lastWritten(getRecords())) if (!state.written.has(k)) state.written.set(k, v);
    state.seed = false;
  }
  const lines: string[] = [];
  for (const d of decisions) {
    const p: SnapshotProcess = d.proc;
    const k = processKey(p.pid, p.startTime);
    if (state.overridden.has(k) || state.refused.has(k)) continue;
    const { value } = desiredValue(d, cap, getRecords);
    const mine = state.written.get(k);
    if (mine !== undefined && p.oomScoreAdj !== mine) {
      // Changed by hand after oomtop wrote it: record it and leave it (no flapping).
      state.overridden.add(k);
      log.append(
        auditRecord(
          io.now(),
          io.actor,
          'watch',
          { pid: p.pid, startTime: p.startTime, comm: p.comm, old: mine, new: p.oomScoreAdj ?? mine },
          'operator-override',
          {
            message: `set by hand to ${p.oomScoreAdj} after oomtop wrote ${mine}; the rule at ${describeRule(d.rule)} no longer applies to it`,
            rule: describeRule(d.rule),
          },
        ),
      );
      lines.push(
        `left alone: ${printable(p.comm)} (pid ${p.pid}) was set by hand to ${p.oomScoreAdj} after oomtop wrote ${mine}`,
      );
      continue;
    }
    if (p.oomScoreAdj === value) continue;
    const r = adjuster.write(targetOf(p), value, 'watch', { rule: describeRule(d.rule) });
    if (r.result === 'ok') state.written.set(k, value);
    else if (r.result !== 'gone') state.refused.add(k);
    lines.push(`${r.result === 'ok' ? 'applied' : 'refused'}: ${r.message} (rule ${describeRule(d.rule)})`);
  }
  return lines;
}

export async function runWatch(
  roots: Roots,
  io: CommandIo,
  o: { policy: string; interval?: string },
  signal: AbortSignal,
): Promise<number> {
  const seconds = parseSeconds(o.interval ?? '2', '--interval', 0.1, 3600);
  const policy = loadPolicyFile(o.policy);
  const log = new AuditLog(io.stateDir);
  log.ensureWritable();
  // One incremental sampler for the whole watch: a pass re-reads only what changed.
  const sampler = new Sampler(roots.procRoot, { incremental: true });
  const adjuster = new Adjuster(sampler.proc, log, io.actor, io.now);
  const cap = adjuster.canLowerBelowFloor();
  // What oomtop last wrote before this watch is read in the first pass, for the processes it matches.
  const state: WatchState = { written: new Map(), overridden: new Set(), refused: new Set(), seed: true };
  io.out(
    `watching with policy ${policy.file} (${policy.rules.length} rules) every ${seconds} s; SIGTERM or Ctrl-C stops\n`,
  );
  try {
    while (!signal.aborted) {
      for (const line of watchTick(policy, roots, io, state, adjuster, log, cap, sampler))
        io.out(`${io.now().toISOString()} ${line}\n`);
      // The timer's own abort handling: an 'abort' listener added per pass by hand stayed
      // on the signal, one more every interval (Node warned after 11).
      await sleep(seconds * 1000, undefined, { signal }).catch((e: unknown) => {
        if (!signal.aborted) throw e;
      });
    }
  } finally {
    sampler.close(); // the stat and oom_score_adj files it holds open
  }
  io.out('watch stopped\n');
  return 0;
}
