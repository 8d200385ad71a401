// The audit log's records (JSON lines) and what undo and reset derive from them.

export const OUTCOMES = [
  'ok',
  'gone',
  'reused',
  'below-floor',
  'not-your-process',
  'invalid-value',
  'error',
  'operator-override',
  'pending',
  'reverted',
] as const;
/**
 * What came of a write. `pending` is the intent appended before the kernel is written (a
 * change that cannot be recorded is not made); its outcome record names it in `intent`.
 * `reverted`: written, but the outcome could not be recorded, so the old value was put back.
 */
export type AdjustOutcome = (typeof OUTCOMES)[number];

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
  /** The id of the `pending` record this outcome completes. */
  intent?: string;
}

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v);
const isAdj = (v: unknown): v is number => isInt(v) && v >= -1000 && v <= 1000;
const optString = (v: unknown) => v === undefined || typeof v === 'string';

/**
 * One line of the log, validated field by field: undo and reset write what a record says
 * back to the kernel, so a record that oomtop could not have written (an adj that is not a
 * plain integer in -1000..1000, a pid that is not a positive integer) is refused, not used.
 */
export function parseAuditRecord(line: string): { ok: true; record: AuditRecord } | { ok: false; why: string } {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return { ok: false, why: 'not JSON (a torn or foreign line)' };
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return { ok: false, why: 'not a JSON object' };
  const r = v as Record<string, unknown>;
  const show = (x: unknown) => JSON.stringify(x) ?? String(x);
  if (typeof r.id !== 'string' || !r.id) return { ok: false, why: 'no record id' };
  if (!isInt(r.pid) || r.pid < 1) return { ok: false, why: `pid ${show(r.pid)} is not a positive integer` };
  if (!isInt(r.startTime) || r.startTime < 0)
    return { ok: false, why: `startTime ${show(r.startTime)} is not a whole number` };
  if (r.old !== null && !isAdj(r.old))
    return { ok: false, why: `old value ${show(r.old)} is not an integer from -1000 to 1000` };
  if (!isAdj(r.new)) return { ok: false, why: `new value ${show(r.new)} is not an integer from -1000 to 1000` };
  if (typeof r.result !== 'string' || !(OUTCOMES as readonly string[]).includes(r.result))
    return { ok: false, why: `result ${show(r.result)} is not one oomtop writes` };
  if (
    typeof r.comm !== 'string' ||
    typeof r.time !== 'string' ||
    typeof r.source !== 'string' ||
    typeof r.user !== 'string' ||
    !isInt(r.uid)
  ) {
    return { ok: false, why: 'comm, time, source, user or uid missing or of the wrong type' };
  }
  if (!optString(r.undoes) || !optString(r.intent) || !optString(r.message) || !optString(r.rule))
    return { ok: false, why: 'undoes, intent, message or rule is not text' };
  return { ok: true, record: r as unknown as AuditRecord };
}

/** Parses a whole log text (tests, small logs); lines that are not valid records are skipped and counted. */
export function parseAuditLog(text: string): { records: AuditRecord[]; badLines: number } {
  const records: AuditRecord[] = [];
  let badLines = 0;
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const r = parseAuditRecord(line);
    if (!r.ok) badLines++;
    else if (r.record.result !== 'pending') records.push(r.record);
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
