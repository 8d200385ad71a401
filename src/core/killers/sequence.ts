// `simulate --killer NAME`: the kill sequence by a user-space killer's own rule. Each step
// takes the victim its rule picks now (race.ts, the same report `oomtop killers` gives),
// removes it with everything that dies with it (the whole cgroup for systemd-oomd, the pod
// for the kubelet), and asks the rule again, as the killer does while memory stays short.
// The kernel's own sequence (with oom.group and child sacrifice) is core/simulate.ts.
import type { SnapshotProcess } from '../snapshot.js';
import { KILLERS, type KillerInputs } from './race.js';
import type { OomdCgroup } from './systemd-oomd.js';
import type { KillerName, Victim } from './types.js';

export interface KillerStep {
  step: number;
  victim: Victim;
  /** rss + swap of every process that dies at this step (what the kill releases). */
  freedBytes: number;
  cumulativeFreedBytes: number;
}

export interface KillerSimulation {
  killer: KillerName;
  trigger: string | null;
  notes: string[];
  sequence: KillerStep[];
  end: string;
}

const freedOf = (p: SnapshotProcess, pageSize: number) => ((p.rssPages ?? 0) + (p.swapPages ?? 0)) * pageSize;

/** The cgroup tree without the cgroup at `path` (and its subtree). */
function pruned(c: OomdCgroup, path: string): OomdCgroup | null {
  if (c.path === path) return null;
  return { ...c, children: c.children.flatMap((k) => pruned(k, path) ?? []) };
}

/** The inputs once these processes (and the victim's cgroup or pod) are gone. */
export function without(inputs: KillerInputs, killed: ReadonlySet<number>, v: Victim): KillerInputs {
  const s = inputs.snapshot;
  const o = inputs.systemdOomd;
  return {
    ...inputs,
    snapshot: { ...s, processes: s.processes.filter((p) => !killed.has(p.pid)) },
    systemdOomd: {
      ...o,
      units: o.units.map((u) => ({ ...u, cgroup: u.cgroup && v.cgroup ? pruned(u.cgroup, v.cgroup) : u.cgroup })),
    },
    kubelet: { ...inputs.kubelet, pods: inputs.kubelet.pods.filter((p) => p.cgroup !== v.cgroup) },
  };
}

export function simulateKiller(
  start: KillerInputs,
  name: KillerName,
  o: { freeBytes?: number; maxSteps?: number } = {},
): KillerSimulation {
  const rule = KILLERS.find((k) => k.name === name);
  if (!rule) throw new Error(`no killer named ${name}`);
  const first = rule.report(start);
  const sequence: KillerStep[] = [];
  const max = o.maxSteps ?? 1000;
  let inputs = start;
  let freed = 0;
  let end = 'its rule picks nobody more';
  for (let r = first; sequence.length < max; r = rule.report(inputs)) {
    if (o.freeBytes !== undefined && freed >= o.freeBytes) {
      end = `at least ${o.freeBytes} bytes freed`;
      break;
    }
    const v = r.victim;
    if (!v) break;
    const killed = new Set(v.processes.map((p) => p.pid));
    const pageSize = inputs.snapshot.pageSize;
    const bytes = inputs.snapshot.processes.reduce((n, p) => n + (killed.has(p.pid) ? freedOf(p, pageSize) : 0), 0);
    freed += bytes;
    sequence.push({ step: sequence.length + 1, victim: v, freedBytes: bytes, cumulativeFreedBytes: freed });
    if (!killed.size && !v.cgroup) break; // nothing to remove: the rule would pick it again
    inputs = without(inputs, killed, v);
  }
  if (sequence.length >= max) end = `stopped after ${max} steps`;
  return {
    killer: name,
    trigger: first.trigger?.text ?? null,
    notes: [...first.notes, 'each step assumes memory stays short: the killer acts again only while its trigger holds'],
    sequence,
    end,
  };
}
