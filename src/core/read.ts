// What a read of /proc or /sys gives: the value, or why there is none. "Gone" (the process
// or file no longer exists: ENOENT, ESRCH, ENOTDIR) is a normal race and the row is dropped;
// "unreadable" (EACCES, EIO, EFBIG…) is said with its errno, never taken for "nothing there".
// Pure: the readers in src/system make these, everything above reads them.

/** The failing half of a read: its errno name, and whether it means "gone". */
export interface Unreadable {
  ok: false;
  code: string;
  gone: boolean;
}

/** One read: `{ ok: true, value }` or why not (the same shape as the parsers' results' success). */
export type Read<T> = { ok: true; value: T } | Unreadable;

/**
 * An integer file (oom_score, oom_score_adj) in the allocation-free form the sampler's hot
 * path reads twice a process a tick: the number, null when the text is not an integer, or
 * why it could not be read.
 */
export type IntRead = number | null | Unreadable;

/** errno codes that mean the process (or file) is gone, not that we may not read it. */
export function isGone(code: string): boolean {
  return code === 'ENOENT' || code === 'ESRCH' || code === 'ENOTDIR';
}

export function unreadable(code: string): Unreadable {
  return { ok: false, code, gone: isGone(code) };
}

export function readValue<T>(value: T): Read<T> {
  return { ok: true, value };
}

/** An IntRead that could not be read. */
export function intFailed(r: IntRead): r is Unreadable {
  return r !== null && typeof r === 'object';
}
