// `oomtop killers`: which killers are active on this box, their triggers in their own terms,
// the distance to each, whom each takes now by its own rule, and which acts first.
import { fit, formatBytes, printable, toJson } from '../core/format.js';
import { omittedCgroups, type ProtectionReport, protectionReport } from '../core/killers/protection.js';
import { killersReport, type KillersReport, raceLine, victimText } from '../core/killers/race.js';
import type { KillerReport } from '../core/killers/types.js';
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

/** One sample, its global ranking, and every killer's report on it. */
export function killersOf(roots: Roots, sample: SystemSample, snapshot?: Snapshot): KillersReport {
  const snap = snapshot ?? buildSnapshot(sample, { users: loadUsers(roots.passwdFile) }).snapshot;
  return killersReport(readKillerInputs(roots, sample, snap));
}

function distanceCell(k: KillerReport): string {
  if (!k.active) return '';
  return k.distance?.text ?? '';
}

function killerLines(r: KillersReport, width: number): string[] {
  const w = { name: 13, active: 7, dist: 26 };
  const rest = Math.max(20, width - w.name - w.active - w.dist - 3);
  const trig = Math.ceil(rest * 0.55);
  const vic = Math.max(10, rest - trig);
  const row = (a: string, b: string, c: string, d: string, e: string) =>
    [fit(a, w.name), fit(b, w.active), fit(c, trig), fit(d, w.dist), fit(e, vic)].join(' ').trimEnd();
  const out = [row('KILLER', 'ACTIVE', 'TRIGGER', 'DISTANCE', 'VICTIM NOW')];
  for (const k of r.killers)
    out.push(
      row(
        k.name,
        k.active ? 'yes' : 'no',
        k.active ? (k.trigger?.text ?? '?') : printable(k.detected),
        distanceCell(k),
        k.active ? victimText(k.victim) : '',
      ),
    );
  return out;
}

function detailLines(r: KillersReport): string[] {
  const out: string[] = [];
  for (const k of r.killers) {
    const lines: string[] = [];
    if (k.active || k.notes.length || k.unreadable.length) lines.push(`${k.name}: ${printable(k.detected)}`);
    if (k.victim) lines.push(`  victim: ${victimText(k.victim)}: ${printable(k.victim.why)}`);
    if (k.victim && k.victim.processes.length > 1)
      lines.push(`  dies with it: ${k.victim.processes.map((p) => `${printable(p.comm)} ${p.pid}`).join(', ')}`);
    if (k.active && k.ignoresAdj) lines.push('  ignores oom_score_adj: −1000 does not protect from it');
    for (const n of k.notes) lines.push(`  note: ${printable(n)}`);
    for (const u of k.unreadable) lines.push(`  could not read: ${printable(u)}`);
    out.push(...lines);
  }
  return out;
}

function protectedLines(list: readonly ProtectionReport[]): string[] {
  if (!list.length) return ['no protected process (none has a negative oom_score_adj)'];
  const out: string[] = [];
  for (const p of list) {
    out.push(`${printable(p.comm)} ${p.pid} (adj ${p.adj}${p.unit ? `, ${printable(p.unit)}` : ''}):`);
    for (const v of p.killers)
      out.push(
        `  ${v.safe ? 'safe from' : 'NOT safe from'} ${v.killer}: ${printable(v.why)}${v.fix ? `; fix: ${printable(v.fix)}` : ''}`,
      );
  }
  return out;
}

export function renderKillers(r: KillersReport, width = 120, prot?: readonly ProtectionReport[]): string {
  const head = `MemAvailable ${formatBytes(r.memAvailableBytes)} · SwapFree ${formatBytes(r.swapFreeBytes)} · ${printable(raceLine(r))}`;
  const order = r.order.length ? `race, first to last: ${r.order.join(' → ')}` : 'race: no killer can act';
  const lines = [head, order, '', ...killerLines(r, width), '', ...detailLines(r)];
  if (prot) lines.push('', 'protected processes:', ...protectedLines(prot));
  return `${lines.join('\n')}\n`;
}

export function runKillers(roots: Roots, opts: KillersOptions, now: number, width?: number): string {
  const format = parseFormat(opts.format ?? 'table', ['table', 'json'] as const);
  const sample = new Sampler(roots.procRoot).sample(now);
  const { snapshot } = buildSnapshot(sample, { users: loadUsers(roots.passwdFile) });
  const inputs = readKillerInputs(roots, sample, snapshot);
  const report = killersReport(inputs);
  const prot = opts.protected ? protectionReport(snapshot.processes, report, omittedCgroups(inputs)) : undefined;
  if (format === 'json') return `${toJson(prot ? { ...report, protected: prot } : report, 2)}\n`;
  return renderKillers(report, width ?? 120, prot);
}
