// The one reader of /proc (or a fixture tree standing in for it). Synchronous reads into
// one reused buffer: fs.promises costs 10-40x more per small file here. The sampler's
// other readers sit beside it: native-batch.ts (many processes' files in one native call)
// and held-files.ts (files kept open between samples, read again with pread).
import { type Read, type IntRead, unreadable, readValue } from '../../core/read.js';
import { messageOf } from '../../core/errors.js';
import { closeSync, openSync, readdirSync, readlinkSync, readSync } from 'node:fs';
import { decodeUtf8 } from '../../core/format.js';
import { errnoCode } from '../errno.js';
import { errnoName, type NativeReader } from '../native.js';

export { isGone } from '../../core/read.js';

export class ProcFs {
  private buf = Buffer.allocUnsafe(64 * 1024);

  constructor(
    readonly root: string,
    private readonly native: NativeReader | null = null,
  ) {}

  path(rel: string): string {
    return `${this.root}/${rel}`;
  }

  /**
   * Reads a whole file; throws the fs error (with .code). A short read is the end: /proc
   * files are generated whole per read (seq_file, cmdline), so one read() usually suffices,
   * which saves the extra read() that would only return 0.
   */
  readText(rel: string, encoding: BufferEncoding = 'utf8'): string {
    const fd = openSync(this.path(rel), 'r');
    try {
      let len = 0;
      for (;;) {
        const n = readSync(fd, this.buf, len, this.buf.length - len, null);
        len += n;
        if (len < this.buf.length) break;
        const bigger = Buffer.allocUnsafe(this.buf.length * 2);
        this.buf.copy(bigger, 0, 0, len);
        this.buf = bigger;
      }
      return decode(this.buf, 0, len, encoding);
    } finally {
      closeSync(fd);
    }
  }

  tryRead(rel: string, encoding: BufferEncoding = 'utf8'): Read<string> {
    try {
      return readValue(this.readText(rel, encoding));
    } catch (e) {
      return unreadable(errnoCode(e));
    }
  }

  /**
   * Reads a small file holding one integer (oom_score, oom_score_adj) and parses it from
   * the bytes, without making a string: this runs twice per process per sample.
   * Returns the number, null when the content is not an integer, or the errno code.
   */
  readInt(rel: string): IntRead {
    let fd: number;
    try {
      fd = openSync(this.path(rel), 'r');
    } catch (e) {
      return unreadable(errnoCode(e));
    }
    let n: number;
    try {
      n = readSync(fd, this.buf, 0, 64, null);
    } catch (e) {
      return unreadable(errnoCode(e));
    } finally {
      closeSync(fd);
    }
    return parseIntBytes(this.buf, 0, n);
  }

  /** A buffer of at least `size` bytes for callers that read on their own (held files). */
  scratch(size: number): Buffer {
    if (this.buf.length < size) this.buf = Buffer.allocUnsafe(size);
    return this.buf;
  }

  readOrNull(rel: string): string | null {
    const r = this.tryRead(rel);
    return r.ok ? r.value : null;
  }

  readlinkOrNull(rel: string): string | null {
    try {
      return readlinkSync(this.path(rel));
    } catch {
      return null;
    }
  }

  /** Numeric entries of the root, ascending (as the kernel lists them; a fixture folder may not). */
  listPids(): number[] {
    if (this.native) {
      try {
        return Array.from(this.native.listPids(this.root).sort());
      } catch (e) {
        const errno = (e as { errno?: number }).errno;
        throw Object.assign(new Error(`cannot list ${this.root}: ${messageOf(e)}`), {
          code: errno === undefined ? 'EIO' : errnoName(errno),
        });
      }
    }
    const out: number[] = [];
    for (const name of readdirSync(this.root)) {
      const c = name.charCodeAt(0);
      if (c >= 48 && c <= 57) {
        const pid = Number(name);
        if (Number.isInteger(pid)) out.push(pid);
      }
    }
    return out.sort((a, b) => a - b);
  }

  listDir(rel: string): string[] {
    try {
      return readdirSync(this.path(rel));
    } catch {
      return [];
    }
  }
}

/** Whether `pid` is in the ascending list `pids` (binary search: no Set per tick). */
export function hasSorted(pids: readonly number[], pid: number): boolean {
  return indexSorted(pids, pid) >= 0;
}

/** An integer file's bytes (b[start, start+n)): "-12\n" -> -12; null when not an integer. */
export function parseIntBytes(b: Buffer, start: number, n: number): number | null {
  const end = start + n;
  let i = start;
  let neg = false;
  if (n > 0 && b[i] === 45) {
    neg = true;
    i++;
  }
  let v = 0;
  const first = i;
  for (; i < end; i++) {
    const c = b[i] as number;
    if (c < 48 || c > 57) break;
    v = v * 10 + (c - 48);
  }
  if (i === first || (i < end && b[i] !== 10)) return null;
  return neg ? -v : v;
}

export const NON_ASCII = /[^\x00-\x7f]/;

/**
 * Bytes of a /proc or /sys file as text: UTF-8 with every invalid byte kept as U+DC80+byte
 * (core/format.ts decodeUtf8), so a name that is not UTF-8 is shown escaped, not replaced.
 */
export function decode(buf: Buffer, start: number, end: number, encoding: BufferEncoding = 'utf8'): string {
  return encoding === 'utf8' ? decodeUtf8(buf, start, end) : buf.toString(encoding, start, end);
}

/** pid's index in the ascending list, or -1. */
export function indexSorted(pids: ArrayLike<number>, pid: number): number {
  let lo = 0;
  let hi = pids.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const v = pids[mid] as number;
    if (v === pid) return mid;
    if (v < pid) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}
