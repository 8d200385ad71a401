// The one writer of oom_score_adj, used by the command line, the policy and the dashboard.
// Every write: a value already validated by parseAdjValue(), the same process the user
// chose (open first, check the start time, write through the open descriptor, since a
// descriptor of a dead task fails with ESRCH), the kernel's refusal translated, and one
// audit record per attempt.
import { closeSync, fstatSync, ftruncateSync, openSync, readSync, writeSync } from 'node:fs';
import type { AdjustOutcome, AuditRecord } from '../core/audit.js';
import { adjFloor, refusalMessage, type AdjFloor } from '../core/floor.js';
import { printable } from '../core/format.js';
import { parseStat } from '../core/parse/stat.js';
import { hasCapSysResource, parseCapEff } from '../core/parse/status.js';
import { auditRecord, type AuditLog } from './audit-log.js';
import { isGone, parseIntBytes, type ProcFs } from './procfs.js';

export interface AdjustTarget {
  pid: number;
  /** stat field 22 when the user chose the process: the identity guard. */
  startTime: number;
  comm: string;
}

export interface AdjustResult {
  target: AdjustTarget;
  old: number | null;
  new: number;
  result: AdjustOutcome;
  /** A plain sentence for the user (success or why not). */
  message: string;
}

export interface Actor {
  user: string;
  uid: number;
}


/** CAP_SYS_RESOURCE in oomtop's own effective set (root in a container often lacks it). */
export function canLowerBelowFloor(proc: ProcFs): boolean | null {
  const status = proc.readOrNull('self/status') ?? proc.readOrNull(`${process.pid}/status`);
  return status === null ? null : hasCapSysResource(parseCapEff(status));
}

export class Adjuster {
  constructor(
    private readonly proc: ProcFs,
    private readonly audit: AuditLog | null,
    private readonly actor: Actor,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Whether oomtop itself may lower adj below a process's floor (CAP_SYS_RESOURCE). */
  canLowerBelowFloor(): boolean | null {
    return canLowerBelowFloor(this.proc);
  }

  /**
   * Writes `value` (already validated) to the chosen process. `floor` is what is known of
   * the process's floor (core/floor.ts), for the refusal message.
   */
  write(target: AdjustTarget, value: number, source: string, extra: { floor?: AdjFloor; undoes?: string; rule?: string } = {}): AdjustResult {
    const res = this.attempt(target, value, extra.floor);
    this.audit?.append(this.record(res, source, extra));
    return res;
  }

  private attempt(target: AdjustTarget, value: number, floor?: AdjFloor): AdjustResult {
    const base = { target, new: value };
    const who = `${printable(target.comm)} (pid ${target.pid})`;
    let fd: number;
    try {
      fd = openSync(this.proc.path(`${target.pid}/oom_score_adj`), 'r+');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (isGone(code ?? '')) return { ...base, old: null, result: 'gone', message: `${who} is gone: nothing written` };
      if (code === 'EACCES' || code === 'EPERM') {
        return { ...base, old: null, result: 'not-your-process', message: `${who} is not your process: only its owner or root can change its oom_score_adj` };
      }
      return { ...base, old: null, result: 'error', message: `cannot open oom_score_adj of ${who}: ${code}` };
    }
    try {
      // Identity: the pid must still be the process the user chose.
      const stat = this.proc.tryRead(`${target.pid}/stat`);
      if (!stat.ok) return { ...base, old: null, result: 'gone', message: `${who} is gone: nothing written` };
      const parsed = parseStat(stat.text);
      if (!parsed.ok || parsed.value.startTime !== target.startTime) {
        return { ...base, old: null, result: 'reused', message: `pid ${target.pid} is no longer ${printable(target.comm)} (it exited and the pid was reused by ${parsed.ok ? printable(parsed.value.comm) : 'another process'}): nothing written` };
      }
      const old = this.readFd(fd);
      try {
        const text = `${value}\n`;
        writeSync(fd, text);
        // A fixture tree's regular file must not keep the tail of a longer old value;
        // /proc files report size 0 and need (and allow) no truncation.
        if (fstatSync(fd).size > text.length) ftruncateSync(fd, text.length);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EACCES' || code === 'EPERM') {
          const known = floor ?? adjFloor({ pid: target.pid, startTime: target.startTime, oomScoreAdj: old }, [], false);
          const f = { ...known, allowed: Math.min(known.allowed, old ?? known.allowed) };
          return { ...base, old, result: 'below-floor', message: refusalMessage(f, value, who) };
        }
        if (isGone(code ?? '')) return { ...base, old, result: 'gone', message: `${who} exited before the write: nothing written` };
        if (code === 'EINVAL' || code === 'ERANGE') return { ...base, old, result: 'invalid-value', message: `the kernel rejected ${value} as an invalid value (${code})` };
        return { ...base, old, result: 'error', message: `writing ${value} to ${who} failed: ${code}` };
      }
      const now = this.readFd(fd);
      return { ...base, old, result: 'ok', message: `${who}: oom_score_adj ${old ?? '?'} → ${now ?? value}` };
    } finally {
      closeSync(fd);
    }
  }

  private readFd(fd: number): number | null {
    const buf = Buffer.alloc(32);
    try {
      return parseIntBytes(buf, 0, readSync(fd, buf, 0, buf.length, 0));
    } catch {
      return null;
    }
  }

  private record(res: AdjustResult, source: string, extra: { undoes?: string; rule?: string }): AuditRecord {
    const { pid, startTime, comm } = res.target;
    return auditRecord(this.now(), this.actor, source, { pid, startTime, comm, old: res.old, new: res.new }, res.result,
      { ...extra, message: res.result === 'ok' ? undefined : res.message });
  }
}
