// The model against the real kernel: processes of chosen sizes and (raised) adj values, one
// snapshot, and the predicted oom_score must equal the kernel's for every process whose
// oom_score stayed the same across the read.
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { buildSnapshot } from '../../src/core/snapshot.js';
import { Sampler } from '../../src/system/sampler.js';
import { buildHolder, startCHolder, stopCHolders, type CHolder } from '../helpers/c-holder.js';
import { needKernel } from '../helpers/kernel.js';

afterAll(stopCHolders);

function reread(pid: number): number | null {
  try { return Number(readFileSync(`/proc/${pid}/oom_score`, 'utf8')); } catch { return null; }
}

describe('predicted oom_score on the live kernel', () => {
  it('matches the kernel for every stable process', async (ctx) => {
    needKernel(ctx, process.platform === 'linux' && /^\d/.test(readFileSync('/proc/sys/kernel/osrelease', 'utf8')), 'no Linux /proc');
    const bin = buildHolder();
    needKernel(ctx, bin !== null, 'no C compiler (cc) to build the memory holder');
    const holders: CHolder[] = [];
    for (const [mib, adj] of [[8, 0], [64, 100], [200, 500], [32, 1000], [120, 1]] as const) holders.push(await startCHolder(bin as string, { mib, adj }));
    let compared = 0;
    let matched = 0;
    const mismatches: string[] = [];
    for (let round = 0; round < 5; round++) {
      const sample = new Sampler('/proc').sample(Date.now());
      const { snapshot } = buildSnapshot(sample, { users: new Map() });
      for (const p of snapshot.processes) {
        if (p.oomScore === null || p.predictedOomScore === null) continue;
        if (reread(p.pid) !== p.oomScore) continue; // changed during the read: not comparable
        compared++;
        if (p.predictedOomScore === p.oomScore) matched++;
        else mismatches.push(`${p.pid} ${p.comm}: kernel ${p.oomScore} predicted ${p.predictedOomScore}`);
      }
      // Our holders must be ranked in the order their badness implies.
      const ours = snapshot.processes.filter((p) => holders.some((h) => h.pid === p.pid));
      expect(ours.map((p) => p.oomScoreAdj)).toEqual([1000, 500, 100, 1, 0]);
    }
    console.log(`real kernel: predicted oom_score matched ${matched}/${compared} stable processes (${((100 * matched) / compared).toFixed(2)}%)`);
    expect(mismatches).toEqual([]);
    expect(compared).toBeGreaterThan(20);
  });
});
