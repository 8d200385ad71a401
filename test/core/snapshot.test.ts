import { describe, expect, it } from 'vitest';
import { buildSnapshot } from '../../src/core/snapshot.js';
import type { ProcSample, SystemSample } from '../../src/core/types.js';
import { proc } from '../helpers/sample.js';
import { sameHiddenClass } from '../helpers/v8.js';

function system(processes: ProcSample[]): SystemSample {
  return {
    timeMs: 0,
    kernelRelease: '6.18.0',
    hostname: 'h',
    pageSize: 4096,
    meminfo: { memTotalKb: 4_000_000, memAvailableKb: 2_000_000, memFreeKb: 1_000_000, swapTotalKb: 0, swapFreeKb: 0 },
    sysctls: { panicOnOom: 0, oomKillAllocatingTask: 0 },
    oomKillCount: 0,
    pressure: null,
    initIsGlobal: true,
    bootTime: 1_780_000_000,
    clockTicks: 100,
    processes,
  };
}

describe('snapshot records of a live view', () => {
  it('reuses a process record while its sample object and rank stand, and remakes it alike when its rank moves', () => {
    const users = new Map([[0, 'root']]);
    const a = proc({
      pid: 10,
      rssPages: 500,
      cgroup: '/system.slice/db.service',
      cgroupV2: '/system.slice/db.service',
    });
    const b = proc({ pid: 11, rssPages: 300 });
    const first = buildSnapshot(system([a, b]), { users }).snapshot.processes;
    const again = buildSnapshot(system([a, b]), { users }).snapshot.processes;
    expect(again[0]).toBe(first[0]);
    expect(again[1]).toBe(first[1]);
    // A new, larger process pushes a and b down a rank: their records are made anew...
    const moved = buildSnapshot(system([a, b, proc({ pid: 12, rssPages: 900 })]), { users }).snapshot.processes;
    const ra = moved.find((r) => r.pid === 10)!;
    expect(ra).not.toBe(first[0]);
    expect(ra.rank).toBe(2);
    // ...equal to a record made from scratch, field for field, and of the same hidden class
    // (one for every record: the code reading 5,000 of them a tick stays optimised).
    const fresh = buildSnapshot(system([{ ...a }, b, proc({ pid: 12, rssPages: 900 })]), {
      users,
    }).snapshot.processes.find((r) => r.pid === 10)!;
    expect(ra).toEqual(fresh);
    expect(sameHiddenClass(ra, fresh)).toBe(true);
    expect(ra).toMatchObject({ unit: 'db.service', user: 'root', startedAt: '2026-05-28T20:26:40.100Z' });
  });
});
