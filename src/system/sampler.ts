// Reads what the model needs for every process, plus the system-wide facts, once per
// sample. A process that exits mid-read is dropped from the sample; a file it may not read
// (hidepid, another user's process) leaves its fields unknown (null), never 0.
import { parseBootTime, parseMeminfo, parsePressure, parseSysctls, parseVmstatCounter } from '../core/parse/meminfo.js';
import { parseProcCgroup } from '../core/parse/proc-cgroup.js';
import { parseStat, PF_KTHREAD } from '../core/parse/stat.js';
import { parseStatus } from '../core/parse/status.js';
import type { MemInfo, ProcSample, SystemSample } from '../core/types.js';
import { UserError } from '../core/errors.js';
import { isGone, ProcFs } from './procfs.js';

/** The inode of the initial pid namespace (PROC_PID_INIT_INO in include/linux/proc_ns.h). */
const INIT_PID_NS = 'pid:[4026531836]';

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
}

/** What an incremental sampler keeps of a process between samples. */
interface CacheEntry {
  startTime: number;
  /** rss, faults and vsize from stat: when unchanged, status (swap, page tables) is too. */
  memSig: string;
  status: ReturnType<typeof parseStatus>;
  cmdline: string | null;
  cgroup: ReturnType<typeof parseProcCgroup> | null;
}

const KTHREAD_STATUS: ReturnType<typeof parseStatus> = {
  name: null, uid: 0, swapKb: null, pteKb: null, rssAnonKb: null, rssFileKb: null, rssShmemKb: null, threads: 1, hasMm: false,
};

/** Incremental samplers refresh cached cmdline/cgroup of 1 in this many processes a tick. */
const REFRESH_SLICES = 16;

export const ALL_NEEDS: SampleNeeds = { cmdline: true, cgroup: true };
/** Exactly what the kill-order model needs: stat, status, oom_score, oom_score_adj. */
export const MODEL_NEEDS: SampleNeeds = { cmdline: false, cgroup: false };

class Vanished extends Error {}

export class Sampler {
  readonly proc: ProcFs;
  private pageSize: number | null;

  private cache: Map<number, CacheEntry> | null;
  private tickNo = 0;

  /**
   * `incremental` (the dashboard, watch): keep per-process facts between samples and
   * re-read status only when stat shows the memory changed, cmdline and cgroup only for new
   * processes (and a rolling slice of the rest). One-shot commands read everything.
   */
  constructor(procRoot: string, opts: { pageSize?: number; incremental?: boolean } = {}) {
    this.proc = new ProcFs(procRoot);
    this.pageSize = opts.pageSize ?? null;
    this.cache = opts.incremental ? new Map() : null;
  }

  /** Fails with a UserError when the root is not a /proc (no readable meminfo). */
  readMeminfo(): MemInfo {
    const r = this.proc.tryRead('meminfo');
    if (!r.ok) {
      throw new UserError(r.code === 'ENOENT'
        ? `${this.proc.root} is not a proc filesystem (no meminfo): pass --proc-root pointing at /proc or a copy of it`
        : `cannot read ${this.proc.root}/meminfo (${r.code}): check --proc-root and permissions`);
    }
    const m = parseMeminfo(r.text);
    if (!m.ok) throw new UserError(`${this.proc.root}/meminfo is not valid (${m.error}): pass --proc-root pointing at /proc`);
    return m.value;
  }

  sample(timeMs: number, needs: SampleNeeds = ALL_NEEDS): SystemSample {
    const meminfo = this.readMeminfo();
    let pids: number[];
    try {
      pids = this.proc.listPids();
    } catch (e) {
      throw new UserError(`cannot list ${this.proc.root} (${(e as NodeJS.ErrnoException).code}): check --proc-root`);
    }
    const processes: ProcSample[] = [];
    this.tickNo++;
    for (const pid of pids) {
      try {
        processes.push(this.readProcess(pid, needs));
      } catch (e) {
        if (!(e instanceof Vanished)) throw e;
      }
    }
    if (this.cache) {
      const live = new Set(pids);
      for (const pid of this.cache.keys()) if (!live.has(pid)) this.cache.delete(pid);
    }
    const vmstat = this.proc.readOrNull('vmstat');
    const pressure = this.proc.readOrNull('pressure/memory');
    const stat = this.proc.readOrNull('stat');
    const initNs = this.proc.readlinkOrNull('1/ns/pid');
    return {
      timeMs,
      kernelRelease: this.proc.readOrNull('sys/kernel/osrelease')?.trim() ?? null,
      hostname: this.proc.readOrNull('sys/kernel/hostname')?.trim() ?? null,
      pageSize: this.detectPageSize(processes),
      meminfo,
      sysctls: parseSysctls(this.proc.readOrNull('sys/vm/panic_on_oom'), this.proc.readOrNull('sys/vm/oom_kill_allocating_task')),
      oomKillCount: vmstat === null ? null : parseVmstatCounter(vmstat, 'oom_kill'),
      pressure: pressure === null ? null : parsePressure(pressure),
      // Unreadable link: assume the common case, a host /proc.
      initIsGlobal: initNs === null || initNs === INIT_PID_NS,
      bootTime: stat === null ? null : parseBootTime(stat),
      clockTicks: 100,
      processes,
    };
  }

  /** Reads one process; throws Vanished when it exits during the read. */
  readProcess(pid: number, needs: SampleNeeds): ProcSample {
    const unreadable: string[] = [];
    const read = (file: string, encoding: BufferEncoding = 'utf8'): string | null => {
      const r = this.proc.tryRead(`${pid}/${file}`, encoding);
      if (r.ok) return r.text;
      if (isGone(r.code)) throw new Vanished();
      unreadable.push(`${file}: ${r.code}`);
      return null;
    };
    const statText = read('stat');
    const stat = statText === null ? null : parseStat(statText);
    if (stat && !stat.ok) unreadable.push(stat.error);
    const st = stat?.ok ? stat.value : null;
    const memSig = st && this.cache ? `${st.rssPages} ${st.minflt} ${st.majflt} ${st.vsizeBytes}` : '';
    const cached = st && this.cache?.get(pid);
    const hit = cached && cached.startTime === st.startTime ? cached : null;
    // A kernel thread has no mm, runs as root and has an empty command line: its status
    // and cmdline say nothing the model needs (most processes of a big host are these).
    const kthread = st !== null && (st.flags & PF_KTHREAD) !== 0;
    let status: ReturnType<typeof parseStatus> | null;
    if (kthread) status = { ...KTHREAD_STATUS, name: st.comm };
    else if (hit && hit.memSig === memSig) status = hit.status;
    else {
      const statusText = read('status', 'latin1');
      status = statusText === null ? null : parseStatus(statusText);
    }
    const readInt = (file: string): number | null => {
      const r = this.proc.readInt(`${pid}/${file}`);
      if (r === null || typeof r === 'number') return r;
      if (isGone(r.code)) throw new Vanished();
      unreadable.push(`${file}: ${r.code}`);
      return null;
    };
    const oomScore = !needs.oomScoreFor || needs.oomScoreFor.has(pid) ? readInt('oom_score') : null;
    const oomScoreAdj = readInt('oom_score_adj');
    const refresh = !hit || pid % REFRESH_SLICES === this.tickNo % REFRESH_SLICES;
    let cmdline: string | null = null;
    if (needs.cmdline) {
      if (kthread) cmdline = '';
      else if (hit && !refresh && hit.cmdline !== null) cmdline = hit.cmdline;
      else {
        const raw = read('cmdline');
        cmdline = raw === null ? null : raw.replace(/\0+$/, '').replace(/\0/g, ' ');
      }
    }
    let cg = { v2: null as string | null, v1Memory: null as string | null, systemd: null as string | null };
    if (needs.cgroup) {
      if (hit?.cgroup && !refresh) cg = hit.cgroup;
      else {
        const raw = read('cgroup');
        if (raw !== null) cg = parseProcCgroup(raw);
      }
    }
    if (this.cache && st && status && !unreadable.length) {
      this.cache.set(pid, { startTime: st.startTime, memSig, status, cmdline, cgroup: needs.cgroup ? cg : null });
    }
    const p: ProcSample = {
      pid,
      comm: st?.comm ?? status?.name ?? '?',
      state: st?.state ?? '?',
      ppid: st?.ppid ?? 0,
      flags: st?.flags ?? 0,
      startTime: st?.startTime ?? 0,
      rssPages: st?.rssPages ?? null,
      vsizeBytes: st?.vsizeBytes ?? 0,
      uid: status?.uid ?? null,
      swapKb: status?.swapKb ?? null,
      pteKb: status?.pteKb ?? null,
      rssAnonKb: status?.rssAnonKb ?? null,
      rssFileKb: status?.rssFileKb ?? null,
      rssShmemKb: status?.rssShmemKb ?? null,
      threads: status?.threads ?? null,
      hasMm: status === null || st === null ? null : status.hasMm,
      oomScore,
      oomScoreAdj,
      cmdline,
      cgroup: cg.v1Memory ?? cg.v2,
      cgroupV2: cg.v2,
      cgroupV1Memory: cg.v1Memory,
      cgroupSystemd: cg.systemd,
      unreadable,
    };
    if (p.hasMm === false && (p.threads ?? 1) > 1) this.useLiveThreadMm(p);
    return p;
  }

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
