import { describe, expect, it } from 'vitest';
import { parseLog } from '../../src/core/parse/log.js';
import type { SnapshotProcess } from '../../src/core/snapshot.js';
import { buildTimeline } from '../../src/core/timeline.js';
import {
  check as checkWith,
  checkWithoutBaseline,
  type Baseline,
  type CheckInput,
  type CriticalRule,
  restartCommand,
} from '../../src/core/verdict.js';

const NOW_MS = Date.parse('2026-11-26T12:00:00Z');
/** The verdict's inputs from log lines: every kill they hold, the counters agreeing unless given. */
function input(
  lines: string[],
  now: SnapshotProcess[],
  bootId: string | null,
  o: Partial<CheckInput> = {},
): CheckInput {
  const log = parseLog(lines, { year: 2026 });
  const timeline = buildTimeline(log.events, log.kills);
  const logged = log.events.reduce((n, e) => n + e.victims.length, 0);
  return {
    now,
    timeline,
    bootId,
    killsCounted: logged,
    killsLogged: logged,
    memcgMissing: [],
    nowMs: NOW_MS,
    memAvailable: 0.5,
    ...o,
  };
}
const check = (
  b: Baseline,
  now: SnapshotProcess[],
  lines: string[],
  bootId: string | null,
  o: Partial<CheckInput> = {},
) => checkWith(b, input(lines, now, bootId, o));

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
    const r = check(baseline([sshd, pg, app]), now, kill(50, 777, 'old'), 'boot-a');
    expect(r).toMatchObject({ verdict: 'ok', exitCode: 0, oomEventsSince: 0 });
    expect(r.critical.map((c) => c.state)).toEqual(['running', 'running', 'running']);
  });

  it('warning (1) when only other processes were killed', () => {
    const r = check(baseline([sshd]), now, kill(150, 4242, 'chrome'), 'boot-a');
    expect(r).toMatchObject({ verdict: 'warning', exitCode: 1 });
    expect(r.reasons).toContain('1 OOM kill(s) since the baseline, none of a critical process');
  });

  it('restart (2) with the exact units when a critical process was OOM-killed and a unit can restart it', () => {
    const live = now.filter((p) => p.comm !== 'postgres');
    const r = check(baseline([sshd, pg]), live, kill(200, 300, 'postgres'), 'boot-a');
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
      kill(200, 500, 'app'),
      'boot-a',
    );
    expect(r).toMatchObject({ verdict: 'reboot recommended', exitCode: 2 });
    expect(r.reasons[0]).toBe(
      'cmdline /^/srv/app/ is killed by the OOM killer (kernel, 200 s after boot, global) and nothing is known to restart it (no systemd unit, no recorded command line)',
    );
  });

  it('reboot recommended when init-critical processes were hit, a victim is unknown, or kills come in a row', () => {
    expect(check(baseline([sshd]), now, kill(200, 333, 'systemd-journal'), 'boot-a').verdict).toBe(
      'reboot recommended',
    );
    const cut = ['[200.000000] x invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0'];
    expect(check(baseline([sshd]), now, cut, 'boot-a').reasons[0]).toMatch(
      /^an OOM kill \(kernel, 200 s after boot, .*\) has no victim in the log: what died is unknown$/,
    );
    const storm = [...kill(200, 1, 'a'), ...kill(300, 2, 'b'), ...kill(400, 3, 'c')].map((l) =>
      l.replace('Killed process 1 ', 'Killed process 11 '),
    );
    expect(check(baseline([sshd]), now, storm, 'boot-a').reasons).toContain(
      '3 kills, three of them within 10 minutes, the last under 10 minutes ago: the machine keeps running out of memory',
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
      kill(5, 4242, 'x'),
      'boot-b',
    );
    expect(r.oomEventsSince).toBe(1);
    expect(r.reasons).toContain('the machine rebooted since the baseline was saved');
  });

  it('restart (2) with the recorded command, user and directory when no unit runs the killed process', () => {
    const rec = rule({
      cmdline: '^/srv/app',
      seen: [
        {
          pid: 500,
          startTime: 5000,
          comm: 'app',
          ppid: 1,
          children: [],
          argv: ['/srv/app', '--port', '80', "it's"],
          user: 'app',
          cwd: '/srv/app dir',
        },
      ],
    });
    const r = check(
      baseline([sshd, rec]),
      now.filter((p) => p.pid !== 500),
      kill(200, 500, 'app'),
      'boot-a',
    );
    expect(r).toMatchObject({ verdict: 'restart', exitCode: 2 });
    expect(r.restart.commands).toEqual([`cd '/srv/app dir' && runuser -u app -- /srv/app --port 80 'it'\\''s'`]);
    expect(r.reasons[0]).toMatch(
      /^cmdline \/\^\/srv\/app\/ is killed by the OOM killer \(kernel, 200 s after boot, global\); no unit runs it/,
    );
  });

  it('never offers a command whose arguments hold control characters', () => {
    expect(
      restartCommand({ pid: 1, startTime: 1, comm: 'x', ppid: 1, children: [], argv: ['x', 'a\u001b[2J'] }),
    ).toBeNull();
    expect(
      restartCommand({
        pid: 1,
        startTime: 1,
        comm: 'x',
        ppid: 1,
        children: [],
        argv: ['/bin/x'],
        user: 'root',
        cwd: '/',
      }),
    ).toBe('cd / && /bin/x');
  });

  it("another process's kill is a warning that names its unit's restart when nothing of the unit runs", () => {
    const lines = [
      '[150.000000] apache2 invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0',
      '[150.000100] oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,oom_memcg=/system.slice/apache2.service,task_memcg=/system.slice/apache2.service,task=apache2,pid=3120,uid=33',
      '[150.000200] Memory cgroup out of memory: Killed process 3120 (apache2) total-vm:1000kB, anon-rss:900kB, file-rss:10kB, shmem-rss:0kB, UID:33 pgtables:4kB oom_score_adj:0',
    ];
    const r = check(baseline([sshd]), now, lines, 'boot-a');
    expect(r.verdict).toBe('warning');
    expect(r.reasons[0]).toBe(
      'apache2 3120 (apache2.service) was killed (kernel, 150 s after boot, memcg /system.slice/apache2.service); nothing of apache2.service runs now: systemctl restart apache2.service',
    );
  });

  it('kills the kernel counted but the log lost: a warning when every critical process is the same, else a reboot', () => {
    const lost = { killsCounted: 7 };
    const intact = check({ ...baseline([sshd]), oomKillCount: 5 }, now, [], 'boot-a', lost);
    expect(intact).toMatchObject({ verdict: 'warning' });
    expect(intact.reasons[0]).toBe(
      '2 OOM kill(s) the kernel counted since the baseline are not in the log; every critical process is still the one the baseline saw, so none of them died',
    );
    const restarted = now.map((p) => (p.pid === 812 ? { ...p, pid: 1812, startTime: 99_999 } : p));
    const r = check({ ...baseline([sshd]), oomKillCount: 5 }, restarted, [], 'boot-a', lost);
    expect(r.verdict).toBe('reboot recommended');
    expect(r.reasons[0]).toMatch(/not in the log: what died besides the critical processes is unknown$/);
    const memcg = check(baseline([sshd]), restarted, [], 'boot-a', {
      memcgMissing: [{ path: '/system.slice/x.service', counted: 2, logged: 1 }],
    });
    expect(memcg.reasons[0]).toBe(
      'memory cgroup /system.slice/x.service counted 2, the log shows 1: what died besides the critical processes is unknown',
    );
  });

  it('kills in a row: a reboot while memory is still short, a warning once it has been fine for 10 minutes', () => {
    const at = (min: number) => new Date(NOW_MS - min * 60_000).toISOString().replace(/\.\d+Z$/, '+00:00');
    const burst = [30, 28, 26].flatMap((m, i) => [
      `${at(m)} web01 kernel: x invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0`,
      `${at(m)} web01 kernel: Out of memory: Killed process ${4000 + i} (w${i}) total-vm:1000kB, anon-rss:900kB, file-rss:10kB, shmem-rss:0kB, UID:0 pgtables:4kB oom_score_adj:0`,
    ]);
    const b = { ...baseline([sshd]), uptime: null, savedAt: '2026-11-26T10:00:00.000Z' };
    const calm = check(b, now, burst, 'boot-a', { memAvailable: 0.6 });
    expect(calm.verdict).toBe('warning');
    expect(calm.reasons).toContain(
      '3 kills, three of them within 10 minutes; none in the last 10 minutes and 60% of memory is available now',
    );
    const short = check(b, now, burst, 'boot-a', { memAvailable: 0.04 });
    expect(short.verdict).toBe('reboot recommended');
    expect(short.reasons[0]).toBe(
      '3 kills, three of them within 10 minutes, and only 4.0% of memory is available now: the machine keeps running out of memory',
    );
  });

  it('kills in a row inside one memory cgroup: a warning about that cgroup, not a reboot of the box', () => {
    const inMemcg = (t: number, pid: number) => [
      `[${t}.000000] app invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0`,
      `[${t}.000100] oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,oom_memcg=/batch,task_memcg=/batch,task=app,pid=${pid},uid=0`,
      `[${t}.000200] Memory cgroup out of memory: Killed process ${pid} (app) total-vm:1000kB, anon-rss:900kB, file-rss:10kB, shmem-rss:0kB, UID:0 pgtables:4kB oom_score_adj:0`,
    ];
    const r = check(baseline([sshd]), now, [...inMemcg(200, 41), ...inMemcg(260, 42), ...inMemcg(320, 43)], 'boot-a');
    expect(r.verdict).toBe('warning');
    expect(r.reasons).toContain(
      'memcg /batch: 3 kills, three of them within 10 minutes: it keeps running out of its limit (raise it, or find what grows)',
    );
  });

  it("a kernel thread that had to invoke the OOM killer: a reboot (the kernel's own work may have failed)", () => {
    const lines = kill(200, 4242, 'chrome').map((l) => l.replace('] x invoked', '] kswapd0 invoked'));
    const r = check(baseline([sshd]), now, lines, 'boot-a');
    expect(r.verdict).toBe('reboot recommended');
    expect(r.reasons[0]).toMatch(/^the kernel's own thread kswapd0 ran out of memory \(kernel, /);
  });

  it("a user-space killer's kill of a critical process is seen like the kernel's", () => {
    const live = now.filter((p) => p.comm !== 'sshd');
    const r = check(
      baseline([sshd]),
      live,
      ['Nov 26 10:30:00 web01 earlyoom[9]: sending SIGTERM to process 812 uid 0 "sshd": badness 900, VmRSS 10 MiB'],
      'boot-a',
    );
    expect(r).toMatchObject({ verdict: 'restart', restart: { units: ['ssh.service'] } });
    expect(r.reasons[0]).toBe(
      'name sshd is killed by the OOM killer (earlyoom, 2026-11-26T10:30:00.000Z, global): restart ssh.service',
    );
    expect(r.kills[0]?.spare?.change).toMatch(
      /^oom_score_adj -1000 \(earlyoom never kills it\), or --avoid '\^\(sshd\)\$'/,
    );
  });

  it('without a baseline: the kills since boot (WARNING), the evidence, and how to save one', () => {
    const r = checkWithoutBaseline(input(kill(200, 4242, 'chrome'), now, 'boot-a', { killsCounted: 3 }));
    expect(r).toMatchObject({ verdict: 'warning', exitCode: 1 });
    expect(r.reasons).toEqual([
      '3 OOM kill(s) since boot',
      '2 kill(s) the kernel counted are not in the log: what died is unknown',
      "no baseline yet: 'oomtop baseline save' records what must be running, so that check can say what is missing",
    ]);
  });
});

describe('what would have spared each victim', () => {
  // A memcg of 100,000 pages (adj weighs 100 pages a point): the victim 20,000 pages at adj 0,
  // the next 15,000 pages at adj 0, listed after it. At adj -50 the two tie, and on 5.3+ the
  // later row wins a tie: -50 spares the victim, -49 does not.
  const table = (victimAdj: number) => [
    '[100.000000] app invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0',
    'memory: usage 400000kB, limit 400000kB, failcnt 9',
    '[  pid  ]   uid  tgid total_vm      rss pgtables_bytes swapents oom_score_adj name',
    `[    501]     0   501    30000    20000          0        0  ${victimAdj} app`,
    '[    502]     0   502    30000    15000          0        0             0 other',
    '[100.000100] oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,oom_memcg=/a,task_memcg=/a/app.service,task=app,pid=501,uid=0',
    '[100.000200] Memory cgroup out of memory: Killed process 501 (app) total-vm:120000kB, anon-rss:80000kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:0kB oom_score_adj:0',
  ];
  it('the kernel: the highest adj at which the rule picks another task, checked against the rule itself', () => {
    const r = checkWithoutBaseline(input(table(0), [], 'boot-a'));
    expect(parseLog(table(0)).events[0]).toMatchObject({ matchesRule: true });
    expect(r.kills[0]?.spare).toMatchObject({
      killer: 'kernel',
      change: 'oom_score_adj -50 or lower (it was 0); other 502 would have been chosen instead',
    });
    expect(r.kills[0]?.spare?.rule).toBe(
      "- unit: app.service\n  adj: -50\n  comment: spares it from the kernel's kill of 100 s after boot",
    );
    // the kernel's own rule on the same table: at -50 the other task is chosen, at -49 still the victim
    const pick = (adj: number) => parseLog(table(adj)).events[0]?.ruleVictim?.pid;
    expect(pick(-50)).toBe(502);
    expect(pick(-49)).toBe(501);
  });
});

describe('what would have spared each victim, on an old kernel and the real log', () => {
  it('before 5.3 the first row wins a tie: the victim listed first must go strictly below', () => {
    // nr_ptes dates the table before 4.15
    const lines = [
      '[100.000000] app invoked oom-killer: gfp_mask=0xd0, order=0, oom_score_adj=0',
      'memory: usage 400000kB, limit 400000kB, failcnt 9',
      '[ pid ]   uid  tgid total_vm      rss nr_ptes swapents oom_score_adj name',
      '[  501]  1000   501    30000    20000       0        0             0 app',
      '[  502]  1000   502    30000    15000       0        0             0 other',
      '[100.000200] Memory cgroup out of memory: Kill process 501 (app) score 200 or sacrifice child',
      '[100.000300] Killed process 501 (app) total-vm:120000kB, anon-rss:80000kB, file-rss:0kB',
    ];
    const e = parseLog(lines).events[0];
    expect(e?.spare).toMatchObject({ adj: -51, instead: { pid: 502 } });
    const pick = (adj: number) =>
      parseLog(lines.map((l) => l.replace(/(20000 +0 +0 +)0 app/, `$1${adj} app`))).events[0]?.ruleVictim?.pid;
    expect(pick(-51)).toBe(502);
    expect(pick(-50)).toBe(501);
  });
});
