// The one reader of /proc (or a fixture tree standing in for it). Synchronous reads into
// one reused buffer: fs.promises costs 10-40x more per small file here.
import { errnoCode } from './errno.js';
import { decodeUtf8 } from '../core/format.js';
import { closeSync, openSync, readdirSync, readFileSync, readlinkSync, readSync } from 'node:fs';
import { errnoName, NOT_READ, type NativeReader } from './native.js';

export type ReadResult = { ok: true; text: string } | { ok: false; code: string };

/** errno codes that mean the process (or file) is gone, not that we may not read it. */
export function isGone(code: string): boolean {
  return code === 'ENOENT' || code === 'ESRCH' || code === 'ENOTDIR';
}

export class ProcFs {
  private buf = Buffer.allocUnsafe(64 * 1024);

  constructor(readonly root: string, private readonly native: NativeReader | null = null) {}

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

  tryRead(rel: string, encoding: BufferEncoding = 'utf8'): ReadResult {
    try {
      return { ok: true, text: this.readText(rel, encoding) };
    } catch (e) {
      return { ok: false, code: errnoCode(e) };
    }
  }

  /**
   * Reads a small file holding one integer (oom_score, oom_score_adj) and parses it from
   * the bytes, without making a string: this runs twice per process per sample.
   * Returns the number, null when the content is not an integer, or the errno code.
   */
  readInt(rel: string): number | null | { code: string } {
    let fd: number;
    try {
      fd = openSync(this.path(rel), 'r');
    } catch (e) {
      return { code: errnoCode(e) };
    }
    let n: number;
    try {
      n = readSync(fd, this.buf, 0, 64, null);
    } catch (e) {
      return { code: errnoCode(e) };
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
    return r.ok ? r.text : null;
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
        throw Object.assign(new Error(`cannot list ${this.root}: ${(e as Error).message}`), { code: errno === undefined ? 'EIO' : errnoName(errno) });
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
  if (n > 0 && b[i] === 45) { neg = true; i++; }
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

  constructor(private readonly datas: Buffer[], private readonly meta: Int32Array, rows: Int32Array,
    private readonly names: readonly string[], private readonly pids: Int32Array) {
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

  text(pid: number, row: number, file: string, encoding: BufferEncoding = 'utf8'): ReadResult | undefined {
    const at = this.locate(pid, file, row);
    if (!at) return undefined;
    const { t, off, len } = at;
    if (len < 0) return { ok: false, code: errnoName(-len) };
    const text = (this.all[t] as string).substring(off, off + len);
    // latin1 and utf8 agree on ASCII; anything else is decoded as asked.
    if (encoding === 'latin1' || !NON_ASCII.test(text)) return { ok: true, text };
    return { ok: true, text: decode(this.datas[t] as Buffer, off, off + len, encoding) };
  }

  int(pid: number, row: number, file: string): number | null | { code: string } | undefined {
    const at = this.locate(pid, file, row);
    if (!at) return undefined;
    return at.len < 0 ? { code: errnoName(-at.len) } : parseIntBytes(this.datas[at.t] as Buffer, at.off, at.len);
  }
}

// eslint-disable-next-line no-control-regex
const NON_ASCII = /[^\x00-\x7f]/;

/**
 * Bytes of a /proc or /sys file as text: UTF-8 with every invalid byte kept as U+DC80+byte
 * (core/format.ts decodeUtf8), so a name that is not UTF-8 is shown escaped, not replaced.
 */
export function decode(buf: Buffer, start: number, end: number, encoding: BufferEncoding = 'utf8'): string {
  return encoding === 'utf8' ? decodeUtf8(buf, start, end) : buf.toString(encoding, start, end);
}

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
  constructor(private readonly root: string, private readonly native: NativeReader, private readonly names: readonly string[], slots: readonly number[]) {
    this.slots = Uint32Array.from(slots);
    this.starts = slots.map((_, i) => slots.slice(0, i).reduce((a, b) => a + b, 0));
    this.stride = slots.reduce((a, b) => a + b, 0);
  }

  /** Reads, for each pids[i] (ascending), the names whose bit is set in want[i]. */
  read(pids: Int32Array, want: Uint8Array): void {
    const need = pids.length * this.stride;
    if (this.out.length < need) this.out = Buffer.allocUnsafe(need);
    this.lens = this.native.readEach(this.root, pids, this.names, want, this.slots, this.out);
    this.pids = pids;
  }

  /** Forgets the last read. */
  clear(): void {
    this.pids = new Int32Array(0);
  }

  /** pid's file from the last read; undefined when it was not read or did not fit its slot. */
  text(pid: number, file: string, encoding: BufferEncoding): ReadResult | undefined {
    const f = this.names.indexOf(file);
    const i = f < 0 ? -1 : indexSorted(this.pids, pid);
    if (i < 0) return undefined;
    const n = this.lens[i * this.names.length + f] as number;
    if (n === NOT_READ || n >= (this.slots[f] as number)) return undefined;
    if (n < 0) return { ok: false, code: errnoName(-n) };
    const off = i * this.stride + (this.starts[f] as number);
    return { ok: true, text: decode(this.out, off, off + n, encoding) };
  }
}

/** pid's index in the ascending list, or -1. */
function indexSorted(pids: ArrayLike<number>, pid: number): number {
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

/** The soft limit on open files of this process (Node raises it to the hard limit at start). */
function openFileLimit(): number {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
    const soft = Number(line?.split(/\s{2,}/)[1]);
    return Number.isFinite(soft) && soft > 0 ? soft : 1024;
  } catch {
    return 1024;
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

  constructor(private readonly proc: ProcFs, private readonly names: readonly string[], budget?: number,
    private readonly native: NativeReader | null = null, private readonly slots: readonly number[] = names.map(() => 1024)) {
    // Leave room for everything else oomtop opens (pidusage, the terminal, the audit log).
    this.budget = budget ?? Math.max(0, openFileLimit() - 1024);
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
    if (!this.native || this.held === 0) return;
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
      lens.push(aligned ? this.native.preadMany(fdsPerName[i] as Int32Array, slot, buf, (last as Prefetch).lens[i], flags)
        : this.native.preadMany(fdsPerName[i] as Int32Array, slot, buf));
    }
    this.changesAtLast = this.changes;
    this.pre = { pids, bufs, lens, same: aligned ? same : null };
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
  text(pid: number, index: number, encoding: BufferEncoding, row = -1): ReadResult {
    try {
      const { buf, off, n } = this.read(pid, index, 4096, row);
      return { ok: true, text: decode(buf, off, off + n, encoding) };
    } catch (e) {
      return { ok: false, code: errnoCode(e) };
    }
  }

  /** read() of an integer file (like ProcFs.readInt). */
  int(pid: number, index: number, row = -1): number | null | { code: string } {
    const pn = this.prefetchedLength(pid, index, row);
    if (pn >= 0) return parseIntBytes(this.prefetchedBuffer(index), row * (this.slots[index] as number), pn);
    try {
      const { buf, off, n } = this.read(pid, index, 64);
      return parseIntBytes(buf, off, n);
    } catch (e) {
      return { code: errnoCode(e) };
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
      try { closeSync(fd); } catch { /* already closed */ }
      this.held--;
      this.changes++;
    }
    this.fds.delete(pid);
  }

  closeAll(): void {
    for (const pid of [...this.fds.keys()]) this.drop(pid);
  }
}
