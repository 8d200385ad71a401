// Parser for /proc/PID/status (fs/proc/array.c, proc_pid_status() and task_mem()).
// Vm* lines are printed only when the task has an mm: their absence means "no mm".

import type { ProcSample } from '../types.js';

/** The process's fields status gives (as in ProcSample), its Name, and whether it has an mm. */
export type StatusFields = Pick<
  ProcSample,
  'uid' | 'swapKb' | 'pteKb' | 'pmdKb' | 'rssAnonKb' | 'rssFileKb' | 'rssShmemKb' | 'threads' | 'capSysAdmin'
> & {
  name: string | null;
  hasMm: boolean;
};

/**
 * Where the value of "Key:" starts (after the colon), or -1 when the key is absent.
 * Searches from `from` first (the kernel prints the keys in a fixed order), then the
 * whole text, so a reordered status still parses.
 */
function valueAt(text: string, nlKey: string, from = 0): number {
  // nlKey is "\nKey:"; the first line has no newline before it
  if (from === 0 && text.startsWith(nlKey.slice(1))) return nlKey.length - 1;
  let at = text.indexOf(nlKey, from);
  if (at < 0 && from > 0) at = text.indexOf(nlKey);
  return at < 0 ? -1 : at + nlKey.length;
}

/**
 * The integer after "Key:" (spaces and tabs skipped), parsed from the character codes:
 * this runs for every process on every sample. With `kB`, the value must end in " kB".
 * Anything malformed gives null (unknown), never 0.
 */
function numberField(text: string, nlKey: string, kB: boolean, cursor: { at: number }): number | null {
  let i = valueAt(text, nlKey, cursor.at);
  if (i < 0) return null;
  cursor.at = i;
  const n = text.length;
  while (i < n && (text.charCodeAt(i) === 32 || text.charCodeAt(i) === 9)) i++;
  let neg = false;
  if (!kB && text.charCodeAt(i) === 45) {
    neg = true;
    i++;
  }
  const start = i;
  let v = 0;
  for (; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) break;
    v = v * 10 + (c - 48);
  }
  if (i === start) return null;
  if (kB) {
    if (text.charCodeAt(i) !== 32 || text.charCodeAt(i + 1) !== 107 || text.charCodeAt(i + 2) !== 66) return null; // " kB"
    const after = text.charCodeAt(i + 3);
    if (i + 3 < n && after !== 10) return null;
  } else {
    const after = text.charCodeAt(i);
    if (i < n && after !== 10 && after !== 9 && after !== 32) return null;
  }
  return neg ? -v : v;
}

function stringField(text: string, nlKey: string): string | null {
  const i = valueAt(text, nlKey);
  if (i < 0) return null;
  const end = text.indexOf('\n', i);
  return text.slice(i, end < 0 ? text.length : end);
}

/** The status lines parseStatus reads: a reader may keep only these (the native one does). */
export const STATUS_KEYS: readonly string[] = [
  'Name:',
  'Uid:',
  'VmSize:',
  'RssAnon:',
  'RssFile:',
  'RssShmem:',
  'VmPTE:',
  'VmPMD:',
  'VmSwap:',
  'Threads:',
  'CapEff:',
];

/**
 * Never throws: a malformed line leaves its field null (unknown). Looks the keys up
 * directly instead of splitting ~55 lines: this runs for every process on every sample.
 */
export function parseStatus(text: string): StatusFields {
  // In the kernel's order (proc_pid_status(), task_mem()), each search starting where
  // the previous key was found.
  const c = { at: 0 };
  const name = stringField(text, '\nName:')?.trim() ?? null;
  const uid = numberField(text, '\nUid:', false, c);
  const hasMm = valueAt(text, '\nVmSize:', c.at) >= 0;
  const rssAnonKb = numberField(text, '\nRssAnon:', true, c);
  const rssFileKb = numberField(text, '\nRssFile:', true, c);
  const rssShmemKb = numberField(text, '\nRssShmem:', true, c);
  const pteKb = numberField(text, '\nVmPTE:', true, c);
  // VmPMD: 4.0–4.14 only (task_mem()); absent elsewhere, which is not an error.
  const pmdKb = hasMm ? numberField(text, '\nVmPMD:', true, c) : null;
  const swapKb = numberField(text, '\nVmSwap:', true, c);
  const threads = numberField(text, '\nThreads:', false, c);
  const capSysAdmin = capBit(text, CAP_SYS_ADMIN_BIT, c.at);
  return { name, uid, swapKb, pteKb, pmdKb, rssAnonKb, rssFileKb, rssShmemKb, threads, hasMm, capSysAdmin };
}

/** CAP_SYS_ADMIN is capability bit 21 (include/uapi/linux/capability.h). */
const CAP_SYS_ADMIN_BIT = 21;

/**
 * One bit of CapEff (16 hex digits, task_cap()) without a BigInt: the bit's hex digit is
 * read alone. null when CapEff is absent or malformed.
 */
function capBit(text: string, bit: number, from: number): boolean | null {
  const i = valueAt(text, '\nCapEff:', from);
  if (i < 0) return null;
  let start = i;
  while (text.charCodeAt(start) === 9 || text.charCodeAt(start) === 32) start++;
  let end = start;
  while (end < text.length && isHexDigit(text.charCodeAt(end))) end++;
  const digitAt = end - 1 - Math.floor(bit / 4);
  if (end === start || (end < text.length && text.charCodeAt(end) !== 10)) return null;
  if (digitAt < start) return false;
  return ((Number.parseInt(text.charAt(digitAt), 16) >> (bit % 4)) & 1) === 1;
}

/** 0-9, a-f, A-F, from the character code (a regular expression per digit cost 2 µs a process). */
function isHexDigit(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70);
}

/** CAP_SYS_RESOURCE is capability bit 24 (include/uapi/linux/capability.h). */
export const CAP_SYS_RESOURCE = 24n;

export function hasCapSysResource(capEff: bigint | null): boolean | null {
  if (capEff === null) return null;
  return ((capEff >> CAP_SYS_RESOURCE) & 1n) === 1n;
}

/** CapEff of a status text (read once for oomtop itself, not per process). */
export function parseCapEff(text: string): bigint | null {
  const cap = stringField(text, '\nCapEff:')?.trim() ?? null;
  return cap !== null && /^[0-9a-fA-F]+$/.test(cap) ? BigInt(`0x${cap}`) : null;
}
