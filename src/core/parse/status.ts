// Parser for /proc/PID/status (fs/proc/array.c, proc_pid_status() and task_mem()).
// Vm* lines are printed only when the task has an mm: their absence means "no mm".

export interface StatusFields {
  name: string | null;
  uid: number | null;
  swapKb: number | null;
  pteKb: number | null;
  rssAnonKb: number | null;
  rssFileKb: number | null;
  rssShmemKb: number | null;
  threads: number | null;
  hasMm: boolean;
}

/** "   1234 kB" -> 1234; anything else -> null. */
function kb(value: string): number | null {
  const t = value.trim();
  if (!t.endsWith(' kB')) return null;
  const digits = t.slice(0, -3).trimEnd();
  return digits.length > 0 && /^\d+$/.test(digits) ? Number(digits) : null;
}

function int(value: string): number | null {
  const m = /^\s*(-?\d+)/.exec(value);
  return m ? Number(m[1]) : null;
}

/** The text after "\nKey:" up to the end of its line, or null when the key is absent. */
function field(text: string, key: string): string | null {
  const at = text.startsWith(key) ? 0 : text.indexOf('\n' + key);
  if (at < 0) return null;
  const start = at === 0 ? key.length : at + 1 + key.length;
  const end = text.indexOf('\n', start);
  return text.slice(start, end < 0 ? text.length : end);
}

const kbField = (text: string, key: string): number | null => {
  const v = field(text, key);
  return v === null ? null : kb(v);
};

/**
 * Never throws: a malformed line leaves its field null (unknown). Looks the keys up
 * directly instead of splitting ~55 lines: this runs for every process on every sample.
 */
export function parseStatus(text: string): StatusFields {
  const uid = field(text, 'Uid:');
  const threads = field(text, 'Threads:');
  return {
    name: field(text, 'Name:')?.trim() ?? null,
    uid: uid === null ? null : int(uid),
    swapKb: kbField(text, 'VmSwap:'),
    pteKb: kbField(text, 'VmPTE:'),
    rssAnonKb: kbField(text, 'RssAnon:'),
    rssFileKb: kbField(text, 'RssFile:'),
    rssShmemKb: kbField(text, 'RssShmem:'),
    threads: threads === null ? null : int(threads),
    hasMm: field(text, 'VmSize:') !== null,
  };
}

/** CapEff of a status text (read once for oomtop itself, not per process). */
export function parseCapEff(text: string): bigint | null {
  const cap = field(text, 'CapEff:')?.trim() ?? null;
  return cap !== null && /^[0-9a-fA-F]+$/.test(cap) ? BigInt('0x' + cap) : null;
}

/** CAP_SYS_RESOURCE is capability bit 24 (include/uapi/linux/capability.h). */
export const CAP_SYS_RESOURCE = 24n;

export function hasCapSysResource(capEff: bigint | null): boolean | null {
  if (capEff === null) return null;
  return ((capEff >> CAP_SYS_RESOURCE) & 1n) === 1n;
}
