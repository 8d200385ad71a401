import { describe, expect, it } from 'vitest';
import {
  badnessFromTerms,
  badnessTerms,
  cdiv,
  globalTotalPages,
  oomScoreFromBadness,
  unkillableReason,
} from '../../src/core/badness.js';
import { proc } from '../helpers/sample.js';

describe('oom_badness()', () => {
  it('adds rss, swap and page tables in pages, then adj times totalpages/1000 (integer division first)', () => {
    const t = badnessTerms(proc({ pid: 9, rssPages: 1000, swapKb: 400, pteKb: 40 }), 7, 1_234_999, 4096);
    // 1,234,999 / 1000 = 1234 (not 1234.999): 7 * 1234 = 8638
    expect(t).toEqual({
      rssPages: 1000,
      swapPages: 100,
      pageTablePages: 10,
      bonusPages: 0,
      adjPages: 8638,
      adj: 7,
      totalPages: 1_234_999,
      badness: 1000 + 100 + 10 + 8638,
    });
    expect(badnessFromTerms(t!)).toBe(1000 + 100 + 10 + 8638);
  });

  it('uses the page size it is given', () => {
    const t = badnessTerms(proc({ pid: 9, rssPages: 10, swapKb: 128, pteKb: 64 }), 0, 1000, 65536);
    expect(t).toMatchObject({ swapPages: 2, pageTablePages: 1 });
  });

  it('is negative with a negative adj (signed since 5.9)', () => {
    expect(badnessFromTerms(badnessTerms(proc({ pid: 9, rssPages: 10 }), -1, 1_000_000, 4096)!)).toBe(10 - 1000);
  });

  it('is unknown when a term could not be read', () => {
    expect(badnessTerms(proc({ pid: 9, swapKb: null }), 0, 1000, 4096)).toBeNull();
    expect(badnessTerms(proc({ pid: 9 }), null, 1000, 4096)).toBeNull();
  });

  it('names every unkillable case', () => {
    expect(unkillableReason(proc({ pid: 1 }), true, 0)).toBe('global init');
    expect(unkillableReason(proc({ pid: 1 }), false, 0)).toBeNull();
    expect(unkillableReason(proc({ pid: 2, flags: 0x00208040 }), true, 0)).toBe('kernel thread');
    expect(unkillableReason(proc({ pid: 3, hasMm: false, state: 'Z' }), true, 0)).toBe('no mm (zombie or exiting)');
    expect(unkillableReason(proc({ pid: 4 }), true, -1000)).toBe('oom_score_adj -1000');
    expect(unkillableReason(proc({ pid: 4 }), true, -999)).toBeNull();
  });
});

describe('proc_oom_score()', () => {
  it('scales to (1000 + badness*1000/totalpages) * 2/3 with C truncation', () => {
    const total = 6_170_905;
    expect(oomScoreFromBadness(13_051, total)).toBe(668);
    expect(oomScoreFromBadness(1002, total)).toBe(666);
    expect(oomScoreFromBadness(0, total)).toBe(666);
    expect(oomScoreFromBadness(total, total)).toBe(1333);
    // truncation toward zero for negative badness: -1 * 1000 / total == 0, not -1
    expect(oomScoreFromBadness(-1, total)).toBe(666);
    expect(oomScoreFromBadness(-total, total)).toBe(0);
    expect(oomScoreFromBadness(null, total)).toBe(0);
  });

  it('truncates like C', () => {
    expect(cdiv(-7, 2)).toBe(-3);
    expect(cdiv(7, 2)).toBe(3);
  });

  it('computes totalpages from MemTotal and SwapTotal', () => {
    expect(globalTotalPages(24_683_620, 0, 4096)).toBe(6_170_905);
    expect(globalTotalPages(4_000_000, 1_000_000, 4096)).toBe(1_250_000);
  });
});
