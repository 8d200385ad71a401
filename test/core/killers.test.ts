// Each user-space killer's rule as pure functions, case by case from its source (the file
// and function named in src/core/killers/*.ts). The real earlyoom and nohang check the same
// rules live in test/system/killers.kernel.test.ts.
import { describe, expect, it } from 'vitest';
import { earlyoomTrigger, earlyoomVictim, parseEarlyoomArgs } from '../../src/core/killers/earlyoom.js';
import { memoryDistance } from '../../src/core/killers/race.js';
import { getopt } from '../../src/core/killers/getopt.js';
import { kubeletSettings, kubeletVictim, parseQuantity, podRequest, type Pod } from '../../src/core/killers/kubelet.js';
import { nohangVictim, parseNohangConfig, thresholdKb } from '../../src/core/killers/nohang.js';
import {
  parseOomdConf,
  parsePercent,
  parseTimespan,
  parseUnitOom,
  swapVictim,
  type OomdCgroup,
} from '../../src/core/killers/systemd-oomd.js';
import type { MemInfo } from '../../src/core/types.js';

const mem: MemInfo = {
  memTotalKb: 16 * 1024 * 1024,
  memAvailableKb: 4 * 1024 * 1024,
  memFreeKb: null,
  swapTotalKb: 0,
  swapFreeKb: 0,
};
const cand = (
  pid: number,
  oomScore: number,
  rssKb = 1000,
  o: Partial<{ comm: string; adj: number; uid: number; ppid: number }> = {},
) => ({
  pid,
  ppid: o.ppid ?? 1,
  comm: o.comm ?? `p${pid}`,
  uid: o.uid ?? 1000,
  oomScore,
  rssKb,
  adj: o.adj ?? 0,
});

describe('getopt (glibc getopt_long, as earlyoom parses its argv)', () => {
  it('takes -m5, -m 5, --prefer=x, --prefer x and stops at --', () => {
    expect(
      getopt(['-m5', '-s', '10', '--prefer=a', '--avoid', 'b', '-dr', '0', '--', '-m', '1'], 'm:s:dr:', [
        'prefer=',
        'avoid=',
      ]),
    ).toEqual([
      { name: 'm', value: '5' },
      { name: 's', value: '10' },
      { name: 'prefer', value: 'a' },
      { name: 'avoid', value: 'b' },
      { name: 'd' },
      { name: 'r', value: '0' },
    ]);
  });
  it('names what it does not know instead of guessing', () => {
    expect(getopt(['--bogus', '-x'], 'm:', [])).toEqual([
      { name: 'bogus', problem: '--bogus: an option it does not know' },
      { name: 'x', problem: '-x: an option it does not know' },
    ]);
  });
});

describe('earlyoom (main.c, kill.c is_larger)', () => {
  it('defaults to 10% / 10%, kill at half; -M KiB merges with -m as the lower', () => {
    expect(parseEarlyoomArgs([], mem)).toMatchObject({ memTermPercent: 10, memKillPercent: 5, swapTermPercent: 10 });
    const s = parseEarlyoomArgs(['-m', '15', '-M', String(1024 * 1024)], mem); // 1 GiB of 16 = 6.25%
    expect(s.memTermPercent).toBe(6.25);
    expect(parseEarlyoomArgs(['-m', '150'], mem).problems).toEqual(['-m 150: not a value earlyoom accepts']);
  });
  it('without swap the swap condition always holds: only MemAvailable counts', () => {
    const t = earlyoomTrigger(parseEarlyoomArgs(['-m', '30'], mem), mem);
    expect(t.swapFreeBytes).toBeNull();
    expect(memoryDistance(t, mem).firing).toBe(true); // 25% available ≤ 30%
  });
  it('adds the swap headroom to the memory headroom when swap must fill too (sleep_time_ms)', () => {
    const m = { ...mem, swapTotalKb: 1024 * 1024, swapFreeKb: 1024 * 1024 };
    const d = memoryDistance(earlyoomTrigger(parseEarlyoomArgs([], m), m), m);
    expect(d.bytes).toBe(4 * 2 ** 30 - 1.6 * 2 ** 30 + 0.9 * 2 ** 30);
  });
  it('picks the highest oom_score ± prefer/avoid, ties to the larger VmRSS, first of full equals', () => {
    const s = parseEarlyoomArgs(['--avoid', '^big$', '--prefer', '^small$'], mem);
    const c = [
      cand(10, 900, 5000, { comm: 'big' }),
      cand(11, 650, 100, { comm: 'small' }),
      cand(12, 900, 10),
      cand(13, 600, 9000),
    ];
    // big 600, small 950, p12 900
    expect(earlyoomVictim(c, s, null)?.pid).toBe(11);
    const ties = [cand(20, 700, 100), cand(21, 700, 300), cand(22, 700, 300)];
    expect(earlyoomVictim(ties, parseEarlyoomArgs([], mem), null)?.pid).toBe(21);
  });
  it('skips init, kthreadd and its children, rss 0, adj −1000; never a negative badness; not itself', () => {
    const s = parseEarlyoomArgs(['--avoid', '.'], mem);
    expect(earlyoomVictim([cand(30, 200)], s, null)).toBeNull(); // 200 − 300 < 0
    const none = parseEarlyoomArgs([], mem);
    expect(
      earlyoomVictim(
        [
          cand(1, 999),
          cand(2, 999),
          cand(40, 999, 10, { ppid: 2 }),
          cand(41, 999, 0),
          cand(42, 999, 10, { adj: -1000 }),
        ],
        none,
        null,
      ),
    ).toBeNull();
    expect(earlyoomVictim([cand(50, 900), cand(51, 100)], none, 50)).toBeNull(); // it would pick itself: nobody
    expect(
      earlyoomVictim(
        [cand(60, 900, 10, { uid: 0 }), cand(61, 100)],
        parseEarlyoomArgs(['--ignore-root-user'], mem),
        null,
      )?.pid,
    ).toBe(61);
  });
});

describe('nohang (pid_to_badness, fast_find_victim)', () => {
  const conf = (extra: string) => parseNohangConfig(`soft_threshold_min_mem = 300 M\nmin_badness = 10\n${extra}`);
  const n = (pid: number, oomScore: number, o: Partial<{ comm: string; adj: number; cmdline: string }> = {}) => ({
    pid,
    comm: o.comm ?? `p${pid}`,
    oomScore,
    adj: o.adj ?? 0,
    uid: 1000,
    cmdline: o.cmdline ?? '',
    cgroup: null,
  });
  it('reads "key = value" and "@BADNESS_ADJ_RE_* adj /// regex" as nohang does', () => {
    const s = conf('@BADNESS_ADJ_RE_CMDLINE 200 /// --type=renderer\n  ignored = 1\n@BADNESS_ADJ_RE_BOGUS 1 /// x\n');
    expect(s.rules).toEqual([{ property: 'CMDLINE', adj: 200, pattern: '--type=renderer' }]);
    expect(s.problems).toHaveLength(1);
    expect(thresholdKb(s.softMem, mem.memTotalKb)).toBe(300 * 1024);
    expect(thresholdKb('5 %', 1000)).toBe(50);
  });
  it('adds a positive rule only where adj >= 0; subtracts a positive adj with ignore_positive_oom_score_adj', () => {
    const s = conf('@BADNESS_ADJ_RE_NAME 500 /// ^web$\n');
    expect(nohangVictim([n(10, 400, { comm: 'web', adj: -1 }), n(11, 600)], s, null)?.pid).toBe(11);
    expect(nohangVictim([n(10, 400, { comm: 'web' }), n(11, 600)], s, null)?.pid).toBe(10);
    const ig = conf('ignore_positive_oom_score_adj = True\n');
    expect(nohangVictim([n(20, 1500, { adj: 1000 }), n(21, 600)], ig, null)?.pid).toBe(21);
  });
  it('first of equals in pid order; nobody below min_badness; never pid 1 or itself', () => {
    const s = conf('');
    expect(nohangVictim([n(31, 700), n(30, 700)], s, null)?.pid).toBe(30);
    expect(nohangVictim([n(40, 9)], s, null)).toBeNull();
    expect(nohangVictim([n(1, 900), n(50, 900), n(51, 20)], s, 50)?.pid).toBe(51);
  });
});

describe('systemd-oomd (oomd.conf, unit settings, oomd_select_by_swap_usage)', () => {
  it('parses percentages, permille, time spans; later drop-ins win; bad values are kept out and said', () => {
    expect(parsePercent('90%')).toBe(90);
    expect(parsePercent('500‰')).toBe(50);
    expect(parseTimespan('1min 30s')).toBe(90);
    const c = parseOomdConf([
      '[OOM]\nSwapUsedLimit=80%\n',
      '[OOM]\nSwapUsedLimit=70%\nDefaultMemoryPressureLimit=lots\n',
    ]);
    expect(c).toMatchObject({ swapUsedLimitPercent: 70, pressureLimitPercent: 60 });
    expect(c.problems).toEqual(['DefaultMemoryPressureLimit=lots: not a value systemd accepts (ignored)']);
    expect(
      parseUnitOom('x.service', ['[Service]\nManagedOOMSwap=kill\n', '[Service]\nManagedOOMPreference=avoid\n']),
    ).toMatchObject({ swap: true, preference: 'avoid' });
  });
  const cg = (path: string, swap: number, o: Partial<OomdCgroup> = {}): OomdCgroup => ({
    path,
    ownerUid: 0,
    avoid: false,
    omit: false,
    memoryCurrent: 0,
    swapCurrent: swap,
    pgscan: 0,
    pressureFullAvg10: 0,
    oomGroup: false,
    procs: [{ pid: Number(path.length), comm: path.slice(1) }],
    children: [],
    ...o,
  });
  const swapMem = { ...mem, swapTotalKb: 1024 * 1024, swapFreeKb: 0 };
  it('takes an oom.group cgroup whole, puts avoid last, and nothing at or under 5% of swap', () => {
    const group = cg('/g', 100 * 2 ** 20, { oomGroup: true, children: [cg('/g/a', 0), cg('/g/b', 0)] });
    const root = cg('/', 0, {
      children: [group, cg('/big', 500 * 2 ** 20, { avoid: true }), cg('/tiny', 50 * 2 ** 20)],
    });
    const v = swapVictim([root], swapMem).victim;
    expect(v?.cgroup).toBe('/g'); // /big has more swap but is "avoid"
    expect(v?.processes).toHaveLength(3);
    expect(swapVictim([cg('/', 0, { children: [cg('/tiny', 50 * 2 ** 20)] })], swapMem).victim).toBeNull();
  });
  it('ignores the xattrs of a cgroup not owned by root; says when they could not be read', () => {
    const root = cg('/', 0, {
      children: [cg('/u', 500 * 2 ** 20, { ownerUid: 1000, omit: true }), cg('/x', 200 * 2 ** 20, { omit: null })],
    });
    const r = swapVictim([root], swapMem);
    expect(r.victim?.cgroup).toBe('/u');
    expect(r.unknown).toEqual(['/x: ManagedOOMPreference xattrs']);
  });
});

describe('kubelet (eviction helpers.go, qos/policy.go)', () => {
  const cap = 16 * 2 ** 30;
  it('reads quantities and defaults evictionHard to 100Mi', () => {
    expect(parseQuantity('100Mi')).toEqual({ bytes: 100 * 2 ** 20 });
    expect(parseQuantity('1G')).toEqual({ bytes: 1e9 });
    expect(parseQuantity('10%')).toEqual({ percent: 10 });
    expect(kubeletSettings({})).toMatchObject({ hard: { bytes: 100 * 2 ** 20 }, defaulted: true });
    expect(kubeletSettings({ evictionHard: { 'memory.available': 'x' } }).problems).toHaveLength(1);
  });
  const pod = (uid: string, qos: Pod['qos'], usage: number, adj: number | null, limit: number | null = null): Pod => ({
    uid,
    qos,
    cgroup: `/kubepods/${uid}`,
    usageBytes: usage,
    limitBytes: limit,
    containers: [
      { cgroup: `/kubepods/${uid}/pause`, adj: -998, processes: [{ pid: 1, comm: 'pause' }] },
      { cgroup: `/kubepods/${uid}/c`, adj, processes: [{ pid: uid.length, comm: uid }] },
    ],
  });
  it('reads a Burstable request back from adj (1000 − 1000·request/capacity)', () => {
    expect(podRequest(pod('b', 'burstable', 0, 938), cap).bytes).toBeCloseTo(cap * 0.062, 0);
    expect(podRequest(pod('g', 'guaranteed', 0, -997, 2 ** 30), cap).bytes).toBe(2 ** 30);
    expect(podRequest(pod('u', 'burstable', 0, null), cap).bytes).toBeNull();
  });
  it('ranks pods over their request first, then by usage − request', () => {
    const pods = [
      pod('guar', 'guaranteed', 3 * 2 ** 30, -997, 4 * 2 ** 30),
      pod('burst', 'burstable', 2 * 2 ** 30, 990),
      pod('be', 'besteffort', 2 ** 30, 1000),
    ];
    expect(kubeletVictim(pods, cap)?.pod).toBe('burst'); // 2 GiB − 0.16 GiB over, BestEffort 1 GiB over
    expect(kubeletVictim([pod('guar', 'guaranteed', 3 * 2 ** 30, -997, 4 * 2 ** 30)], cap)?.why).toContain(
      'within its request',
    );
  });
});
