import { describe, expect, it } from 'vitest';
import { rankKillOrder, type RankOptions } from '../../src/core/rank.js';
import { proc } from '../helpers/sample.js';

const opts: RankOptions = { totalPages: 1_000_000, globalTotalPages: 1_000_000, pageSize: 4096, initIsGlobal: true };

describe('rankKillOrder', () => {
  it('reuses the evaluation of an unchanged sample object, never changing one an earlier ranking returned', () => {
    const a = proc({ pid: 20, rssPages: 300 });
    const b = proc({ pid: 21, rssPages: 200 });
    const first = rankKillOrder([a, b], opts);
    const again = rankKillOrder([a, b], opts);
    expect(again[0]).toBe(first[0]);
    expect(again[1]).toBe(first[1]);
    // b grew past a (a new sample object): a moves to rank 2 in a copy, the first ranking stands
    const b2 = proc({ pid: 21, rssPages: 400 });
    const moved = rankKillOrder([a, b2], opts);
    expect(moved.map((r) => [r.proc.pid, r.rank])).toEqual([
      [21, 1],
      [20, 2],
    ]);
    expect(first.map((r) => [r.proc.pid, r.rank])).toEqual([
      [20, 1],
      [21, 2],
    ]);
    // another domain (another totalpages) weighs adj otherwise: its own evaluation
    const adj = proc({ pid: 22, rssPages: 10, oomScoreAdj: 500 });
    const global = rankKillOrder([adj], opts)[0];
    const memcg = rankKillOrder([adj], { ...opts, totalPages: 1000 })[0];
    expect([global?.badnessPages, memcg?.badnessPages]).toEqual([10 + 500_000, 10 + 500]);
    // "what if" values are never cached: the same sample ranks as read afterwards
    expect(rankKillOrder([adj], { ...opts, adjOverrides: new Map([[22, 0]]) })[0]?.badnessPages).toBe(10);
    expect(rankKillOrder([adj], opts)[0]).toBe(global);
  });

  it('orders by badness, highest first, with unknown then unkillable after', () => {
    const r = rankKillOrder(
      [
        proc({ pid: 1, rssPages: 99_999 }),
        proc({ pid: 10, rssPages: 500 }),
        proc({ pid: 11, rssPages: 900 }),
        proc({ pid: 12, rssPages: 10, oomScoreAdj: 1 }), // 10 + 1000
        proc({ pid: 13, rssPages: 5000, oomScoreAdj: -1000 }),
        proc({ pid: 14, swapKb: null }),
        proc({ pid: 2, flags: 0x00200000, hasMm: false }),
      ],
      opts,
    );
    expect(r.map((x) => [x.proc.pid, x.rank])).toEqual([
      [12, 1],
      [11, 2],
      [10, 3],
      [14, null],
      [1, null],
      [2, null],
      [13, null],
    ]);
    expect(r.find((x) => x.proc.pid === 14)).toMatchObject({
      killable: null,
      unknownReason: 'unreadable: status VmSwap/VmPTE',
    });
  });

  it('breaks ties to the task scanned later (fork order), as select_bad_process() does', () => {
    const r = rankKillOrder(
      [
        proc({ pid: 40, rssPages: 100, startTime: 50 }),
        proc({ pid: 30, rssPages: 100, startTime: 60 }), // started later although its pid is lower (pid wrap)
        proc({ pid: 41, rssPages: 100, startTime: 50 }),
      ],
      opts,
    );
    expect(r.map((x) => x.proc.pid)).toEqual([30, 41, 40]);
  });

  it('follows an explicit scan order (memcg: cgroup.procs order)', () => {
    const scanIndex = new Map([
      [5, 0],
      [3, 1],
      [4, 2],
    ]);
    const r = rankKillOrder(
      [3, 4, 5].map((pid) => proc({ pid, rssPages: 100 })),
      { ...opts, scanIndex },
    );
    expect(r.map((x) => x.proc.pid)).toEqual([4, 3, 5]);
  });

  it('applies what-if adj overrides before ranking', () => {
    const procs = [proc({ pid: 10, rssPages: 5000 }), proc({ pid: 11, rssPages: 100 })];
    expect(rankKillOrder(procs, opts)[0]!.proc.pid).toBe(10);
    const r = rankKillOrder(procs, { ...opts, adjOverrides: new Map([[10, -1000]]) });
    expect(r.map((x) => [x.proc.pid, x.rank, x.unkillableReason])).toEqual([
      [11, 1, null],
      [10, null, 'oom_score_adj -1000'],
    ]);
  });

  it('weighs adj by the domain and still predicts the global oom_score', () => {
    const p = proc({ pid: 10, rssPages: 5000, oomScoreAdj: 100 });
    const [r] = rankKillOrder([p], { ...opts, totalPages: 50_000 });
    expect(r!.badnessPages).toBe(5000 + 100 * 50);
    expect(r!.predictedOomScore).toBe(
      Math.trunc(((1000 + Math.trunc(((5000 + 100 * 1000) * 1000) / 1_000_000)) * 2) / 3),
    );
  });
});
