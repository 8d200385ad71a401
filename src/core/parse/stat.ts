// Parser for /proc/PID/stat (fs/proc/array.c, do_task_stat()).
// comm sits in parentheses and may itself contain spaces and ')' characters, so the
// numeric fields are read after the LAST ')'.

export interface StatFields {
  comm: string;
  state: string;
  ppid: number;
  flags: number;
  startTime: number;
  vsizeBytes: number;
  rssPages: number;
  /** Fields 10 and 12: page faults; with rss and vsize they tell that memory changed. */
  minflt: number;
  majflt: number;
  /** Fields 14 and 15, utime + stime (clock ticks): what the process's threads ran; null if not numbers. */
  cpuTicks: number | null;
}

export type ParseResult<T> = { ok: true; value: T } | { ok: false; error: string };

/** PF_KTHREAD from include/linux/sched.h. */
export const PF_KTHREAD = 0x00200000;

const finiteOrNull = (n: number): number | null => (Number.isFinite(n) ? n : null);

/** ASCII whitespace as Number() trims it (tab to carriage return, space). */
const isSpace = (c: number): boolean => c === 32 || (c >= 9 && c <= 13);

/**
 * The number text[from, to) holds, as Number() would read the decimal integers the kernel
 * prints (surrounding whitespace trimmed, nothing: 0), without making a string; NaN for
 * anything else. Longer than 15 digits it is left to Number(), which rounds exactly.
 */
function decimalAt(text: string, from: number, to: number): number {
  let [i, end] = [from, to];
  while (i < end && isSpace(text.charCodeAt(i))) i++;
  while (end > i && isSpace(text.charCodeAt(end - 1))) end--;
  if (i === end) return 0;
  if (end - i > 15) return Number(text.slice(i, end));
  const negative = text.charCodeAt(i) === 45;
  if (negative && ++i === end) return NaN;
  let v = 0;
  for (; i < end; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return NaN;
    v = v * 10 + d;
  }
  return negative ? -v : v;
}

/** Fields read after the comm: index 0 is field 3 (state), 21 is field 24 (rss). */
const FIELDS_AFTER_COMM = 22;
const WANTED = new Set([1, 6, 7, 9, 11, 12, 19, 20, 21]);

export function parseStat(text: string): ParseResult<StatFields> {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return { ok: false, error: 'stat: no (comm) field' };
  // One pass over the fields after the last ')', each number read in place (this runs for
  // every process of a sample: 20,000 at once for a first screen or a snapshot).
  const num: number[] = [];
  let state = '';
  let at = Math.min(close + 2, text.length);
  let count = 0;
  for (; count < FIELDS_AFTER_COMM && at <= text.length; count++) {
    let end = text.indexOf(' ', at);
    if (end < 0) end = text.length;
    if (count === 0) state = text.slice(at, end);
    else if (WANTED.has(count)) num[count] = decimalAt(text, at, end);
    at = end + 1;
  }
  if (count < FIELDS_AFTER_COMM) return { ok: false, error: `stat: ${count + 2} fields, need at least 24` };
  const fields: StatFields = {
    comm: text.slice(open + 1, close),
    state,
    ppid: num[1] as number,
    flags: num[6] as number,
    startTime: num[19] as number,
    vsizeBytes: num[20] as number,
    rssPages: num[21] as number,
    minflt: num[7] as number,
    majflt: num[9] as number,
    cpuTicks: finiteOrNull((num[11] as number) + (num[12] as number)),
  };
  for (const k of ['ppid', 'flags', 'startTime', 'vsizeBytes', 'rssPages'] as const) {
    if (!Number.isFinite(fields[k])) return { ok: false, error: `stat: ${k} is not a number` };
  }
  return { ok: true, value: fields };
}
