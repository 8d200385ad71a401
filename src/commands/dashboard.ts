// `oomtop` with no command: the live dashboard.
import { join } from 'node:path';
import v8 from 'node:v8';
import { UserError, messageOf } from '../core/errors.js';
import { buildSnapshot } from '../core/snapshot.js';
import type { SystemSample } from '../core/types.js';
import { Adjuster } from '../system/adjuster.js';
import { AuditLog } from '../system/audit-log.js';
import { loadUsers, type Roots } from '../system/env.js';
import { MODEL_NEEDS, Sampler } from '../system/sampler.js';
import type { AppOptions } from '../tui/app.js';
import type { DomainChoice } from '../tui/state.js';
import { buildTimeline } from '../core/timeline.js';
import { loadHistory } from './aftermath.js';
import { oomdScope, protectionReport } from '../core/killers/protection.js';
import { killersOf, pgscanNow } from './killers.js';
import { parseSeconds } from './args.js';
import { listDomainRows, resolveDomain } from './domains.js';

export interface DashboardOptions {
  interval?: string;
  readOnly?: boolean;
}

export function dashboardOptions(
  roots: Roots,
  o: DashboardOptions,
  stateDir: string,
  actor: { user: string; uid: number },
): AppOptions {
  const intervalMs = parseSeconds(o.interval ?? '2', '--interval', 0.2, 3600) * 1000;
  const sampler = new Sampler(roots.procRoot, { incremental: true });
  sampler.readMeminfo(); // fails early, with the one-line error, on a wrong --proc-root
  const audit = new AuditLog(stateDir);
  // Writes need the audit log: when it cannot be used, the dashboard starts read-only and
  // says why (reading it, the app's loadAudit says so too, without a scan here first).
  let readOnly = Boolean(o.readOnly);
  let notice: string | undefined;
  if (!readOnly) {
    try {
      audit.ensureWritable();
    } catch (e) {
      readOnly = true;
      notice = `read-only: ${messageOf(e)}`;
    }
  }
  const users = loadUsers(roots.passwdFile);
  // The pgscan of systemd-oomd's cgroups at the previous read: its pressure rule ranks by growth.
  let pgscan: { values: ReadonlyMap<string, number>; timeMs: number } | null = null;
  return {
    sampler,
    adjuster: readOnly ? null : new Adjuster(sampler.proc, audit, actor),
    audit,
    users,
    intervalMs,
    readOnly,
    ...(notice ? { notice, readOnlyWhy: 'the audit log cannot be used' } : {}),
    cpu: roots.procRoot === '/proc',
    // beside the audit log, not wherever the dashboard was started (shown before it writes)
    exportDir: join(stateDir, 'exports'),
    uid: actor.uid,
    domainView: (sample, path) => resolveDomain(roots, sample, path ?? undefined),
    listDomains: (sample) => domainChoices(roots, sample, users),
    timeline: () => {
      const h = loadHistory(roots, {}, new Date());
      return buildTimeline(h.events, h.kills);
    },
    // The race is global whatever domain is shown: the global ranking on screen when there is
    // one, else one made for it. The killers read the kernel's oom_score, which the model
    // predicts for rows off screen.
    killers: (sample, global, fall) => {
      const last = pgscan && { values: pgscan.values, seconds: (sample.timeMs - pgscan.timeMs) / 1000 };
      const snapshot = global ?? buildSnapshot(sample, { users }).snapshot;
      const { inputs, report } = killersOf(roots, sample, snapshot, { lastPgscan: last, fall });
      const values = pgscanNow(inputs);
      pgscan = values && { values, timeMs: sample.timeMs };
      return { report, protection: protectionReport(snapshot.processes, report, oomdScope(inputs)) };
    },
  };
}

export async function runDashboard(
  roots: Roots,
  o: DashboardOptions,
  stateDir: string,
  actor: { user: string; uid: number },
): Promise<number> {
  if (!process.stdout.isTTY)
    throw new UserError('the dashboard needs a terminal: run oomtop in one, or use oomtop snapshot for a pipe');
  const opts = dashboardOptions(roots, o, stateDir, actor);
  // The first sample's files are read on another thread while the screen's modules load
  // and it is set up (the first screen reads what the model needs, no oom_score: app.ts).
  const ahead = opts.sampler.readFirstAhead({ ...MODEL_NEEDS, oomScoreFor: new Set() });
  const { DashboardApp } = await import('../tui/app.js');
  const app = new DashboardApp(opts);
  const onSignal = () => app.quit(0);
  process.once('SIGTERM', onSignal);
  process.once('SIGHUP', onSignal);
  await ahead;
  app.start();
  // from the first screen on, the old generation is collected before it doubles (cli.ts)
  v8.setFlagsFromString('--optimize-for-size');
  return app.done;
}

/** The domain selector's entries: global first, then the memory cgroups with a limit. */
export function domainChoices(roots: Roots, sample: SystemSample, users: ReadonlyMap<number, string>): DomainChoice[] {
  const rows = listDomainRows(roots, sample, users);
  const choice = (r: (typeof rows)[number]): DomainChoice => ({
    path: r.path === 'global' ? null : r.path,
    label: r.path === 'global' ? r.label : r.path,
    headroomPages: r.headroomBytes === null ? null : Math.floor(r.headroomBytes / sample.pageSize),
    limitPages: r.limitBytes === null ? null : Math.floor(r.limitBytes / sample.pageSize),
    firstVictim: r.firstVictim ? `${r.firstVictim.comm} ${r.firstVictim.pid}` : null,
    oomKills: r.oomKills,
  });
  return [...rows.filter((r) => r.path === 'global'), ...rows.filter((r) => r.path !== 'global')].map(choice);
}
