// `oomtop killers`: which killers are active on this box, their triggers in their own terms,
// the distance to each, whom each takes now by its own rule, and which acts first.
import { toJson } from '../core/format.js';
import { oomdScope, protectionReport } from '../core/killers/protection.js';
import { type KillerInputs, killersReport, type KillersReport } from '../core/killers/race.js';
import { renderKillers } from '../core/killers/render.js';
import { type PgscanRead, pgscanOf } from '../core/killers/systemd-oomd.js';
import { buildSnapshot, type Snapshot } from '../core/snapshot.js';
import type { FallRate } from '../core/trend.js';
import type { SystemSample } from '../core/types.js';
import { loadUsers, type Roots } from '../system/env.js';
import { readKillerInputs, rereadOomdCgroups } from '../system/killers.js';
import { Sampler } from '../system/sampler.js';
import { parseFormat } from './args.js';

export interface KillersOptions {
  format?: string;
  protected?: boolean;
  /**
   * Waits between the two reads systemd-oomd's pressure rule needs (its pgscan rate); by
   * default 1 s, its own MEM_PRESSURE_INTERVAL_USEC. Tests change the fixture here.
   */
  pause?: () => void;
}

/** systemd-oomd's interval between the pgscan reads it compares (oomd-manager.h). */
const PGSCAN_INTERVAL_MS = 1000;

/** Every killer's report on one sample and its global ranking, with what the rules read. */
export function killersOf(
  roots: Roots,
  sample: SystemSample,
  snapshot: Snapshot,
  o: { lastPgscan?: PgscanRead | null; fall?: FallRate | null } = {},
): { inputs: KillerInputs; report: KillersReport } {
  const inputs = { ...readKillerInputs(roots, sample, snapshot, o.lastPgscan ?? null), fall: o.fall ?? null };
  return { inputs, report: killersReport(inputs) };
}

/** The pgscan of the cgroups systemd-oomd watches, for the next read's growth; null when it watches none. */
export function pgscanNow(inputs: KillerInputs): ReadonlyMap<string, number> | null {
  const roots = inputs.systemdOomd.units.flatMap((u) => (u.cgroup ? [u.cgroup] : []));
  return roots.length ? pgscanOf(roots) : null;
}

/** systemd-oomd's pressure rule is the one shown: its victim needs a pgscan rate. */
const needsRate = (r: KillersReport) => r.killers.some((k) => k.name === 'systemd-oomd' && k.trigger?.psi);

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

export function runKillers(roots: Roots, opts: KillersOptions, now: number, width?: number): string {
  const format = parseFormat(opts.format ?? 'table', ['table', 'json'] as const);
  const sample = new Sampler(roots.procRoot).sample(now);
  const { snapshot } = buildSnapshot(sample, { users: loadUsers(roots.passwdFile) });
  let { inputs, report } = killersOf(roots, sample, snapshot);
  const first = pgscanNow(inputs);
  if (first && needsRate(report)) {
    // Two reads, as systemd-oomd compares them: the victim by pgscan growth, not by size alone.
    (opts.pause ?? (() => sleepSync(PGSCAN_INTERVAL_MS)))();
    inputs = rereadOomdCgroups(roots, sample, inputs, { values: first, seconds: PGSCAN_INTERVAL_MS / 1000 });
    report = killersReport(inputs);
  }
  const prot = opts.protected ? protectionReport(snapshot.processes, report, oomdScope(inputs)) : undefined;
  if (format === 'json') return `${toJson(prot ? { ...report, protected: prot } : report, 2)}\n`;
  return renderKillers(report, width ?? 120, prot);
}
