import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseLogLine, parseOomEvents, type OomEvent } from '../../../src/core/parse/kernel-log.js';

const LOGS = join(import.meta.dirname, '../../fixtures/logs');
const events = (file: string): OomEvent[] =>
  parseOomEvents(readFileSync(join(LOGS, file), 'utf8').split('\n'), { year: 2026 });
// A copy of shared/data/dmesg-memcg-6.18.txt: a real memcg OOM log from this kind of machine.
const REAL = readFileSync(join(LOGS, 'real-6.18-memcg.log'), 'utf8').split('\n');
const summary = (e: OomEvent) => ({
  victims: e.victims.map((v) => v.pid),
  rule: e.ruleVictim?.pid ?? null,
  matches: e.matchesRule,
  incomplete: e.incomplete,
  domain: e.domain,
});

describe('kernel log: the real 6.18 memcg OOM log from shared/', () => {
  it('parses both events with invoker, memcg usage, tasks table and victim, and checks the kernel rule', () => {
    const ev = parseOomEvents(REAL);
    expect(ev).toHaveLength(2);
    expect(ev[0]).toMatchObject({
      uptime: 529.99226,
      constraint: 'CONSTRAINT_MEMCG',
      domain: '/oomr_helper',
      incomplete: false,
      invoker: { comm: 'python3', gfpMask: '0xcc0', gfpFlags: 'GFP_KERNEL', order: 0, adj: 0 },
      memcg: { usageKb: 204652, limitKb: 204800, failcnt: 42 },
      victims: [
        {
          pid: 15757,
          comm: 'python3',
          uid: 0,
          totalVmKb: 26824,
          anonRssKb: 17152,
          fileRssKb: 6588,
          shmemRssKb: 0,
          pgtablesKb: 96,
          adj: 800,
        },
      ],
      ruleVictim: { pid: 15757, badnessPages: 5935 + 24 + 800 * 51 },
      matchesRule: true,
    });
    expect(ev[0]!.tasks.map((t) => [t.pid, t.rss, t.rssAnon, t.pageTables, t.adj, t.name])).toEqual([
      [15756, 34108, 32448, 78, 0, 'python3'],
      [15757, 5935, 4288, 24, 800, 'python3'],
      [15856, 15830, 14176, 43, 0, 'python3'],
    ]);
    expect(summary(ev[1]!)).toEqual({
      victims: [15756],
      rule: 15756,
      matches: true,
      incomplete: false,
      domain: '/oomr_helper',
    });
  });

  it('is not thrown off by random noise lines, anywhere', () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ maxLength: 120 }), { maxLength: 40 }),
        fc.array(fc.nat({ max: REAL.length }), { maxLength: 40 }),
        (noise, at) => {
          const lines = [...REAL];
          noise.forEach((n, i) => {
            lines.splice(
              Math.min(at[i] ?? 0, lines.length),
              0,
              n.replace(/invoked oom-killer|Killed process|\[ *pid *\]/g, 'x'),
            );
          });
          const ev = parseOomEvents(lines);
          expect(ev.flatMap((e) => e.victims.map((v) => v.pid))).toEqual([15757, 15756]);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('never throws on arbitrary text, including near-miss OOM lines', () => {
    const near = fc.constantFrom(
      'x invoked oom-killer: gfp_mask=0x0, order=',
      'Killed process ',
      'Killed process 12 (',
      '[  pid  ]   uid',
      '[ 12]',
      'oom-kill:',
      'memory: usage 1kB, limit',
      'oom_reaper: reaped process 9 (x)',
    );
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.string(),
            near,
            fc.string().map((s) => `[ 1.000000] ${s}`),
          ),
          { maxLength: 60 },
        ),
        (lines) => {
          parseOomEvents(lines);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('kernel log: older kernels and other sources', () => {
  it('2.6.18 (RHEL 5): oomkilladj, "kill process … or a child", a child killed; no tasks table', () => {
    const [e] = events('rhel5-2.6.18.log');
    expect(e).toMatchObject({
      invoker: { comm: 'java', gfpMask: '0x201d2', adj: 0 },
      chosen: { pid: 4021, comm: 'java', score: 901223 },
      victims: [{ pid: 4022, comm: 'java' }],
      ruleVictim: null,
      matchesRule: null,
      incomplete: false,
    });
  });

  it('2.6.32 (RHEL 6): "Killed process N, UID u, (comm)" and the cpu/oom_adj table', () => {
    const [e] = events('rhel6-2.6.32.log');
    expect(e!.victims[0]).toMatchObject({ pid: 4021, uid: 500, comm: 'java', totalVmKb: 3649380, anonRssKb: 3199000 });
    expect(e!.tasks.map((t) => [t.tgid, t.adj, t.name])).toEqual([
      [812, -1000, 'sshd'],
      [3120, 0, 'httpd'],
      [4021, 0, 'java'],
    ]);
    expect(summary(e!)).toEqual({ victims: [4021], rule: 4021, matches: true, incomplete: false, domain: 'global' });
  });

  it('3.13 in a syslog file: prefixes stripped, wall clock kept, a line interleaved in the table', () => {
    const [e] = events('ubuntu-3.13.log');
    expect(e).toMatchObject({ uptime: 51123.4001, wall: '2026-11-03T14:02:10.000Z' });
    expect(e!.tasks.map((t) => [t.tgid, t.pageTables, t.swapEnts])).toEqual([
      [400, 13, 0],
      [2210, 720, 0],
      [2980, 300, 0],
    ]);
    expect(summary(e!)).toEqual({ victims: [2980], rule: 2980, matches: true, incomplete: false, domain: 'global' });
  });

  it('3.10 memcg (CentOS 7): "Task in … killed as a result of limit of …"', () => {
    const [e] = events('centos7-3.10-memcg.log');
    expect(e!.domain).toBe('/kubepods/burstable/pod1b4e28ba-2fa1-11d2-883f-0016d3cca427/0123456789ab');
    expect(e).toMatchObject({
      constraint: 'CONSTRAINT_MEMCG',
      memcg: { limitKb: 524288 },
      chosen: { pid: 7050, score: 1990 },
    });
    expect(summary(e!)).toMatchObject({ victims: [7050], rule: 7050, matches: true });
  });

  it('4.9: nr_ptes + nr_pmds, nodemask in the invoked line, oom_reaper', () => {
    const [e] = events('debian9-4.9.log');
    expect(e!.invoker).toMatchObject({ gfpFlags: 'GFP_HIGHUSER_MOVABLE|__GFP_ZERO', order: 0 });
    expect(e!.tasks[1]).toMatchObject({ pageTables: 403 });
    expect(e!.victims[0]).toMatchObject({ pid: 990, reaped: true, shmemRssKb: 0 });
    expect(summary(e!)).toMatchObject({ rule: 990, matches: true });
  });

  it('5.4 global: the oom-kill summary, UID and pgtables in the kill line, a tie won by the later task', () => {
    const [e] = events('ubuntu-5.4-global.log');
    expect(e).toMatchObject({ constraint: 'CONSTRAINT_NONE', domain: 'global', ramPages: 2097022, swapKb: 1048572 });
    expect(e!.victims[0]).toMatchObject({ pid: 4022, uid: 1000, pgtablesKb: 4096, adj: 300, reaped: true });
    expect(summary(e!)).toEqual({ victims: [4022], rule: 4022, matches: true, incomplete: false, domain: 'global' });
  });

  it('6.8 memory.oom.group in an RFC 3339 syslog: every group member is a victim, the -1000 sidecar is not', () => {
    const [e] = events('fedora-6.8-oomgroup.log');
    expect(e).toMatchObject({
      wall: '2026-03-02T10:00:00.100Z',
      domain: '/kubepods.slice/ctr-a.scope',
      oomGroupPath: '/kubepods.slice/ctr-a.scope',
    });
    expect(e!.victims.map((v) => [v.pid, v.oomGroup, v.reaped])).toEqual([
      [422, false, true],
      [421, true, false],
    ]);
    expect(e!.tasks[0]).toMatchObject({ rssAnon: 19000, rssFile: 1000, rssShmem: 0, pageTables: 49 });
    expect(summary(e!)).toMatchObject({ rule: 422, matches: true });
  });

  it('oom_kill_allocating_task: the allocating task dies, the rule is not the judge', () => {
    const [e] = events('allocating-task.log');
    expect(e!.victims[0]).toMatchObject({ pid: 701, allocatingTask: true });
    expect(e).toMatchObject({ ruleVictim: { pid: 700 }, matchesRule: null });
  });

  it('keeps cut-off events and marks them incomplete; a repeated line counts once', () => {
    const ev = events('truncated.log');
    expect(ev.map(summary)).toEqual([
      { victims: [1234], rule: null, matches: null, incomplete: true, domain: 'global' },
      { victims: [], rule: null, matches: null, incomplete: true, domain: null },
      { victims: [3001], rule: null, matches: null, incomplete: false, domain: 'global' },
    ]);
    expect(ev[0]!.missing).toEqual(['the "invoked oom-killer" line']);
    expect(ev[1]!.missing).toEqual(['the "Killed process" line (victim unknown)']);
    expect(ev[1]!.tasks.map((t) => t.pid)).toEqual([2001]);
  });
});

describe('log line prefixes', () => {
  it.each([
    ['[  529.992260] hello', { uptime: 529.99226, wall: null, text: 'hello', ident: null }],
    ['[  529.992260] vm kernel: hello', { uptime: 529.99226, wall: null, text: 'hello', ident: 'kernel' }],
    [
      'Nov 26 08:33:04 vm kernel: [  529.992260] hello',
      { uptime: 529.99226, wall: '2026-11-26T08:33:04.000Z', text: 'hello', ident: 'kernel' },
    ],
    [
      'Nov 26 08:33:04 vm kernel: hello',
      { uptime: null, wall: '2026-11-26T08:33:04.000Z', text: 'hello', ident: 'kernel' },
    ],
    [
      '2026-11-26T08:33:04+00:00 vm kernel: hello',
      { uptime: null, wall: '2026-11-26T08:33:04.000Z', text: 'hello', ident: 'kernel' },
    ],
    [
      '[Thu Nov 26 08:33:04 2026] hello',
      { uptime: null, wall: '2026-11-26T08:33:04.000Z', text: 'hello', ident: null },
    ],
    ['plain', { uptime: null, wall: null, text: 'plain', ident: null, pid: null, origin: null }],
  ])('%s', (raw, want) => {
    expect(parseLogLine(raw, 2026)).toEqual({ pid: null, origin: null, ...want });
  });
});

describe('kernel log: the message found by what it is, whatever the prefix', () => {
  // The "reboot when you see the OOM killer" advice's own log, with day and hour run together.
  const ADVICE = [
    'Jul 611:39:55 slize kernel: [1262223.326537] apache2 invoked oom-killer: gfp_mask=0x200da, order=0, oom_adj=0',
    'Jul 611:39:55 slize kernel: [1262223.326601] Out of memory: Kill process 3120 (apache2) score 311 or sacrifice child',
    'Jul 611:39:55 slize kernel: [1262223.326614] Killed process 3120 (apache2) total-vm:412000kB, anon-rss:250100kB, file-rss:1200kB',
  ];
  it("parses the advice's own lines: invoker apache2, victim 3120, the glued time read as Jul 6 11:39:55", () => {
    const ev = parseOomEvents(ADVICE, { year: 2013 });
    expect(ev).toHaveLength(1);
    expect(ev[0]).toMatchObject({
      uptime: 1262223.326537,
      wall: '2013-07-06T11:39:55.000Z',
      invoker: { comm: 'apache2', gfpMask: '0x200da', order: 0, adj: 0 },
      chosen: { pid: 3120, comm: 'apache2', score: 311 },
      victims: [{ pid: 3120, comm: 'apache2', anonRssKb: 250100, fileRssKb: 1200 }],
      incomplete: false,
    });
  });
  it.each([
    [
      'RFC 5424',
      '<6>1 2026-11-26T08:33:04.123Z web01 kernel - - - [ 529.992260] python3 invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0',
      '2026-11-26T08:33:04.123Z',
    ],
    [
      'RFC 3339 (rsyslog)',
      '2026-11-26T08:33:04.123456+00:00 web01 kernel: [  529.992260] python3 invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0',
      '2026-11-26T08:33:04.123Z',
    ],
    [
      'RFC 3164',
      'Nov 26 08:33:04 web01 kernel: [  529.992260] python3 invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0',
      '2026-11-26T08:33:04.000Z',
    ],
    [
      'glued RFC 3164',
      'Nov 2608:33:04 web01 kernel: [  529.992260] python3 invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0',
      '2026-11-26T08:33:04.000Z',
    ],
    [
      'damaged prefix',
      'N#v 2?:0x web01 kernel: [  529.992260] python3 invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0',
      null,
    ],
    [
      'an unknown forwarder header, no kernel: tag',
      '<<relay-7>> host=web01 [  529.992260] python3 invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0',
      null,
    ],
  ])('%s', (_name, line, wall) => {
    const l = parseLogLine(line, 2026);
    expect(l.text).toBe(
      l.text.startsWith('[')
        ? l.text
        : 'python3 invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0',
    );
    expect(l.uptime).toBe(529.99226);
    expect(l.wall).toBe(wall);
    expect(parseOomEvents([line], { year: 2026 })[0]?.invoker?.comm).toBe('python3');
  });
});

describe('kernel log: saved kmsg and journal records', () => {
  const INVOKED = 'python3 invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0';
  const KILLED =
    'Memory cgroup out of memory: Killed process 15757 (python3) total-vm:26824kB, anon-rss:17152kB, file-rss:6588kB, shmem-rss:0kB, UID:0 pgtables:96kB oom_score_adj:0';
  it('a saved /dev/kmsg dump', () => {
    const ev = parseOomEvents([`4,1201,529992260,-;${INVOKED}`, `3,1230,529992990,-;${KILLED}`]);
    expect(ev[0]).toMatchObject({ uptime: 529.99226, invoker: { comm: 'python3' }, victims: [{ pid: 15757 }] });
  });
  it('journalctl -o json', () => {
    const j = (msg: string, us: number) =>
      JSON.stringify({
        __REALTIME_TIMESTAMP: '1795000000000000',
        _SOURCE_MONOTONIC_TIMESTAMP: String(us),
        _TRANSPORT: 'kernel',
        MESSAGE: msg,
      });
    const ev = parseOomEvents([j(INVOKED, 529992260), j(KILLED, 529992990)]);
    expect(ev[0]).toMatchObject({
      uptime: 529.99226,
      wall: new Date(1795000000000).toISOString(),
      victims: [{ pid: 15757, comm: 'python3' }],
    });
  });
  it('journalctl -o export', () => {
    const rec = (msg: string) => ['__REALTIME_TIMESTAMP=1795000000000000', '_TRANSPORT=kernel', `MESSAGE=${msg}`, ''];
    const ev = parseOomEvents([...rec(INVOKED), ...rec(KILLED)]);
    expect(ev[0]).toMatchObject({ invoker: { comm: 'python3' }, victims: [{ pid: 15757 }] });
  });
  it('random cuts of the real log never crash the parser and never invent a victim', () => {
    fc.assert(
      fc.property(fc.array(fc.nat({ max: 400 }), { minLength: REAL.length, maxLength: REAL.length }), (cuts) => {
        const lines = REAL.map((l, i) => l.slice(0, Math.max(0, l.length - (cuts[i] ?? 0))));
        for (const e of parseOomEvents(lines)) for (const v of e.victims) expect([15757, 15756]).toContain(v.pid);
      }),
      { numRuns: 200 },
    );
  });
});

describe("the kernel's rule on an old kernel's tasks table", () => {
  // A 3.10 memcg OOM: limit 400,000 kB = 100,000 pages, no swap: adj weighs 100 pages a point.
  const old = (rows: string[], chosen: string) =>
    parseOomEvents(
      [
        '[ 10.000100] a invoked oom-killer: gfp_mask=0xd0, order=0, oom_score_adj=0',
        '[ 10.000200] Task in /job killed as a result of limit of /job',
        '[ 10.000210] memory: usage 400000kB, limit 400000kB, failcnt 1',
        '[ 10.000300] [ pid ]   uid  tgid total_vm      rss nr_ptes swapents oom_score_adj name',
        ...rows,
        `[ 10.000400] Memory cgroup out of memory: Kill process ${chosen} score 400 or sacrifice child`,
        `[ 10.000410] Killed process ${chosen} total-vm:100kB, anon-rss:100kB, file-rss:0kB`,
      ],
      { year: 2026 },
    )[0] as OomEvent;

  it('gives a tie to the first task listed (points > chosen), as kernels before 5.3 did', () => {
    const e = old(
      [
        '[ 10.000310] [  501]  1000   501    10000     4000       0        0             0 first',
        '[ 10.000320] [  502]  1000   502    10000     4000       0        0             0 second',
      ],
      '501 (first)',
    );
    expect(e).toMatchObject({ ruleVictim: { pid: 501 }, matchesRule: true });
  });

  it('does not judge a choice a root bonus it cannot see would change', () => {
    // root 4,100 pages and a user's 4,000: with the 3% bonus root scores 3,977 and the user dies.
    const e = old(
      [
        '[ 10.000310] [  601]     0   601    10000     4100       0        0             0 rootd',
        '[ 10.000320] [  602]  1000   602    10000     4000       0        0             0 user',
      ],
      '602 (user)',
    );
    expect(e).toMatchObject({ ruleVictim: null, matchesRule: null });
  });
});
