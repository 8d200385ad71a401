// Where a sample's per-process files come from, behind one small interface: the sampler
// asks for a file of a process and gets its text (or its errno), whatever reader serves it.
//
// - OneShotSource (snapshot, set, simulate, ...): every process's files in one native call
//   (Prefetched) when the native reader is built; otherwise, and for what the batch did not
//   read, ProcFs file by file.
// - IncrementalSource (the dashboard, watch): stat and oom_score_adj held open and read
//   again with pread (HeldFiles); this tick's refresh slice in one native call (PathBatch);
//   anything else through ProcFs.
import type { IntRead, Read } from '../../core/read.js';

export type { IntRead };
import { STATUS_KEYS } from '../../core/parse/status.js';
import { readerThreads, type NativeReader } from '../native.js';
import { HeldFiles } from './held-files.js';
import { PathBatch, Prefetched } from './native-batch.js';
import type { ProcFs } from './procfs.js';

/** The per-process files, in the order one process's files are read (stat first). */
export const FILES = ['stat', 'status', 'oom_score', 'oom_score_adj', 'cmdline', 'cgroup'] as const;
export type ProcFile = (typeof FILES)[number];
const bit = (f: ProcFile): number => 1 << FILES.indexOf(f);
/** Files an incremental source keeps open between samples: read every tick. */
export const HELD = ['stat', 'oom_score_adj'] as const;
export const HELD_STAT = HELD.indexOf('stat');
export const HELD_ADJ = HELD.indexOf('oom_score_adj');
/** Files an incremental source re-reads on a process's refresh tick, and for a new process. */
const REFRESHED = ['status', 'cmdline', 'cgroup'] as const;
/** Bytes kept per refreshed file in the native batch (status is ~1.4 KiB); a longer one is read again. */
const REFRESHED_SLOTS = [2048, 2048, 1024];

/** What a sample reads besides what the model needs (stat, status, oom_score_adj). */
export interface SampleNeeds {
  /** /proc/PID/cmdline (display, matching). */
  cmdline: boolean;
  /** /proc/PID/cgroup (display, OOM domains). */
  cgroup: boolean;
  /**
   * Read the kernel's oom_score only for these pids (the rows on screen); the model does
   * not need it. Absent: read it for every process.
   */
  oomScoreFor?: ReadonlySet<number>;
  /**
   * With oomScoreFor: also read the oom_score of this many other processes, a different
   * few each sample (rolling), for calibration only: the model is proven on them, and the
   * records keep oomScore null as for any row off screen.
   */
  calibrationSample?: number;
}

export interface FileSource {
  readonly name: string;
  /** A sample begins: its pid list, ascending, and what it needs. */
  begin(pids: readonly number[], needs: SampleNeeds): void;
  /** A file of the process at `row` of the pid list, as text. */
  text(pid: number, row: number, file: ProcFile, encoding: BufferEncoding): Read<string>;
  /** An integer file (oom_score, oom_score_adj); null when it is not an integer. */
  int(pid: number, row: number, file: ProcFile): IntRead;
  /** The sample is over (also when it failed): buffers of this sample are let go. */
  end(): void;
}

/** The files a one-shot sample reads: the model's, and what `needs` adds. */
function wantOf(needs: SampleNeeds): number {
  return (
    bit('stat') |
    bit('status') |
    bit('oom_score_adj') |
    (needs.oomScoreFor ? 0 : bit('oom_score')) |
    (needs.cmdline ? bit('cmdline') : 0) |
    (needs.cgroup ? bit('cgroup') : 0)
  );
}

type Batch = [Buffer[], Int32Array, Int32Array];

export class OneShotSource implements FileSource {
  private pre: Prefetched | null = null;
  /** A sample's reads started ahead, off the main thread (readAhead); its result once read. */
  private ahead: { pids: readonly number[]; ids: Int32Array; want: number; result: Batch | null } | null = null;

  constructor(
    private readonly proc: ProcFs,
    private readonly native: NativeReader | null,
  ) {}

  get name(): string {
    return this.native ? 'native batch' : 'JavaScript';
  }

  private args(ids: Int32Array, want: number) {
    return [
      this.proc.root,
      ids,
      FILES,
      want,
      bit('status') | bit('cmdline'),
      readerThreads(),
      FILES.map((f) => (f === 'status' ? STATUS_KEYS : null)),
    ] as const;
  }

  /**
   * Starts reading these processes' files on a thread of Node's pool; the caller goes on
   * meanwhile. The next begin() with this very pid list and the same needs takes the bytes
   * read then; with others it reads anew. Settles (never rejects) once the reads are done or
   * failed (begin then reads as usual); null without a native reader that reads ahead.
   */
  readAhead(pids: readonly number[], needs: SampleNeeds): Promise<void> | null {
    if (!this.native?.readBatchAsync) return null;
    const entry = { pids, ids: Int32Array.from(pids), want: wantOf(needs), result: null as Batch | null };
    this.ahead = entry;
    return this.native.readBatchAsync(...this.args(entry.ids, entry.want)).then(
      (r) => {
        entry.result = r;
      },
      () => {
        if (this.ahead === entry) this.ahead = null;
      },
    );
  }

  begin(pids: readonly number[], needs: SampleNeeds): void {
    if (!this.native) return;
    const want = wantOf(needs);
    const ahead = this.ahead;
    this.ahead = null;
    if (ahead?.result && ahead.pids === pids && ahead.want === want) {
      this.pre = new Prefetched(...ahead.result, FILES, ahead.ids);
      return;
    }
    const ids = Int32Array.from(pids);
    const [datas, meta, rows] = this.native.readBatch(...this.args(ids, want));
    this.pre = new Prefetched(datas, meta, rows, FILES, ids);
  }

  text(pid: number, row: number, file: ProcFile, encoding: BufferEncoding): Read<string> {
    return this.pre?.text(pid, row, file, encoding) ?? this.proc.tryRead(`${pid}/${file}`, encoding);
  }

  int(pid: number, row: number, file: ProcFile): IntRead {
    return this.pre?.int(pid, row, file) ?? this.proc.readInt(`${pid}/${file}`);
  }

  end(): void {
    this.pre = null;
  }
}

export class IncrementalSource implements FileSource {
  readonly held: HeldFiles;
  /** This tick's refresh slice and new processes, read in one native call (with the native reader). */
  private readonly batch: PathBatch | null;

  constructor(
    private readonly proc: ProcFs,
    native: NativeReader | null,
    holdBudget?: number,
    /** The pids whose stat bytes are wanted this sample even when they read as last time (the refresh slice). */
    private readonly statWanted?: (pid: number) => boolean,
  ) {
    // stat fits 384 bytes (150-340 on a host of 20,000 processes, a 15-character comm and
    // 52 numbers; a longer one is read again the usual way, and its bytes compared as text);
    // oom_score_adj a few bytes. The slots are kept from sample to sample, per process: the
    // stat slots keep a hash of the last read, not its bytes (20,000 of 384 bytes were 7.3 MiB).
    this.held = new HeldFiles(proc, HELD, holdBudget, native, [384, 32], [true, false]);
    this.batch = native ? new PathBatch(proc.root, native, REFRESHED, REFRESHED_SLOTS) : null;
  }

  get name(): string {
    return this.batch ? 'held files, native reads (incremental)' : 'held files (incremental)';
  }

  /** Rows are handed on by their held files' bytes only when the native reader compares them. */
  get native(): boolean {
    return this.batch !== null;
  }

  begin(pids: readonly number[]): void {
    this.held.prefetch(pids, this.statWanted);
  }

  /**
   * Reads these processes' refreshed files now, in one native call (`want` per pid: 1
   * status, 2 cmdline, 4 cgroup). Without the native reader they are read one by one later.
   */
  refresh(ids: Int32Array, want: Uint8Array): void {
    this.batch?.read(ids, want);
  }

  text(pid: number, row: number, file: ProcFile, encoding: BufferEncoding): Read<string> {
    const ahead = this.batch?.text(pid, file, encoding);
    if (ahead) return ahead;
    const i = (HELD as readonly string[]).indexOf(file);
    return i < 0 ? this.proc.tryRead(`${pid}/${file}`, encoding) : this.held.text(pid, i, encoding, row);
  }

  int(pid: number, row: number, file: ProcFile): IntRead {
    const i = (HELD as readonly string[]).indexOf(file);
    return i < 0 ? this.proc.readInt(`${pid}/${file}`) : this.held.int(pid, i, row);
  }

  end(): void {
    this.held.endSample();
    this.batch?.clear();
  }
}
