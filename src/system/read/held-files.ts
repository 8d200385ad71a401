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
  lens: Int32Array[];
  /** Per name, whether each row read the same bytes as its process read last time. */
  same: Uint8Array[];
  /**
   * Per hashed name (its slots keep a hash, not the bytes): this sample's bytes of the rows
   * that did not read the same, and where each row's start in them (-1: none); null for a
   * name whose slots keep the bytes.
   */
  data: Array<{ buf: Buffer; offs: Int32Array } | null>;
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
  /** Per hashed name and slot, the hash of its last read (native readHashed); else empty. */
  private slotHashes: BigUint64Array[] = [];
  /** Per name and slot, the descriptor its process's file is held open by (-1: none). */
  private slotFds: Int32Array[] = [];
  /** Descriptors kept or closed so far, and at the last prefetch: rows keep their files while it stands. */
  private changes = 0;
  private changesAtLast = -1;

  constructor(
    private readonly proc: ProcFs,
    private readonly names: readonly string[],
    budget?: number,
    private readonly native: NativeReader | null = null,
    private readonly slots: readonly number[] = names.map(() => 1024),
    /**
     * Per name, whether its slots keep a hash of the last read instead of its bytes (stat:
     * 20,000 slots of 384 bytes are 7.3 MiB); this sample's bytes of the rows that moved
     * are handed out all the same, those of a row that read the same are read again.
     */
    private readonly hashed: readonly boolean[] = names.map(() => false),
  ) {
    // Leave room for everything else oomtop opens (the terminal, the audit log).
    this.budget = budget ?? Math.max(0, (openFileLimit() ?? 1024) - 1024);
  }

  /**
   * With the native reader: reads every file of these pids now in one native call per name
   * (one pread per held file; a process past the open-file budget by path, in C), each
   * process into its own slot, compared there with what it read last time (sameAsLast), for
   * read() to hand out. The buffers are kept from sample to sample (no new pages). A hashed
   * name hands out the bytes of the rows that moved, and of the pids `bytesWanted` names
   * (the ones whose record is made anew this sample whatever they read).
   */
  prefetch(pids: readonly number[], bytesWanted?: (pid: number) => boolean): void {
    const lastPids = this.pre?.pids ?? this.lastPids;
    this.pre = null;
    if (!this.native) return;
    const at = this.slotsFor(pids);
    this.openMissing(pids, at);
    // The same files row for row too: no descriptor kept or closed since.
    this.isAligned = lastPids !== null && this.changes === this.changesAtLast && sameList(lastPids, pids);
    const ids = Int32Array.from(pids);
    const pre: Prefetch = { pids, at, lens: [], same: [], data: [] };
    for (let i = 0; i < this.names.length; i++) {
      const fds = new Int32Array(pids.length);
      const held = this.slotFds[i] as Int32Array;
      for (let r = 0; r < pids.length; r++) fds[r] = held[at[r] as number] as number;
      const flags = new Uint8Array(pids.length);
      const [name, slot, lastLens] = [
        [this.names[i] as string] as [string],
        this.slots[i] as number,
        this.slotLens[i] as Int32Array,
      ];
      if (this.hashed[i]) {
        const hashes = this.slotHashes[i] as BigUint64Array;
        const always = new Uint8Array(pids.length);
        if (bytesWanted) for (let r = 0; r < pids.length; r++) always[r] = bytesWanted(pids[r] as number) ? 1 : 0;
        const [got, offs, buf] = this.native.readHashed(
          this.proc.root,
          name,
          ids,
          fds,
          slot,
          at,
          lastLens,
          hashes,
          flags,
          always,
        );
        pre.lens.push(got);
        pre.data.push({ buf, offs });
      } else {
        const buf = this.slotBufs[i] as Buffer;
        pre.lens.push(this.native.readSlots(this.proc.root, name, ids, fds, slot, buf, at, lastLens, flags));
        pre.data.push(null);
      }
      pre.same.push(flags);
    }
    this.changesAtLast = this.changes;
    this.pre = pre;
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
    for (const k of fresh) this.clearSlot(k);
    return at;
  }

  /** pid's slot, a new one (holding nothing) when it has none (the JavaScript reader's reads). */
  private slotFor(pid: number): number {
    const k = this.slotOf.get(pid);
    return k ?? (this.slotsFor([pid])[0] as number);
  }

  /** A slot given to a process: no bytes, no descriptor. */
  private clearSlot(k: number): void {
    for (let i = 0; i < this.names.length; i++) {
      (this.slotLens[i] as Int32Array)[k] = -1;
      (this.slotFds[i] as Int32Array)[k] = -1;
    }
  }

  /** Room for `capacity` slots per name, keeping what the slots hold. */
  private grow(capacity: number): void {
    this.names.forEach((_, i) => {
      const slot = this.slots[i] as number;
      const hashed = this.hashed[i] === true;
      const buf = Buffer.allocUnsafe(hashed ? 0 : slot * capacity);
      this.slotBufs[i]?.copy(buf);
      this.slotBufs[i] = buf;
      const hashes = new BigUint64Array(hashed ? capacity : 0);
      if (hashed && this.slotHashes[i]) hashes.set(this.slotHashes[i] as BigUint64Array);
      this.slotHashes[i] = hashes;
      const lens = new Int32Array(capacity).fill(-1);
      if (this.slotLens[i]) lens.set(this.slotLens[i] as Int32Array);
      this.slotLens[i] = lens;
      const fds = new Int32Array(capacity).fill(-1);
      if (this.slotFds[i]) fds.set(this.slotFds[i] as Int32Array);
      this.slotFds[i] = fds;
    });
  }

  /**
   * Opens, in one native call, the files of the pids that hold none yet (every pid at the
   * first sample, new processes after), within the budget; a file that fails to open is
   * left to read(), which says why.
   */
  private openMissing(pids: readonly number[], at: Int32Array): void {
    const native = this.native as NativeReader;
    const room = this.budget - this.held;
    const names = this.names.length;
    if (room < names) return;
    const missing: number[] = [];
    for (let r = 0; r < pids.length && missing.length < Math.floor(room / names); r++)
      if (!this.holds(at[r] as number)) missing.push(r);
    if (!missing.length) return;
    const fds = native.openMany(
      this.proc.root,
      Int32Array.from(missing, (r) => pids[r] as number),
      this.names,
      room,
    );
    missing.forEach((r, j) => {
      for (let i = 0; i < names; i++) {
        const fd = fds[j * names + i] as number;
        if (fd < 0) continue;
        (this.slotFds[i] as Int32Array)[at[r] as number] = fd;
        this.held++;
        this.changes++;
      }
    });
  }

  /** Whether slot k's process holds any of its files open. */
  private holds(k: number): boolean {
    for (let i = 0; i < this.names.length; i++) if (((this.slotFds[i] as Int32Array)[k] as number) >= 0) return true;
    return false;
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
   * prefetchedBuffer(index) from prefetchedOffset(index, row); -1 when there is none (not
   * held, failed, longer than a slot, or a hashed name's row that read the same as last
   * time): read() it. `row`: pid's position in the list given to prefetch().
   * Allocates nothing: the dashboard asks this twice per process and tick.
   */
  prefetchedLength(pid: number, index: number, row: number): number {
    const pre = this.pre;
    if (!pre || pre.pids[row] !== pid) return -1;
    const n = (pre.lens[index] as Int32Array)[row] as number;
    if (n < 0 || n >= (this.slots[index] as number)) return -1;
    const data = pre.data[index];
    return data && (data.offs[row] as number) < 0 ? -1 : n;
  }

  /** Where row `row`'s bytes start in prefetchedBuffer(index): its process's slot, or its place in this sample's bytes. */
  prefetchedOffset(index: number, row: number): number {
    const pre = this.pre as Prefetch;
    const data = pre.data[index];
    return data ? (data.offs[row] as number) : (pre.at[row] as number) * (this.slots[index] as number);
  }

  prefetchedBuffer(index: number): Buffer {
    // the slots' buffer (grown since, it holds the same bytes at the same offsets)
    return this.pre?.data[index]?.buf ?? (this.slotBufs[index] as Buffer);
  }

  /**
   * Whether the slot of (pid, names[index]) stands for this sample's read at `row`: the read
   * fit its slot, and what the slot keeps (bytes or hash) is of this read, so the next
   * sample's is compared with it (sameAsLast). A cached record made from this read needs no
   * copy of its text.
   */
  vouches(pid: number, index: number, row: number): boolean {
    const pre = this.pre;
    if (!pre || pre.pids[row] !== pid) return false;
    const n = (pre.lens[index] as Int32Array)[row] as number;
    return (
      n >= 0 && n < (this.slots[index] as number) && (this.slotLens[index] as Int32Array)[pre.at[row] as number] === n
    );
  }

  /**
   * The next read of (pid, names[index]) is compared with nothing: this sample's record was
   * made from a read other than the slot's (read() again, after the slot said the same).
   */
  forgetSlot(pid: number, index: number): void {
    const k = this.slotOf.get(pid);
    if (k !== undefined) (this.slotLens[index] as Int32Array)[k] = -1;
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
    const k = this.slotFor(pid);
    const fds = this.slotFds[index] as Int32Array;
    const fd = fds[k] as number;
    if (fd >= 0) {
      try {
        const n = readSync(fd, buf, 0, size, 0);
        if (n < size) return { buf, off: 0, n };
      } catch (e) {
        // The process this file belonged to is gone; its pid may be a new process now.
        if (!isGone(errnoCode(e))) throw e;
      }
      this.drop(pid);
    }
    const opened = openSync(this.proc.path(`${pid}/${this.names[index]}`), 'r');
    let keep = false;
    try {
      const n = readSync(opened, buf, 0, size, null);
      if (n >= size) throw Object.assign(new Error('file larger than a held read'), { code: 'EFBIG' });
      if (this.held < this.budget) {
        fds[k] = opened;
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
    // every pid read has a slot, so as many slots as live pids are the live ones
    if (this.slotOf.size === live.length) return;
    // forEach: no [key, value] array per entry (20,000 a tick)
    this.slotOf.forEach((k, pid) => {
      if (hasSorted(live, pid)) return;
      this.drop(pid);
      this.slotOf.delete(pid);
      this.freeSlots.push(k);
    });
  }

  /** Closes the files pid holds open (its process is gone, or another has its pid). */
  drop(pid: number): void {
    const k = this.slotOf.get(pid);
    if (k === undefined) return;
    for (let i = 0; i < this.names.length; i++) {
      const fds = this.slotFds[i] as Int32Array;
      const fd = fds[k] as number;
      if (fd < 0) continue;
      try {
        closeSync(fd);
      } catch {
        /* already closed */
      }
      fds[k] = -1;
      this.held--;
      this.changes++;
    }
  }

  closeAll(): void {
    this.slotOf.forEach((_, pid) => {
      this.drop(pid);
    });
  }
}
