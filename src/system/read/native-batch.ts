// Many processes' files read in one call to the native reader (native/proc_batch.c):
// Prefetched, one batch of a one-shot sample over several threads; PathBatch, the rolling
// refresh of a dashboard tick, into a buffer kept between ticks.
import { type Read, type IntRead, unreadable, readValue } from '../../core/read.js';
import { errnoName, NOT_READ, type NativeReader } from '../native.js';
import { decode, indexSorted, NON_ASCII, parseIntBytes } from './procfs.js';

/**
 * The files of many processes, read in one call by the native reader. Lookups return
 * undefined for a file the batch did not read, so the caller reads it the usual way.
 */
export class Prefetched {
  /** Which thread's buffer each row was read into (threads read contiguous rows). */
  private readonly part: Uint8Array;
  /**
   * Each thread's data decoded once as latin1 (one byte, one character); each file is then
   * a substring of it, which V8 makes without copying. Decoding file by file cost more than
   * reading them (a Buffer.toString call per file) and left the collector busy.
   */
  private readonly all: string[];

  constructor(
    private readonly datas: Buffer[],
    private readonly meta: Int32Array,
    rows: Int32Array,
    private readonly names: readonly string[],
    private readonly pids: Int32Array,
  ) {
    this.part = new Uint8Array(pids.length);
    for (let t = 0; t < datas.length; t++) this.part.fill(t, rows[t] as number, rows[t + 1] as number);
    this.all = datas.map((d) => d.toString('latin1'));
  }

  /**
   * Where (pid, file) lies: its thread's part, offset and length (< 0: -errno); null when not
   * read. `row`: pid's position in the batch's pid list (the caller walks the same list).
   */
  private locate(pid: number, file: string, row: number): { t: number; off: number; len: number } | null {
    const f = this.names.indexOf(file);
    if (this.pids[row] !== pid || f < 0) return null;
    const k = 2 * (row * this.names.length + f);
    const len = this.meta[k + 1] as number;
    return len === NOT_READ ? null : { t: this.part[row] as number, off: this.meta[k] as number, len };
  }

  text(pid: number, row: number, file: string, encoding: BufferEncoding = 'utf8'): Read<string> | undefined {
    const at = this.locate(pid, file, row);
    if (!at) return undefined;
    const { t, off, len } = at;
    if (len < 0) return unreadable(errnoName(-len));
    const text = (this.all[t] as string).substring(off, off + len);
    // latin1 and utf8 agree on ASCII; anything else is decoded as asked.
    if (encoding === 'latin1' || !NON_ASCII.test(text)) return readValue(text);
    return readValue(decode(this.datas[t] as Buffer, off, off + len, encoding));
  }

  int(pid: number, row: number, file: string): IntRead | undefined {
    const at = this.locate(pid, file, row);
    if (!at) return undefined;
    return at.len < 0 ? unreadable(errnoName(-at.len)) : parseIntBytes(this.datas[at.t] as Buffer, at.off, at.len);
  }
}

// eslint-disable-next-line no-control-regex

/**
 * Files of a few processes read by path in one native call (open, read, close each) into
 * a buffer kept from call to call: the dashboard's rolling refresh, a few hundred files a
 * tick. From JavaScript each file costs three binding calls and a path string, about twice
 * the kernel's own work; a fresh buffer per call would cost a page fault per 4 KiB.
 */
export class PathBatch {
  private out = Buffer.alloc(0);
  private readonly slots: Uint32Array;
  private readonly starts: number[];
  private readonly stride: number;
  private pids: Int32Array = new Int32Array(0);
  private lens: Int32Array = new Int32Array(0);

  /** `slots`: most bytes kept per name; a longer file is left to the caller to read. */
  constructor(
    private readonly root: string,
    private readonly native: NativeReader,
    private readonly names: readonly string[],
    slots: readonly number[],
  ) {
    this.slots = Uint32Array.from(slots);
    this.starts = slots.map((_, i) => slots.slice(0, i).reduce((a, b) => a + b, 0));
    this.stride = slots.reduce((a, b) => a + b, 0);
  }

  /** Reads, for each pids[i] (ascending), the names whose bit is set in want[i]. */
  read(pids: Int32Array, want: Uint8Array): void {
    const need = pids.length * this.stride;
    // grown for the largest batch (the first sample's new processes) and given back when the
    // batches are small again: a kept 5 KiB a process is 100 MiB at 20,000
    if (this.out.length < need || this.out.length > 4 * need + 65536) this.out = Buffer.allocUnsafe(need);
    this.lens = this.native.readEach(this.root, pids, this.names, want, this.slots, this.out);
    this.pids = pids;
  }

  /** Forgets the last read. */
  clear(): void {
    this.pids = new Int32Array(0);
  }

  /** pid's file from the last read; undefined when it was not read or did not fit its slot. */
  text(pid: number, file: string, encoding: BufferEncoding): Read<string> | undefined {
    const f = this.names.indexOf(file);
    const i = f < 0 ? -1 : indexSorted(this.pids, pid);
    if (i < 0) return undefined;
    const n = this.lens[i * this.names.length + f] as number;
    if (n === NOT_READ || n >= (this.slots[f] as number)) return undefined;
    if (n < 0) return unreadable(errnoName(-n));
    const off = i * this.stride + (this.starts[f] as number);
    return readValue(decode(this.out, off, off + n, encoding));
  }
}
