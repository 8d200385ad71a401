// The one writer of oom_score_adj, used by the command line, the policy and the dashboard.
// Every write: a value already validated by parseAdjValue(), the same process the user
// chose (open first, check the start time, write through the open descriptor, since a
// descriptor of a dead task fails with ESRCH), the kernel's refusal translated, and one
// audit record per attempt.
import { messageOf } from '../core/errors.js';
import { closeSync, fstatSync, ftruncateSync, openSync, readSync, writeSync } from 'node:fs';
import type { AdjustOutcome, AuditRecord } from '../core/audit.js';
import { adjFloor, refusalMessage, type AdjFloor } from '../core/floor.js';
import { printable } from '../core/format.js';
import { parseStat } from '../core/parse/stat.js';
import { hasCapSysResource, parseCapEff } from '../core/parse/status.js';
import { auditRecord, type AuditLog } from './audit-log.js';
import { errnoCode } from './errno.js';
import { isGone, parseIntBytes, type ProcFs } from './read/procfs.js';

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
  write(
    target: AdjustTarget,
    value: number,
    source: string,
    extra: { floor?: AdjFloor; undoes?: string; rule?: string } = {},
  ): AdjustResult {
    const who = `${printable(target.comm)} (pid ${target.pid})`;
    const base = { target, new: value };
    const recorded = (r: AdjustResult, intent?: string, fd?: number) =>
      this.recordOutcome(r, source, { ...extra, intent }, fd);
    let fd: number;
    try {
      fd = openSync(this.proc.path(`${target.pid}/oom_score_adj`), 'r+');
    } catch (e) {
      const code = errnoCode(e);
      if (isGone(code))
        return recorded({ ...base, old: null, result: 'gone', message: `${who} is gone: nothing written` });
      if (code === 'EACCES' || code === 'EPERM') {
        return recorded({
          ...base,
          old: null,
          result: 'not-your-process',
          message: `${who} is not your process: only its owner or root can change its oom_score_adj`,
        });
      }
      return recorded({ ...base, old: null, result: 'error', message: `cannot open oom_score_adj of ${who}: ${code}` });
    }
    try {
      // Identity: the pid must still be the process the user chose.
      const stat = this.proc.tryRead(`${target.pid}/stat`);
      if (!stat.ok && stat.gone)
        return recorded({ ...base, old: null, result: 'gone', message: `${who} is gone: nothing written` });
      if (!stat.ok)
        return recorded({
          ...base,
          old: null,
          result: 'error',
          message: `cannot read the stat of ${who} to check it is the same process (${stat.code}): nothing written`,
        });
      const parsed = parseStat(stat.value);
      if (!parsed.ok || parsed.value.startTime !== target.startTime) {
        return recorded({
          ...base,
          old: null,
          result: 'reused',
          message: `pid ${target.pid} is no longer ${printable(target.comm)} (it exited and the pid was reused by ${parsed.ok ? printable(parsed.value.comm) : 'another process'}): nothing written`,
        });
      }
      const old = this.readFd(fd);
      // The intent goes to the audit log before the kernel is written: a change that cannot
      // be recorded (a full disk, a log oomtop may not append to) is not made.
      let intent: string | undefined;
      if (this.audit) {
        const rec = this.record({ ...base, old, result: 'pending', message: '' }, source, extra);
        try {
          this.audit.append(rec);
        } catch (e) {
          return {
            ...base,
            old,
            result: 'error',
            message: `${messageOf(e)}; a change that cannot be recorded is not made: nothing written to ${who}`,
          };
        }
        intent = rec.id;
      }
      return recorded(this.writeKernel(fd, target, value, old, who, extra.floor), intent, fd);
    } finally {
      closeSync(fd);
    }
  }

  private writeKernel(
    fd: number,
    target: AdjustTarget,
    value: number,
    old: number | null,
    who: string,
    floor?: AdjFloor,
  ): AdjustResult {
    const base = { target, new: value, old };
    try {
      writeValue(fd, value);
    } catch (e) {
      const code = errnoCode(e);
      if (code === 'EACCES' || code === 'EPERM') {
        const known = floor ?? adjFloor({ pid: target.pid, startTime: target.startTime, oomScoreAdj: old }, [], false);
        const f = { ...known, allowed: Math.min(known.allowed, old ?? known.allowed) };
        return { ...base, result: 'below-floor', message: refusalMessage(f, value, who) };
      }
      if (isGone(code)) return { ...base, result: 'gone', message: `${who} exited before the write: nothing written` };
      if (code === 'EINVAL' || code === 'ERANGE')
        return {
          ...base,
          result: 'invalid-value',
          message: `the kernel rejected ${value} as an invalid value (${code})`,
        };
      return { ...base, result: 'error', message: `writing ${value} to ${who} failed: ${code}` };
    }
    const now = this.readFd(fd);
    return { ...base, result: 'ok', message: `${who}: oom_score_adj ${old ?? '?'} → ${now ?? value}` };
  }

  /**
   * The outcome record, appended while the descriptor is still open: if that fails after a
   * successful write, the old value is put back, so no change stays unrecorded.
   */
  private recordOutcome(
    res: AdjustResult,
    source: string,
    extra: { undoes?: string; rule?: string; intent?: string },
    fd?: number,
  ): AdjustResult {
    if (!this.audit) return res;
    try {
      this.audit.append(this.record(res, source, extra));
      return res;
    } catch (e) {
      const why = messageOf(e);
      if (res.result !== 'ok' || fd === undefined || res.old === null)
        return { ...res, message: `${res.message}; and ${why}` };
      try {
        writeValue(fd, res.old);
      } catch (e2) {
        return {
          ...res,
          result: 'error',
          message: `${res.message}, but the audit log could not record it (${why}) and putting ${res.old} back failed (${errnoCode(e2)}): set it back by hand`,
        };
      }
      return {
        ...res,
        new: res.old,
        result: 'reverted',
        message: `the audit log could not record the change (${why}): ${res.old} was put back, nothing changed`,
      };
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

  private record(
    res: AdjustResult,
    source: string,
    extra: { undoes?: string; rule?: string; intent?: string },
  ): AuditRecord {
    const { pid, startTime, comm } = res.target;
    return auditRecord(
      this.now(),
      this.actor,
      source,
      { pid, startTime, comm, old: res.old, new: res.new },
      res.result,
      {
        undoes: extra.undoes,
        rule: extra.rule,
        intent: extra.intent,
        message: res.result === 'ok' || res.result === 'pending' ? undefined : res.message,
      },
    );
  }
}

/** Writes a value at offset 0; a fixture tree's regular file must not keep the tail of a longer old value. */
function writeValue(fd: number, value: number): void {
  const text = `${value}\n`;
  writeSync(fd, text, 0);
  // /proc files report size 0 and need (and allow) no truncation.
  if (fstatSync(fd).size > text.length) ftruncateSync(fd, text.length);
}
