// Deterministic memory holders (test/helpers/c/holder.c, built with the system's cc) for
// the memory-cgroup OOM tests: started by the test, moved into its cgroup before they touch
// memory, and killed only by pid.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { arch as nodeArch, tmpdir } from 'node:os';
import { join } from 'node:path';

let built: string | null | undefined;

/** Path of the built holder, or null when no C compiler is there. */
export function buildHolder(): string | null {
  if (built !== undefined) return built;
  const out = join(mkdtempSync(join(tmpdir(), 'oomtop-holder-')), 'holder');
  const src = join(import.meta.dirname, 'c/holder.c');
  // Static: no shared-library pages, whose fault-around count varies between two runs.
  let cc = spawnSync('cc', ['-O1', '-static', '-o', out, src], { encoding: 'utf8' });
  if (cc.status !== 0) cc = spawnSync('cc', ['-O1', '-o', out, src], { encoding: 'utf8' });
  built = cc.status === 0 ? out : null;
  return built;
}

export interface CHolder {
  child: ChildProcess;
  pid: number;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
  /** Start growing (growers only). */
  grow(): void;
}

const live = new Set<ChildProcess>();

export async function startCHolder(
  bin: string,
  o: { mib: number; adj?: number; cgroup?: string; growMib?: number; budgetMib?: number; cpu?: number },
): Promise<CHolder> {
  const args = [String(o.mib), String(o.growMib ?? 0), String(o.budgetMib ?? 0)];
  // For ties: pinned to one CPU, two holders fault the same pages in the same order, so the
  // per-CPU rss counters (which oom_badness() reads approximately) fold at the same points;
  // without address randomisation their stacks span the same number of pages.
  const child =
    o.cpu === undefined
      ? spawn(bin, args, { stdio: ['pipe', 'pipe', 'inherit'] })
      : spawn('setarch', [arch(), '-R', 'taskset', '-c', String(o.cpu), bin, ...args], {
          stdio: ['pipe', 'pipe', 'inherit'],
        });
  live.add(child);
  const pid = child.pid as number;
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) => {
    child.once('exit', (code, signal) => {
      live.delete(child);
      resolve({ code, signal, at: Date.now() });
    });
  });
  if (o.cgroup) writeFileSync(join(o.cgroup, 'cgroup.procs'), String(pid));
  if (o.adj !== undefined) writeFileSync(`/proc/${pid}/oom_score_adj`, String(o.adj));
  child.stdin!.write('a');
  await new Promise<void>((resolve, reject) => {
    let buf = '';
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      if (buf.includes('ready')) resolve();
    });
    void exit.then((e) => reject(new Error(`holder ${pid} exited before it was ready: ${JSON.stringify(e)}`)));
  });
  return {
    child,
    pid,
    exit,
    grow: () => {
      child.stdin!.write('g');
    },
  };
}

export async function stopCHolders(): Promise<void> {
  const waits: Promise<unknown>[] = [];
  for (const c of live) {
    waits.push(new Promise((r) => c.once('exit', r)));
    c.kill('SIGKILL');
  }
  await Promise.all(waits);
}

function arch(): string {
  return nodeArch() === 'x64' ? 'x86_64' : nodeArch() === 'arm64' ? 'aarch64' : nodeArch();
}
