// Small file reads shared by the readers of /sys and /etc (cgroupfs.ts, killers.ts): a
// file's text as a Read (value, gone, or unreadable with its errno), or null, and a folder's
// entries. /proc has its own reader (read/procfs.ts).
import { readdirSync, readFileSync } from 'node:fs';
import { type Read, readValue, unreadable } from '../core/read.js';
import { errnoCode } from './errno.js';

export function readText(path: string): Read<string> {
  try {
    return readValue(readFileSync(path, 'utf8'));
  } catch (e) {
    return unreadable(errnoCode(e));
  }
}

/** A file's text; null when absent or unreadable (for files whose absence is normal). */
export function readTextOrNull(path: string): string | null {
  const r = readText(path);
  return r.ok ? r.value : null;
}

/** The sub-folders of a folder, sorted; none when it cannot be read. */
export function subfolders(path: string): string[] {
  try {
    return readdirSync(path, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort();
  } catch {
    return [];
  }
}

/** The file names of a folder, sorted; none when it cannot be read. */
export function fileNames(path: string): string[] {
  try {
    return readdirSync(path).sort();
  } catch {
    return [];
  }
}
