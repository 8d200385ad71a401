// The incremental sampler's reuse policies, each on its own.
import { describe, expect, it } from 'vitest';
import type { ProcSample } from '../../src/core/types.js';
import { REFRESH_SLICES, ReuseCache, WALK_EVERY } from '../../src/system/reuse-cache.js';

const rec = (pid: number) => ({ pid }) as unknown as ProcSample;
const entry = (pid: number) => ({
  statText: `${pid} (x)`,
  cpuTicks: 0,
  minflt: 0,
  majflt: 0,
  cgroup: null,
  sample: rec(pid),
});

describe('ReuseCache', () => {
  it('reuses the pid list only while the fork count stands', () => {
    const c = new ReuseCache();
    c.nextTick();
    expect(c.reusablePids(100)).toBeNull(); // nothing listed yet
    c.retain([1, 2, 3]);
    c.nextTick();
    expect(c.reusablePids(100)).toEqual([1, 2, 3]);
    c.nextTick();
    expect(c.reusablePids(101)).toBeNull(); // a fork: walk /proc
    c.retain([1, 2, 3, 4]);
    c.nextTick();
    expect(c.reusablePids(101)).toEqual([1, 2, 3, 4]);
    c.nextTick();
    expect(c.reusablePids(null)).toBeNull(); // /proc/stat unreadable: walk
  });

  it('walks /proc every WALK_EVERY ticks even without a fork (hidepid)', () => {
    const c = new ReuseCache();
    let walks = 0;
    for (let t = 1; t <= 3 * WALK_EVERY; t++) {
      c.nextTick();
      if (c.reusablePids(7) === null) walks++;
      c.retain([1]);
    }
    expect(walks).toBe(1 + 3); // the first tick, then one in WALK_EVERY
  });

  it('refreshes one pid in REFRESH_SLICES a tick, every pid once per REFRESH_SLICES ticks', () => {
    const c = new ReuseCache();
    const due = new Map<number, number>();
    for (let t = 0; t < REFRESH_SLICES; t++) {
      c.nextTick();
      for (let pid = 1; pid <= 100; pid++) if (c.refreshDue(pid)) due.set(pid, (due.get(pid) ?? 0) + 1);
    }
    expect(due.size).toBe(100);
    expect([...due.values()].every((n) => n === 1)).toBe(true);
  });

  it('keeps only the processes of the last sample', () => {
    const c = new ReuseCache();
    c.set(1, entry(1));
    c.set(2, entry(2));
    c.retain([2]);
    expect(c.get(1)).toBeUndefined();
    expect(c.get(2)?.sample.pid).toBe(2);
  });

  it('hands rows on only when the rows are aligned and the needs the same, after a sample that went through', () => {
    const c = new ReuseCache();
    expect(c.startRows(2, true, 'a', true)).toBeNull(); // nothing yet
    c.handOn(0, rec(10), true);
    c.handOn(1, rec(11), true);
    c.endRows('a');
    expect(c.startRows(2, true, 'a', true)?.map((r) => r?.pid)).toEqual([10, 11]);
    c.endRows('a');
    expect(c.startRows(2, false, 'a', true)).toBeNull(); // the pid list moved
    c.endRows('a');
    expect(c.startRows(2, true, 'b', true)).toBeNull(); // other needs
    // a sample that failed (no endRows) leaves nothing to hand on
    expect(c.startRows(2, true, 'b', true)).toBeNull();
  });
});
