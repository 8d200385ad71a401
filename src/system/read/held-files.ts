// Files kept open between samples (stat and oom_score_adj of every process) and read
// again at offset 0: the dashboard's and watch's reader.
import { type Read, type IntRead, unreadable, readValue } from '../../core/read.js';
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { errnoCode } from '../errno.js';
import type { NativeReader } from '../native.js';
import { decode, hasSorted, isGone, parseIntBytes, type ProcFs } from './procfs.js';

/**
 * The soft limit on open files of a process (`self`: this one; Node raises it to the hard
 * limit at start), from /proc/PID/limits; null when it cannot be read.
 */
export function openFileLimit(pid: number | 'self' = 'self'): number | null {
  try {
    const line = readFileSync(`/proc/${pid}/limits`, 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const soft = Number(line?.split(/\s{2,}/)[1]);
    return Number.isFinite(soft) && soft > 0 ? soft : null;
  } catch {
    return null;
  }
}

interface Prefetch {
  pids: readonly number[];
  bufs: Buffer[];
  lens: Int32Array[];
  /** Per name, whether each row read the same bytes as last sample; null when the rows moved. */
  same: Uint8Array[] | null;
}

/** Two ascending pid lists hold the same pids. */
function sameList(a: readonly number[], b: readonly number[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = a.length - 1; i >= 0; i--) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Files kept open between samples and read again at offset 0 (pread): one system call per
 * file and tick instead of open, read and close. /proc regenerates the content on every read
 * at offset 0, and a file stays bound to its process: once the process is gone a read fails
 * with ESRCH, also when a new process has taken its pid. Costs a descriptor per file, and
 * for seq_file files (stat) a page of kernel memory per file while open.
 */
export class HeldFiles {
  private readonly fds = new Map<number, number[]>();
  private held = 0;
  private readonly budget: number;
  /**
   * This sample's reads, made in one native call: the pids in row order, per name a buffer,
   * the lengths, and whether each row read the same bytes as its process's row last sample.
   */
  private pre: Prefetch | null = null;
  /** The last sample's reads: their pids and lengths, which this sample's are compared with (in place, in the same buffers). */
  private last: Prefetch | null = null;
  private preBufs: Buffer[] = [];
  /** Descriptors kept or closed so far, and at the last prefetch: rows keep their files while it stands. */
  private changes = 0;
  private changesAtLast = -1;

  constructor(
    private readonly proc: ProcFs,
    private readonly names: readonly string[],
    budget?: number,
    private readonly native: NativeReader | null = null,
    private readonly slots: readonly number[] = names.map(() => 1024),
  ) {
    // Leave room for everything else oomtop opens (the terminal, the audit log).
    this.budget = budget ?? Math.max(0, (openFileLimit() ?? 1024) - 1024);
  }

  /**
   * With the native reader: reads every held file of these pids now, one pread each in one
   * call, for read() to hand out. Buffers are kept from sample to sample (no new pages).
   * When the pids are last sample's, row for row, each file is also compared with what its
   * row read then (sameAsLast).
   */
  prefetch(pids: readonly number[]): void {
    const last = this.pre ?? this.last;
    this.pre = null;
    this.last = null;
    if (!this.native) return;
    this.openMissing(pids);
    if (this.held === 0) return;
    // The same files row for row too: no descriptor kept or closed since.
    const aligned = last !== null && this.changes === this.changesAtLast && sameList(last.pids, pids);
    const fdsPerName = this.names.map(() => new Int32Array(pids.length));
    for (let r = 0; r < pids.length; r++) {
      const fds = this.fds.get(pids[r] as number);
      for (let i = 0; i < this.names.length; i++) (fdsPerName[i] as Int32Array)[r] = fds?.[i] ?? -1;
    }
    const bufs: Buffer[] = [];
    const lens: Int32Array[] = [];
    const same: Uint8Array[] = [];
    for (let i = 0; i < this.names.length; i++) {
      const slot = this.slots[i] as number;
      let buf = this.preBufs[i];
      if (!buf || buf.length < slot * pids.length) {
        buf = Buffer.allocUnsafe(slot * Math.ceil(pids.length * 1.25));
        this.preBufs[i] = buf;
      }
      bufs.push(buf);
      const flags = new Uint8Array(aligned ? pids.length : 0);
      same.push(flags);
      const got = aligned
        ? this.native.preadMany(fdsPerName[i] as Int32Array, slot, buf, (last as Prefetch).lens[i], flags)
        : this.native.preadMany(fdsPerName[i] as Int32Array, slot, buf);
      this.readUnheld(pids, fdsPerName[i] as Int32Array, i, buf, got);
      lens.push(got);
    }
    this.changesAtLast = this.changes;
    this.pre = { pids, bufs, lens, same: aligned ? same : null };
  }

  /**
   * Opens, in one native call, the files of the pids that hold none yet (every pid at the
   * first sample, new processes after), within the budget; a file that fails to open is
   * left to read(), which says why.
   */
  private openMissing(pids: readonly number[]): void {
    const native = this.native as NativeReader;
    const room = this.budget - this.held;
    if (room < this.names.length) return;
    const missing = pids.filter((p) => !this.fds.has(p));
    if (!missing.length) return;
    const want = Int32Array.from(missing.slice(0, Math.floor(room / this.names.length)));
    const fds = native.openMany(this.proc.root, want, this.names, room);
    for (let r = 0; r < want.length; r++) {
      const row = this.names.map((_, i) => fds[r * this.names.length + i] as number);
      if (row.every((fd) => fd < 0)) continue;
      this.fds.set(
        want[r] as number,
        row.map((fd) => (fd < 0 ? -1 : fd)),
      );
      const n = row.filter((fd) => fd >= 0).length;
      this.held += n;
      this.changes += n;
    }
  }

  /**
   * The rows holding no descriptor (past the open-file budget: the hard limit is 20,000 on
   * some hosts) are read in the same native pass, opened and closed in C, into the same
   * slots: not one JavaScript open, read and close each a tick.
   */
  private readUnheld(pids: readonly number[], fds: Int32Array, index: number, buf: Buffer, lens: Int32Array): void {
    const want = new Uint8Array(pids.length);
    let n = 0;
    for (let r = 0; r < pids.length; r++)
      if ((fds[r] as number) < 0) {
        want[r] = 1;
        n++;
      }
    if (!n) return;
    const slot = this.slots[index] as number;
    const got = (this.native as NativeReader).readEach(
      this.proc.root,
      Int32Array.from(pids),
      [this.names[index] as string],
      want,
      Uint32Array.of(slot),
      buf,
    );
    for (let r = 0; r < pids.length; r++) if (want[r]) lens[r] = got[r] as number;
  }

  /** Whether this sample's pids are the last sample's, row for row (sameAsLast can answer). */
  get aligned(): boolean {
    return this.pre?.same != null;
  }

  /**
   * Whether (pid, names[index]) read this sample exactly the bytes it read last sample, at
   * pid's row `row` of the list given to prefetch(). false when unknown.
   */
  sameAsLast(pid: number, index: number, row: number): boolean {
    const same = this.pre?.same;
    return same != null && this.pre?.pids[row] === pid && (same[index] as Uint8Array)[row] === 1;
  }

  /**
   * This sample's prefetched read of (pid, names[index]): its length, the bytes being
   * prefetchedBuffer(index) from row * slot(index); -1 when there is none (not held, failed,
   * longer than a slot): read() it. `row`: pid's position in the list given to prefetch().
   * Allocates nothing: the dashboard asks this twice per process and tick.
   */
  prefetchedLength(pid: number, index: number, row: number): number {
    const pre = this.pre;
    if (!pre || pre.pids[row] !== pid) return -1;
    const n = (pre.lens[index] as Int32Array)[row] as number;
    return n >= 0 && n < (this.slots[index] as number) ? n : -1;
  }

  prefetchedBuffer(index: number): Buffer {
    return (this.pre as { bufs: Buffer[] }).bufs[index] as Buffer;
  }

  slot(index: number): number {
    return this.slots[index] as number;
  }

  /** Ends this sample: its reads are kept only to be compared with the next one's. */
  endSample(): void {
    this.last = this.pre;
    this.pre = null;
  }

  get openCount(): number {
    return this.held;
  }

  /** Reads file `names[index]` of pid into buf[off, off+n); throws the fs error (with .code) like ProcFs.readText. */
  read(pid: number, index: number, size = 4096, row = -1): { buf: Buffer; off: number; n: number } {
    const n = this.prefetchedLength(pid, index, row);
    if (n >= 0) return { buf: this.prefetchedBuffer(index), off: row * (this.slots[index] as number), n };
    // not held, failed (the process is gone) or longer than a slot: read it the usual way
    const buf = this.proc.scratch(size);
    let fds = this.fds.get(pid);
    const fd = fds?.[index] ?? -1;
    if (fd >= 0) {
      try {
        const n = readSync(fd, buf, 0, size, 0);
        if (n < size) return { buf, off: 0, n };
      } catch (e) {
        // The process this file belonged to is gone; its pid may be a new process now.
        if (!isGone(errnoCode(e))) throw e;
      }
      this.drop(pid);
      fds = undefined;
    }
    const opened = openSync(this.proc.path(`${pid}/${this.names[index]}`), 'r');
    let keep = false;
    try {
      const n = readSync(opened, buf, 0, size, null);
      if (n >= size) throw Object.assign(new Error('file larger than a held read'), { code: 'EFBIG' });
      if (this.held < this.budget) {
        if (!fds) {
          fds = this.names.map(() => -1);
          this.fds.set(pid, fds);
        }
        fds[index] = opened;
        this.held++;
        this.changes++;
        keep = true;
      }
      return { buf, off: 0, n };
    } finally {
      if (!keep) closeSync(opened);
    }
  }

  /** read() as text, with the errno code instead of a throw (like ProcFs.tryRead). */
  text(pid: number, index: number, encoding: BufferEncoding, row = -1): Read<string> {
    try {
      const { buf, off, n } = this.read(pid, index, 4096, row);
      return readValue(decode(buf, off, off + n, encoding));
    } catch (e) {
      return unreadable(errnoCode(e));
    }
  }

  /** read() of an integer file (like ProcFs.readInt). */
  int(pid: number, index: number, row = -1): IntRead {
    const pn = this.prefetchedLength(pid, index, row);
    if (pn >= 0) return parseIntBytes(this.prefetchedBuffer(index), row * (this.slots[index] as number), pn);
    try {
      const { buf, off, n } = this.read(pid, index, 64);
      return parseIntBytes(buf, off, n);
    } catch (e) {
      return unreadable(errnoCode(e));
    }
  }

  /** Closes the files of every pid not in `live` (ascending, as listPids gives them). */
  retain(live: readonly number[]): void {
    for (const pid of this.fds.keys()) if (!hasSorted(live, pid)) this.drop(pid);
  }

  drop(pid: number): void {
    const fds = this.fds.get(pid);
    if (!fds) return;
    for (const fd of fds) {
      if (fd < 0) continue;
      try {
        closeSync(fd);
      } catch {
        /* already closed */
      }
      this.held--;
      this.changes++;
    }
    this.fds.delete(pid);
  }

  closeAll(): void {
    for (const pid of [...this.fds.keys()]) this.drop(pid);
  }
}
