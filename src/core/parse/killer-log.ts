// The kills of the user-space killers, from their own log lines (journal, syslog or their
// own log file), as each version words them:
// - systemd-oomd (src/oom/oomd-manager.c): "Killed <cgroup> due to …" (up to v252),
//   "Marked <cgroup> for killing due to …" (v253+); PID 1 (src/core/unit.c) then logs
//   "<unit>: systemd-oomd killed N process(es) in this unit."
// - earlyoom (kill.c): "sending SIGTERM to process PID uid U "comm": badness N, VmRSS N MiB"
//   (1.2–1.7; later versions add oom_score, cmdline), "escalating to SIGKILL after …",
//   "process exited after …"; before 1.2 "Low memory! Killing process PID comm".
// - nohang (0.1–0.2): "Process with highest badness (found in N ms):" / "  PID: N, Name: X,
//   badness: B", then "Implementing a corrective action:" / "  Sending SIGTERM to the victim".
// - kubelet (pkg/kubelet/eviction/eviction_manager.go): "Eviction manager: must evict pod(s)
//   to reclaim" resourceName="memory", "Eviction manager: pod is evicted successfully"
//   pod="ns/name" (structured, 1.21+), "eviction manager: pods name_ns(uid) evicted, …" (older).
// A line whose sender the journal recorded (_SYSTEMD_UNIT, _UID) and that is not the killer
// it names is not its kill: anyone can `logger -t earlyoom`.
import type { UserKiller } from '../killers/types.js';
import type { LogLine } from './log-line.js';

export interface KillerKill {
  killer: UserKiller;
  uptime: number | null;
  wall: string | null;
  /** What was killed: a process (earlyoom, nohang), a cgroup or unit (systemd-oomd), a pod (kubelet). */
  target: {
    pid: number | null;
    comm: string | null;
    uid: number | null;
    /** The cgroup systemd-oomd killed, whole. */
    cgroup: string | null;
    unit: string | null;
    /** namespace/name */
    pod: string | null;
    rssKb: number | null;
  };
  signal: 'SIGTERM' | 'SIGKILL' | null;
  /** The killer's own words for why ("memory pressure for /user.slice being 36.66% > 20.00% for > 5s"). */
  reason: string | null;
  /** Processes killed with it (systemd-oomd: PID 1's count), when logged. */
  processes: number | null;
  /** "exited" once the killer saw its victim go; null when the log does not say. */
  outcome: 'exited' | null;
}

/** The words any of the lines below contains: other lines are passed over unparsed. */
export const KILLER_HINT =
  /systemd-oomd|due to|EUID|corrective action|[Ss]ending SIG|Killing process|badness|victim|exited after|[Ee]viction manager|SIGKILL/;

/** Which killer a sender's name is, if any. */
export function killerOfIdent(ident: string | null): UserKiller | 'pid1' | null {
  if (ident === null) return null;
  if (ident === 'systemd-oomd') return 'systemd-oomd';
  if (ident === 'systemd') return 'pid1';
  if (ident === 'earlyoom') return 'earlyoom';
  if (/^nohang(-desktop)?$/.test(ident)) return 'nohang';
  if (/kubelet|^k3s|^k0s/.test(ident)) return 'kubelet';
  return null;
}

/** The service each killer runs as, as the journal records it in _SYSTEMD_UNIT. */
const UNIT_OF: Record<UserKiller | 'pid1', RegExp> = {
  'systemd-oomd': /^systemd-oomd\.service$/,
  pid1: /^init\.scope$/,
  earlyoom: /^earlyoom\.service$/,
  nohang: /^nohang(-desktop)?\.service$/,
  kubelet: /^(kubelet|k3s[\w-]*|k0s[\w-]*|snap\.[\w-]*kubelet[\w-]*)\.service$/,
};

/**
 * Whether the journal's own record of the sender agrees with the killer the line names:
 * root, or the killer's service (earlyoom and systemd-oomd run under their own users).
 * Syslog text carries no such record and is taken as it is (origin null).
 */
export function senderIsKiller(l: LogLine, k: UserKiller | 'pid1'): boolean {
  if (!l.origin) return true;
  if (k === 'pid1') return l.pid === 1 && (l.origin.uid === 0 || l.origin.uid === null);
  if (l.origin.unit !== null && UNIT_OF[k].test(l.origin.unit)) return true;
  return l.origin.uid === 0;
}

const RE = {
  oomd: /^(?:Killed|Marked) (\/\S*) (?:for killing )?due to (.*?)\.?$/,
  pid1: /^(\S+): systemd-oomd killed (\d+|some) process(?:\(es\)|es)? in this unit\.?$/,
  // comm is at most 15 bytes (TASK_COMM_LEN): the name ends at the first '": ' after it
  earlyoom: /^sending (SIGTERM|SIGKILL) to process (\d+) uid (\d+) "(.{0,64}?)": (badness|oom_score) (-?\d+)(.*)$/,
  vmRss: /^[^"]*?, VmRSS (\d+) MiB/,
  earlyoomOld: /^Low memory! Killing process (\d+) (.*)$/,
  earlyoomEscalate: /^escalating to SIGKILL after/,
  earlyoomExited: /^process exited after/,
  nohangChosen: /^PID: *(\d+), Name: (.*), badness: (-?\d+)$/,
  nohangStatusUid: /^PID: *(\d+), name: .*?, EUID: (\d+)/,
  nohangSend: /^Sending (SIGTERM|SIGKILL) to the victim$/,
  nohangDied: /^The victim (?:died|became a zombie) in/,
  nohangAction: /^Implementing a corrective action:$/,
  kubeReclaim:
    /[Ee]viction manager: (?:attempting to reclaim|must evict pod\(s\) to reclaim)"?\s+resourceName="?([\w.-]+)/,
  kubeEvicted: /[Ee]viction manager: pod is evicted successfully"? pod="([^"]+)"/,
  kubeEvictedOld: /eviction manager: pods? (\S+?)_(\S+?)\([^)]*\) evicted/,
};

function emptyKill(killer: UserKiller, l: LogLine): KillerKill {
  return {
    killer,
    uptime: l.uptime,
    wall: l.wall,
    target: { pid: null, comm: null, uid: null, cgroup: null, unit: null, pod: null, rssKb: null },
    signal: null,
    reason: null,
    processes: null,
    outcome: null,
  };
}

/** The unit a cgroup path ends in ("/system.slice/foo.service" → foo.service). */
export function unitOfCgroup(path: string | null): string | null {
  const last = path?.split('/').filter(Boolean).at(-1);
  return last && /\.(service|scope)$/.test(last) ? last : null;
}

/**
 * The kills of the user-space killers, one line at a time. Bounded: the newest
 * MAX_KILLS are kept (the number dropped is counted). Nothing here throws.
 */
export class KillerLogParser {
  static readonly MAX_KILLS = 10_000;
  readonly kills: KillerKill[] = [];
  dropped = 0;
  /** Lines that named a killer but whose journal record says someone else sent them. */
  forged = 0;
  private nohangChosen: { pid: number; comm: string; badness: number; uid?: number } | null = null;
  /** nohang writes a message over several lines, the time only on the first: the last time seen. */
  private nohangTime: Pick<LogLine, 'wall' | 'uptime'> = { wall: null, uptime: null };
  private kubeResource: string | null = null;

  push(l: LogLine): void {
    const named = killerOfIdent(l.ident);
    const t = l.text.trim();
    // A daemon's own log file names no sender: the wording alone says whose it is.
    const k = named ?? (l.ident === null ? this.byWording(t) : null);
    if (k === null) return;
    if (!senderIsKiller(l, k)) {
      // a user's own systemd manager logs its units' kills too: not PID 1's, not forged
      const userManager = k === 'pid1' && /^user@\d+\.service$/.test(l.origin?.unit ?? '');
      if (!userManager && this.claims(k, t)) this.forged++;
      return;
    }
    if (k === 'pid1') this.onPid1(l, t);
    else if (k === 'systemd-oomd') this.onOomd(l, t);
    else if (k === 'earlyoom') this.onEarlyoom(l, t);
    else if (k === 'nohang') this.onNohang(l, t);
    else this.onKubelet(l, t);
  }

  private byWording(t: string): UserKiller | 'pid1' | null {
    if (RE.oomd.test(t)) return 'systemd-oomd';
    if (RE.pid1.test(t)) return 'pid1';
    if (RE.earlyoom.test(t) || RE.earlyoomOld.test(t)) return 'earlyoom';
    if ([RE.nohangChosen, RE.nohangSend, RE.nohangStatusUid, RE.nohangDied, RE.nohangAction].some((r) => r.test(t)))
      return 'nohang';
    if (RE.kubeEvicted.test(t) || RE.kubeEvictedOld.test(t) || RE.kubeReclaim.test(t)) return 'kubelet';
    return null;
  }

  /** Whether a line is one of the killer's kill lines (a forged one is counted only then). */
  private claims(k: UserKiller | 'pid1', t: string): boolean {
    return this.byWording(t) === k;
  }

  private add(kill: KillerKill): void {
    this.kills.push(kill);
    if (this.kills.length >= KillerLogParser.MAX_KILLS * 1.5) {
      const over = this.kills.length - KillerLogParser.MAX_KILLS;
      this.kills.splice(0, over);
      this.dropped += over;
    }
  }

  private onOomd(l: LogLine, t: string): void {
    const m = RE.oomd.exec(t);
    if (!m) return;
    const k = emptyKill('systemd-oomd', l);
    k.target.cgroup = m[1] as string;
    k.target.unit = unitOfCgroup(k.target.cgroup);
    k.signal = 'SIGKILL';
    k.reason = m[2] as string;
    this.add(k);
  }

  /** PID 1's count follows systemd-oomd's line for the same unit; alone (that line lost), it is the kill. */
  private onPid1(l: LogLine, t: string): void {
    const m = RE.pid1.exec(t);
    if (!m) return;
    const unit = m[1] as string;
    const n = m[2] === 'some' ? null : Number(m[2]);
    const last = [...this.kills.slice(-16)]
      .reverse()
      .find((x) => x.killer === 'systemd-oomd' && x.target.unit === unit && x.processes === null);
    if (last) {
      last.processes = n;
      return;
    }
    const k = emptyKill('systemd-oomd', l);
    k.target.unit = unit;
    k.signal = 'SIGKILL';
    k.processes = n;
    k.reason = "systemd-oomd's own line is not in the log (PID 1 logged the kill)";
    this.add(k);
  }

  private onEarlyoom(l: LogLine, t: string): void {
    const m = RE.earlyoom.exec(t);
    const last = this.kills.at(-1);
    if (m) {
      const pid = Number(m[2]);
      // SIGKILL after SIGTERM to the same process is the same kill, escalated
      if (last?.killer === 'earlyoom' && last.target.pid === pid && last.outcome === null && m[1] === 'SIGKILL') {
        last.signal = 'SIGKILL';
        return;
      }
      const k = emptyKill('earlyoom', l);
      k.target.pid = pid;
      k.target.uid = Number(m[3]);
      k.target.comm = m[4] as string;
      const rss = RE.vmRss.exec(m[7] as string);
      k.target.rssKb = rss ? Number(rss[1]) * 1024 : null;
      k.signal = m[1] as 'SIGTERM' | 'SIGKILL';
      k.reason = `${m[5]} ${m[6]}`;
      this.add(k);
      return;
    }
    const old = RE.earlyoomOld.exec(t);
    if (old) {
      const k = emptyKill('earlyoom', l);
      k.target.pid = Number(old[1]);
      k.target.comm = old[2] as string;
      k.signal = 'SIGKILL';
      this.add(k);
      return;
    }
    if (last?.killer !== 'earlyoom') return;
    if (RE.earlyoomEscalate.test(t)) last.signal = 'SIGKILL';
    else if (RE.earlyoomExited.test(t)) last.outcome = 'exited';
  }

  private onNohang(l: LogLine, t: string): void {
    if (l.wall !== null || l.uptime !== null) this.nohangTime = { wall: l.wall, uptime: l.uptime };
    let m = RE.nohangChosen.exec(t);
    if (m) {
      this.nohangChosen = { pid: Number(m[1]), comm: m[2] as string, badness: Number(m[3]) };
      return;
    }
    m = RE.nohangStatusUid.exec(t);
    if (m && this.nohangChosen?.pid === Number(m[1])) {
      this.nohangChosen.uid = Number(m[2]);
      return;
    }
    m = RE.nohangSend.exec(t);
    if (m && this.nohangChosen) {
      const c = this.nohangChosen;
      const k = emptyKill('nohang', { ...l, ...(l.wall === null && l.uptime === null ? this.nohangTime : {}) });
      k.target.pid = c.pid;
      k.target.comm = c.comm;
      k.target.uid = c.uid ?? null;
      k.signal = m[1] as 'SIGTERM' | 'SIGKILL';
      k.reason = `badness ${c.badness}`;
      this.nohangChosen = null;
      this.add(k);
      return;
    }
    const last = this.kills.at(-1);
    if (RE.nohangDied.test(t) && last?.killer === 'nohang') last.outcome = 'exited';
  }

  private onKubelet(l: LogLine, t: string): void {
    const r = RE.kubeReclaim.exec(t);
    if (r) {
      this.kubeResource = r[1] as string;
      return;
    }
    const m = RE.kubeEvicted.exec(t);
    const old = m ? null : RE.kubeEvictedOld.exec(t);
    if (!m && !old) return;
    // only evictions to reclaim memory are memory kills (disk pressure evicts too)
    if (this.kubeResource !== null && this.kubeResource !== 'memory') return;
    const k = emptyKill('kubelet', l);
    k.target.pod = m ? (m[1] as string) : `${old?.[2]}/${old?.[1]}`;
    k.signal = 'SIGTERM';
    k.reason = this.kubeResource === 'memory' ? 'node memory pressure (memory.available)' : null;
    this.add(k);
  }

  end(): KillerKill[] {
    const over = this.kills.length - KillerLogParser.MAX_KILLS;
    if (over > 0) {
      this.kills.splice(0, over);
      this.dropped += over;
    }
    return this.kills;
  }
}
