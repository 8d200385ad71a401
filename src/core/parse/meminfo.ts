import type { MemInfo, OomSysctls, Pressure } from '../types.js';
import type { ParseResult } from './stat.js';

/** /proc/meminfo. MemTotal and SwapTotal are required: without them this is not a /proc. */
export function parseMeminfo(text: string): ParseResult<MemInfo> {
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^(\w+(?:\(\w+\))?):\s+(\d+)/.exec(line);
    if (m && m[1] !== undefined && m[2] !== undefined) values.set(m[1], Number(m[2]));
  }
  const memTotalKb = values.get('MemTotal');
  if (memTotalKb === undefined) return { ok: false, error: 'meminfo has no MemTotal line' };
  return {
    ok: true,
    value: {
      memTotalKb,
      memAvailableKb: values.get('MemAvailable') ?? null,
      memFreeKb: values.get('MemFree') ?? null,
      swapTotalKb: values.get('SwapTotal') ?? 0,
      swapFreeKb: values.get('SwapFree') ?? null,
    },
  };
}

/** PSI: /proc/pressure/memory or a cgroup's memory.pressure. */
export function parsePressure(text: string): Pressure | null {
  const parse = (kind: string) => {
    const m = new RegExp(`^${kind} avg10=([\\d.]+) avg60=([\\d.]+) avg300=([\\d.]+) total=(\\d+)`, 'm').exec(text);
    if (!m) return null;
    return { avg10: Number(m[1]), avg60: Number(m[2]), avg300: Number(m[3]), total: Number(m[4]) };
  };
  const some = parse('some');
  if (!some) return null;
  return { some, full: parse('full') };
}

/** One counter of /proc/vmstat, or null when the kernel does not have it. */
export function parseVmstatCounter(text: string, name: string): number | null {
  const m = new RegExp(`^${name} (\\d+)$`, 'm').exec(text);
  return m ? Number(m[1]) : null;
}

export function parseIntOrNull(text: string | null): number | null {
  if (text === null) return null;
  const t = text.trim();
  return /^-?\d+$/.test(t) ? Number(t) : null;
}

export function parseSysctls(panicOnOom: string | null, allocating: string | null): OomSysctls {
  return { panicOnOom: parseIntOrNull(panicOnOom), oomKillAllocatingTask: parseIntOrNull(allocating) };
}

/** "processes" from /proc/stat: forks and clones since boot (the kernel's total_forks). */
export function parseForkCount(text: string): number | null {
  const m = /^processes (\d+)$/m.exec(text);
  return m ? Number(m[1]) : null;
}

/** btime from /proc/stat: boot time in seconds since the epoch. */
export function parseBootTime(text: string): number | null {
  const m = /^btime (\d+)$/m.exec(text);
  return m ? Number(m[1]) : null;
}
