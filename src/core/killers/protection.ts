// Protection that holds against every active killer: for a protected process (negative adj),
// which killers it is safe from and, for each it is not, what would protect it there.
// oom_score_adj −1000 holds against the kernel, earlyoom and nohang only (both skip −1000 or
// oom_score 0); systemd-oomd and the kubelet never read adj.
import { printable } from '../format.js';
import { compileOrNull } from '../pattern.js';
import { exactSource as anchored } from '../select.js';
import type { SnapshotProcess } from '../snapshot.js';
import type { KillerInputs, KillersReport } from './race.js';
import type { OomdCgroup } from './systemd-oomd.js';
import type { KillerName, KillerReport } from './types.js';

export interface KillerVerdict {
  killer: KillerName;
  safe: boolean;
  why: string;
  /** What would make it safe from this killer, when it is not. */
  fix: string | null;
}

export interface ProtectionReport {
  pid: number;
  comm: string;
  adj: number | null;
  unit: string | null;
  killers: KillerVerdict[];
}

/** What systemd-oomd watches (its monitored units' cgroups) and leaves alone (omit on a root-owned cgroup). */
export interface OomdScope {
  watched: readonly string[];
  omitted: ReadonlySet<string>;
}

const matches = (source: unknown, text: string) =>
  typeof source === 'string' && compileOrNull(source)?.test(text) === true;

const within = (path: string, top: string) => top === '/' || path === top || path.startsWith(`${top}/`);

function kernelVerdict(p: SnapshotProcess): KillerVerdict {
  if (p.oomScoreAdj === -1000)
    return { killer: 'kernel', safe: true, why: 'oom_score_adj −1000: never chosen', fix: null };
  return {
    killer: 'kernel',
    safe: false,
    why: p.rank === null ? 'not ranked now' : `rank ${p.rank} in the kernel's order (adj ${p.oomScoreAdj})`,
    fix: `oomtop protect ${p.pid} (oom_score_adj −1000)`,
  };
}

function earlyoomVerdict(p: SnapshotProcess, k: KillerReport): KillerVerdict {
  const comm = printable(p.comm);
  if (p.oomScoreAdj === -1000)
    return { killer: 'earlyoom', safe: true, why: 'adj −1000: is_larger() skips it', fix: null };
  if (matches(k.settings.ignore, p.comm))
    return { killer: 'earlyoom', safe: true, why: '--ignore matches its name', fix: null };
  return {
    killer: 'earlyoom',
    safe: false,
    why: matches(k.settings.avoid, p.comm)
      ? '--avoid only lowers its badness by 300'
      : 'chosen by oom_score like any other',
    fix: `oom_score_adj −1000, or earlyoom --ignore '${anchored(comm)}' (1.8+; --avoid '${anchored(comm)}' only lowers it)`,
  };
}

function nohangVerdict(p: SnapshotProcess): KillerVerdict {
  if (p.oomScoreAdj === -1000)
    return { killer: 'nohang', safe: true, why: 'adj −1000: oom_score 0, which nohang never picks', fix: null };
  return {
    killer: 'nohang',
    safe: false,
    why: 'chosen by badness (oom_score with its rules)',
    fix: `oom_score_adj −1000, or in nohang.conf: @BADNESS_ADJ_RE_NAME -2000 /// ${anchored(printable(p.comm))}`,
  };
}

function oomdVerdict(p: SnapshotProcess, scope: OomdScope): KillerVerdict {
  const cg = p.cgroup ?? '';
  if (!scope.watched.some((w) => within(cg, w)))
    return { killer: 'systemd-oomd', safe: true, why: 'not under a unit it watches', fix: null };
  if ([...scope.omitted].some((o) => within(cg, o)))
    return { killer: 'systemd-oomd', safe: true, why: 'its cgroup is marked omit', fix: null };
  return {
    killer: 'systemd-oomd',
    safe: false,
    why: 'under a unit it watches; it ignores oom_score_adj and kills the whole cgroup',
    fix: `ManagedOOMPreference=omit in ${printable(p.unit ?? cg)} (a root-owned cgroup)`,
  };
}

function kubeletVerdict(p: SnapshotProcess): KillerVerdict {
  if (!p.podUid) return { killer: 'kubelet', safe: true, why: 'not in a pod: the kubelet evicts pods only', fix: null };
  if (p.qosClass === 'guaranteed')
    return { killer: 'kubelet', safe: true, why: 'Guaranteed pod: evicted last, only past its own usage', fix: null };
  return {
    killer: 'kubelet',
    safe: false,
    why: `${p.qosClass ?? 'unknown'} pod: eviction ignores adj`,
    fix: 'requests = limits for every container (Guaranteed QoS), or a higher priority class',
  };
}

const VERDICTS: Record<KillerName, (p: SnapshotProcess, k: KillerReport, oomd: OomdScope) => KillerVerdict> = {
  kernel: (p) => kernelVerdict(p),
  earlyoom: (p, k) => earlyoomVerdict(p, k),
  nohang: (p) => nohangVerdict(p),
  'systemd-oomd': (p, _k, oomd) => oomdVerdict(p, oomd),
  kubelet: (p) => kubeletVerdict(p),
};

/** Verdicts for the protected processes (negative adj) against the active killers. */
export function protectionReport(
  processes: readonly SnapshotProcess[],
  report: KillersReport,
  oomd: OomdScope = { watched: [], omitted: new Set() },
): ProtectionReport[] {
  const active = report.killers.filter((k) => k.active);
  return processes
    .filter(
      (p) =>
        p.oomScoreAdj !== null &&
        p.oomScoreAdj < 0 &&
        (p.unkillableReason === null || p.unkillableReason === 'oom_score_adj -1000'),
    )
    .map((p) => ({
      pid: p.pid,
      comm: p.comm,
      adj: p.oomScoreAdj,
      unit: p.unit,
      killers: active.map((k) => VERDICTS[k.name](p, k, oomd)),
    }));
}

/** The cgroups of systemd-oomd's monitored units, and those under them it leaves alone. */
export function oomdScope(inputs: Pick<KillerInputs, 'systemdOomd'>): OomdScope {
  const omitted = new Set<string>();
  const walk = (c: OomdCgroup) => {
    if (c.omit === true && c.ownerUid === 0) omitted.add(c.path);
    for (const k of c.children) walk(k);
  };
  const watched: string[] = [];
  for (const u of inputs.systemdOomd.units)
    if (u.cgroup) {
      watched.push(u.cgroup.path);
      walk(u.cgroup);
    }
  return { watched, omitted };
}
