import { describe, expect, it } from 'vitest';
import { hasCapSysResource, parseCapEff, parseStatus } from '../../../src/core/parse/status.js';
import { parseProcCgroup, systemdUnit } from '../../../src/core/parse/proc-cgroup.js';
import { parseMeminfo, parsePressure, parseVmstatCounter } from '../../../src/core/parse/meminfo.js';
import { statusText } from '../../helpers/proc-tree.js';

describe('parseStatus', () => {
  it('reads uid, swap, page tables and the rss split', () => {
    const s = parseStatus(statusText({ pid: 5, comm: 'x', uid: 33, rssPages: 100, swapKb: 64, pteKb: 12, threads: 4 }));
    expect(s).toMatchObject({
      name: 'x',
      uid: 33,
      swapKb: 64,
      pteKb: 12,
      rssAnonKb: 300,
      rssFileKb: 100,
      rssShmemKb: 0,
      threads: 4,
      hasMm: true,
    });
  });

  it('says "no mm" when the Vm lines are absent (kernel thread, zombie)', () => {
    expect(parseStatus(statusText({ pid: 2, comm: 'kthreadd', kthread: true })).hasMm).toBe(false);
    expect(parseStatus(statusText({ pid: 9, comm: 'z', noMm: true, state: 'Z' })).hasMm).toBe(false);
  });

  it('finds the keys in any order (the kernel order is only the fast path)', () => {
    const lines = statusText({ pid: 5, comm: 'x', uid: 33, rssPages: 100, swapKb: 64, pteKb: 12, threads: 4 })
      .trimEnd()
      .split('\n')
      .reverse();
    expect(parseStatus(`${lines.join('\n')}\n`)).toMatchObject({
      name: 'x',
      uid: 33,
      swapKb: 64,
      pteKb: 12,
      rssAnonKb: 300,
      threads: 4,
      hasMm: true,
    });
  });

  it('reads a real 6.18 status', () => {
    const real =
      'Name:\tbash\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t1080\nUid:\t0\t0\t0\t0\nVmPeak:\t    5268 kB\nVmSize:\t    5240 kB\n' +
      'VmRSS:\t    4108 kB\nRssAnon:\t    1164 kB\nRssFile:\t    2944 kB\nRssShmem:\t       0 kB\nVmPTE:\t      56 kB\nVmSwap:\t       0 kB\nThreads:\t1\n';
    expect(parseStatus(real)).toEqual({
      name: 'bash',
      uid: 0,
      swapKb: 0,
      pteKb: 56,
      pmdKb: null,
      rssAnonKb: 1164,
      rssFileKb: 2944,
      rssShmemKb: 0,
      threads: 1,
      hasMm: true,
      capSysAdmin: null,
    });
  });

  it('reads VmPMD (4.0–4.14) and the CAP_SYS_ADMIN bit of CapEff', () => {
    const v414 =
      'Name:\tsshd\nUid:\t0\t0\t0\t0\nVmSize:\t  100 kB\nVmPTE:\t      52 kB\nVmPMD:\t      12 kB\nVmSwap:\t       0 kB\n' +
      'Threads:\t1\nCapInh:\t0000000000000000\nCapPrm:\t0000003fffffffff\nCapEff:\t0000003fffffffff\n';
    expect(parseStatus(v414)).toMatchObject({ pteKb: 52, pmdKb: 12, capSysAdmin: true });
    // Bit 21 is bit 1 of the sixth hex digit from the right: 0x200000.
    expect(parseStatus('Name:\tx\nCapEff:\t0000000000200000\n').capSysAdmin).toBe(true);
    expect(parseStatus('Name:\tx\nCapEff:\t00000000001fffff\n').capSysAdmin).toBe(false);
    expect(parseStatus('Name:\tx\nCapEff:\t0000000000000000\n').capSysAdmin).toBe(false);
    expect(parseStatus('Name:\tx\nCapEff:\tzz\n').capSysAdmin).toBe(null);
  });

  it('leaves malformed values unknown rather than 0', () => {
    const s = parseStatus('Name:\tb\nVmSize:\t 1 kB\nVmPTE:\tnope kB\nVmSwap:\n');
    expect(s.hasMm).toBe(true);
    expect(s.pteKb).toBeNull();
    expect(s.swapKb).toBeNull();
    expect(s.uid).toBeNull();
  });

  it('reads CAP_SYS_RESOURCE (bit 24) from CapEff', () => {
    expect(hasCapSysResource(parseCapEff('CapEff:\t000001fffeffffff\n'))).toBe(false);
    expect(hasCapSysResource(parseCapEff('CapEff:\t000001ffffffffff\n'))).toBe(true);
    expect(hasCapSysResource(parseCapEff('Name:\tx\n'))).toBeNull();
  });
});

describe('other /proc parsers', () => {
  it('parses /proc/PID/cgroup on v1 and v2 hosts', () => {
    const v1 = parseProcCgroup(
      '9:name=systemd:/system.slice/nginx.service\n4:memory:/system.slice/nginx.service\n0::/\n',
    );
    expect(v1).toEqual({ v2: '/', v1Memory: '/system.slice/nginx.service', systemd: '/system.slice/nginx.service' });
    expect(parseProcCgroup('0::/kubepods.slice/kubepods-burstable.slice/x.scope\n').v2).toBe(
      '/kubepods.slice/kubepods-burstable.slice/x.scope',
    );
    expect(systemdUnit('/system.slice/nginx.service')).toBe('nginx.service');
    expect(systemdUnit('/user.slice/user-1000.slice/session-3.scope')).toBe('session-3.scope');
    expect(systemdUnit('/user.slice')).toBe('user.slice');
    expect(systemdUnit('/mytest')).toBeNull();
  });

  it('parses meminfo and requires MemTotal', () => {
    expect(parseMeminfo('MemTotal: 100 kB\nSwapTotal: 8 kB\nMemAvailable: 50 kB\n')).toEqual({
      ok: true,
      value: { memTotalKb: 100, swapTotalKb: 8, memAvailableKb: 50, memFreeKb: null, swapFreeKb: null },
    });
    expect(parseMeminfo('hello')).toMatchObject({ ok: false });
  });

  it('parses PSI with and without a full line, and vmstat counters', () => {
    expect(parsePressure('some avg10=1.50 avg60=0.80 avg300=0.20 total=123\n')).toEqual({
      some: { avg10: 1.5, avg60: 0.8, avg300: 0.2, total: 123 },
      full: null,
    });
    expect(parsePressure('garbage')).toBeNull();
    expect(parseVmstatCounter('a 1\noom_kill 7\n', 'oom_kill')).toBe(7);
    expect(parseVmstatCounter('a 1\n', 'oom_kill')).toBeNull();
  });
});
