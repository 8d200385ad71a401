// `oomtop` with no command: the live dashboard.
import { UserError } from '../core/errors.js';
import { globalTotalPages } from '../core/badness.js';
import type { SystemSample } from '../core/types.js';
import { Adjuster } from '../system/adjuster.js';
import { AuditLog } from '../system/audit-log.js';
import { loadUsers, type Roots } from '../system/env.js';
import { Sampler } from '../system/sampler.js';
import { DashboardApp, type AppOptions } from '../tui/app.js';
import type { DomainView } from '../tui/state.js';

export interface DashboardOptions {
  interval?: string;
  readOnly?: boolean;
}

export function globalView(sample: SystemSample): DomainView {
  const total = globalTotalPages(sample.meminfo.memTotalKb, sample.meminfo.swapTotalKb, sample.pageSize);
  const availKb = (sample.meminfo.memAvailableKb ?? 0) + (sample.meminfo.swapFreeKb ?? 0);
  return {
    domain: { kind: 'global', path: null, cgroupVersion: null, totalPages: total },
    sample,
    headroomPages: Math.floor(availKb / (sample.pageSize / 1024)),
    label: 'global (RAM+swap)',
  };
}

export function parseInterval(text: string | undefined): number {
  const v = text === undefined ? 2 : Number(text);
  if (text !== undefined && !/^\d+(\.\d+)?$/.test(text)) throw new UserError(`--interval must be seconds (for example 2 or 0.5), got '${text}'`);
  if (!(v >= 0.2 && v <= 3600)) throw new UserError(`--interval must be from 0.2 to 3600 seconds, got ${text}`);
  return v * 1000;
}

export function dashboardOptions(roots: Roots, o: DashboardOptions, stateDir: string, actor: { user: string; uid: number }): AppOptions {
  const intervalMs = parseInterval(o.interval);
  const sampler = new Sampler(roots.procRoot, { incremental: true });
  sampler.readMeminfo(); // fails early, with the one-line error, on a wrong --proc-root
  const audit = new AuditLog(stateDir);
  return {
    sampler,
    adjuster: o.readOnly ? null : new Adjuster(sampler.proc, audit, actor),
    audit,
    users: loadUsers(roots.passwdFile),
    intervalMs,
    readOnly: Boolean(o.readOnly),
    cpu: roots.procRoot === '/proc',
    exportDir: process.cwd(),
    uid: actor.uid,
    domainView: (sample, path) => {
      if (path !== null) throw new UserError(`domain ${path} is not available`);
      return globalView(sample);
    },
  };
}

export async function runDashboard(roots: Roots, o: DashboardOptions, stateDir: string, actor: { user: string; uid: number }): Promise<number> {
  if (!process.stdout.isTTY) throw new UserError('the dashboard needs a terminal: run oomtop in one, or use oomtop snapshot for a pipe');
  const app = new DashboardApp(dashboardOptions(roots, o, stateDir, actor)).start();
  const onSignal = () => app.quit(0);
  process.once('SIGTERM', onSignal);
  process.once('SIGHUP', onSignal);
  return app.done;
}
