// The audit log's records (JSON lines) and what undo and reset derive from them.

export type AdjustOutcome = 'ok' | 'gone' | 'reused' | 'below-floor' | 'not-your-process' | 'invalid-value' | 'error' | 'operator-override';

/** One change of oom_score_adj: of which process (pid and start time), from what to what. */
export interface AdjChange {
  pid: number;
  startTime: number;
  comm: string;
  old: number | null;
  new: number;
}

export interface AuditRecord extends AdjChange {
  id: string;
  time: string;
  user: string;
  uid: number;
  /** What asked for the write: set, protect, reset, undo, apply, watch, dashboard. */
  source: string;
  result: AdjustOutcome;
  message?: string;
  /** The id of the record an undo reverts. */
  undoes?: string;
  /** The policy rule that asked for it. */
  rule?: string;
}

/** Parses the log; lines that are not records (a torn last line) are skipped and counted. */
export function parseAuditLog(text: string): { records: AuditRecord[]; badLines: number } {
  const records: AuditRecord[] = [];
  let badLines = 0;
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      const r = JSON.parse(line) as AuditRecord;
      if (typeof r.pid === 'number' && typeof r.id === 'string') records.push(r);
      else badLines++;
    } catch {
      badLines++;
    }
  }
  return { records, badLines };
}

const key = (pid: number, startTime: number) => `${pid}@${startTime}`;

/** The value a process had before oomtop first changed it (what `reset` restores). */
export function originalAdj(records: readonly AuditRecord[], pid: number, startTime: number): number | null {
  for (const r of records) {
    if (r.pid === pid && r.startTime === startTime && r.result === 'ok' && r.old !== null) return r.old;
  }
  return null;
}

/** The last `n` successful changes not yet undone (newest first), for `undo`. */
export function changesToUndo(records: readonly AuditRecord[], n: number): AuditRecord[] {
  const undone = new Set(records.filter((r) => r.undoes && r.result === 'ok').map((r) => r.undoes as string));
  const out: AuditRecord[] = [];
  for (let i = records.length - 1; i >= 0 && out.length < n; i--) {
    const r = records[i] as AuditRecord;
    if (r.result !== 'ok' || r.undoes || undone.has(r.id) || r.old === null || r.old === r.new) continue;
    out.push(r);
  }
  return out;
}

/** The value oomtop last wrote to each process (pid@start -> adj), for watch. */
export function lastWritten(records: readonly AuditRecord[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const r of records) if (r.result === 'ok') m.set(key(r.pid, r.startTime), r.new);
  return m;
}

export { key as processKey };
