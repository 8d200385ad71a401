// The audit log: JSON lines in the state directory, one per write attempt. Each record is
// appended with a single write() on an O_APPEND descriptor, which the kernel applies under
// the inode lock, so concurrent oomtop processes never interleave or lose lines.
//
// Trust: the log is opened with O_NOFOLLOW and must be a regular file that only its reader's
// user (or root) owns and can write: undo and reset write what it says back to the kernel.
// Every record read back is validated (core/audit.ts parseAuditRecord). Size: it is read as
// a stream, never whole, and rotated to audit.jsonl.1 past ROTATE_BYTES (16 MiB, or
// $OOMTOP_AUDIT_ROTATE_BYTES); log, undo and reset read the rotated file too.
import { closeSync, constants, fstatSync, openSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { parseAuditRecord, type AdjChange, type AdjustOutcome, type AuditRecord } from '../core/audit.js';
import { UserError } from '../core/errors.js';
import { toJson } from '../core/format.js';
import { checkOwnedByUs, ensureStateDir } from './env.js';
import { errnoCode } from './errno.js';
import { forEachLine, forEachLineBackward } from './lines.js';

export const ROTATE_BYTES = 16 * 1024 * 1024;

/** A line of the log that is not a valid record, as readers report it. */
export interface BadLine {
  file: string;
  /** Byte offset of the line in its file. */
  offset: number;
  why: string;
  /** The line names a pid: it looks like a record, not like a torn write. */
  looksLikeRecord: boolean;
}

export class AuditLog {
  readonly path: string;
  readonly rotated: string;
  readonly rotateBytes: number;

  constructor(
    readonly dir: string,
    o: { rotateBytes?: number } = {},
  ) {
    this.path = join(dir, 'audit.jsonl');
    this.rotated = `${this.path}.1`;
    const env = Number(process.env.OOMTOP_AUDIT_ROTATE_BYTES);
    this.rotateBytes = o.rotateBytes ?? (Number.isInteger(env) && env > 0 ? env : ROTATE_BYTES);
  }

  /** Fails before any write when the log cannot be appended to: no change goes unrecorded. */
  ensureWritable(): void {
    closeSync(this.openAppend());
  }

  private openAppend(): number {
    ensureStateDir(this.dir);
    let fd: number;
    try {
      fd = openSync(
        this.path,
        constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW,
        0o600,
      );
    } catch (e) {
      const code = errnoCode(e);
      throw new UserError(
        code === 'ELOOP'
          ? `refusing the audit log ${this.path}: it is a symbolic link; remove it (oomtop creates the log itself)`
          : `cannot write the audit log ${this.path} (${code}): set OOMTOP_STATE_DIR to a writable folder`,
      );
    }
    try {
      checkOwnedByUs(fstatSync(fd), this.path, 'audit log');
    } catch (e) {
      closeSync(fd);
      throw e;
    }
    return fd;
  }

  /** Appends one record; throws a UserError (nothing half-recorded) when it cannot. */
  append(record: AuditRecord): void {
    const fd = this.openAppend();
    try {
      const line = `${toJson(record)}\n`;
      const n = writeSync(fd, line);
      if (n !== Buffer.byteLength(line)) throw Object.assign(new Error('short write'), { code: 'ENOSPC' });
      if (fstatSync(fd).size >= this.rotateBytes) this.rotate();
    } catch (e) {
      if (e instanceof UserError) throw e;
      throw new UserError(
        `cannot append to the audit log ${this.path} (${errnoCode(e)}): set OOMTOP_STATE_DIR to a writable folder`,
        2,
        { cause: e },
      );
    } finally {
      closeSync(fd);
    }
  }

  /**
   * audit.jsonl -> audit.jsonl.1 (the older generation dropped), under a lock file so two
   * oomtop processes never rotate at once (the loser leaves it to the winner). A writer still holding the old descriptor
   * appends to the rotated file, which readers read too.
   */
  private rotate(): void {
    const lock = `${this.path}.lock`;
    let fd: number;
    try {
      fd = openSync(lock, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
    } catch {
      return;
    }
    try {
      // Under the lock, again: another process may have rotated since this one looked.
      if (statSync(this.path).size >= this.rotateBytes) renameSync(this.path, this.rotated);
    } finally {
      closeSync(fd);
      unlinkSync(lock);
    }
  }

  /** The files to read, oldest first. */
  private files(): string[] {
    return [this.rotated, this.path];
  }

  /** Opens a log file for reading (null when absent), after the same ownership check as for writing. */
  private openRead(path: string): number | null {
    let fd: number;
    try {
      fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
    } catch (e) {
      const code = errnoCode(e);
      if (code === 'ENOENT') return null;
      if (code === 'ELOOP') throw new UserError(`refusing the audit log ${path}: it is a symbolic link; remove it`);
      throw new UserError(`cannot read the audit log ${path} (${code}): run as its owner, or set OOMTOP_STATE_DIR`);
    }
    try {
      checkOwnedByUs(fstatSync(fd), path, 'audit log');
    } catch (e) {
      closeSync(fd);
      throw e;
    }
    return fd;
  }

  /**
   * Every line, oldest first, as a stream: at most one chunk and one line are held. The
   * visitor gets each valid record (intents included) or a bad line.
   */
  scan(visit: (r: AuditRecord | null, bad: BadLine | null) => void, wanted?: (line: string) => boolean): void {
    for (const file of this.files()) {
      const fd = this.openRead(file);
      if (fd === null) continue;
      try {
        forEachLine(fd, (line, length, offset) => visitLine(line, length, offset, file, visit, wanted));
      } finally {
        closeSync(fd);
      }
    }
  }

  /**
   * Records newest first, read backwards from the end, until `visit` returns false: undo
   * needs only the last few, however long the log.
   */
  scanBackward(visit: (r: AuditRecord | null, bad: BadLine | null) => boolean): void {
    for (const file of this.files().reverse()) {
      const fd = this.openRead(file);
      if (fd === null) continue;
      try {
        let go = true;
        forEachLineBackward(fd, (line, length, offset) => {
          visitLine(line, length, offset, file, (r, bad) => {
            go = visit(r, bad);
          });
          return go;
        });
        if (!go) return;
      } finally {
        closeSync(fd);
      }
    }
  }

  /**
   * The outcome records (not the intents written before each change) that `keep` accepts,
   * oldest first. Bad lines are skipped and counted in `bad`.
   */
  read(keep: (r: AuditRecord) => boolean = () => true, bad: BadLine[] = []): AuditRecord[] {
    const out: AuditRecord[] = [];
    this.scan((r, b) => {
      if (b) bad.push(b);
      else if (r && r.result !== 'pending' && keep(r)) out.push(r);
    });
    return out;
  }

  /**
   * The records of these processes (pid@startTime keys) only: what reset, set and the
   * dashboard need. A line that names none of their pids is not parsed at all (a long log
   * is mostly other processes); a forged line is reported only when it names one of them.
   */
  readFor(keys: ReadonlySet<string>, bad: BadLine[] = []): AuditRecord[] {
    const pids = new Set([...keys].map((k) => k.slice(0, k.indexOf('@'))));
    const out: AuditRecord[] = [];
    this.scan(
      (r, b) => {
        if (b) bad.push(b);
        else if (r && r.result !== 'pending' && keys.has(`${r.pid}@${r.startTime}`)) out.push(r);
      },
      (line) => {
        const m = PID_FIELD.exec(line);
        return m === null || pids.has(m[1] as string);
      },
    );
    return out;
  }
}

/** `line` is null for a line longer than MAX_LINE (only its length was kept). */
const PID_FIELD = /"pid"\s*:\s*(-?[\w."]+)/;

function visitLine(
  line: Buffer | null,
  length: number,
  offset: number,
  file: string,
  visit: (r: AuditRecord | null, bad: BadLine | null) => void,
  wanted?: (line: string) => boolean,
): void {
  if (length === 0 || (line && length === 1 && line[0] === 0x0d)) return;
  if (!line) {
    visit(null, { file, offset, why: `a line of ${length} bytes (longer than any record)`, looksLikeRecord: false });
    return;
  }
  const text = line.toString('utf8');
  if (wanted && !wanted(text)) return;
  const parsed = parseAuditRecord(text);
  if (parsed.ok) visit(parsed.record, null);
  else visit(null, { file, offset, why: parsed.why, looksLikeRecord: /"pid"\s*:/.test(text) });
}

/** A unique, time-ordered record id. */
export function newRecordId(now: Date): string {
  return `${now.getTime().toString(36)}-${randomBytes(4).toString('hex')}`;
}

/** One audit record, as every writer makes it (the adjuster, and watch noting an override). */
export function auditRecord(
  now: Date,
  actor: { user: string; uid: number },
  source: string,
  change: AdjChange,
  result: AdjustOutcome,
  extra: { message?: string; undoes?: string; rule?: string; intent?: string } = {},
): AuditRecord {
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
    ...(extra.intent ? { intent: extra.intent } : {}),
  };
}

/**
 * The last `n` successful changes not yet undone, newest first, read from the end of the
 * log (core/audit.ts changesToUndo, without holding the log). A line that looks like a
 * record but is not a valid one stops it: undo never writes what a forged line says.
 */
export function changesToUndoIn(log: AuditLog, n: number): AuditRecord[] {
  const undone = new Set<string>();
  const out: AuditRecord[] = [];
  log.scanBackward((r, bad) => {
    if (bad) {
      if (bad.looksLikeRecord) {
        throw new UserError(
          `refusing to undo: ${bad.file} at byte ${bad.offset} holds a line oomtop could not have written (${bad.why}); nothing written. Check who edited the log, then remove that line or move the log aside`,
        );
      }
      return true;
    }
    if (r?.result !== 'ok') return true;
    if (r.undoes) {
      undone.add(r.undoes);
      return true;
    }
    if (undone.has(r.id) || r.old === null || r.old === r.new) return true;
    out.push(r);
    return out.length < n;
  });
  return out;
}

/** Records of these processes; a forged line that names a pid refuses the whole read (reset writes what records say). */
export function trustedRecordsFor(log: AuditLog, keys: ReadonlySet<string>, what: string): AuditRecord[] {
  const bad: BadLine[] = [];
  const records = log.readFor(keys, bad);
  const forged = bad.find((b) => b.looksLikeRecord);
  if (forged) {
    throw new UserError(
      `refusing to ${what}: ${forged.file} at byte ${forged.offset} holds a line oomtop could not have written (${forged.why}); nothing written. Check who edited the log, then remove that line or move the log aside`,
    );
  }
  return records;
}
