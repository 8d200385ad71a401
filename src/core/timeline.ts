// One timeline of every kill, whoever made it: the kernel's OOM events and the user-space
// killers' kills, each with its killer, time, domain and victims; and the evidence of its
// completeness (the kernel counts its kills: a log that holds fewer has lost some).
import { printable } from './format.js';
import type { KillerKill } from './parse/killer-log.js';
import { unitOfCgroup } from './parse/killer-log.js';
import type { OomEvent } from './parse/kernel-log.js';
import type { KillerName } from './killers/types.js';

/**
 * One process, cgroup or pod a kill took: the fields of a user-space killer's target
 * (kernel: cgroup is the victim's task_memcg; systemd-oomd: the cgroup it killed whole).
 */
export type TimelineVictim = KillerKill['target'] & {
  /** Killed with another (memory.oom.group), not chosen itself. */
  withOther: boolean;
};

export interface TimelineEntry {
  killer: KillerName;
  wall: string | null;
  uptime: number | null;
  /** "global" (the whole machine), a memory cgroup path, or null when unknown. */
  domain: string | null;
  victims: TimelineVictim[];
  /** The kernel's event, with its tasks table, for a kernel kill. */
  kernel: OomEvent | null;
  /** The user-space killer's record, for theirs. */
  user: KillerKill | null;
  incomplete: boolean;
  missing: string[];
}

export const KILLER_NAMES: readonly KillerName[] = ['kernel', 'systemd-oomd', 'earlyoom', 'nohang', 'kubelet'];

function kernelEntry(e: OomEvent): TimelineEntry {
  return {
    killer: 'kernel',
    wall: e.wall,
    uptime: e.uptime,
    domain: e.domain,
    victims: e.victims.map((v) => ({
      pid: v.pid,
      comm: v.comm,
      uid: v.uid,
      cgroup: v.memcg,
      unit: unitOfCgroup(v.memcg),
      pod: null,
      rssKb: (v.anonRssKb ?? 0) + (v.fileRssKb ?? 0) + (v.shmemRssKb ?? 0),
      withOther: v.oomGroup,
    })),
    kernel: e,
    user: null,
    incomplete: e.incomplete,
    missing: e.missing,
  };
}

function killerEntry(k: KillerKill): TimelineEntry {
  const t = k.target;
  const missing: string[] = [];
  if (k.killer === 'systemd-oomd' && t.cgroup === null) missing.push("systemd-oomd's own line (the cgroup killed)");
  return {
    killer: k.killer,
    wall: k.wall,
    uptime: k.uptime,
    // earlyoom, nohang and the kubelet act on the whole machine's memory; systemd-oomd on a cgroup it watches
    domain: k.killer === 'systemd-oomd' ? null : 'global',
    victims: [
      {
        pid: t.pid,
        comm: t.comm,
        uid: t.uid,
        cgroup: t.cgroup,
        unit: t.unit,
        pod: t.pod,
        rssKb: t.rssKb,
        withOther: false,
      },
    ],
    kernel: null,
    user: k,
    incomplete: missing.length > 0,
    missing,
  };
}

/**
 * The kernel's events and the killers' kills in one list, oldest first: by wall clock when
 * every entry has one, else by time since boot when every entry has that, else the kernel's
 * events and then the killers' in the order their logs hold them.
 */
export function buildTimeline(kernel: readonly OomEvent[], kills: readonly KillerKill[]): TimelineEntry[] {
  const all = [...kernel.map(kernelEntry), ...kills.map(killerEntry)];
  if (all.every((e) => e.wall !== null))
    return all.sort((a, b) => Date.parse(a.wall as string) - Date.parse(b.wall as string));
  if (all.every((e) => e.uptime !== null)) return all.sort((a, b) => (a.uptime as number) - (b.uptime as number));
  return all;
}

/** One victim in words: "holder 4242 (unit x.service)", "pod default/web", "cgroup /a/b.scope". */
export function describeVictim(v: TimelineVictim): string {
  const who =
    v.comm !== null || v.pid !== null
      ? `${v.comm === null ? '?' : printable(v.comm)}${v.pid === null ? '' : ` ${v.pid}`}`
      : v.pod !== null
        ? `pod ${printable(v.pod)}`
        : v.cgroup !== null
          ? `cgroup ${printable(v.cgroup)}`
          : v.unit !== null
            ? `unit ${printable(v.unit)}`
            : 'victim unknown';
  const unit = v.unit !== null && (v.comm !== null || v.pid !== null) ? ` (${printable(v.unit)})` : '';
  return `${who}${unit}`;
}

/** The domain in words. */
export function describeDomain(e: Pick<TimelineEntry, 'domain' | 'killer' | 'kernel'>): string {
  if (e.domain === 'global') return 'global';
  if (e.domain !== null) return `memcg ${printable(e.domain)}`;
  if (e.killer === 'systemd-oomd') return 'a cgroup systemd-oomd watches';
  return e.kernel?.constraint ?? 'domain unknown';
}

/** A memory cgroup whose kernel counter holds more OOM kills than the log shows in it. */
export interface MissingKills {
  path: string;
  counted: number;
  logged: number;
}

/**
 * The evidence of completeness the reboot advice lacks: each memory cgroup counts the
 * processes the kernel's OOM killer killed in it (mm/oom_kill.c __oom_kill_process():
 * count_vm_event(OOM_KILL) and memcg_memory_event_mm(MEMCG_OOM_KILL), once for every
 * process, the members of a memory.oom.group too). On cgroup v2 memory.events counts a
 * cgroup's whole subtree; on v1 memory.oom_control counts the cgroup itself. The log's
 * kills are placed by the victim's own cgroup (task_memcg, 4.19+); a kill whose cgroup the
 * log does not name is counted wherever it could be (so a gap reported is a real one).
 */
export function missingMemcgKills(
  cgroups: ReadonlyArray<{ path: string; oomKills: number | null; version: 1 | 2 }>,
  events: readonly OomEvent[],
): MissingKills[] {
  const under = (d: string, c: string) => d === c || d.startsWith(`${c === '/' ? '' : c}/`);
  const victims = events.flatMap((e) => e.victims.map((v) => ({ memcg: v.memcg, domain: e.domain })));
  const out: MissingKills[] = [];
  for (const c of cgroups) {
    if (!c.oomKills) continue;
    const logged = victims.filter((v) => {
      if (v.memcg !== null) return c.version === 2 ? under(v.memcg, c.path) : v.memcg === c.path;
      // no task_memcg: the victim was somewhere in its OOM domain's subtree
      return v.domain !== null && v.domain !== 'global' && (under(v.domain, c.path) || under(c.path, v.domain));
    }).length;
    if (c.oomKills > logged) out.push({ path: c.path, counted: c.oomKills, logged });
  }
  return out;
}

/** The timeline of one killer, or from a time on (ms; entries without a wall clock are kept: their time is unknown, not before). */
export function filterTimeline(
  entries: readonly TimelineEntry[],
  o: { killer?: KillerName; sinceMs?: number },
): TimelineEntry[] {
  return entries.filter(
    (e) =>
      (o.killer === undefined || e.killer === o.killer) &&
      (o.sinceMs === undefined || e.wall === null || Date.parse(e.wall) >= o.sinceMs),
  );
}
