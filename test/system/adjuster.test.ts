import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Adjuster } from '../../src/system/adjuster.js';
import { AuditLog } from '../../src/system/audit-log.js';
import { ProcFs } from '../../src/system/read/procfs.js';
import { statLine } from '../helpers/proc-tree.js';
import { writableBasic } from '../helpers/io.js';

let dirs: string[] = [];
afterEach(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs = [];
});

function setup() {
  const { dir, roots } = writableBasic();
  dirs.push(dir);
  const log = new AuditLog(join(dir, 'state'));
  const adj = new Adjuster(
    new ProcFs(roots.procRoot),
    log,
    { user: 'tester', uid: 0 },
    () => new Date(Date.UTC(2026, 0, 1)),
  );
  const read = (pid: number) => readFileSync(join(roots.procRoot, String(pid), 'oom_score_adj'), 'utf8');
  return { dir, roots, log, adj, read };
}

describe('Adjuster on a writable fixture tree', () => {
  it('writes negative and positive values through the open file and audits each attempt', () => {
    const { adj, read, log } = setup();
    const r1 = adj.write({ pid: 301, startTime: 700, comm: 'java' }, -1000, 'set');
    expect(r1).toMatchObject({ result: 'ok', old: 0, new: -1000, message: 'java (pid 301): oom_score_adj 0 → -1000' });
    expect(read(301)).toBe('-1000\n');
    const r2 = adj.write({ pid: 301, startTime: 700, comm: 'java' }, 5, 'set');
    expect(r2).toMatchObject({ result: 'ok', old: -1000 });
    expect(read(301)).toBe('5\n');
    expect(log.read().map((r) => [r.pid, r.old, r.new, r.result, r.source, r.user])).toEqual([
      [301, 0, -1000, 'ok', 'set', 'tester'],
      [301, -1000, 5, 'ok', 'set', 'tester'],
    ]);
  });

  it('never writes to a reused pid (start time differs)', () => {
    const { adj, read, roots, log } = setup();
    // pid 300 exited and a new process took the pid: its start time is different.
    writeFileSync(
      join(roots.procRoot, '300/stat'),
      statLine({ pid: 300, comm: 'imposter', startTime: 99_999, rssPages: 1 }),
    );
    const r = adj.write({ pid: 300, startTime: 500, comm: 'postgres' }, 900, 'set');
    expect(r.result).toBe('reused');
    expect(r.message).toBe(
      'pid 300 is no longer postgres (it exited and the pid was reused by imposter): nothing written',
    );
    expect(read(300)).toBe('0\n');
    expect(log.read()[0]).toMatchObject({ result: 'reused', pid: 300 });
  });

  it('reports a process that is gone', () => {
    const { adj, roots } = setup();
    rmSync(join(roots.procRoot, '304'), { recursive: true });
    expect(adj.write({ pid: 304, startTime: 960, comm: 'tmux' }, 1, 'set')).toMatchObject({
      result: 'gone',
      message: 'tmux (pid 304) is gone: nothing written',
    });
    rmSync(join(roots.procRoot, '307/stat'));
    expect(adj.write({ pid: 307, startTime: 6000, comm: 'worker' }, 1, 'set').result).toBe('gone');
  });

  it('reads CAP_SYS_RESOURCE of itself', () => {
    const { adj } = setup();
    // The fixture has no "self": it falls back to this pid, absent from the fixture.
    expect(adj.canLowerBelowFloor()).toBeNull();
    const real = new Adjuster(new ProcFs('/proc'), null, { user: 'x', uid: 0 });
    expect(typeof real.canLowerBelowFloor()).toBe('boolean');
  });
});
