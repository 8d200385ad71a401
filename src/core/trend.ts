// How fast a quantity (available memory) is falling, robust to bursts: a fall counts only
// when it is sustained, and a time to a level is given with its uncertainty. Used for the
// dashboard's "exhausted in" and for the time to each killer's trigger (killers/race.ts).

export interface TrendPoint {
  timeMs: number;
  value: number | null;
}

/** A sustained fall: `perSec` units per second (positive), `se` the standard error of the slope. */
export interface FallRate {
  perSec: number;
  se: number;
}

/** Seconds until a level is reached at the fall rate, with a low and high bound (±2 standard errors). */
export interface TimeTo {
  seconds: number;
  low: number;
  high: number;
}

/** Least-squares slope (per second) and R² of points (t seconds, y). */
function fitLine(xs: readonly number[], ys: readonly number[]): { slope: number; r2: number; se: number } {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = (xs[i] as number) - mx;
    const dy = (ys[i] as number) - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  const slope = sxx ? sxy / sxx : 0;
  const r2 = sxx && syy ? (sxy * sxy) / (sxx * syy) : 0;
  const resid = Math.max(0, syy - slope * sxy);
  const se = n > 2 && sxx ? Math.sqrt(resid / (n - 2) / sxx) : Number.POSITIVE_INFINITY;
  return { slope, r2, se };
}

/**
 * The rate of a sustained fall; null unless at least 30 s of the window's points (6 or more)
 * lie on a straight line (R² ≥ 0.9) and the newer half still falls at half the rate or more
 * (a burst that stopped is not a trend).
 */
export function sustainedFall(points: readonly TrendPoint[], windowMs = 60_000): FallRate | null {
  const last = points.at(-1);
  if (!last || last.value === null) return null;
  const pts = points.filter((h) => h.value !== null && h.timeMs >= last.timeMs - windowMs);
  if (pts.length < 6) return null;
  const t0 = (pts[0] as TrendPoint).timeMs;
  const xs = pts.map((p) => (p.timeMs - t0) / 1000);
  const ys = pts.map((p) => p.value as number);
  if ((xs.at(-1) as number) < 30) return null;
  const all = fitLine(xs, ys);
  const half = Math.floor(pts.length / 2);
  const recent = fitLine(xs.slice(half), ys.slice(half));
  if (all.slope >= 0 || all.r2 < 0.9 || recent.slope > all.slope * 0.5) return null;
  return { perSec: -all.slope, se: all.se };
}

/** Time to take `left` more at the rate; null when it is further than `maxSec` (too far to matter). */
export function timeTo(left: number, rate: FallRate, maxSec = 3600): TimeTo | null {
  const seconds = Math.max(0, left) / rate.perSec;
  if (seconds > maxSec) return null;
  const fast = rate.perSec + 2 * rate.se;
  const slow = Math.max(1e-9, rate.perSec - 2 * rate.se);
  return { seconds, low: left / fast, high: Math.min(3600 * 24, left / slow) };
}
