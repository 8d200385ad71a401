// The OOM-domain model against real kernel kills. In a memory cgroup of its own with a
// 200 MiB limit, the test starts holders of chosen sizes and (raised) adj values, asks
// `oomtop simulate` for the kill sequence, then lets a grower push the cgroup over its limit
// and reads whom the kernel killed: SIGKILL exits, memory.oom_control's oom_kill count and
// the kernel log's "Killed process" lines. Never a global OOM: the limit is tiny next to
// the machine's memory. Only processes the test started are killed, by pid; the cgroup is
// removed even when the test fails.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { parseKeyValues } from '../../src/core/memcg.js';
import type { Simulation } from '../../src/core/simulate.js';
import { readKmsg } from '../../src/system/kernel-log.js';
import { buildHolder, startCHolder, stopCHolders, type CHolder } from '../helpers/c-holder.js';
import { createV1Cgroup, needKernel, removeCgroup, V1_MEMORY, v1MemoryWritable } from '../helpers/kernel.js';

const CLI = join(import.meta.dirname, '../../dist/bin/oomtop.js');
const LIMIT = 200 * 1024 * 1024;
const cgroups: string[] = [];
const tally = { predicted: 0, matched: 0 };

afterEach(async () => {
  await stopCHolders();
  for (const c of cgroups.splice(0)) await removeCgroup(c);
});
afterAll(() => {
  if (tally.predicted)
    console.log(
      `real memcg OOM kills: ${tally.matched} of ${tally.predicted} predicted victims matched the kernel's choice`,
    );
});

function ready(ctx: { skip: (note?: string) => void }): string {
  needKernel(ctx, v1MemoryWritable(), `the cgroup v1 memory controller is not writable at ${V1_MEMORY} (needs root)`);
  const bin = buildHolder();
  needKernel(ctx, bin !== null, 'no C compiler (cc) to build the memory holder');
  return bin as string;
}

function simulate(cgroup: string, extra: string[] = []): Simulation {
  const r = spawnSync('node', [CLI, 'simulate', '--cgroup', `/${basename(cgroup)}`, '--format', 'json', ...extra], {
    encoding: 'utf8',
    maxBuffer: 256 << 20,
  });
  if (r.status !== 0) throw new Error(`oomtop simulate failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as Simulation;
}

const oomKills = (cgroup: string) =>
  parseKeyValues(readFileSync(join(cgroup, 'memory.oom_control'), 'utf8')).get('oom_kill') ?? 0;

/** The pids the kernel log says it killed in this (uniquely named) cgroup, in order. */
function killedInLog(cgroup: string): number[] {
  const name = `/${basename(cgroup)}`;
  const lines: string[] = [];
  readKmsg('/dev/kmsg', (l) => lines.push(l), { lines: 0, bytes: 0, skippedLong: 0 });
  const out: number[] = [];
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i] as string;
    const m = /Memory cgroup out of memory: Killed process (\d+) /.exec(l);
    // the oom-kill: summary line just before names the memcg
    if (m && lines.slice(Math.max(0, i - 3), i).some((x) => x.includes(`oom_memcg=${name},`))) out.push(Number(m[1]));
  }
  return out;
}

async function waitFor(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('memcg OOM kills on the real kernel (cgroup v1)', () => {
  it('predicts a sequence of three kills in order', async (ctx) => {
    const bin = ready(ctx);
    const cg = createV1Cgroup('oomtop-seq', LIMIT);
    cgroups.push(cg);
    // 30 MiB each; adj makes the order; the grower (adj 0) stays below all of them.
    const holders: CHolder[] = [];
    for (const adj of [800, 1000, 300, 900]) holders.push(await startCHolder(bin, { mib: 30, adj, cgroup: cg }));
    const grower = await startCHolder(bin, { mib: 1, cgroup: cg, growMib: 1, budgetMib: 150 });
    const sim = simulate(cg);
    expect(sim.domain).toMatchObject({ kind: 'memcg', path: `/${basename(cg)}`, cgroupVersion: 1, totalPages: 51_200 });
    const predicted = sim.sequence.slice(0, 3).map((s) => s.pid);
    expect(predicted).toEqual([holders[1]!.pid, holders[3]!.pid, holders[0]!.pid]);
    const died: number[] = [];
    for (const h of holders)
      void h.exit.then((e) => {
        if (e.signal === 'SIGKILL') died.push(h.pid);
      });
    grower.grow();
    await waitFor(() => died.length >= 3, 20_000, 'three OOM kills');
    grower.child.kill('SIGKILL');
    await grower.exit;
    // Kills can land milliseconds apart, so exit events may arrive out of order: the kernel
    // log gives the order; the SIGKILL exits and the cgroup's counter confirm the victims.
    expect([...died].sort()).toEqual([...predicted].sort());
    expect(oomKills(cg)).toBeGreaterThanOrEqual(3);
    const order = killedInLog(cg).slice(0, 3);
    expect(order).toEqual(predicted);
    tally.predicted += 3;
    tally.matched += predicted.filter((pid, i) => order[i] === pid).length;
  });

  it('breaks a tie as the kernel does: the later-scanned task dies', async (ctx) => {
    const bin = ready(ctx);
    // Warm the page cache and page-table paths once, so both holders fault alike.
    await startCHolder(bin, { mib: 40, cpu: 0 });
    await stopCHolders();
    for (let round = 0; round < 2; round++) {
      const cg = createV1Cgroup(`oomtop-tie${round}`, LIMIT);
      cgroups.push(cg);
      const a = await startCHolder(bin, { mib: 40, adj: 600, cgroup: cg, cpu: 0 });
      const b = await startCHolder(bin, { mib: 40, adj: 600, cgroup: cg, cpu: 0 });
      const grower = await startCHolder(bin, { mib: 1, cgroup: cg, growMib: 1, budgetMib: 150 });
      const sim = simulate(cg);
      expect(sim.sequence[0]!.badnessPages).toBe(sim.sequence[1]!.badnessPages);
      const predicted = sim.sequence[0]!.pid;
      expect(predicted).toBe(b.pid);
      await Promise.race([
        a.exit,
        b.exit,
        (grower.grow(),
        new Promise<number>((_, rej) => setTimeout(() => rej(new Error('no OOM kill within 20 s')), 20_000))),
      ]);
      grower.child.kill('SIGKILL');
      await grower.exit;
      const first = killedInLog(cg)[0];
      expect(first).toBe(predicted);
      tally.predicted += 1;
      tally.matched += first === predicted ? 1 : 0;
      await stopCHolders();
      await removeCgroup(cg);
      cgroups.splice(cgroups.indexOf(cg), 1);
    }
  });

  it('weighs adj by the cgroup limit: the order inside differs from the global oom_score order', async (ctx) => {
    const bin = ready(ctx);
    const cg = createV1Cgroup('oomtop-weigh', LIMIT);
    cgroups.push(cg);
    // One point of adj weighs totalpages/1000: ~24 MiB on this machine, 0.2 MiB in a
    // 200 MiB cgroup. adj 5 puts a 30 MiB process ahead of a 100 MiB one globally, not inside.
    const big = await startCHolder(bin, { mib: 100, cgroup: cg });
    const weighted = await startCHolder(bin, { mib: 30, adj: 5, cgroup: cg });
    const grower = await startCHolder(bin, { mib: 1, cgroup: cg, growMib: 1, budgetMib: 150 });
    const sim = simulate(cg);
    const globalOrder = JSON.parse(
      spawnSync('node', [CLI, 'snapshot', '--format', 'json'], { encoding: 'utf8', maxBuffer: 256 << 20 }).stdout,
    ) as { processes: Array<{ pid: number; rank: number | null }> };
    const rankOf = (pid: number) => globalOrder.processes.find((p) => p.pid === pid)?.rank ?? Infinity;
    expect(rankOf(weighted.pid)).toBeLessThan(rankOf(big.pid)); // global: the adj 5 one first
    expect(sim.sequence[0]!.pid).toBe(big.pid); // in the cgroup: the big one first
    await Promise.race([
      big.exit,
      weighted.exit,
      (grower.grow(),
      new Promise<number>((_, rej) => setTimeout(() => rej(new Error('no OOM kill within 20 s')), 20_000))),
    ]);
    grower.child.kill('SIGKILL');
    await grower.exit;
    const first = killedInLog(cg)[0];
    expect(first).toBe(big.pid);
    tally.predicted += 1;
    tally.matched += first === big.pid ? 1 : 0;
  });
});
