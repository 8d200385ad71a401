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
  /** Each row's slot in the buffers: its process's, kept from sample to sample. */
  at: Int32Array;
  bufs: Buffer[];
  lens: Int32Array[];
  /** Per name, whether each row read the same bytes as its process read last time. */
  same: Uint8Array[];
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
   * This sample's reads, made in one native call: the pids in row order, each row's slot,
   * per name the buffer, the lengths, and whether each row read the bytes its process read
   * last time.
   */
  private pre: Prefetch | null = null;
  /** The pids of the last sample, row for row. */
  private lastPids: readonly number[] | null = null;
  private isAligned = false;
  /**
   * Every process read has a slot of its own in one buffer per name, from its first read
   * until it is gone: its last bytes stay there, and each read is compared with them in
   * place (native readSlots), whatever row the process has in this sample's pid list.
   */
  private readonly slotOf = new Map<number, number>();
  private freeSlots: number[] = [];
  private slotsUsed = 0;
  private slotBufs: Buffer[] = [];
  /** Per name and slot, the length of the bytes the slot holds (-1: none). */
  private slotLens: Int32Array[] = [];
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
   * With the native reader: reads every file of these pids now in one native call per name
   * (one pread per held file; a process past the open-file budget by path, in C), each
   * process into its own slot, compared there with what it read last time (sameAsLast), for
   * read() to hand out. The buffers are kept from sample to sample (no new pages).
   */
  prefetch(pids: readonly number[]): void {
    const lastPids = this.pre?.pids ?? this.lastPids;
    this.pre = null;
    if (!this.native) return;
    this.openMissing(pids);
    // The same files row for row too: no descriptor kept or closed since.
    this.isAligned = lastPids !== null && this.changes === this.changesAtLast && sameList(lastPids, pids);
    const at = this.slotsFor(pids);
    const ids = Int32Array.from(pids);
    const bufs: Buffer[] = [];
    const lens: Int32Array[] = [];
    const same: Uint8Array[] = [];
    for (let i = 0; i < this.names.length; i++) {
      const fds = new Int32Array(pids.length);
      for (let r = 0; r < pids.length; r++) fds[r] = this.fds.get(pids[r] as number)?.[i] ?? -1;
      const flags = new Uint8Array(pids.length);
      const buf = this.slotBufs[i] as Buffer;
      const got = this.native.readSlots(
        this.proc.root,
        [this.names[i] as string],
        ids,
        fds,
        this.slots[i] as number,
        buf,
        at,
        this.slotLens[i] as Int32Array,
        flags,
      );
      bufs.push(buf);
      lens.push(got);
      same.push(flags);
    }
    this.changesAtLast = this.changes;
    this.pre = { pids, at, bufs, lens, same };
  }

  /** Each pid's slot, a new one (holding nothing) for a pid read for the first time. */
  private slotsFor(pids: readonly number[]): Int32Array {
    const at = new Int32Array(pids.length);
    const fresh: number[] = [];
    for (let r = 0; r < pids.length; r++) {
      const pid = pids[r] as number;
      let k = this.slotOf.get(pid);
      if (k === undefined) {
        k = this.freeSlots.pop() ?? this.slotsUsed++;
        this.slotOf.set(pid, k);
        fresh.push(k);
      }
      at[r] = k;
    }
    if ((this.slotLens[0]?.length ?? 0) < this.slotsUsed) this.grow(Math.ceil(this.slotsUsed * 1.25));
    for (const lens of this.slotLens) for (const k of fresh) lens[k] = -1;
    return at;
  }

  /** Room for `capacity` slots per name, keeping what the slots hold. */
  private grow(capacity: number): void {
    this.names.forEach((_, i) => {
      const slot = this.slots[i] as number;
      const buf = Buffer.allocUnsafe(slot * capacity);
      this.slotBufs[i]?.copy(buf);
      this.slotBufs[i] = buf;
      const lens = new Int32Array(capacity).fill(-1);
      if (this.slotLens[i]) lens.set(this.slotLens[i] as Int32Array);
      this.slotLens[i] = lens;
    });
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

  /** Compares the next reads with nothing (a sample failed half-way: its reads made no records). */
  forgetReads(): void {
    for (const lens of this.slotLens) lens.fill(-1);
  }

  /** Whether this sample's pids are the last sample's, row for row (sameAsLast can answer). */
  get aligned(): boolean {
    return this.pre !== null && this.isAligned;
  }

  /**
   * Whether (pid, names[index]) read this sample exactly the bytes it read the last time it
   * was read (last sample), at pid's row `row` of the list given to prefetch(). false when
   * unknown (a first read, a failed one, one longer than the slot).
   */
  sameAsLast(pid: number, index: number, row: number): boolean {
    const pre = this.pre;
    return pre !== null && pre.pids[row] === pid && (pre.same[index] as Uint8Array)[row] === 1;
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

  /** Where row `row`'s bytes start in prefetchedBuffer(index): its process's slot. */
  prefetchedOffset(index: number, row: number): number {
    return ((this.pre as Prefetch).at[row] as number) * (this.slots[index] as number);
  }

  prefetchedBuffer(index: number): Buffer {
    return (this.pre as { bufs: Buffer[] }).bufs[index] as Buffer;
  }

  slot(index: number): number {
    return this.slots[index] as number;
  }

  /** Ends this sample: its reads are kept only to be compared with the next one's. */
  endSample(): void {
    this.lastPids = this.pre?.pids ?? null;
    this.pre = null;
  }

  get openCount(): number {
    return this.held;
  }

  /** Reads file `names[index]` of pid into buf[off, off+n); throws the fs error (with .code) like ProcFs.readText. */
  read(pid: number, index: number, size = 4096, row = -1): { buf: Buffer; off: number; n: number } {
    const n = this.prefetchedLength(pid, index, row);
    if (n >= 0) return { buf: this.prefetchedBuffer(index), off: this.prefetchedOffset(index, row), n };
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
    if (pn >= 0) return parseIntBytes(this.prefetchedBuffer(index), this.prefetchedOffset(index, row), pn);
    try {
      const { buf, off, n } = this.read(pid, index, 64);
      return parseIntBytes(buf, off, n);
    } catch (e) {
      return unreadable(errnoCode(e));
    }
  }

  /** Closes the files of every pid not in `live` (ascending, as listPids gives them). */
  retain(live: readonly number[]): void {
    // forEach: no [key, value] array per entry (20,000 a tick)
    this.fds.forEach((_, pid) => {
      if (!hasSorted(live, pid)) this.drop(pid);
    });
    // every pid of the sample has a slot, so as many slots as live pids are the live ones
    if (this.slotOf.size === live.length) return;
    this.slotOf.forEach((k, pid) => {
      if (hasSorted(live, pid)) return;
      this.slotOf.delete(pid);
      this.freeSlots.push(k);
    });
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
