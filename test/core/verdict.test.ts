import { describe, expect, it } from 'vitest';
import { parseOomEvents } from '../../src/core/parse/kernel-log.js';
import type { SnapshotProcess } from '../../src/core/snapshot.js';
import { check, type Baseline, type CriticalRule } from '../../src/core/verdict.js';

function proc(pid: number, comm: string, o: Partial<SnapshotProcess> = {}): SnapshotProcess {
  return {
    rank: 1,
    pid,
    ppid: 1,
    uid: 0,
    user: 'root',
    comm,
    cmdline: comm,
    state: 'S',
    killable: true,
    unkillableReason: null,
    unknownReason: null,
    badnessPages: 1,
    oomScore: 666,
    predictedOomScore: 666,
    oomScoreAdj: 0,
    rssPages: 1,
    swapPages: 0,
    pageTablePages: 0,
    cgroup: '/',
    unit: null,
    podUid: null,
    qosClass: null,
    containerId: null,
    startTime: pid * 10,
    startedAt: null,
    ...o,
  };
}

const rule = (r: Partial<CriticalRule>): CriticalRule => ({ seen: [], ...r });
const baseline = (critical: CriticalRule[]): Baseline => ({
  version: 1,
  savedAt: '2026-11-26T10:00:00.000Z',
  host: 'web01',
  bootId: 'boot-a',
  uptime: 100,
  critical,
});

const kill = (uptime: number, pid: number, comm: string) => [
  `[${uptime.toFixed(6)}] x invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0`,
  `[${uptime.toFixed(6)}] Out of memory: Killed process ${pid} (${comm}) total-vm:1000kB, anon-rss:900kB, file-rss:10kB, shmem-rss:0kB, UID:0 pgtables:4kB oom_score_adj:0`,
];

const sshd = rule({
  name: 'sshd',
  restartUnit: 'ssh.service',
  seen: [{ pid: 812, startTime: 8120, comm: 'sshd', ppid: 1, children: [{ pid: 900, comm: 'sshd' }] }],
});
const pg = rule({
  unit: 'postgresql.service',
  seen: [
    {
      pid: 300,
      startTime: 3000,
      comm: 'postgres',
      ppid: 1,
      children: [
        { pid: 301, comm: 'postgres' },
        { pid: 302, comm: 'postgres' },
      ],
    },
  ],
});
const app = rule({ cmdline: '^/srv/app', seen: [{ pid: 500, startTime: 5000, comm: 'app', ppid: 1, children: [] }] });
const now = [
  proc(812, 'sshd'),
  proc(900, 'sshd'),
  proc(300, 'postgres', { unit: 'postgresql.service' }),
  proc(301, 'postgres', { unit: 'postgresql.service' }),
  proc(302, 'postgres', { unit: 'postgresql.service' }),
  proc(500, 'app', { cmdline: '/srv/app --port 80' }),
];

describe('oomtop check verdicts', () => {
  it('ok (0) when every critical process runs and nothing was killed since the baseline', () => {
    const r = check(baseline([sshd, pg, app]), now, parseOomEvents(kill(50, 777, 'old')), 'boot-a');
    expect(r).toMatchObject({ verdict: 'ok', exitCode: 0, oomEventsSince: 0 });
    expect(r.critical.map((c) => c.state)).toEqual(['running', 'running', 'running']);
  });

  it('warning (1) when only other processes were killed', () => {
    const r = check(baseline([sshd]), now, parseOomEvents(kill(150, 4242, 'chrome')), 'boot-a');
    expect(r).toMatchObject({ verdict: 'warning', exitCode: 1 });
    expect(r.reasons).toContain('1 OOM kill(s) since the baseline, none of a critical process');
  });

  it('restart (2) with the exact units when a critical process was OOM-killed and a unit can restart it', () => {
    const live = now.filter((p) => p.comm !== 'postgres');
    const r = check(baseline([sshd, pg]), live, parseOomEvents(kill(200, 300, 'postgres')), 'boot-a');
    expect(r).toMatchObject({ verdict: 'restart', exitCode: 2, restart: { units: ['postgresql.service'] } });
    expect(r.critical[1]).toMatchObject({
      state: 'killed by the OOM killer',
      goneChildren: [
        { pid: 301, comm: 'postgres' },
        { pid: 302, comm: 'postgres' },
      ],
    });
    expect(r.reasons).toContain('children of a killed unit postgresql.service are gone: postgres 301, postgres 302');
  });

  it('reboot recommended (2) when a critical process is missing with no unit to restart it', () => {
    const r = check(
      baseline([sshd, app]),
      now.filter((p) => p.pid !== 500),
      parseOomEvents(kill(200, 500, 'app')),
      'boot-a',
    );
    expect(r).toMatchObject({ verdict: 'reboot recommended', exitCode: 2 });
    expect(r.reasons[0]).toBe(
      'cmdline /^/srv/app/ is killed by the OOM killer and no systemd unit is known to restart it',
    );
  });

  it('reboot recommended when init-critical processes were hit, a victim is unknown, or kills come in a row', () => {
    expect(check(baseline([sshd]), now, parseOomEvents(kill(200, 333, 'systemd-journal')), 'boot-a').verdict).toBe(
      'reboot recommended',
    );
    const cut = parseOomEvents([
      '[200.000000] x invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0',
    ]);
    expect(check(baseline([sshd]), now, cut, 'boot-a').reasons[0]).toMatch(
      /has no victim in the log \(incomplete\): what died is unknown/,
    );
    const storm = parseOomEvents(
      [...kill(200, 1, 'a'), ...kill(300, 2, 'b'), ...kill(400, 3, 'c')].map((l) =>
        l.replace('Killed process 1 ', 'Killed process 11 '),
      ),
    );
    expect(check(baseline([sshd]), now, storm, 'boot-a').reasons).toContain(
      '3 OOM kills, three of them within 10 minutes: memory keeps running out',
    );
  });

  it('sees a restarted critical process (new start time) as a warning', () => {
    const restarted = now.map((p) => (p.pid === 812 ? { ...p, pid: 1812, startTime: 99_999 } : p));
    const r = check(baseline([sshd]), restarted, [], 'boot-a');
    expect(r).toMatchObject({ verdict: 'warning', exitCode: 1 });
    expect(r.critical[0]).toMatchObject({ state: 'restarted', pids: [1812, 900] });
  });

  it('after a reboot every event of this boot counts, and seen pids mean nothing', () => {
    const r = check(
      baseline([sshd]),
      now.map((p) => ({ ...p, startTime: 1 })),
      parseOomEvents(kill(5, 4242, 'x')),
      'boot-b',
    );
    expect(r.oomEventsSince).toBe(1);
    expect(r.reasons).toContain('the machine rebooted since the baseline was saved');
  });
});
