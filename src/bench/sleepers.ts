// The process table of a benchmark: `n` sleeping processes, forked by one shell in its own
// process group, ended together (by that group, never by name) when the measurement is done.
import { spawn } from 'node:child_process';

export async function startSleepers(n: number): Promise<() => void> {
  if (n <= 0) return () => {};
  const sh = spawn('sh', ['-c', `i=0; while [ $i -lt ${n} ]; do sleep 3600 & i=$((i+1)); done; echo up; wait`], {
    detached: true,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((r) =>
    sh.stdout.on('data', (d: Buffer) => {
      if (d.toString().includes('up')) r();
    }),
  );
  return () => {
    try {
      process.kill(-(sh.pid as number), 'SIGKILL');
    } catch {
      /* already gone */
    }
  };
}
