// (d) Bounded memory whatever the input: every command against a 1 GiB audit log and a
// 1 GiB kernel log, peak resident memory (VmHWM, polled) and wall time; goal 150 MiB each.
// A benchmark: it prints figures, it asserts nothing. OOMTOP_BENCH_BIG_MIB sets the size.
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const MIB = Number(process.env.OOMTOP_BENCH_BIG_MIB ?? 1024);
const GOAL_MIB = 150;

/** Writes `block` again and again until the file holds `bytes`. */
function fill(path: string, block: string, bytes: number): void {
  const fd = openSync(path, 'w', 0o600);
  const buf = Buffer.from(block.repeat(Math.max(1, Math.floor((4 << 20) / block.length))));
  try {
    for (let n = 0; n < bytes; n += buf.length) writeSync(fd, buf);
  } finally {
    closeSync(fd);
  }
}

/** Runs a command; returns its peak resident memory (MiB, from VmHWM polled every 10 ms), wall ms and exit code. */
async function peak(
  cmd: string,
  args: string[],
  env: Record<string, string>,
): Promise<{ mib: number; ms: number; code: number | null; err: string }> {
  const t0 = Date.now();
  const c = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let hwm = 0;
  let err = '';
  c.stderr.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const poll = setInterval(() => {
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${c.pid}/status`, 'utf8'));
      if (m) hwm = Math.max(hwm, Number(m[1]));
    } catch {
      /* exited */
    }
  }, 10);
  const code = await new Promise<number | null>((r) => c.once('exit', (x) => r(x)));
  clearInterval(poll);
  return { mib: hwm / 1024, ms: Date.now() - t0, code, err: err.trim().split('\n')[0] ?? '' };
}

export async function benchBounded(cli: string): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'oomtop-big-'));
  try {
    const state = join(dir, 'state');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(state, { mode: 0o700 });
    const rec = (i: number) =>
      `{"id":"b${i}","time":"2026-11-26T12:00:00.000Z","user":"root","uid":0,"source":"set","pid":${900000 + i},"startTime":1,"comm":"bench","old":0,"new":${i},"result":"ok"}\n`;
    fill(join(state, 'audit.jsonl'), Array.from({ length: 64 }, (_, i) => rec(i)).join(''), MIB << 20);
    const oom = `${[
      '[ 1000.000000] java invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0',
      '[ 1000.000001] Tasks state (memory values in pages):',
      '[ 1000.000002] [  pid  ]   uid  tgid total_vm      rss pgtables_bytes swapents oom_score_adj name',
      ...Array.from(
        { length: 20 },
        (_, i) =>
          `[ 1000.000003] [ ${String(3000 + i).padStart(6)}]  1000  ${3000 + i}   200000    ${10000 + i}        655360        0             0 worker${i}`,
      ),
      '[ 1000.000004] oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,global_oom,task_memcg=/,task=worker19,pid=3019,uid=1000',
      '[ 1000.000005] Out of memory: Killed process 3019 (worker19) total-vm:800000kB, anon-rss:40000kB, file-rss:0kB, shmem-rss:0kB, UID:1000 pgtables:640kB oom_score_adj:0',
      ...Array.from(
        { length: 200 },
        (_, i) =>
          `[ 1000.1${String(i).padStart(5, '0')}] usb 1-1: some unrelated driver message number ${i} with a little text`,
      ),
    ].join('\n')}\n`;
    const klog = join(dir, 'kern.log');
    fill(klog, oom, MIB << 20);
    const env = { OOMTOP_STATE_DIR: state };
    console.log(
      `\n(d) bounded memory: a ${MIB} MiB audit log and a ${MIB} MiB kernel log (goal: every command under ${GOAL_MIB} MiB resident)`,
    );
    const node = process.execPath;
    const runs: Array<[string, string[]]> = [
      ['log --limit 5', ['log', '--limit', '5']],
      ['log --format json (streamed to /dev/null)', ['log', '--format', 'json']],
      ['undo --dry-run (reads the log from its end)', ['undo', '--dry-run']],
      [
        `set ${process.pid} --adj 0 --dry-run (this process's records)`,
        ['set', String(process.pid), '--adj', '0', '--dry-run'],
      ],
      [`reset ${process.pid}`, ['reset', String(process.pid)]],
      ['history --from <kernel log>', ['history', '--from', klog]],
      ['history --from <kernel log> --format json', ['history', '--from', klog, '--format', 'json']],
      ['history --from /dev/urandom (stops with an error)', ['history', '--from', '/dev/urandom']],
    ];
    for (const [label, args] of runs) {
      const r = await peak(node, [cli, ...args], env);
      const verdict = r.mib <= GOAL_MIB ? 'ok' : 'OVER';
      console.log(
        `  ${label.padEnd(56)} ${r.mib.toFixed(0).padStart(5)} MiB ${String(r.ms).padStart(7)} ms  exit ${r.code}  ${verdict}${r.code ? `  (${r.err.slice(0, 80)})` : ''}`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
