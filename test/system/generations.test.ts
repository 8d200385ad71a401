// Each kernel generation on a /proc tree written from its sources (test/fixtures/
// generations.ts has the arithmetic): which rules the sampler proves, the kill order
// they give (root bonus, ties, clamping), and the sequence simulate runs (child sacrifice).
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { globalContext, memcgContext } from '../../src/core/domains.js';
import { simulateKills } from '../../src/core/simulate.js';
import { buildSnapshot } from '../../src/core/snapshot.js';
import { Sampler } from '../../src/system/sampler.js';
import { cgroupNode } from '../helpers/sample.js';

const GEN = join(import.meta.dirname, '../fixtures/generations');
const users = new Map<number, string>([
  [0, 'root'],
  [1000, 'alice'],
]);

function load(name: string) {
  const sample = new Sampler(join(GEN, name, 'proc')).sample(0);
  const { snapshot } = buildSnapshot(sample, { users });
  const order = snapshot.processes.filter((p) => p.rank !== null).map((p) => p.comm);
  const mismatched = snapshot.processes.filter((p) => p.oomScore !== p.predictedOomScore).map((p) => p.comm);
  return { sample, snapshot, order, mismatched };
}

describe('kernel generations on fixture trees', () => {
  it('3.10: the root bonus is adj -= 30, which puts a smaller user job first; badness clamps to 1; first of equals wins', () => {
    const { snapshot, order, mismatched } = load('v3.10');
    expect(snapshot.model).toMatchObject({
      generation: '3.5',
      chosenBy: 'release',
      matched: 7,
      compared: 7,
      exact: true,
    });
    expect(order).toEqual(['userjob', 'rootd', 'twin400', 'twin401', 'kid111', 'kid110', 'shy']);
    expect(snapshot.processes.find((p) => p.comm === 'rootd')?.badnessPages).toBe(20_100);
    expect(snapshot.processes.find((p) => p.comm === 'shy')?.badnessPages).toBe(1);
    expect(mismatched).toEqual([]);
  });

  it('RHEL 7: the 3% bonus (backported to 3.10) keeps the root daemon first', () => {
    const { snapshot, order, mismatched } = load('rhel7');
    expect(snapshot.model).toMatchObject({ generation: 'rhel7', chosenBy: 'release', exact: true });
    expect(order.slice(0, 4)).toEqual(['rootd', 'userjob', 'twin400', 'twin401']);
    expect(snapshot.processes.find((p) => p.comm === 'rootd')?.badnessPages).toBe(48_597);
    expect(mismatched).toEqual([]);
  });

  it("before 5.1 the chosen task's child with the most badness dies in its place, one at a time", () => {
    const { sample } = load('rhel7');
    const sim = simulateKills(globalContext(sample), { users, maxSteps: 4 });
    expect(sim.sequence.map((s) => [s.comm, s.sacrificedFor?.comm ?? null])).toEqual([
      ['kid111', 'rootd'],
      ['kid110', 'rootd'],
      ['rootd', null],
      ['userjob', null],
    ]);
    expect(sim.notes.join('\n')).toContain('kernel rules RHEL 7 3.10');
  });

  it('4.14: page tables are VmPTE + VmPMD', () => {
    const { snapshot, mismatched } = load('v4.14');
    expect(snapshot.model).toMatchObject({ generation: '3.14', exact: true, matched: 8, compared: 8 });
    const pmd = snapshot.processes.find((p) => p.comm === 'pmd');
    expect(pmd).toMatchObject({ pageTablePages: 1000, badnessPages: 21_000, oomScore: 21, predictedOomScore: 21 });
    expect(mismatched).toEqual([]);
  });

  it('RHEL 8.3: no bonus, first of equals, from the release string and confirmed', () => {
    const { snapshot, order } = load('rhel8.3');
    expect(snapshot.model).toMatchObject({ generation: '4.17', chosenBy: 'release', exact: true });
    expect(order.slice(0, 4)).toEqual(['rootd', 'userjob', 'twin400', 'twin401']);
  });

  it('a 4.18.0-240 release whose oom_score values follow 5.9+ is calibrated to 5.9+ (later of equals first, no clamp)', () => {
    const { snapshot, order, mismatched } = load('rhel8.3-backport');
    expect(snapshot.model).toMatchObject({
      generation: '5.9',
      chosenBy: 'calibration',
      matched: 7,
      compared: 7,
      exact: true,
    });
    expect(snapshot.model.why).toContain('only the 5.9+ rules reproduce');
    expect(order).toEqual(['rootd', 'userjob', 'twin401', 'twin400', 'kid111', 'kid110', 'shy']);
    expect(snapshot.processes.find((p) => p.comm === 'shy')?.badnessPages).toBe(-499_000);
    expect(mismatched).toEqual([]);
  });

  it('values no generation produces are reported as such, never as exact', () => {
    const { snapshot } = load('no-rule');
    expect(snapshot.model.exact).toBe(false);
    expect(snapshot.model.why).toMatch(/^no generation reproduces every oom_score: the best, .*, \d+ of 7$/);
  });

  it('64 KiB pages: totalpages, adj and page tables in 64 KiB pages', () => {
    const { snapshot, mismatched } = load('arm64-64k');
    expect(snapshot.pageSize).toBe(65536);
    expect(snapshot.totalPages).toBe(62_500);
    expect(snapshot.model).toMatchObject({ generation: '5.9', exact: true, compared: 2 });
    expect(snapshot.processes.find((p) => p.comm === 'adj100')).toMatchObject({ badnessPages: 7202, oomScore: 743 });
    expect(mismatched).toEqual([]);
  });

  it('a memcg domain on 4.18 (RHEL 8.3): adj weighed by the limit, clamped to 1, the first of equals first', () => {
    const { sample } = load('rhel8.3');
    // v1 memory.limit_in_bytes 400,000 KiB = 100,000 pages, no swap: one point of adj = 100 pages.
    const node = cgroupNode({
      path: '/job',
      version: 1,
      limitBytes: 400_000 * 1024,
      usageBytes: 400_000 * 1024,
      swappiness: 0,
      procs: [300, 400, 401],
    });
    const ctx = memcgContext(sample, node, 60);
    const { snapshot } = buildSnapshot(ctx.sample, { users, domain: ctx.domain, scanIndex: ctx.scanIndex });
    const ranked = snapshot.processes.filter((p) => p.rank !== null);
    // shy: 1,000 - 500 * 100 = -49,000, clamped to 1 (the 5.9+ rules would keep -49,000)
    expect(ranked.map((p) => [p.comm, p.badnessPages])).toEqual([
      ['twin400', 10_000],
      ['twin401', 10_000],
      ['shy', 1],
    ]);
    // The kernel's oom_score stays global: the twins still read 10.
    expect(ranked[0]).toMatchObject({ oomScore: 10, predictedOomScore: 10 });
  });
});
