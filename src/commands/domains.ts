// `oomtop domains` and `oomtop simulate`, and the domain resolution that snapshot and the
// dashboard share: global, or a memory cgroup (v1 or v2, found automatically).
import { parsePidAdj } from '../core/adj.js';
import { availableKb, globalContext, limitedCgroups, memcgContext, type DomainContext } from '../core/domains.js';
import { UserError } from '../core/errors.js';
import { fit, fitPath, formatBytes, formatInt, formatPages, printable, shortCgroup, toJson } from '../core/format.js';
import type { CgroupNode } from '../core/memcg.js';
import { buildSnapshot } from '../core/snapshot.js';
import { simulateKills, type Simulation } from '../core/simulate.js';
import type { SystemSample } from '../core/types.js';
import { readCgroupTree, readGlobalSwappiness } from '../system/cgroupfs.js';
import { loadUsers, type Roots } from '../system/env.js';
import { Sampler } from '../system/sampler.js';
import { parseFormat } from './args.js';
import { killersOf } from './killers.js';
import { KILLERS } from '../core/killers/race.js';
import { renderKillerSimulation } from '../core/killers/render.js';
import { simulateKiller } from '../core/killers/sequence.js';
import type { KillerName } from '../core/killers/types.js';

export function resolveDomain(roots: Roots, sample: SystemSample, cgroup: string | undefined): DomainContext {
  if (cgroup === undefined || cgroup === 'global') return globalContext(sample);
  const { root } = readCgroupTree(roots.sysRoot, cgroup);
  return memcgContext(sample, root, readGlobalSwappiness(roots.procRoot));
}

/** "200M", "1.5GiB", "4096" (bytes), "512p" (pages) -> pages. */
export function parseSize(text: string, pageSize: number): number {
  const m = /^(\d+(?:\.\d+)?)\s*(p|pages?|[kmgt]i?b?|b)?$/i.exec(text.trim());
  if (!m) throw new UserError(`--free takes a size like 200M, 1.5G, 4096 or 512p (pages), got '${text}'`);
  const n = Number(m[1]);
  const unit = (m[2] ?? 'b').toLowerCase();
  if (unit.startsWith('p')) return Math.ceil(n);
  const pow = { b: 0, k: 1, m: 2, g: 3, t: 4 }[unit[0] as 'b' | 'k' | 'm' | 'g' | 't'];
  return Math.ceil((n * 1024 ** pow) / pageSize);
}

export interface DomainRow {
  path: string;
  label: string;
  cgroupVersion: 1 | 2 | null;
  limitBytes: number | null;
  usageBytes: number | null;
  headroomBytes: number | null;
  totalPages: number;
  candidates: number;
  firstVictim: { pid: number; comm: string; badnessPages: number } | null;
  oomEvents: number | null;
  oomKills: number | null;
  oomGroupKills: number | null;
  underOom: boolean;
  oomGroup: boolean;
}

export function domainRow(ctx: DomainContext, users: ReadonlyMap<number, string>, node: CgroupNode | null): DomainRow {
  const { snapshot } = buildSnapshot(ctx.sample, { users, domain: ctx.domain, scanIndex: ctx.scanIndex });
  const first = snapshot.processes.find((p) => p.rank === 1);
  const ps = ctx.sample.pageSize;
  const memTotal = ctx.sample.meminfo.memTotalKb * 1024;
  return {
    path: node?.path ?? 'global',
    label: ctx.label,
    cgroupVersion: node?.version ?? null,
    limitBytes: node ? node.limitBytes : memTotal + ctx.sample.meminfo.swapTotalKb * 1024,
    usageBytes: node ? node.usageBytes : memTotal - availableKb(ctx.sample.meminfo) * 1024,
    headroomBytes: ctx.headroomPages === null ? null : ctx.headroomPages * ps,
    totalPages: ctx.domain.totalPages,
    candidates: snapshot.counts.killable,
    firstVictim: first ? { pid: first.pid, comm: first.comm, badnessPages: first.badnessPages as number } : null,
    oomEvents: node?.oomEvents ?? null,
    oomKills: node ? node.oomKills : ctx.sample.oomKillCount,
    oomGroupKills: node?.oomGroupKills ?? null,
    underOom: node?.underOom ?? false,
    oomGroup: node?.oomGroup ?? false,
  };
}

/** Every OOM domain: global plus each memory cgroup with a limit, tightest headroom first. */
export function listDomainRows(roots: Roots, sample: SystemSample, users: ReadonlyMap<number, string>): DomainRow[] {
  const rows = [domainRow(globalContext(sample), users, null)];
  let tree: CgroupNode | null = null;
  try {
    tree = readCgroupTree(roots.sysRoot, '/').root;
  } catch {
    tree = null; // no memory hierarchy: the global domain alone
  }
  if (tree) {
    const swappiness = readGlobalSwappiness(roots.procRoot);
    for (const n of limitedCgroups(tree)) rows.push(domainRow(memcgContext(sample, n, swappiness), users, n));
  }
  return rows.sort((a, b) => (a.headroomBytes ?? Infinity) - (b.headroomBytes ?? Infinity));
}

export function runDomains(roots: Roots, o: { format?: string }, now: number): string {
  const format = parseFormat(o.format ?? 'table', ['table', 'json'] as const);
  const sample = new Sampler(roots.procRoot).sample(now);
  const rows = listDomainRows(roots, sample, loadUsers(roots.passwdFile));
  if (format === 'json')
    return `${toJson({ schema: 'oomtop.domains/1', time: new Date(now).toISOString(), domains: rows }, 2)}\n`;
  const lines = [
    `${fit('DOMAIN', 44)} ${fit('LIMIT', 9, 'right')} ${fit('USAGE', 9, 'right')} ${fit('HEADROOM', 9, 'right')} ${fit('TASKS', 5, 'right')} ${fit('OOM', 4, 'right')} ${fit('KILLS', 5, 'right')}  FIRST VICTIM`,
  ];
  for (const r of rows) {
    const victim = r.firstVictim
      ? `${printable(r.firstVictim.comm)} ${r.firstVictim.pid} (${formatPages(r.firstVictim.badnessPages, sample.pageSize)})`
      : '—';
    const flags =
      r.path === 'global'
        ? ''
        : ` v${r.cgroupVersion}${r.oomGroup ? ' oom.group' : ''}${r.underOom ? ' UNDER OOM' : ''}`;
    const name = r.path === 'global' ? r.label : fitPath(shortCgroup(r.path), 44 - flags.length).trimEnd();
    lines.push(
      `${fit(name + flags, 44)} ` +
        `${fit(r.limitBytes === null ? 'max' : formatBytes(r.limitBytes), 9, 'right')} ${fit(formatBytes(r.usageBytes), 9, 'right')} ` +
        `${fit(formatBytes(r.headroomBytes), 9, 'right')} ${fit(String(r.candidates), 5, 'right')} ${fit(r.oomEvents === null ? '' : String(r.oomEvents), 4, 'right')} ` +
        `${fit(r.oomKills === null ? '?' : String(r.oomKills), 5, 'right')}  ${victim}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/**
 * The sequence as a table. Badness is memory, in bytes as the dashboard shows it (pages, the
 * kernel's own unit, with --pages); the header gives the page arithmetic either way.
 */
export function renderSimulation(sim: Simulation, pageSize: number, pages = false): string {
  const badness = (n: number | null) => (pages ? formatInt(n) : n === null ? '?' : formatPages(n, pageSize));
  const d = sim.domain;
  const lines = [
    `domain ${printable(d.label)}: totalpages ${formatInt(d.totalPages)} (1 point of adj = ${formatInt(Math.floor(d.totalPages / 1000))} pages)` +
      (d.headroomPages === null ? '' : `, headroom ${formatPages(d.headroomPages, pageSize)}`),
    ...sim.notes.map((n) => `note: ${n}`),
    '',
    `${fit('STEP', 4, 'right')} ${fit('PID', 7, 'right')} ${fit('NAME', 16)} ${fit('ADJ', 5, 'right')} ${fit(pages ? 'BADNESS pg' : 'BADNESS', 12, 'right')} ${fit(pages ? 'FREED pg' : 'FREED', 9, 'right')} ${fit(pages ? 'TOTAL pg' : 'TOTAL', 9, 'right')}  ALSO KILLED`,
  ];
  for (const s of sim.sequence) {
    lines.push(
      `${fit(String(s.step), 4, 'right')} ${fit(String(s.pid), 7, 'right')} ${fit(s.comm, 16)} ${fit(String(s.oomScoreAdj ?? '?'), 5, 'right')} ` +
        `${fit(badness(s.badnessPages), 12, 'right')} ${fit(pages ? formatInt(s.freedPages) : formatPages(s.freedPages, pageSize), 9, 'right')} ${fit(pages ? formatInt(s.cumulativeFreedPages) : formatPages(s.cumulativeFreedPages, pageSize), 9, 'right')}  ` +
        `${s.alsoKilled.length ? `${s.alsoKilled.join(' ')} (oom.group ${s.oomGroup})` : ''}` +
        (s.sacrificedFor
          ? `${s.alsoKilled.length ? '; ' : ''}the kernel chose its parent ${printable(s.sacrificedFor.comm)} ${s.sacrificedFor.pid}, the child dies instead (before 5.1)`
          : ''),
    );
  }
  lines.push('', `end: ${sim.end}`);
  return `${lines.join('\n')}\n`;
}

export interface SimulateOptions {
  cgroup?: string;
  free?: string;
  adj?: string[];
  format?: string;
  killer?: string;
  width?: number;
  /** Memory in pages (the kernel's unit) instead of bytes. */
  pages?: boolean;
}

/** `simulate --killer NAME` for a user-space killer: the sequence by its own rule (killers/sequence.ts). */
function runKillerSimulate(
  roots: Roots,
  o: SimulateOptions,
  name: KillerName,
  sample: SystemSample,
  overrides: ReadonlyMap<number, number>,
  format: 'table' | 'json',
): string {
  if (o.cgroup !== undefined)
    throw new UserError(
      `--killer ${name} acts on the whole box: --cgroup is for the kernel's memcg OOM (drop one of them)`,
    );
  // An --adj override changes the oom_score the killers read: the model predicts it.
  const adjusted = {
    ...sample,
    processes: sample.processes.map((p) =>
      overrides.has(p.pid) ? { ...p, oomScoreAdj: overrides.get(p.pid) as number, oomScore: null } : p,
    ),
  };
  const { snapshot } = buildSnapshot(adjusted, { users: loadUsers(roots.passwdFile) });
  const { inputs, report } = killersOf(roots, adjusted, snapshot);
  const k = report.killers.find((x) => x.name === name);
  if (!k?.active)
    throw new UserError(
      `--killer ${name}: ${printable(k?.detected ?? 'not found')}; it cannot act here, so there is nothing to simulate (oomtop killers shows which can)`,
    );
  const free = o.free === undefined ? undefined : parseSize(o.free, sample.pageSize) * sample.pageSize;
  const sim = simulateKiller(inputs, name, { freeBytes: free });
  if (format === 'json') return `${toJson({ schema: 'oomtop.simulate-killer/1', time: snapshot.time, ...sim }, 2)}\n`;
  return renderKillerSimulation(sim, o.width ?? 120);
}

export function runSimulate(roots: Roots, o: SimulateOptions, now: number): string {
  const format = parseFormat(o.format ?? 'table', ['table', 'json'] as const);
  const overrides = new Map((o.adj ?? []).map((a) => parsePidAdj(a, '--adj')));
  const names = KILLERS.map((k) => k.name);
  if (o.killer !== undefined && !names.includes(o.killer as KillerName))
    throw new UserError(`--killer ${printable(o.killer)}: not a killer oomtop knows; use one of ${names.join(', ')}`);
  const sample = new Sampler(roots.procRoot).sample(now);
  for (const pid of overrides.keys()) {
    if (!sample.processes.some((p) => p.pid === pid))
      throw new UserError(`--adj names pid ${pid}, which is not running`);
  }
  if (o.killer !== undefined && o.killer !== 'kernel')
    return runKillerSimulate(roots, o, o.killer as KillerName, sample, overrides, format);
  const ctx = resolveDomain(roots, sample, o.cgroup);
  const sim = simulateKills(ctx, {
    users: loadUsers(roots.passwdFile),
    adjOverrides: overrides,
    freePages: o.free === undefined ? undefined : parseSize(o.free, sample.pageSize),
  });
  if (format === 'json')
    return `${toJson({ schema: 'oomtop.simulate/1', time: new Date(now).toISOString(), ...sim }, 2)}\n`;
  return renderSimulation(sim, sample.pageSize, o.pages === true);
}
