// Helpers for tests on the real kernel: memory cgroups a test creates and always removes,
// and the skip-with-a-reason rule that turns into a failure under OOMTOP_REQUIRE_KERNEL=1.
// (Memory holders: c-holder.ts.)
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const REQUIRE_KERNEL = process.env.OOMTOP_REQUIRE_KERNEL === '1';
export const V1_MEMORY = '/sys/fs/cgroup/memory';

/** Skips the test with a printed reason, or fails it when the kernel is required. */
export function needKernel(ctx: { skip: (note?: string) => void }, ok: boolean, reason: string): void {
  if (ok) return;
  if (REQUIRE_KERNEL) throw new Error(`OOMTOP_REQUIRE_KERNEL=1 but ${reason}`);
  console.warn(`skipped: ${reason}`);
  ctx.skip(reason);
}

export function v1MemoryWritable(): boolean {
  return existsSync(join(V1_MEMORY, 'cgroup.procs')) && process.getuid?.() === 0;
}

/** Creates a uniquely named v1 memory cgroup with a limit; remove it with removeCgroup. */
export function createV1Cgroup(name: string, limitBytes: number): string {
  const dir = join(V1_MEMORY, `${name}-${process.pid}-${Date.now()}`);
  mkdirSync(dir);
  writeFileSync(join(dir, 'memory.limit_in_bytes'), String(limitBytes));
  return dir;
}

export async function removeCgroup(dir: string): Promise<void> {
  if (!existsSync(dir)) return;
  for (let i = 0; i < 50; i++) {
    const procs = readFileSync(join(dir, 'cgroup.procs'), 'utf8').trim();
    if (!procs) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  for (let i = 0; i < 20; i++) {
    try {
      rmdirSync(dir);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  rmdirSync(dir);
}
