// `oomtop killers`: which killers are active on this box, their triggers in their own terms,
// the distance to each, whom each takes now by its own rule, and which acts first.
import { toJson } from '../core/format.js';
import { oomdScope, protectionReport } from '../core/killers/protection.js';
import { type KillerInputs, killersReport, type KillersReport } from '../core/killers/race.js';
import { renderKillers } from '../core/killers/render.js';
import { buildSnapshot, type Snapshot } from '../core/snapshot.js';
import type { SystemSample } from '../core/types.js';
import { loadUsers, type Roots } from '../system/env.js';
import { readKillerInputs } from '../system/killers.js';
import { Sampler } from '../system/sampler.js';
import { parseFormat } from './args.js';

export interface KillersOptions {
  format?: string;
  protected?: boolean;
}

/** Every killer's report on one sample and its global ranking, with what the rules read. */
export function killersOf(
  roots: Roots,
  sample: SystemSample,
  snapshot: Snapshot,
): { inputs: KillerInputs; report: KillersReport } {
  const inputs = readKillerInputs(roots, sample, snapshot);
  return { inputs, report: killersReport(inputs) };
}

export function runKillers(roots: Roots, opts: KillersOptions, now: number, width?: number): string {
  const format = parseFormat(opts.format ?? 'table', ['table', 'json'] as const);
  const sample = new Sampler(roots.procRoot).sample(now);
  const { snapshot } = buildSnapshot(sample, { users: loadUsers(roots.passwdFile) });
  const { inputs, report } = killersOf(roots, sample, snapshot);
  const prot = opts.protected ? protectionReport(snapshot.processes, report, oomdScope(inputs)) : undefined;
  if (format === 'json') return `${toJson(prot ? { ...report, protected: prot } : report, 2)}\n`;
  return renderKillers(report, width ?? 120, prot);
}
