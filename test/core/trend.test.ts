// The fall rate behind "exhausted in" and the time to each killer's trigger: only a
// sustained fall counts, and the time comes with bounds.
import { describe, expect, it } from 'vitest';
import { sustainedFall, timeTo, type TrendPoint } from '../../src/core/trend.js';

const series = (n: number, stepMs: number, f: (i: number) => number | null): TrendPoint[] =>
  Array.from({ length: n }, (_, i) => ({ timeMs: 1_000_000 + i * stepMs, value: f(i) }));

describe('sustainedFall', () => {
  it('measures a steady fall over the last minute', () => {
    const r = sustainedFall(series(31, 2000, (i) => 10_000 - i * 100));
    expect(r?.perSec).toBeCloseTo(50, 6);
    expect(r?.se).toBeCloseTo(0, 6);
  });

  it('is null for a burst that stopped, a rise, too short a window, or unknown values', () => {
    // fell for 20 s, then flat for 40 s: not a trend
    expect(sustainedFall(series(31, 2000, (i) => (i < 10 ? 10_000 - i * 500 : 5_000)))).toBeNull();
    expect(sustainedFall(series(31, 2000, (i) => 1_000 + i * 100))).toBeNull();
    expect(sustainedFall(series(10, 2000, (i) => 10_000 - i * 100))).toBeNull(); // 18 s
    expect(sustainedFall(series(31, 2000, (i) => (i === 30 ? null : 10_000 - i * 100)))).toBeNull();
  });

  it('is null when the points are scattered (R² < 0.9)', () => {
    expect(sustainedFall(series(31, 2000, (i) => 10_000 - i * 10 + (i % 2 ? 2_000 : -2_000)))).toBeNull();
  });
});

describe('timeTo', () => {
  it('divides what is left by the rate, with ±2 standard errors as bounds', () => {
    expect(timeTo(1000, { perSec: 10, se: 0 })).toEqual({ seconds: 100, low: 100, high: 100 });
    const t = timeTo(1000, { perSec: 10, se: 2.5 });
    expect(t?.seconds).toBe(100);
    expect(t?.low).toBeCloseTo(1000 / 15);
    expect(t?.high).toBeCloseTo(1000 / 5);
  });

  it('is null past the hour (too far to matter)', () => {
    expect(timeTo(36_001, { perSec: 10, se: 0 })).toBeNull();
    expect(timeTo(36_001, { perSec: 10, se: 0 }, 7200)).not.toBeNull();
  });
});
