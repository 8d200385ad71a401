// After a real memcg OOM kill of a process this test started: the kernel log read from
// /dev/kmsg has the event with the right victim, and `oomtop check` with that process in
// the baseline reports it killed and exits 2 (CRITICAL).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { OomEvent } from '../../src/core/parse/kernel-log.js';
import { buildHolder, startCHolder, stopCHolders } from '../helpers/c-holder.js';
import { createV1Cgroup, needKernel, removeCgroup, V1_MEMORY, v1MemoryWritable } from '../helpers/kernel.js';

const CLI = join(import.meta.dirname, '../../dist/cli.js');
const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  await stopCHolders();
  for (const f of cleanup.splice(0).reverse()) await f();
});

describe('history and check after a real OOM kill', () => {
  it('finds the event in /dev/kmsg and reports the critical process killed (exit 2)', async (ctx) => {
    needKernel(ctx, v1MemoryWritable(), `the cgroup v1 memory controller is not writable at ${V1_MEMORY} (needs root)`);
    const bin = buildHolder();
    needKernel(ctx, bin !== null, 'no C compiler (cc) to build the memory holder');
    const state = mkdtempSync(join(tmpdir(), 'oomtop-after-'));
    cleanup.push(() => rmSync(state, { recursive: true, force: true }));
    const cg = createV1Cgroup('oomtop-after', 200 * 1024 * 1024);
    cleanup.push(() => removeCgroup(cg));
    const env = { ...process.env, OOMTOP_STATE_DIR: state };
    const victim = await startCHolder(bin as string, { mib: 30, adj: 900, cgroup: cg });
    const grower = await startCHolder(bin as string, { mib: 1, cgroup: cg, growMib: 1, budgetMib: 185 });
    const pattern = `${(bin as string).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} 30 0 0$`;
    const saved = spawnSync('node', [CLI, 'baseline', 'save', '--critical-cmdline', pattern], {
      encoding: 'utf8',
      env,
    });
    expect(saved.stderr).toBe('');
    expect(saved.stdout).toMatch(/baseline saved to .*: 1 critical rule\(s\), 1 process\(es\) running now/);
    expect(spawnSync('node', [CLI, 'check'], { encoding: 'utf8', env }).status).toBe(0);

    grower.grow();
    const exit = await victim.exit;
    expect(exit.signal).toBe('SIGKILL');
    grower.child.kill('SIGKILL');
    await grower.exit;

    const hist = spawnSync('node', [CLI, 'history', '--source', 'kmsg', '--format', 'json'], { encoding: 'utf8', env });
    expect(hist.status).toBe(0);
    const events = (JSON.parse(hist.stdout) as { events: OomEvent[] }).events;
    const ours = events.find((e) => e.victims.some((v) => v.pid === victim.pid));
    expect(ours).toMatchObject({
      constraint: 'CONSTRAINT_MEMCG',
      domain: `/${basename(cg)}`,
      incomplete: false,
      matchesRule: true,
      invoker: { comm: 'holder' },
    });
    expect(ours!.victims[0]).toMatchObject({ pid: victim.pid, comm: 'holder', adj: 900, uid: 0 });
    expect(ours!.wall).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    // The cgroup's own counter and the log agree: no kill of it is reported missing.
    const counted = Number(/^oom_kill (\d+)$/m.exec(readFileSync(join(cg, 'memory.oom_control'), 'utf8'))?.[1]);
    const logged = events.filter((e) => e.domain === `/${basename(cg)}`).reduce((n, e) => n + e.victims.length, 0);
    expect(counted).toBeGreaterThanOrEqual(1);
    expect(logged).toBe(counted);
    const table = spawnSync('node', [CLI, 'history', '--source', 'kmsg'], { encoding: 'utf8', env });
    expect(table.stdout).not.toContain(`memory cgroup /${basename(cg)} counted`);

    const chk = spawnSync('node', [CLI, 'check', '--source', 'kmsg'], { encoding: 'utf8', env });
    expect(chk.status).toBe(2);
    expect(chk.stdout).toMatch(
      /^OOMTOP CRITICAL - reboot recommended: cmdline .* is killed by the OOM killer and no systemd unit is known to restart it/,
    );
    expect(chk.stdout).toMatch(/killed by the OOM killer +cmdline/);
    const json = JSON.parse(
      spawnSync('node', [CLI, 'check', '--source', 'kmsg', '--format', 'json'], { encoding: 'utf8', env }).stdout,
    ) as { exitCode: number; critical: Array<{ state: string }> };
    expect(json).toMatchObject({ exitCode: 2, critical: [{ state: 'killed by the OOM killer' }] });
    const prom = join(state, 'oomtop.prom');
    expect(
      spawnSync('node', [CLI, 'check', '--source', 'kmsg', '--format', 'prometheus', '--output', prom], {
        encoding: 'utf8',
        env,
      }).status,
    ).toBe(2);
  });
});
