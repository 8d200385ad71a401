// The audit log: JSON lines in the state directory, one per write attempt. Each record is
// appended with a single write() on an O_APPEND descriptor, which the kernel applies under
// the inode lock, so concurrent oomtop processes never interleave or lose lines.
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { parseAuditLog, type AdjChange, type AdjustOutcome, type AuditRecord } from '../core/audit.js';
import { UserError } from '../core/errors.js';
import { toJson } from '../core/format.js';
import { ensureStateDir } from './env.js';

export class AuditLog {
  readonly path: string;

  constructor(readonly dir: string) {
    this.path = join(dir, 'audit.jsonl');
  }

  /** Fails before any write when the log cannot be appended to: no change goes unrecorded. */
  ensureWritable(): void {
    ensureStateDir(this.dir);
    try {
      closeSync(openSync(this.path, 'a', 0o644));
    } catch (e) {
      throw new UserError(`cannot write the audit log ${this.path} (${(e as NodeJS.ErrnoException).code}): set OOMTOP_STATE_DIR to a writable folder`);
    }
  }

  append(record: AuditRecord): void {
    ensureStateDir(this.dir);
    try {
      const fd = openSync(this.path, 'a', 0o644);
      try {
        writeSync(fd, toJson(record) + '\n');
      } finally {
        closeSync(fd);
      }
    } catch (e) {
      throw new UserError(`cannot append to the audit log ${this.path} (${(e as NodeJS.ErrnoException).code}): set OOMTOP_STATE_DIR to a writable folder`);
    }
  }

  read(): AuditRecord[] {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new UserError(`cannot read the audit log ${this.path} (${(e as NodeJS.ErrnoException).code})`);
    }
    return parseAuditLog(text).records;
  }
}

/** A unique, time-ordered record id. */
function newRecordId(now: Date): string {
  return `${now.getTime().toString(36)}-${randomBytes(4).toString('hex')}`;
}

/** One audit record, as every writer makes it (the adjuster, and watch noting an override). */
export function auditRecord(now: Date, actor: { user: string; uid: number }, source: string, change: AdjChange, result: AdjustOutcome,
  extra: { message?: string; undoes?: string; rule?: string } = {}): AuditRecord {
  return {
    id: newRecordId(now),
    time: now.toISOString(),
    user: actor.user,
    uid: actor.uid,
    source,
    pid: change.pid,
    startTime: change.startTime,
    comm: change.comm,
    old: change.old,
    new: change.new,
    result,
    ...(extra.message ? { message: extra.message } : {}),
    ...(extra.undoes ? { undoes: extra.undoes } : {}),
    ...(extra.rule ? { rule: extra.rule } : {}),
  };
}
