// Helpers for tests on the real kernel: memory-holding processes the test starts (and only
// those are ever killed, by pid), memory cgroups it creates and always removes, and the
// skip-with-a-reason rule that turns into a failure under OOMTOP_REQUIRE_KERNEL=1.
import { spawn, type ChildProcess } from 'node:child_process';
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

// A python3 process that touches `mib` MiB (anonymous, so rss is exact and stays put),
// optionally growing by `growMib` every 20 ms once told to on stdin.
const HOLDER = `
import sys, os, time, mmap
mib = int(sys.argv[1]); grow = int(sys.argv[2])
held = []
def take(n):
    if n <= 0: return
    m = mmap.mmap(-1, n << 20)
    for i in range(0, n << 20, 4096): m[i] = 1
    held.append(m)
take(mib)
sys.stdout.write("ready\\n"); sys.stdout.flush()
if grow:
    sys.stdin.readline()
    while True:
        take(grow); time.sleep(0.02)
else:
    while True: time.sleep(3600)
`;

export interface Holder {
  child: ChildProcess;
  pid: number;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Start allocating (growers only). */
  go(): void;
}

const started = new Set<ChildProcess>();

export async function startHolder(mib: number, opts: { adj?: number; growMib?: number; cgroup?: string } = {}): Promise<Holder> {
  const child = spawn('python3', ['-c', HOLDER, String(mib), String(opts.growMib ?? 0)], { stdio: ['pipe', 'pipe', 'inherit'] });
  started.add(child);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => { started.delete(child); resolve({ code, signal }); });
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error('python3 did not start');
  // Join the cgroup before touching memory so the charge lands there.
  if (opts.cgroup) writeFileSync(join(opts.cgroup, 'cgroup.procs'), String(pid));
  if (opts.adj !== undefined) writeFileSync(`/proc/${pid}/oom_score_adj`, String(opts.adj));
  await new Promise<void>((resolve, reject) => {
    let buf = '';
    child.stdout!.on('data', (d: Buffer) => { buf += d.toString(); if (buf.includes('ready')) resolve(); });
    void exited.then((e) => reject(new Error(`holder exited before ready: ${JSON.stringify(e)}`)));
  });
  return { child, pid, exited, go: () => child.stdin!.write('go\n') };
}

/** Kills every holder this test file started (by pid: only our own children). */
export async function stopHolders(): Promise<void> {
  const waits: Promise<unknown>[] = [];
  for (const c of started) {
    waits.push(new Promise((r) => c.once('exit', r)));
    c.kill('SIGKILL');
  }
  await Promise.all(waits);
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
    try { rmdirSync(dir); return; } catch { await new Promise((r) => setTimeout(r, 100)); }
  }
  rmdirSync(dir);
}
