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

export function parseStat(text: string): ParseResult<StatFields> {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return { ok: false, error: 'stat: no (comm) field' };
  const comm = text.slice(open + 1, close);
  // Fields from 3 (state) on; index 0 here is field 3.
  const rest = text.slice(close + 2).split(' ', 22);
  if (rest.length < 22) return { ok: false, error: `stat: ${rest.length + 2} fields, need at least 24` };
  rest[21] = (rest[21] as string).trimEnd();
  const num = (i: number): number => Number(rest[i]);
  const fields: StatFields = {
    comm,
    state: rest[0] ?? '?',
    ppid: num(1),
    flags: num(6),
    startTime: num(19),
    vsizeBytes: num(20),
    rssPages: num(21),
    minflt: num(7),
    majflt: num(9),
    cpuTicks: finiteOrNull(num(11) + num(12)),
  };
  for (const k of ['ppid', 'flags', 'startTime', 'vsizeBytes', 'rssPages'] as const) {
    if (!Number.isFinite(fields[k])) return { ok: false, error: `stat: ${k} is not a number` };
  }
  return { ok: true, value: fields };
}
