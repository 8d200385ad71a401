// After a real memcg OOM kill of a process this test started: the kernel log read from
// /dev/kmsg has the event with the right victim, the timeline names it and the cgroup's
// counter agrees with the log (and catches a saved log that lost the kill), and `oomtop
// check` with that process in the baseline says to start it again with its recorded
// command (exit 2, CRITICAL), not to reboot.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { OomEvent } from '../../src/core/parse/kernel-log.js';
import { buildHolder, startCHolder, stopCHolders } from '../helpers/c-holder.js';
import { createV1Cgroup, needKernel, removeCgroup, V1_MEMORY, v1MemoryWritable } from '../helpers/kernel.js';

const CLI = join(import.meta.dirname, '../../dist/bin/oomtop.js');
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
    // the timeline names it: the kernel, the time, its memcg, the victim
    expect(table.stdout).toMatch(
      new RegExp(
        `\\d{4}-\\d{2}-\\d{2}T[\\d:.]+Z \\([\\d.]+ s after boot\\)  kernel  memcg /${basename(cg)}  invoked by holder[^\\n]*\\n  killed: holder ${victim.pid} uid 0 in /${basename(cg)} `,
      ),
    );
    const timeline = (
      JSON.parse(
        spawnSync('node', [CLI, 'history', '--source', 'kmsg', '--killer', 'kernel', '--format', 'json'], {
          encoding: 'utf8',
          env,
        }).stdout,
      ) as { timeline: Array<{ killer: string; victims: Array<{ pid: number; cgroup: string }> }> }
    ).timeline;
    expect(timeline.filter((e) => e.victims.some((v) => v.pid === victim.pid))).toEqual([
      expect.objectContaining({ killer: 'kernel', victims: [expect.objectContaining({ cgroup: `/${basename(cg)}` })] }),
    ]);

    // A saved log that lost the kill's lines: the cgroup's counter still holds it, and history says so.
    const kmsg = spawnSync('node', [CLI, 'history', '--source', 'kmsg', '--format', 'json'], { encoding: 'utf8', env });
    expect(kmsg.status).toBe(0);
    const lossy = join(state, 'lossy.log');
    const dmesg = spawnSync('dmesg', [], { encoding: 'utf8' }).stdout.split('\n');
    writeFileSync(
      lossy,
      dmesg.filter((l) => !l.includes(`Killed process ${victim.pid} `) && !l.includes(`pid=${victim.pid},`)).join('\n'),
    );
    const lost = spawnSync('node', [CLI, 'history', '--from', lossy], { encoding: 'utf8', env });
    expect(lost.stdout).toContain(
      `note: memory cgroup /${basename(cg)} counted ${counted} OOM kill(s) (its memory.events / memory.oom_control), the log shows ${counted - 1} in it: 1 missing`,
    );

    const chk = spawnSync('node', [CLI, 'check', '--source', 'kmsg'], { encoding: 'utf8', env });
    // One kill inside a small memcg on a healthy host, with complete evidence: restart it, with
    // the exact command recorded in the baseline, not a reboot.
    expect(chk.status).toBe(2);
    expect(chk.stdout).toMatch(
      new RegExp(
        `^OOMTOP CRITICAL - restart: cmdline .* is killed by the OOM killer \\(kernel, \\d{4}-[\\d-]+T[\\d:.]+Z, memcg /${basename(cg)}\\); no unit runs it`,
      ),
    );
    expect(chk.stdout).toContain(`\n  start again: cd ${process.cwd()} && ${bin} 30 0 0\n`);
    expect(chk.stdout).toMatch(/killed by the OOM killer +cmdline/);
    expect(chk.stdout).not.toMatch(/reboot/);
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
