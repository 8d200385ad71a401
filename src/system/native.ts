// The optional native /proc reader (native/proc_batch.c, built by `npm install` through
// node-gyp). Without it, or with OOMTOP_NATIVE=0, ProcFs reads file by file from JavaScript:
// the same bytes, slower. Loaded lazily and at most once.
import { messageOf } from '../core/errors.js';
import { createRequire } from 'node:module';
import { availableParallelism, constants } from 'node:os';
import { sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface NativeReader {
  /**
   * See native/proc_batch.c: [data per thread, meta, rows]; meta holds [offset, length |
   * -errno | NOT_READ] per (pid, name); thread t read pids rows[t] to rows[t+1]-1 into data[t].
   */
  readBatch(
    root: string,
    pids: Int32Array,
    names: readonly string[],
    want: number,
    skipForKthread: number,
    threads: number,
    keep: ReadonlyArray<readonly string[] | null>,
  ): [Buffer[], Int32Array, Int32Array];
  /**
   * readBatch on a thread of Node's pool: the same result, later (a reader built before it
   * lacks it: the caller then reads with readBatch).
   */
  readBatchAsync?(
    root: string,
    pids: Int32Array,
    names: readonly string[],
    want: number,
    skipForKthread: number,
    threads: number,
    keep: ReadonlyArray<readonly string[] | null>,
  ): Promise<[Buffer[], Int32Array, Int32Array]>;
  /**
   * Reads row i from fds[i] (>= 0) at offset 0, else root/pids[i]/name by path, into out at
   * at[i] * slot: lengths (== slot: longer than the slot) or -errno. lastLens[at[i]] is the
   * length that slot holds (-1: none): same[i] is set to 1 when row i read exactly those
   * bytes, else 0, and lastLens is updated.
   */
  readSlots(
    root: string,
    name: readonly [string],
    pids: Int32Array,
    fds: Int32Array,
    slot: number,
    out: Buffer,
    at: Int32Array,
    lastLens: Int32Array,
    same: Uint8Array,
  ): Int32Array;
  /**
   * readSlots without the slots' bytes: lastLens and lastHash (one per slot) are the length
   * and a keyed hash of each slot's last read, and same[i] is set from them. Returns the
   * lengths, and the bytes of every row that is not the same or has always[i] set, in one
   * buffer: row i's at offsets[i] (-1: the same, or failed).
   */
  readHashed(
    root: string,
    name: readonly [string],
    pids: Int32Array,
    fds: Int32Array,
    slot: number,
    at: Int32Array,
    lastLens: Int32Array,
    lastHash: BigUint64Array,
    same: Uint8Array,
    always: Uint8Array,
  ): [Int32Array, Int32Array, Buffer];
  /**
   * Reads root/pids[i]/names[f] for each bit f of want[i] (open, one read, close) into out at
   * i * (sum of slots) + (slots[0] + ... + slots[f-1]): lengths per (i, f), each the byte count
   * (== slots[f]: longer than the slot), -errno or NOT_READ.
   */
  readEach(
    root: string,
    pids: Int32Array,
    names: readonly string[],
    want: Uint8Array,
    slots: Uint32Array,
    out: Buffer,
  ): Int32Array;
  /**
   * Opens root/pids[i]/names[f] read-only for each pid and name, at most `max` files:
   * descriptors (nnames per pid), -errno, or NOT_READ past `max`.
   */
  openMany(root: string, pids: Int32Array, names: readonly string[], max: number): Int32Array;
  /** Numeric entries of a folder, in directory order; throws an Error with .errno. */
  listPids(root: string): Int32Array;
  /** An extended attribute's value, or -errno (-ENODATA: not set). */
  getXattr(path: string, name: string): Buffer | number;
  /**
   * Unmaps this process's resident clean file pages (read-only file mappings with no
   * copied-on-write page; they stay in the page cache): the kB unmapped, or -errno.
   */
  trimFilePages(): number;
}

export const NOT_READ = -2147483648;

let loaded: NativeReader | null | undefined;
let loadError: string | null = null;
let loadedFrom: string | null = null;

/** The native reader, or null (not built, disabled, or failed to load: see nativeStatus()). */
export function nativeReader(env: NodeJS.ProcessEnv = process.env): NativeReader | null {
  if (env.OOMTOP_NATIVE === '0') return null;
  if (loaded === undefined) {
    try {
      // dist/system/native.js, src/system/native.ts and the bundle in dist/bin/ (scripts/
      // bundle.mjs) are all two levels below the package.
      // node-gyp-build finds build/Release (compiled at install) or else the package's
      // prebuilds/<platform>-<arch>/ binary for this libc (shipped: no compiler needed).
      const require = createRequire(import.meta.url);
      const find = require('node-gyp-build') as { path(dir: string): string };
      const file = find.path(fileURLToPath(new URL('../..', import.meta.url)));
      const m = require(file) as Partial<NativeReader>;
      loadedFrom = file;
      // A reader built from older sources lacks functions: rebuild it (npm install), or do without.
      const missing = (
        [
          'readBatch',
          'readSlots',
          'readHashed',
          'listPids',
          'readEach',
          'getXattr',
          'openMany',
          'trimFilePages',
        ] as const
      ).filter((f) => typeof m[f] !== 'function');
      if (missing.length) throw new Error(`${file} is out of date (no ${missing.join(', ')}): run npm install`);
      loaded = m as NativeReader;
    } catch (e) {
      loaded = null;
      loadError = messageOf(e).split('\n')[0] ?? 'not loadable';
    }
  }
  return loaded;
}

/** One line for `--version`-like reports and the bench: which reader runs, and why. */
export function nativeStatus(env: NodeJS.ProcessEnv = process.env): string {
  if (env.OOMTOP_NATIVE === '0') return 'JavaScript reader (OOMTOP_NATIVE=0)';
  if (!nativeReader(env)) return `JavaScript reader (native reader not loaded: ${loadError})`;
  const where = loadedFrom?.includes(`${sep}prebuilds${sep}`) ? 'prebuilt' : 'built at install';
  return `native reader (${where}: ${loadedFrom})`;
}

/** Reader threads: the kernel's /proc work scales across cores; more than 4 gains nothing here. */
export function readerThreads(): number {
  return Math.max(1, Math.min(4, availableParallelism()));
}

const ERRNO_NAMES = new Map<number, string>(Object.entries(constants.errno).map(([k, v]) => [v, k]));

/** 'ENOENT' for 2, and so on; 'EIO' for a number this platform does not name. */
export function errnoName(errno: number): string {
  return ERRNO_NAMES.get(errno) ?? 'EIO';
}

/**
 * The commands that stay up give back, once their first sample is done, the pages of the
 * node binary and the libraries that only start-up touched (~30 MiB: the kernel counts them
 * in oomtop's own RSS and OOM badness). They stay in the page cache; what runs is mapped
 * back by minor faults. The kB unmapped, or null without the native reader.
 */
export function trimResidentFilePages(): number | null {
  const n = nativeReader()?.trimFilePages();
  return n === undefined || n < 0 ? null : n;
}
