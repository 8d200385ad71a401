import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseLog } from '../../../src/core/parse/log.js';
import { parseLogLine } from '../../../src/core/parse/log-line.js';
import { buildTimeline } from '../../../src/core/timeline.js';

const DIR = join(import.meta.dirname, '../../fixtures/logs/killers');
const lines = (f: string) => readFileSync(join(DIR, f), 'utf8').split('\n');

describe("the user-space killers' kills from a saved journal (journalctl -o json)", () => {
  const log = parseLog(lines('journal.json'), { year: 2026 });
  const by = (k: string) => log.kills.filter((x) => x.killer === k);

  it("systemd-oomd: the cgroup marked for killing, why, and PID 1's count of what died with it", () => {
    expect(by('systemd-oomd')).toEqual([
      expect.objectContaining({
        target: expect.objectContaining({
          cgroup: '/user.slice/user-1000.slice/user@1000.service/app.slice/run-p1.service',
          unit: 'run-p1.service',
        }),
        signal: 'SIGKILL',
        processes: 12,
        reason:
          'memory pressure for /user.slice/user-1000.slice/user@1000.service being 36.66% > 20.00% for > 5s with reclaim activity',
        wall: new Date((1795856000 + 10.01) * 1000).toISOString(),
      }),
    ]);
  });

  it('earlyoom: the process, its uid and VmRSS, escalated to SIGKILL, and that it exited (one kill)', () => {
    expect(by('earlyoom')).toEqual([
      expect.objectContaining({
        target: expect.objectContaining({ pid: 4242, uid: 1000, comm: 'firefox', rssKb: 3021 * 1024 }),
        signal: 'SIGKILL',
        reason: 'badness 870',
        outcome: 'exited',
      }),
    ]);
  });

  it("nohang: the chosen process from its multi-line report, the victim's EUID, and that it died", () => {
    expect(by('nohang')).toEqual([
      expect.objectContaining({
        target: expect.objectContaining({ pid: 5151, comm: 'stress', uid: 1000 }),
        signal: 'SIGTERM',
        reason: 'badness 912',
        outcome: 'exited',
      }),
    ]);
  });

  it('kubelet: the pod evicted for memory; an eviction to reclaim disk is not a memory kill', () => {
    expect(by('kubelet').map((k) => [k.target.pod, k.reason])).toEqual([
      ['default/web-7d9f', 'node memory pressure (memory.available)'],
    ]);
  });

  it('a line a user wrote under a killer\'s name, or as "kernel" (logger -t), is no kill: counted as forged', () => {
    expect(log.kills.some((k) => k.target.pid === 1)).toBe(false);
    expect(log.events).toEqual([]);
    expect(log.forged).toBe(1);
  });

  it('one timeline, oldest first, each entry with its killer', () => {
    const t = buildTimeline(log.events, log.kills);
    expect(t.map((e) => e.killer)).toEqual(['systemd-oomd', 'earlyoom', 'nohang', 'kubelet']);
    expect(t[0]).toMatchObject({ domain: null, incomplete: false });
    expect(t[1]).toMatchObject({ domain: 'global', victims: [{ pid: 4242, comm: 'firefox' }] });
  });
});

describe('journalctl -o export: records assembled, trusted fields after MESSAGE', () => {
  const rec = (msg: string, unit: string, uid: string) => [
    '__REALTIME_TIMESTAMP=1795856020010000',
    '_TRANSPORT=stdout',
    'SYSLOG_IDENTIFIER=earlyoom',
    `MESSAGE=${msg}`,
    '_PID=812',
    `_UID=${uid}`,
    `_SYSTEMD_UNIT=${unit}`,
    '',
  ];
  it("the killer's record is a kill; the same words from a user's session are forged", () => {
    const msg = 'sending SIGTERM to process 4242 uid 1000 "firefox": badness 870, VmRSS 3021 MiB';
    const log = parseLog([
      ...rec(msg, 'earlyoom.service', '61234'),
      ...rec(msg.replace('4242', '1'), 'session-3.scope', '1000'),
    ]);
    expect(log.kills.map((k) => [k.target.pid, k.wall])).toEqual([[4242, new Date(1795856020010).toISOString()]]);
    expect(log.forged).toBe(1);
  });
});

describe('killers in a syslog file, beside the kernel', () => {
  const log = parseLog(lines('syslog.log'), { year: 2026 });

  it('reads every killer and the kernel, and nothing that only looks like a kill', () => {
    const t = buildTimeline(log.events, log.kills);
    expect(t.map((e) => [e.killer, e.victims[0]?.pid ?? e.victims[0]?.unit ?? e.victims[0]?.pod])).toEqual([
      ['systemd-oomd', 'build.service'],
      ['systemd-oomd', 'cron.service'],
      ['earlyoom', 4242],
      ['earlyoom', 4300],
      ['kubelet', 'default/web-7d9f'],
      ['kernel', 3120],
    ]);
    expect(t.every((e) => e.wall?.startsWith('2026-11-28T05:3'))).toBe(true);
  });

  it("systemd-oomd's swap kill (v247-v252 wording) with PID 1's count; PID 1 alone is a kill whose oomd line was lost", () => {
    const [build, cron] = log.kills.filter((k) => k.killer === 'systemd-oomd');
    expect(build).toMatchObject({ target: { cgroup: '/system.slice/build.service' }, processes: 3 });
    expect(build?.reason).toMatch(/^memory used \(8012345344\) \/ total/);
    expect(cron).toMatchObject({ target: { cgroup: null, unit: 'cron.service' }, processes: 1 });
    const entry = buildTimeline([], [cron!])[0];
    expect(entry).toMatchObject({ incomplete: true, missing: ["systemd-oomd's own line (the cgroup killed)"] });
  });

  it('earlyoom 1.8: a name holding \'": \' and a cmdline holding "VmRSS" do not shift the fields', () => {
    const k = log.kills.find((x) => x.target.pid === 4242);
    expect(k).toMatchObject({ target: { comm: 'fire": fox', uid: 1000, rssKb: 3021 * 1024 }, reason: 'oom_score 870' });
  });

  it("the kernel's kill carries the victim's own cgroup (task_memcg) and its unit", () => {
    const t = buildTimeline(log.events, []);
    expect(t[0]?.victims[0]).toMatchObject({
      pid: 3120,
      cgroup: '/system.slice/apache2.service',
      unit: 'apache2.service',
    });
  });
});

describe("nohang's own log file (separate_log)", () => {
  it('the kill, with the time of its report; a command run instead of a signal is no kill', () => {
    const { kills } = parseLog(lines('nohang.log'));
    expect(kills).toEqual([
      expect.objectContaining({
        killer: 'nohang',
        wall: '2026-11-28T05:35:00.124Z',
        target: expect.objectContaining({ pid: 5151, uid: 1000 }),
        outcome: 'exited',
      }),
    ]);
  });
});

describe('log line senders', () => {
  it.each([
    ['Nov 28 05:34:00 web01 earlyoom[812]: hello', { ident: 'earlyoom', pid: 812, text: 'hello' }],
    ['2026-11-28T05:34:00+0000 web01 systemd-oomd[611]: hello', { ident: 'systemd-oomd', pid: 611 }],
    ['<30>1 2026-11-28T05:34:00Z web01 kubelet 1234 - - hello', { ident: 'kubelet', pid: 1234, text: 'hello' }],
    ['[ 5003.000000] web01 nohang[905]: hello', { ident: 'nohang', pid: 905, uptime: 5003 }],
    ['[ 5003.000000] Hardware name: QEMU', { ident: null, text: 'Hardware name: QEMU' }],
    ['2026-11-28 05:35:00,124: hello', { ident: null, wall: '2026-11-28T05:35:00.124Z', text: 'hello' }],
  ])('%s', (raw, want) => {
    expect(parseLogLine(raw, 2026)).toMatchObject(want);
  });
});

describe('robustness', () => {
  const all = [...lines('journal.json'), ...lines('syslog.log'), ...lines('nohang.log')];
  const KNOWN = new Set([4242, 4300, 5151, 3120, null]);
  it('random noise and random cuts never crash the parser and never invent a victim', () => {
    fc.assert(
      fc.property(
        fc.array(fc.nat({ max: 300 }), { minLength: all.length, maxLength: all.length }),
        fc.array(fc.string({ maxLength: 80 }), { maxLength: 30 }),
        (cuts, noise) => {
          const cut = all.map((l, i) => l.slice(0, Math.max(0, l.length - (cuts[i] ?? 0))));
          const mixed = [...cut];
          for (const [i, n] of noise.entries()) mixed.splice((i * 7) % (mixed.length + 1), 0, n);
          const log = parseLog(mixed, { year: 2026 });
          for (const k of log.kills) expect(KNOWN.has(k.target.pid)).toBe(true);
          for (const e of log.events) for (const v of e.victims) expect(KNOWN.has(v.pid)).toBe(true);
        },
      ),
      { numRuns: 200 },
    );
  });
});
