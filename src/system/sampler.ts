// Reads what the model needs for every process, plus the system-wide facts, once per
// sample. A process that exits mid-read is dropped from the sample; a file it may not read
// (hidepid, another user's process) leaves its fields unknown (null), never 0.
import { type Read, unreadable, readValue } from '../core/read.js';
import { errnoCode } from './errno.js';
import {
  parseBootTime,
  parseForkCount,
  parseMeminfo,
  parsePressure,
  parseSysctls,
  parseVmstatCounter,
} from '../core/parse/meminfo.js';
import { parseProcCgroup, type ProcCgroups } from '../core/parse/proc-cgroup.js';
import { parseStat, PF_KTHREAD, type StatFields } from '../core/parse/stat.js';
import { parseStatus, type StatusFields } from '../core/parse/status.js';
import type { MemInfo, ProcSample, SystemSample } from '../core/types.js';
import { UserError } from '../core/errors.js';
import { memoize } from '../core/memo.js';
import { nativeReader } from './native.js';
import { decode, ProcFs } from './read/procfs.js';
import { modelOf } from '../core/calibration.js';
import {
  HELD_ADJ,
  HELD_STAT,
  IncrementalSource,
  OneShotSource,
  type FileSource,
  type ProcFile,
  type SampleNeeds,
} from './read/source.js';
import { KTHREAD_STATUS, NO_CGROUP, procRecord, sameRecord, statusOf, withOomScore } from './proc-record.js';
import { ReuseCache, type CacheEntry } from './reuse-cache.js';

/** The inode of the initial pid namespace (PROC_PID_INIT_INO in include/linux/proc_ns.h). */
const INIT_PID_NS = 'pid:[4026531836]';

export type { SampleNeeds } from './read/source.js';

/** Whether buf[0, n) holds exactly the characters of text (one byte each), without a string. */
function sameBytes(buf: Buffer, off: number, n: number, text: string): boolean {
  if (n !== text.length) return false;
  for (let i = n - 1; i >= 0; i--) if (buf[off + i] !== text.charCodeAt(i)) return false;
  return true;
}

export const ALL_NEEDS: SampleNeeds = { cmdline: true, cgroup: true };
/** Exactly what the kill-order model needs: stat, status, oom_score, oom_score_adj. */
export const MODEL_NEEDS: SampleNeeds = { cmdline: false, cgroup: false };

class Vanished extends Error {}

/** Stat shows the memory of the cached record unmoved: the same rss, vsize and page faults. */
function sameMemory(hit: CacheEntry, st: StatFields): boolean {
  const p = hit.sample;
  return (
    p.rssPages === st.rssPages && p.vsizeBytes === st.vsizeBytes && hit.minflt === st.minflt && hit.majflt === st.majflt
  );
}

/** What unchanged() found: the last record as it is, or the stat text to go on with. */
type Reuse = { kind: 'same'; sample: ProcSample } | { kind: 'read'; stat: Read<string> };

/** Most processes read in one refresh batch: a tick with more (the first, thousands of new processes) reads them a batch at a time as its loop reaches them. */
const REFRESH_BATCH_MAX = 512;

export interface SamplerOptions {
  pageSize?: number;
  /** Keep per-process facts and files between samples (dashboard, watch). */
  incremental?: boolean;
  /** Use the native batch reader when it is built (default); false: JavaScript only. */
  native?: boolean;
  /** Most files an incremental sampler keeps open (default: the open-file limit less 1,024). */
  holdBudget?: number;
}

/** What a running sampler reads once. */
interface FixedFacts {
  kernelRelease: string | null;
  initNs: string | null;
  bootTime: number | null;
}

export class Sampler {
  readonly proc: ProcFs;
  private pageSize: number | null;

  /** Incremental samplers: what is kept between samples, and the policies that reuse it. */
  private readonly reuse: ReuseCache | null;
  /** Where the per-process files come from (read/source.ts). */
  private source: FileSource;
  /** The same source, when this sampler is incremental (held files, refresh slice). */
  private inc: IncrementalSource | null;
  /**
   * An incremental sampler's first sample reads like a one-shot command, in one threaded
   * native call: opening and holding every process's files waits for the second (at
   * 20,000 processes the first screen came 1.9 s after start, ~0.7 s of it the kernel's).
   */
  private firstRead: OneShotSource | null;
  /** The pid list the first sample's files are being read for ahead (readFirstAhead). */
  private aheadPids: number[] | null = null;
  private fixed: FixedFacts | null = null;
  /** The last pid calibration read off screen: the next sample goes on after it. */
  private calibrationCursor = 0;
  /**
   * `incremental` (the dashboard, watch): keep per-process facts between samples, hold stat
   * and oom_score_adj open (one pread each per tick), re-read status only when stat shows
   * the memory changed, cmdline and cgroup only for new processes (and a rolling slice of
   * the rest). One-shot commands read everything, in one native batch when it is built.
   */
  constructor(procRoot: string, opts: SamplerOptions = {}) {
    const native = opts.native === false ? null : nativeReader();
    this.proc = new ProcFs(procRoot, native);
    this.pageSize = opts.pageSize ?? null;
    this.reuse = opts.incremental ? new ReuseCache() : null;
    // The refresh slice's records are made anew from this tick's stat: its bytes are wanted.
    const due = (pid: number) => this.reuse?.refreshDue(pid) === true;
    this.inc = opts.incremental ? new IncrementalSource(this.proc, native, opts.holdBudget, due) : null;
    this.source = this.inc ?? new OneShotSource(this.proc, native);
    this.firstRead = this.inc && native ? new OneShotSource(this.proc, native) : null;
  }

  /** Which reader this sampler uses, for the bench and diagnostics. */
  get readerName(): string {
    return this.source.name;
  }

  /** How many files an incremental sampler holds open now. */
  get heldCount(): number {
    return this.inc?.held.openCount ?? 0;
  }

  /**
   * utime + stime of these processes, from the stat file the last sample read (an incremental
   * sampler keeps it; no read of its own), else read now. A process gone is left out.
   */
  cpuTicksOf(pids: readonly number[]): Map<number, number> {
    const out = new Map<number, number>();
    for (const pid of pids) {
      const c = this.reuse?.get(pid);
      const text = c ? null : this.proc.readOrNull(`${pid}/stat`);
      const stat = text === null ? null : parseStat(text);
      const t = c ? c.cpuTicks : stat?.ok ? stat.value.cpuTicks : null;
      if (t !== null) out.set(pid, t);
    }
    return out;
  }

  /** Closes the files an incremental sampler holds open. */
  close(): void {
    this.inc?.held.closeAll();
  }

  /** Fails with a UserError when the root is not a /proc (no readable meminfo). */
  readMeminfo(): MemInfo {
    const r = this.proc.tryRead('meminfo');
    if (!r.ok) {
      throw new UserError(
        r.code === 'ENOENT'
          ? `${this.proc.root} is not a proc filesystem (no meminfo): pass --proc-root pointing at /proc or a copy of it`
          : `cannot read ${this.proc.root}/meminfo (${r.code}): check --proc-root and permissions`,
      );
    }
    const m = parseMeminfo(r.value);
    if (!m.ok)
      throw new UserError(`${this.proc.root}/meminfo is not valid (${m.error}): pass --proc-root pointing at /proc`);
    return m.value;
  }

  /**
   * An incremental sampler's first sample, read ahead on a thread of Node's pool while the
   * caller goes on (the dashboard loads its screen meanwhile: at 20,000 processes the reads
   * are ~0.5 s of the kernel's). The first sample() with the same needs takes the bytes read
   * then, for the pids listed now; it reads anew when the needs differ or the reads failed.
   * Settles, never rejects, once the reads are done; at once when there is nothing to read ahead.
   */
  readFirstAhead(needs: SampleNeeds): Promise<void> {
    const first = this.firstRead;
    if (!first || this.aheadPids) return Promise.resolve();
    let pids: number[];
    try {
      pids = this.listPids();
    } catch {
      return Promise.resolve(); // the first sample says why
    }
    const reading = first.readAhead(pids, needs);
    if (!reading) return Promise.resolve();
    this.aheadPids = pids;
    return reading;
  }

  sample(timeMs: number, asked: SampleNeeds = ALL_NEEDS): SystemSample {
    const first = this.firstRead;
    if (!first) return this.sampleWith(timeMs, asked);
    this.firstRead = null;
    const [source, inc] = [this.source, this.inc];
    [this.source, this.inc] = [first, null];
    try {
      return this.sampleWith(timeMs, asked);
    } finally {
      [this.source, this.inc] = [source, inc];
    }
  }

  private sampleWith(timeMs: number, asked: SampleNeeds): SystemSample {
    // One shape of needs object whatever the caller passed (a spread, a literal): the code
    // that reads it 5,000 times a tick stays optimised.
    const needs: SampleNeeds = {
      cmdline: asked.cmdline,
      cgroup: asked.cgroup,
      oomScoreFor: asked.oomScoreFor,
      calibrationSample: asked.calibrationSample,
    };
    const meminfo = this.readMeminfo();
    this.reuse?.nextTick();
    // Incremental samplers reuse the last pid list while the kernel's fork count stands
    // (reuse-cache.ts; read before listing: a fork after the read shows next tick).
    const procStat = this.reuse ? this.proc.readOrNull('stat') : null;
    // Pids listed ahead were listed before this fork count: it is not kept (the next tick lists).
    const ahead = this.aheadPids;
    this.aheadPids = null;
    const reused = this.reuse?.reusablePids(ahead || procStat === null ? null : parseForkCount(procStat));
    const pids = ahead ?? reused ?? this.listPids();
    this.source.begin(pids, needs);
    let processes: ProcSample[];
    try {
      processes = this.readAll(pids, needs);
    } catch (e) {
      // the held slots may hold reads no cached record was made from: compare with none
      this.inc?.held.forgetReads();
      throw e;
    } finally {
      this.source.end();
    }
    if (this.reuse) {
      const live = processes.map((p) => p.pid);
      this.reuse.retain(live);
      this.inc?.held.retain(live);
    }
    return this.systemSample(timeMs, meminfo, procStat, processes, this.calibrationRows(processes, needs));
  }

  /**
   * The processes calibration sees: the sample's own, plus (when oom_score is read for a
   * few rows only) the next `calibrationSample` processes whose oom_score was not read,
   * taken round the pid list from where the last sample stopped, with the kernel's number
   * read now. These copies serve the model only; the sample's records are left as read.
   */
  private calibrationRows(processes: ProcSample[], needs: SampleNeeds): ProcSample[] {
    const want = needs.oomScoreFor ? (needs.calibrationSample ?? 0) : 0;
    if (want <= 0 || !processes.length) return processes;
    const start = Math.max(
      0,
      processes.findIndex((p) => p.pid > this.calibrationCursor),
    );
    const rows: number[] = [];
    for (let i = 0; i < processes.length && rows.length < want; i++) {
      const at = (start + i) % processes.length;
      const p = processes[at] as ProcSample;
      if (p.oomScore === null && p.hasMm === true) rows.push(at);
    }
    if (!rows.length) return processes;
    this.calibrationCursor = (processes[rows.at(-1) as number] as ProcSample).pid;
    const scores = this.readOomScores(rows.map((at) => (processes[at] as ProcSample).pid));
    const out = processes.slice();
    for (const at of rows) {
      const p = processes[at] as ProcSample;
      const score = scores.get(p.pid);
      if (score !== undefined) out[at] = withOomScore(p, score);
    }
    return out;
  }

  private listPids(): number[] {
    try {
      return this.proc.listPids();
    } catch (e) {
      throw new UserError(`cannot list ${this.proc.root} (${errnoCode(e)}): check --proc-root`, 2, { cause: e });
    }
  }

  /** Every process's record, in pid order; a process that exits during the read is left out. */
  private readAll(pids: readonly number[], needs: SampleNeeds): ProcSample[] {
    const processes: ProcSample[] = [];
    // Rows whose held files read as last tick hand on last tick's record for that row; the
    // rows are then the same, and this sample's records replace last one's in place.
    const needsKey = `${needs.cmdline} ${needs.cgroup}`;
    const lastRows = this.reuse
      ? this.reuse.startRows(pids.length, this.inc?.held.aligned === true, needsKey, this.inc?.native === true)
      : null;
    // the refreshed files of the next rows, read REFRESH_BATCH_MAX processes at a time
    let refreshFrom = this.inc?.native ? 0 : Number.POSITIVE_INFINITY;
    for (let row = 0; row < pids.length; row++) {
      const pid = pids[row] as number;
      if (row === refreshFrom) refreshFrom = this.readRefreshed(pids, needs, this.inc as IncrementalSource, row);
      try {
        // Incremental samplers: most processes have not moved since last tick.
        const same = lastRows && this.inc ? this.sameAsLastTick(pid, row, needs, lastRows) : undefined;
        if (same) {
          processes.push(same);
          continue; // its row holds it already
        }
        if (lastRows) lastRows[row] = undefined; // unless handed on below
        const u = this.inc ? this.unchanged(pid, row, needs) : null;
        processes.push(u !== null && u.kind === 'same' ? u.sample : this.readProcess(pid, row, needs, u?.stat ?? null));
      } catch (e) {
        if (!(e instanceof Vanished)) throw e;
      }
    }
    this.reuse?.endRows(needsKey);
    return processes;
  }

  /** The system-wide facts around the processes. */
  private systemSample(
    timeMs: number,
    meminfo: MemInfo,
    procStat: string | null,
    processes: ProcSample[],
    calibration: ProcSample[] = processes,
  ): SystemSample {
    const vmstat = this.proc.readOrNull('vmstat');
    const pressure = this.proc.readOrNull('pressure/memory');
    // The kernel release, the boot time and init's pid namespace cannot change under a
    // running sampler: read once (with the /proc/stat an incremental sampler read above).
    this.fixed ??= this.readFixed(procStat);
    const { kernelRelease, initNs, bootTime } = this.fixed;
    const pageSize = this.detectPageSize(processes);
    // Unreadable link: assume the common case, a host /proc.
    const initIsGlobal = initNs === null || initNs === INIT_PID_NS;
    return {
      timeMs,
      kernelRelease,
      hostname: this.proc.readOrNull('sys/kernel/hostname')?.trim() ?? null,
      pageSize,
      meminfo,
      sysctls: parseSysctls(
        this.proc.readOrNull('sys/vm/panic_on_oom'),
        this.proc.readOrNull('sys/vm/oom_kill_allocating_task'),
      ),
      oomKillCount: vmstat === null ? null : parseVmstatCounter(vmstat, 'oom_kill'),
      pressure: pressure === null ? null : parsePressure(pressure),
      initIsGlobal,
      bootTime,
      clockTicks: 100,
      processes,
      // Which kernel rules: the release's guess, proven by the oom_score values just read.
      model: modelOf({ kernelRelease, meminfo, pageSize, initIsGlobal, processes: calibration }),
    };
  }

  private readFixed(procStat: string | null): FixedFacts {
    const stat = procStat ?? this.proc.readOrNull('stat');
    return {
      kernelRelease: this.proc.readOrNull('sys/kernel/osrelease')?.trim() ?? null,
      initNs: this.proc.readlinkOrNull('1/ns/pid'),
      bootTime: stat === null ? null : parseBootTime(stat),
    };
  }

  /**
   * The record this process's row handed on last tick, when its stat and oom_score_adj read
   * the same bytes as then (compared by the native reader), it is not due a refresh, and its
   * kernel oom_score is neither wanted nor held. Identical stat bytes are the same process
   * (pid and start time are in them) with the same memory and state.
   */
  private sameAsLastTick(
    pid: number,
    row: number,
    needs: SampleNeeds,
    lastRows: (ProcSample | undefined)[],
  ): ProcSample | undefined {
    const held = (this.inc as IncrementalSource).held;
    const p = lastRows[row];
    if (
      p === undefined ||
      p.oomScore !== null ||
      !needs.oomScoreFor ||
      needs.oomScoreFor.has(pid) ||
      this.refreshDue(pid)
    )
      return undefined;
    return held.sameAsLast(pid, HELD_STAT, row) && held.sameAsLast(pid, HELD_ADJ, row) ? p : undefined;
  }

  /**
   * Incremental samplers: when a process's stat reads exactly as last time (same bytes: same
   * rss, faults, CPU times, start time) and its oom_score_adj too, nothing the model reads
   * has moved, and last sample's record is returned as it is (most processes of a big host
   * sleep): 'same'. Otherwise 'read', with the stat text just read, for readProcess to go on with.
   */
  private unchanged(pid: number, row: number, needs: SampleNeeds): Reuse {
    const held = (this.inc as IncrementalSource).held;
    const c = this.reuse?.get(pid);
    // The last record serves only for the same needs (cmdline, cgroup) and off refresh ticks.
    const usable =
      c !== undefined &&
      !this.refreshDue(pid) &&
      (c.sample.cmdline !== null) === needs.cmdline &&
      (c.cgroup !== null) === needs.cgroup;
    if (usable && held.sameAsLast(pid, HELD_STAT, row)) {
      // The same bytes (compared in C): the stat text is wanted only when something else moved.
      return this.sameUnlessMoved(c, pid, row, needs) ?? { kind: 'read', stat: this.statAgain(c, pid) };
    }
    // This tick's stat, from the batch of preads (no object made), else read now.
    let buf: Buffer;
    let off = 0;
    let n = held.prefetchedLength(pid, HELD_STAT, row);
    if (n >= 0) {
      buf = held.prefetchedBuffer(HELD_STAT);
      off = held.prefetchedOffset(HELD_STAT, row);
    } else {
      // No bytes handed out: when the slot said "same" (a hashed slot), the record made now
      // is of another read than the slot's, which then compares its next one with nothing.
      if (held.sameAsLast(pid, HELD_STAT, row)) held.forgetSlot(pid, HELD_STAT);
      try {
        ({ buf, off, n } = held.read(pid, HELD_STAT));
      } catch (e) {
        return { kind: 'read', stat: unreadable(errnoCode(e)) };
      }
    }
    const read = (): Reuse => ({ kind: 'read', stat: readValue(decode(buf, off, off + n)) });
    if (!usable || !this.sameStatText(c, pid, row, buf, off, n)) return read();
    return this.sameUnlessMoved(c, pid, row, needs) ?? read();
  }

  /**
   * The cached record, handed on, when the stat reads the same and nothing else the record
   * holds moved (oom_score_adj, the kernel's oom_score where it is read); null otherwise.
   */
  private sameUnlessMoved(c: CacheEntry, pid: number, row: number, needs: SampleNeeds): Reuse | null {
    const p = c.sample;
    if ((this.inc as IncrementalSource).held.int(pid, HELD_ADJ, row) !== p.oomScoreAdj) return null;
    const score = !needs.oomScoreFor || needs.oomScoreFor.has(pid) ? this.source.int(pid, row, 'oom_score') : null;
    if (score !== null && typeof score === 'object') return null; // unreadable now: read it whole
    // Only the kernel's number moved (or the row left the screen): keep the new record, so
    // next tick returns it as it is and what is made from it (the snapshot record) is reused.
    if (score !== p.oomScore) c.sample = withOomScore(p, score);
    return { kind: 'same', sample: this.handOn(row, c.sample) };
  }

  /**
   * The stat of a process whose slot read the same as last time, for a record made anew:
   * the text kept, else read again now; then the slot compares its next read with nothing,
   * as the record is made from this read, not from the slot's.
   */
  private statAgain(c: CacheEntry, pid: number): Read<string> {
    if (c.statText !== null) return readValue(c.statText);
    const held = (this.inc as IncrementalSource).held;
    held.forgetSlot(pid, HELD_STAT);
    return held.text(pid, HELD_STAT, 'latin1');
  }

  /**
   * Whether this tick's stat of the process (buf[off, off+n)), which its held slot did not
   * find the same as last time (compared in C: the record is always made from a process's
   * last read, see ReuseCache.forget), is the record's stat text, kept only while no slot
   * vouches for it (a first sample, a stat longer than its slot, no native reader). Once its
   * slot stands for this read, the text is let go.
   */
  private sameStatText(c: CacheEntry, pid: number, row: number, buf: Buffer, off: number, n: number): boolean {
    if (c.statText === null || !sameBytes(buf, off, n, c.statText)) return false;
    if ((this.inc as IncrementalSource).held.vouches(pid, HELD_STAT, row)) c.statText = null;
    return true;
  }

  /** A cached record, handed on for row `row` (and remembered for that row next tick). */
  private handOn(row: number, p: ProcSample): ProcSample {
    return this.reuse ? this.reuse.handOn(row, p, this.inc?.native === true) : p;
  }

  /**
   * The kernel's oom_score of these pids now (the dashboard's rows scrolled into view
   * between samples); a pid whose file cannot be read is left out.
   */
  readOomScores(pids: readonly number[]): Map<number, number> {
    const out = new Map<number, number>();
    for (const pid of pids) {
      const r = this.proc.readInt(`${pid}/oom_score`);
      if (typeof r === 'number') out.set(pid, r);
    }
    return out;
  }

  /**
   * Reads at once the files readProcess will want from the processes whose refresh tick
   * this is and from new ones, from row `from` on, up to REFRESH_BATCH_MAX of them: status,
   * and cmdline and cgroup when asked for (a kernel thread's status and command line say
   * nothing). A process whose memory moved is found only in the loop; its status is read
   * there. Returns the row at which to read the next batch.
   */
  private readRefreshed(pids: readonly number[], needs: SampleNeeds, src: IncrementalSource, from: number): number {
    const reuse = this.reuse as ReuseCache;
    const ids = new Int32Array(Math.min(pids.length - from, REFRESH_BATCH_MAX));
    const want = new Uint8Array(ids.length);
    const user = 1 | (needs.cmdline ? 2 : 0) | (needs.cgroup ? 4 : 0);
    let n = 0;
    // Only a list walked anew can hold new processes: otherwise only the refresh slice is due.
    const onlyDue = src.held.aligned === true;
    let row = from;
    for (; row < pids.length && n < ids.length; row++) {
      const pid = pids[row] as number;
      const due = this.refreshDue(pid);
      if (onlyDue && !due) continue;
      const c = reuse.get(pid);
      const w = c ? this.refreshWant(c, due, needs) : user;
      if (w === 0) continue;
      ids[n] = pid;
      want[n++] = w;
    }
    src.refresh(ids.subarray(0, n), want);
    // the row to read the next batch at: past the last one scanned (the end, when it ran out)
    return row >= pids.length ? Number.POSITIVE_INFINITY : row;
  }

  /**
   * What of status (1), cmdline (2) and cgroup (4) a process with a cached record is read for
   * in the refresh batch: all of them (a kernel thread: its cgroup) at its refresh tick, else
   * what its record was made without and this sample needs (after the dashboard's first
   * sample, which read neither cmdline nor cgroup), else nothing.
   */
  private refreshWant(c: CacheEntry, due: boolean, needs: SampleNeeds): number {
    const kthread = (c.sample.flags & PF_KTHREAD) !== 0;
    const cmdline = needs.cmdline && !kthread ? 2 : 0;
    const cgroup = needs.cgroup ? 4 : 0;
    if (due) return (kthread ? 0 : 1) | cmdline | cgroup;
    return (c.sample.cmdline === null ? cmdline : 0) | (c.cgroup === null ? cgroup : 0);
  }

  /** This tick re-reads the process's status, cmdline and cgroup even when nothing moved. */
  private refreshDue(pid: number): boolean {
    return this.reuse?.refreshDue(pid) ?? false;
  }

  /**
   * Reads one process; throws Vanished when it exits during the read. `row`: pid's place in
   * this sample's pid list; `statRead`: its stat, when unchanged() read it already.
   */
  private readProcess(pid: number, row: number, needs: SampleNeeds, statRead: Read<string> | null): ProcSample {
    const unreadable: string[] = [];
    const read = (file: ProcFile, encoding: BufferEncoding = 'utf8'): string | null => {
      const r = (file === 'stat' ? statRead : null) ?? this.source.text(pid, row, file, encoding);
      if (r.ok) return r.value;
      if (r.gone) throw new Vanished();
      unreadable.push(`${file}: ${r.code}`);
      return null;
    };
    const readInt = (file: ProcFile): number | null => {
      const r = this.source.int(pid, row, file);
      if (r === null || typeof r === 'number') return r;
      if (r.gone) throw new Vanished();
      unreadable.push(`${file}: ${r.code}`);
      return null;
    };
    const statText = read('stat');
    const stat = statText === null ? null : parseStat(statText);
    if (stat && !stat.ok) unreadable.push(stat.error);
    const st = stat?.ok ? stat.value : null;
    if (st) st.comm = this.shared(st.comm);
    const cached = st && this.reuse?.get(pid);
    const hit = cached && cached.sample.startTime === st.startTime ? cached : null;
    // A kernel thread has no mm, runs as root and has an empty command line: its status
    // and cmdline say nothing the model needs (most processes of a big host are these).
    const kthread = st !== null && (st.flags & PF_KTHREAD) !== 0;
    const refreshDue = this.refreshDue(pid);
    let status: StatusFields | null;
    if (kthread) status = { ...KTHREAD_STATUS, name: st.comm };
    // The rolling refresh re-reads status too: a uid can change (setuid) with nothing in stat.
    else if (st && hit && !refreshDue && sameMemory(hit, st)) status = statusOf(hit.sample);
    else {
      const statusText = read('status', 'latin1');
      status = statusText === null ? null : parseStatus(statusText);
    }
    const oomScore = !needs.oomScoreFor || needs.oomScoreFor.has(pid) ? readInt('oom_score') : null;
    const oomScoreAdj = readInt('oom_score_adj');
    // exec() gives a process a new comm (and command line) under the same pid and start
    // time: read its command line and cgroup again now, not at its refresh tick.
    const last = hit && !refreshDue && hit.sample.comm === st?.comm ? hit : null;
    const raw = needs.cmdline ? this.cmdlineOf(kthread, last, read) : null;
    const cmdline = raw === null ? null : this.shared(raw);
    const cg = needs.cgroup ? this.cgroupOf(last, read) : NO_CGROUP;
    const p = procRecord(pid, st, status, oomScore, oomScoreAdj, cmdline, cg, unreadable);
    if (p.hasMm === false && (p.threads ?? 1) > 1) this.useLiveThreadMm(p);
    // A zombie leader's memory is read from a live thread (useLiveThreadMm), which its own
    // stat does not show moving: such a process is read whole every time.
    if (
      !this.reuse ||
      st === null ||
      statText === null ||
      status === null ||
      unreadable.length ||
      (status.hasMm === false && (status.threads ?? 1) > 1)
    ) {
      // the cached record must be made from the process's last read (sameStat): none now
      this.reuse?.forget(pid);
      return p;
    }
    return this.keep(p, row, statText, st, hit, needs.cgroup ? cg : null);
  }

  /** Caches the record of a whole read, or last tick's when it reads the same, and hands it on. */
  private keep(
    p: ProcSample,
    row: number,
    statText: string,
    st: StatFields,
    hit: CacheEntry | null,
    cgroup: ProcCgroups | null,
  ): ProcSample {
    // A refresh that found nothing new hands on last tick's record (and what was made from it).
    const same = hit && sameRecord(hit.sample, p) ? hit.sample : p;
    // The stat text is kept only where no held slot stands for this read to compare with.
    const slotted = this.inc?.held.vouches(p.pid, HELD_STAT, row) === true;
    (this.reuse as ReuseCache).set(p.pid, {
      statText: slotted ? null : statText,
      cpuTicks: st.cpuTicks,
      minflt: st.minflt,
      majflt: st.majflt,
      cgroup,
      sample: same,
    });
    return this.handOn(row, same);
  }

  /**
   * The sample with the command line and cgroup of these processes read now, where it was
   * taken without them (needs.cmdline and needs.cgroup false): the dashboard's first screen
   * ranks every process on the files the model needs and reads these two for the rows it
   * shows (at 20,000 processes they are a third of the kernel's work of a first sample).
   * A file that cannot be read is said in the record's unreadable list; a process gone
   * since keeps its record without them.
   */
  withDetails(sample: SystemSample, pids: ReadonlySet<number>): SystemSample {
    if (!pids.size) return sample;
    return { ...sample, processes: sample.processes.map((p) => (pids.has(p.pid) ? this.detailed(p) : p)) };
  }

  private detailed(p: ProcSample): ProcSample {
    if (p.cmdline !== null && p.cgroup !== null) return p;
    const more: string[] = [];
    const read = (file: 'cmdline' | 'cgroup'): string | null => {
      const r = this.proc.tryRead(`${p.pid}/${file}`);
      if (r.ok) return r.value;
      if (!r.gone) more.push(`${file}: ${r.code}`);
      return null;
    };
    const raw = p.cmdline ?? this.cmdlineOf((p.flags & PF_KTHREAD) !== 0, null, read);
    const cg = this.cgroupOf(null, read);
    return {
      ...p,
      cmdline: raw === null ? null : this.shared(raw),
      cgroup: cg.v1Memory ?? cg.v2,
      cgroupV2: cg.v2,
      cgroupV1Memory: cg.v1Memory,
      cgroupSystemd: cg.systemd,
      unreadable: more.length ? [...p.unreadable, ...more] : p.unreadable,
    };
  }

  /** The command line: the last one while the process is the same and not due a refresh. */
  private cmdlineOf(
    kthread: boolean,
    last: CacheEntry | null,
    read: (file: 'cmdline') => string | null,
  ): string | null {
    if (kthread) return '';
    if (last && last.sample.cmdline !== null) return last.sample.cmdline;
    const raw = read('cmdline');
    return raw === null ? null : raw.replace(/\0+$/, '').replace(/\0/g, ' ');
  }

  private cgroupOf(last: CacheEntry | null, read: (file: 'cgroup') => string | null): ProcCgroups {
    if (last?.cgroup) return last.cgroup;
    const raw = read('cgroup');
    return raw === null ? NO_CGROUP : this.parseCgroup(raw);
  }

  /**
   * One string for equal names and command lines: a big host runs thousands of the same
   * worker (20,000 copies of one command line and name were ~1 MiB at 20,000 processes).
   */
  private readonly shared: (text: string) => string = memoize((text: string) => text);

  /** Most processes share a handful of cgroup files: parse each distinct text once. */
  private readonly parseCgroup: (raw: string) => ProcCgroups = memoize(parseProcCgroup);

  /**
   * A zombie thread-group leader whose other threads still run has no mm of its own, but
   * find_lock_task_mm() in oom_badness() finds a live thread's mm: read that thread.
   */
  private useLiveThreadMm(p: ProcSample): void {
    for (const tid of this.proc.listDir(`${p.pid}/task`)) {
      if (tid === String(p.pid)) continue;
      const statText = this.proc.readOrNull(`${p.pid}/task/${tid}/stat`);
      const statusText = this.proc.readOrNull(`${p.pid}/task/${tid}/status`);
      if (statText === null || statusText === null) continue;
      const st = parseStat(statText);
      const status = parseStatus(statusText);
      if (!st.ok || !status.hasMm) continue;
      p.rssPages = st.value.rssPages;
      p.swapKb = status.swapKb;
      p.pteKb = status.pteKb;
      p.rssAnonKb = status.rssAnonKb;
      p.rssFileKb = status.rssFileKb;
      p.rssShmemKb = status.rssShmemKb;
      p.hasMm = true;
      return;
    }
  }

  /** Page size from a process's statm (pages) against its VmSize (kB); 4096 if none can tell. */
  private detectPageSize(processes: ProcSample[]): number {
    if (this.pageSize !== null) return this.pageSize;
    for (const p of processes) {
      if (!p.hasMm || p.vsizeBytes <= 0) continue;
      const statm = this.proc.readOrNull(`${p.pid}/statm`);
      const pages = statm === null ? NaN : Number(statm.split(' ')[0]);
      if (pages > 0) {
        const size = p.vsizeBytes / pages;
        if (Number.isInteger(size) && size >= 1024 && (size & (size - 1)) === 0) {
          this.pageSize = size;
          return size;
        }
      }
    }
    return 4096;
  }
}
