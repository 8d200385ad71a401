import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { unreadable } from '../../src/core/read.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { UserError } from '../../src/core/errors.js';
import { ProcFs } from '../../src/system/read/procfs.js';
import { nativeReader, nativeStatus } from '../../src/system/native.js';
import { ALL_NEEDS, MODEL_NEEDS, Sampler } from '../../src/system/sampler.js';
import { type FixtureProc, kernelOomScore, statLine, statusText, writeProcTree } from '../helpers/proc-tree.js';
import { needKernel } from '../helpers/kernel.js';
import { sameHiddenClass } from '../helpers/v8.js';

const BASIC = join(import.meta.dirname, '../fixtures/basic/proc');
const tmp = mkdtempSync(join(tmpdir(), 'oomtop-sampler-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The dashboard's needs for rows off screen: everything but the kernel's oom_score. */
const OFF_SCREEN = { ...ALL_NEEDS, oomScoreFor: new Set<number>() };

/** The dashboard's sampler on a fixture tree of `procs` at tmp/`name`. */
function incrementalOn(name: string, procs: FixtureProc[]) {
  const root = join(tmp, name);
  writeProcTree(root, { memTotalKb: 1000, swapTotalKb: 0 }, procs);
  return { root, s: new Sampler(root, { incremental: true }), needs: OFF_SCREEN };
}

describe('Sampler on the basic fixture', () => {
  const s = new Sampler(BASIC).sample(1_780_000_000_000);
  const byPid = new Map(s.processes.map((p) => [p.pid, p]));

  it('reads the system facts', () => {
    expect(s).toMatchObject({
      kernelRelease: '6.18.44-fixture',
      hostname: 'web01',
      pageSize: 4096,
      oomKillCount: 3,
      initIsGlobal: true,
      bootTime: 1_780_000_000,
      sysctls: { panicOnOom: 0, oomKillAllocatingTask: 0 },
    });
    expect(s.meminfo).toMatchObject({ memTotalKb: 4_000_000, swapTotalKb: 1_000_000 });
    expect(s.pressure?.some.avg10).toBe(1.5);
  });

  it('drops a pid that vanished mid-read', () => {
    expect(byPid.has(308)).toBe(false);
    expect(s.processes).toHaveLength(13);
  });

  it('reads rss from stat field 24 and the rest from status', () => {
    expect(byPid.get(300)).toMatchObject({
      comm: 'postgres',
      uid: 105,
      rssPages: 50_000,
      swapKb: 4000,
      pteKb: 400,
      oomScoreAdj: 0,
      cmdline: '/usr/lib/postgresql/15/bin/postgres -D /var/lib/postgresql/15/main',
      cgroup: '/system.slice/postgresql.service',
    });
  });

  it('keeps a comm with spaces and parentheses intact', () => {
    expect(byPid.get(304)?.comm).toBe('tmux: (server) x)');
  });

  it('marks kernel threads and zombies as having no mm', () => {
    expect(byPid.get(2)).toMatchObject({ hasMm: false, cmdline: '' });
    expect(byPid.get(303)).toMatchObject({ hasMm: false, state: 'Z' });
  });

  it('leaves malformed status fields unknown', () => {
    expect(byPid.get(305)).toMatchObject({ hasMm: true, pteKb: null, swapKb: null, uid: 0, rssPages: 7000 });
  });

  it('reads only the model files when asked to', () => {
    const m = new Sampler(BASIC).sample(0, MODEL_NEEDS);
    expect(m.processes.find((p) => p.pid === 300)).toMatchObject({ cmdline: null, cgroup: null, rssPages: 50_000 });
  });
});

describe('Sampler edge cases', () => {
  it('reports unreadable files as unknown, not as 0 (hidepid, other users)', () => {
    const root = join(tmp, 'hidden');
    writeProcTree(root, { memTotalKb: 1000, swapTotalKb: 0 }, [{ pid: 50, comm: 'secret', rssPages: 10 }]);
    class Denying extends Sampler {
      constructor() {
        super(root, { native: false });
        const deny = (rel: string) => /^50\/(status|oom_score)$/.test(rel);
        const orig = this.proc.tryRead.bind(this.proc);
        this.proc.tryRead = (rel: string, enc?: BufferEncoding) => (deny(rel) ? unreadable('EACCES') : orig(rel, enc));
        const origInt = this.proc.readInt.bind(this.proc);
        this.proc.readInt = (rel: string) => (deny(rel) ? unreadable('EACCES') : origInt(rel));
      }
    }
    const p = new Denying().sample(0).processes[0]!;
    expect(p).toMatchObject({ pid: 50, hasMm: null, uid: null, swapKb: null, oomScore: null, oomScoreAdj: 0 });
    expect(p.unreadable).toEqual(['status: EACCES', 'oom_score: EACCES']);
  });

  it('treats pid 1 of a child pid namespace as killable (not global init)', () => {
    const root = join(tmp, 'container');
    writeProcTree(root, { memTotalKb: 1000, swapTotalKb: 0, initNs: 'pid:[4026532200]' }, [
      { pid: 1, comm: 'app', rssPages: 10 },
    ]);
    expect(new Sampler(root).sample(0).initIsGlobal).toBe(false);
  });

  it('uses a live thread mm for a zombie leader whose threads run on (find_lock_task_mm)', () => {
    const root = join(tmp, 'zleader');
    writeProcTree(root, { memTotalKb: 1000, swapTotalKb: 0 }, [
      { pid: 60, comm: 'lead', state: 'Z', noMm: true, threads: 2 },
    ]);
    writeProcTree(join(root, '60/task'), { memTotalKb: 1000, swapTotalKb: 0 }, [
      { pid: 61, comm: 'lead', rssPages: 777, pteKb: 8 },
    ]);
    const p = new Sampler(root).sample(0).processes.find((x) => x.pid === 60)!;
    expect(p).toMatchObject({ hasMm: true, rssPages: 777, pteKb: 8 });
  });

  it('fails with a one-line UserError when the root is not a /proc', () => {
    const empty = join(tmp, 'empty');
    cpSync(join(BASIC, '300'), join(empty, '300'), { recursive: true });
    expect(() => new Sampler(empty).sample(0)).toThrow(UserError);
    expect(() => new Sampler(empty).sample(0)).toThrow(/not a proc filesystem \(no meminfo\)/);
    expect(() => new Sampler(join(tmp, 'missing')).sample(0)).toThrow(/not a proc filesystem/);
  });

  it('detects the page size from statm against the stat vsize', () => {
    expect(new Sampler('/proc').sample(0).pageSize).toBe(4096);
  });
});

describe('incremental Sampler (dashboard, watch)', () => {
  it('re-reads status only when stat shows the memory changed, and oom_score only where asked', () => {
    const root = join(tmp, 'incr');
    writeProcTree(root, { memTotalKb: 1000, swapTotalKb: 0 }, [
      { pid: 80, comm: 'a', rssPages: 10, pteKb: 8, oomScore: 5, cmdline: ['a', '1'] },
    ]);
    const s = new Sampler(root, { incremental: true });
    expect(s.sample(0).processes[0]).toMatchObject({ pteKb: 8, oomScore: 5, cmdline: 'a 1' });
    // status changes but stat does not: the cached status stands (nothing moved in memory)
    writeFileSync(join(root, '80/status'), statusText({ pid: 80, comm: 'a', rssPages: 10, pteKb: 12 }));
    writeFileSync(join(root, '80/cmdline'), 'b\0');
    const second = s.sample(0, { ...ALL_NEEDS, oomScoreFor: new Set() }).processes[0];
    expect(second).toMatchObject({ pteKb: 8, oomScore: null, cmdline: 'a 1' });
    // rss moved: status is read again
    writeFileSync(join(root, '80/stat'), statLine({ pid: 80, comm: 'a', rssPages: 11 }));
    expect(s.sample(0, { ...ALL_NEEDS, oomScoreFor: new Set([80]) }).processes[0]).toMatchObject({
      pteKb: 12,
      rssPages: 11,
      oomScore: 5,
    });
    // a new process with the same pid (other start time) is read whole
    writeFileSync(join(root, '80/stat'), statLine({ pid: 80, comm: 'b', rssPages: 11, startTime: 5 }));
    expect(s.sample(0).processes[0]).toMatchObject({ comm: 'b', cmdline: 'b' });
  });

  it('keeps the status while only CPU times move in stat, and reads it again when page faults move', () => {
    const proc = { pid: 81, comm: 'a', rssPages: 10, pteKb: 8 };
    const { root, s, needs } = incrementalOn('cpu-only', [proc]);
    expect(s.sample(0, needs).processes[0]).toMatchObject({ pteKb: 8, uid: 0 });
    writeFileSync(join(root, '81/status'), statusText({ ...proc, pteKb: 12 }));
    // utime 10 -> 11: the process ran, its memory did not move (status is not read)
    const line = statLine(proc);
    expect(line).toContain(' 100 0 0 0 10 5 ');
    writeFileSync(join(root, '81/stat'), line.replace(' 100 0 0 0 10 5 ', ' 100 0 0 0 11 5 '));
    expect(s.sample(0, needs).processes[0]).toMatchObject({ pteKb: 8, rssPages: 10, hasMm: true });
    // a minor fault with rss unchanged (a page in, another reclaimed): status is read again
    writeFileSync(join(root, '81/stat'), line.replace(' 100 0 0 0 10 5 ', ' 101 0 0 0 11 5 '));
    expect(s.sample(0, needs).processes[0]).toMatchObject({ pteKb: 12, rssPages: 10 });
  });

  it('hands on the same record while nothing moves: off screen, and across its refresh tick', () => {
    // The snapshot record made from a process sample is reused while the sample object is:
    // a new object per tick would rebuild 5,000 records every 2 s for nothing.
    const root = join(tmp, 'same');
    writeProcTree(root, { memTotalKb: 1000, swapTotalKb: 0 }, [
      { pid: 81, comm: 'a', rssPages: 10, oomScore: 5, cmdline: ['a'] },
    ]);
    const s = new Sampler(root, { incremental: true });
    const offScreen = { ...ALL_NEEDS, oomScoreFor: new Set<number>() };
    const read = s.sample(0).processes[0]!;
    const first = s.sample(0, offScreen).processes[0]!;
    expect(first).toMatchObject({ oomScore: null });
    // The copy is of a read sample's hidden class (one for all samples: the hot loops stay optimised).
    expect(sameHiddenClass(first, read)).toBe(true);
    // 40 ticks pass pid 81's refresh slice (1 tick in 32 re-reads status, cmdline and cgroup)
    for (let i = 0; i < 40; i++) expect(s.sample(0, offScreen).processes[0]).toBe(first);
    // something the model reads moves: a new record
    writeFileSync(join(root, '81/oom_score_adj'), '300\n');
    expect(s.sample(0, offScreen).processes[0]).toMatchObject({ oomScoreAdj: 300 });
    expect(s.sample(0, offScreen).processes[0]).not.toBe(first);
  });
});

describe('the rolling refresh (what stat does not show)', () => {
  it.for([true, false])(
    'picks up a new command line, uid and cgroup within 32 ticks, and a new process at once (native reads: %s)',
    (native) => {
      const root = join(tmp, `refresh-${native}`);
      const procs = [
        { pid: 64, comm: 'post', cmdline: ['postgres'], uid: 0, cgroup: '/a' },
        { pid: 65, comm: 'k', kthread: true },
      ];
      writeProcTree(root, { memTotalKb: 1000, swapTotalKb: 0 }, procs);
      const s = new Sampler(root, { incremental: true, native });
      expect(s.sample(0).processes[0]).toMatchObject({ cmdline: 'postgres', uid: 0, cgroup: '/a' });
      // setproctitle(), setuid() and a move to another cgroup leave stat as it was
      writeFileSync(join(root, '64/cmdline'), 'postgres: checkpointer\0');
      writeFileSync(join(root, '64/status'), statusText({ ...procs[0]!, uid: 70 }));
      writeFileSync(join(root, '64/cgroup'), '0::/b\n');
      // a new process appears with all its files read
      writeProcTree(join(tmp, `refresh-${native}-new`), { memTotalKb: 1000, swapTotalKb: 0 }, [
        { pid: 66, comm: 'new', cmdline: ['new', '-x'], uid: 5, cgroup: '/c' },
      ]);
      cpSync(join(tmp, `refresh-${native}-new/66`), join(root, '66'), { recursive: true });
      writeFileSync(join(root, 'stat'), 'cpu  1 2 3 4\nbtime 1780000000\nprocesses 101\n'); // its fork
      const seen: string[] = [];
      for (let i = 0; i < 32; i++) {
        const ps = s.sample(0).processes;
        if (i === 0) expect(ps.find((p) => p.pid === 66)).toMatchObject({ cmdline: 'new -x', uid: 5, cgroup: '/c' });
        const p = ps[0]!;
        seen.push(`${p.cmdline} ${p.uid} ${p.cgroup}`);
        expect(ps.find((p) => p.pid === 65)).toMatchObject({ cmdline: '', uid: 0 });
      }
      // one tick in 32 re-reads pid 64 (64 % 32 == 0), and from then on it stays read
      expect(new Set(seen)).toEqual(new Set(['postgres 0 /a', 'postgres: checkpointer 70 /b']));
      expect(seen.at(-1)).toBe('postgres: checkpointer 70 /b');
      s.close();
    },
  );
});

describe('exec() under an incremental sampler', () => {
  it('reads the command line again at once when stat shows a new comm (same pid, same start time)', () => {
    const root = join(tmp, 'exec');
    writeProcTree(root, { memTotalKb: 1000, swapTotalKb: 0 }, [
      { pid: 90, comm: 'sh', cmdline: ['sh', '-c', 'exec java -jar app.jar'] },
    ]);
    const s = new Sampler(root, { incremental: true });
    expect(s.sample(0).processes[0]).toMatchObject({ comm: 'sh', cmdline: 'sh -c exec java -jar app.jar' });
    writeFileSync(join(root, '90/stat'), statLine({ pid: 90, comm: 'java', rssPages: 0 }));
    writeFileSync(join(root, '90/cmdline'), 'java\0-jar\0app.jar\0');
    expect(s.sample(0).processes[0]).toMatchObject({ comm: 'java', cmdline: 'java -jar app.jar' });
    s.close();
  });
});

describe('the pid list of an incremental sampler', () => {
  it('walks /proc again only when the kernel counted a fork, and 1 tick in 32 regardless', () => {
    const root = join(tmp, 'forks');
    writeProcTree(root, { memTotalKb: 1000, swapTotalKb: 0 }, [
      { pid: 10, comm: 'a' },
      { pid: 11, comm: 'b' },
    ]);
    const s = new Sampler(root, { incremental: true });
    let walks = 0;
    const list = s.proc.listPids.bind(s.proc);
    s.proc.listPids = () => {
      walks++;
      return list();
    };
    const pidsOf = () => s.sample(0).processes.map((p) => p.pid);
    expect(pidsOf()).toEqual([10, 11]);
    expect(pidsOf()).toEqual([10, 11]);
    expect(walks).toBe(1);
    // A fork: the count moves, the list is walked and the new process is in it.
    cpSync(join(root, '11'), join(root, '12'), { recursive: true });
    writeFileSync(join(root, '12/stat'), statLine({ pid: 12, comm: 'c' }));
    writeFileSync(join(root, 'stat'), 'cpu  1 2 3 4\nbtime 1780000000\nprocesses 101\n');
    expect(pidsOf()).toEqual([10, 11, 12]);
    expect(walks).toBe(2);
    // No fork for 29 more ticks (up to tick 31): no walk. Tick 32 walks anyway.
    for (let tick = 4; tick <= 31; tick++) pidsOf();
    expect(walks).toBe(2);
    pidsOf();
    expect(walks).toBe(3);
    s.close();
  });

  it('walks every time when /proc/stat has no fork count', () => {
    const root = join(tmp, 'noforks');
    writeProcTree(root, { memTotalKb: 1000, swapTotalKb: 0 }, [{ pid: 10, comm: 'a' }]);
    writeFileSync(join(root, 'stat'), 'cpu  1 2 3 4\nbtime 1780000000\n');
    const s = new Sampler(root, { incremental: true });
    let walks = 0;
    const list = s.proc.listPids.bind(s.proc);
    s.proc.listPids = () => {
      walks++;
      return list();
    };
    for (let i = 0; i < 3; i++) s.sample(0);
    expect(walks).toBe(3);
    s.close();
  });
});

describe('calibration sample (the dashboard reads oom_score for the rows on screen only)', () => {
  // 8 processes; pid 14's oom_score file follows no kernel rule. Each sample reads the
  // shown pid 10 plus 3 others, taken round the table: the model sees pid 14 every other
  // sample, and the records keep oomScore null off screen.
  const total = 1_000_000 / 4;
  const procs = [10, 11, 12, 13, 14, 15, 16].map((pid) => ({
    pid,
    comm: `p${pid}`,
    rssPages: pid * 1000,
    oomScore: pid === 14 ? 999 : kernelOomScore(pid * 1000, 0, 0, 0, total),
  }));
  const root = join(tmp, 'calibration');
  writeProcTree(root, { memTotalKb: 1_000_000, swapTotalKb: 0 }, procs);

  for (const incremental of [false, true])
    it(`proves the model on a rolling few off screen (${incremental ? 'incremental' : 'one-shot'})`, () => {
      const s = new Sampler(root, { incremental, native: false });
      const needs = { ...ALL_NEEDS, oomScoreFor: new Set([10]), calibrationSample: 3 };
      const seen: string[] = [];
      for (let i = 0; i < 4; i++) {
        const x = s.sample(i, needs);
        expect(x.processes.filter((p) => p.oomScore !== null).map((p) => p.pid)).toEqual([10]);
        seen.push(`${x.model?.matched}/${x.model?.compared}`);
      }
      // 11 12 13 | 14 15 16 | 11 12 13 | 14 15 16 (10 is on screen, read every time)
      expect(seen).toEqual(['4/4', '3/4', '4/4', '3/4']);
      s.close();
    });

  it('reads no extra oom_score when every row reads it anyway', () => {
    const x = new Sampler(root).sample(0, { ...ALL_NEEDS, calibrationSample: 3 });
    expect(x.model?.compared).toBe(7);
  });
});

describe('the held slots of an incremental sampler (each process its own, whatever its row)', () => {
  it('knows a process unmoved by its held slot when the rows shift (a fork, an exit), without its stat text', () => {
    const { root, s, needs } = incrementalOn('shift', [
      { pid: 90, comm: 'a', rssPages: 10 },
      { pid: 92, comm: 'c', rssPages: 30, pteKb: 8 },
    ]);
    const at = (pid: number) => s.sample(0, needs).processes.find((p) => p.pid === pid);
    at(92);
    const c2 = at(92);
    // status moves with nothing in stat: a record made anew would show it
    writeFileSync(join(root, '92/status'), statusText({ pid: 92, comm: 'c', rssPages: 30, pteKb: 12 }));
    // a fork: 91 comes in before 92, whose row moves
    cpSync(join(root, '90'), join(root, '91'), { recursive: true });
    writeFileSync(join(root, '91/stat'), statLine({ pid: 91, comm: 'b', rssPages: 20 }));
    writeFileSync(join(root, 'stat'), 'cpu  1 2 3 4\nbtime 1780000000\nprocesses 101\n');
    // the process read anew, its stat parsed: readProcess (spied on) says which
    const read: number[] = [];
    const inner = s as unknown as { readProcess: (pid: number, ...rest: unknown[]) => unknown };
    const readProcess = inner.readProcess.bind(s);
    inner.readProcess = (pid, ...rest) => {
      read.push(pid);
      return readProcess(pid, ...rest);
    };
    const all = s.sample(0, needs).processes;
    expect(all.map((p) => p.pid)).toEqual([90, 91, 92]);
    expect(all[2]).toBe(c2);
    expect(all[2]?.pteKb).toBe(8);
    const kept = (s as unknown as { reuse: { get(pid: number): { statText: string | null } } }).reuse;
    if (s.readerName.includes('native')) {
      expect(read).toEqual([91]);
      expect(kept.get(92)?.statText).toBeNull();
    }
    // 91 exits and 92's memory moves: read again, wherever its row is
    rmSync(join(root, '91'), { recursive: true });
    writeFileSync(join(root, 'stat'), 'cpu  1 2 3 4\nbtime 1780000000\nprocesses 102\n');
    writeFileSync(join(root, '92/stat'), statLine({ pid: 92, comm: 'c', rssPages: 31 }));
    expect(at(92)).toMatchObject({ rssPages: 31, pteKb: 12 });
    s.close();
  });

  it('makes a record anew when only oom_score_adj moved while the rows shifted, from a stat read again', () => {
    const { root, s, needs } = incrementalOn('adj-shift', [
      { pid: 90, comm: 'a', rssPages: 10 },
      { pid: 92, comm: 'c', rssPages: 30, pteKb: 8 },
    ]);
    const at = (pid: number) => s.sample(0, needs).processes.find((p) => p.pid === pid);
    at(92);
    const before = at(92);
    cpSync(join(root, '90'), join(root, '91'), { recursive: true });
    writeFileSync(join(root, '91/stat'), statLine({ pid: 91, comm: 'b', rssPages: 20 }));
    writeFileSync(join(root, 'stat'), 'cpu  1 2 3 4\nbtime 1780000000\nprocesses 101\n');
    writeFileSync(join(root, '92/oom_score_adj'), '500\n');
    const moved = at(92);
    expect(moved).not.toBe(before);
    expect(moved).toMatchObject({ oomScoreAdj: 500, rssPages: 30, pteKb: 8, comm: 'c', unreadable: [] });
    // the record was made from a stat read after the slot's: the next read compares with nothing
    type Slots = { slotOf: Map<number, number>; slotLens: Int32Array[] };
    const held = (s as unknown as { inc: { held: Slots } }).inc.held;
    if (s.readerName.includes('native')) expect(held.slotLens[0]?.[held.slotOf.get(92) as number]).toBe(-1);
    writeFileSync(join(root, '92/stat'), statLine({ pid: 92, comm: 'c', rssPages: 31 }));
    expect(at(92)).toMatchObject({ oomScoreAdj: 500, rssPages: 31 });
    s.close();
  });

  it('reads no stat again from JavaScript for the refresh slice: its bytes come with the held reads', () => {
    const { root, s, needs } = incrementalOn('slice-bytes', [
      { pid: 90, comm: 'a', rssPages: 10 },
      { pid: 91, comm: 'b', rssPages: 20 },
      { pid: 92, comm: 'c', rssPages: 30 },
    ]);
    s.sample(0, needs);
    s.sample(0, needs);
    const held = (s as unknown as { inc: { held: { read: (pid: number, index: number) => unknown } } }).inc.held;
    const again: number[] = [];
    const read = held.read.bind(held);
    held.read = (pid, index, ...rest: unknown[]) => {
      if (index === 0) again.push(pid);
      return (read as (...a: unknown[]) => unknown)(pid, index, ...rest);
    };
    // 40 ticks pass every process's refresh slice (1 in 32), the pid list walked anew each tick
    for (let i = 0; i < 40; i++) {
      writeFileSync(join(root, 'stat'), `cpu  1 2 3 4\nbtime 1780000000\nprocesses ${200 + i}\n`);
      expect(s.sample(0, needs).processes.map((p) => p.rssPages)).toEqual([10, 20, 30]);
    }
    if (s.readerName.includes('native')) expect(again).toEqual([]);
    s.close();
  });

  it('never reuses a record made before a read that made none (the status unreadable in between)', () => {
    const proc = { pid: 85, comm: 'a', rssPages: 10, pteKb: 8 };
    const { root, s, needs } = incrementalOn('gap', [proc]);
    s.sample(0, needs);
    expect(s.sample(0, needs).processes[0]).toMatchObject({ rssPages: 10, pteKb: 8 });
    // rss moves while status cannot be read: a record with unknowns, none kept
    writeFileSync(join(root, '85/stat'), statLine({ ...proc, rssPages: 11 }));
    rmSync(join(root, '85/status'));
    mkdirSync(join(root, '85/status'));
    const gap = s.sample(0, needs).processes[0];
    expect(gap).toMatchObject({ rssPages: 11, pteKb: null });
    expect(gap?.unreadable.join()).toMatch(/^status: /);
    // stat reads as in the gap: still read whole, never the record from before it
    rmSync(join(root, '85/status'), { recursive: true });
    writeFileSync(join(root, '85/status'), statusText({ ...proc, rssPages: 11, pteKb: 12 }));
    expect(s.sample(0, needs).processes[0]).toMatchObject({ rssPages: 11, pteKb: 12, unreadable: [] });
    s.close();
  });

  it('an incremental sampler reads a stat longer than its held slot whole, and sees it move', () => {
    // a 300-character comm: the stat line is longer than the 384 bytes kept per process
    const proc = { pid: 71, comm: 'c'.repeat(300), rssPages: 10 };
    expect(statLine(proc).length).toBeGreaterThan(384);
    const { root, s, needs } = incrementalOn('long-stat', [proc, { pid: 72, comm: 'short', rssPages: 5 }]);
    for (let i = 0; i < 2; i++)
      expect(s.sample(0, needs).processes.map((p) => [p.comm.length, p.rssPages])).toEqual([
        [300, 10],
        [5, 5],
      ]);
    writeFileSync(join(root, '71/stat'), statLine({ ...proc, rssPages: 12 }));
    expect(s.sample(0, needs).processes[0]).toMatchObject({ comm: proc.comm, rssPages: 12 });
    s.close();
  });
});

describe("the dashboard's first sample: what the model needs, then the rows it shows", () => {
  const procs: FixtureProc[] = [
    { pid: 60, comm: 'a', rssPages: 10, cmdline: ['a', '-x'], cgroup: '/a.service' },
    { pid: 61, comm: 'b', rssPages: 20, cmdline: ['b'], cgroup: '/b.service' },
    { pid: 62, comm: 'kworker/0:1', kthread: true },
  ];
  const model = { ...MODEL_NEEDS, oomScoreFor: new Set<number>() };

  it('fills in the command line and cgroup of the rows asked for, and of no other', () => {
    const { root, s } = incrementalOn('details', procs);
    // unreadable (a directory here; ENOENT would say the process is gone)
    rmSync(join(root, '61/cmdline'));
    mkdirSync(join(root, '61/cmdline'));
    const first = s.sample(0, model);
    expect(first.processes.map((p) => [p.cmdline, p.cgroup])).toEqual([
      [null, null],
      [null, null],
      [null, null],
    ]);
    const filled = s.withDetails(first, new Set([60, 61, 62]));
    expect(filled.processes.map((p) => [p.cmdline, p.cgroup])).toEqual([
      ['a -x', '/a.service'],
      [null, '/b.service'],
      ['', '/'],
    ]);
    expect(filled.processes[1]?.unreadable).toEqual(['cmdline: EISDIR']);
    expect(filled.processes[0]).toMatchObject({ rssPages: 10, unreadable: [] });
    const one = s.withDetails(first, new Set([61]));
    expect(one.processes[0]).toBe(first.processes[0]);
    expect(one.processes[1]?.cgroup).toBe('/b.service');
    s.close();
  });

  it('reads every command line and cgroup at the next sample, in the refresh batch when the native reader is built', () => {
    const { s, needs } = incrementalOn('details-next', procs);
    s.sample(0, model);
    const fileByFile: string[] = [];
    const tryRead = s.proc.tryRead.bind(s.proc);
    s.proc.tryRead = (rel, encoding) => {
      fileByFile.push(rel);
      return tryRead(rel, encoding);
    };
    const next = s.sample(0, needs).processes;
    expect(next.map((p) => [p.cmdline, p.cgroup])).toEqual([
      ['a -x', '/a.service'],
      ['b', '/b.service'],
      ['', '/'],
    ]);
    if (s.readerName.includes('native')) expect(fileByFile.filter((f) => /cmdline|cgroup/.test(f))).toEqual([]);
    // and then they are kept: the sample after hands on the same records
    expect(s.sample(0, needs).processes[0]).toBe(next[0]);
    s.close();
  });
});

describe("the dashboard's first sample read ahead (readFirstAhead: the files read while the screen loads)", () => {
  const procs: FixtureProc[] = [
    { pid: 60, comm: 'a', rssPages: 10, cmdline: ['a'] },
    { pid: 61, comm: 'b', rssPages: 20, cmdline: ['b'] },
  ];
  const model = { ...MODEL_NEEDS, oomScoreFor: new Set<number>() };
  const grow = (root: string) => writeFileSync(join(root, '60/stat'), `${statLine({ ...procs[0]!, rssPages: 99 })}\n`);
  const rss = (s: Sampler, needs = model) => s.sample(0, needs).processes.map((p) => [p.pid, p.rssPages]);

  it('takes the bytes read ahead for the pids listed then, and lists again at the next sample', async (ctx) => {
    needKernel(ctx, nativeReader() !== null, `the native reader is not built (${nativeStatus()})`);
    const { root, s } = incrementalOn('ahead', procs);
    await s.readFirstAhead(model);
    grow(root); // after the reads: the first sample shows what was read ahead
    writeProcTree(join(tmp, 'ahead-new'), { memTotalKb: 1000, swapTotalKb: 0 }, [{ pid: 63, comm: 'c', rssPages: 3 }]);
    cpSync(join(tmp, 'ahead-new/63'), join(root, '63'), { recursive: true }); // no fork counted
    expect(rss(s)).toEqual([
      [60, 10],
      [61, 20],
    ]);
    // The list read ahead is older than the fork count read then: the next sample walks /proc.
    expect(rss(s)).toEqual([
      [60, 99],
      [61, 20],
      [63, 3],
    ]);
    s.close();
  });

  it('reads anew when the first sample asks for other files than were read ahead', async (ctx) => {
    needKernel(ctx, nativeReader() !== null, `the native reader is not built (${nativeStatus()})`);
    const { root, s } = incrementalOn('ahead-other', procs);
    await s.readFirstAhead(model);
    grow(root);
    expect(rss(s, OFF_SCREEN)).toEqual([
      [60, 99],
      [61, 20],
    ]);
    s.close();
  });

  it('settles at once with nothing to read ahead (no native reader, a second call, a one-shot sampler)', async () => {
    const root = join(tmp, 'ahead-none');
    writeProcTree(root, { memTotalKb: 1000, swapTotalKb: 0 }, procs);
    const js = new Sampler(root, { incremental: true, native: false });
    await js.readFirstAhead(model);
    grow(root);
    expect(rss(js)[0]).toEqual([60, 99]);
    js.close();
    const oneShot = new Sampler(root);
    await oneShot.readFirstAhead(model);
    expect(rss(oneShot)[0]).toEqual([60, 99]);
    const twice = new Sampler(root, { incremental: true });
    const first = twice.readFirstAhead(model);
    await twice.readFirstAhead(model);
    await first;
    expect(rss(twice)[0]).toEqual([60, 99]);
    twice.close();
  });

  it('settles, and the first sample says why, when /proc cannot be listed', async () => {
    const s = new Sampler(join(tmp, 'ahead-missing'), { incremental: true });
    await expect(s.readFirstAhead(model)).resolves.toBeUndefined();
    expect(() => s.sample(0, model)).toThrow(UserError);
  });
});

describe('ProcFs', () => {
  it('reads files larger than its buffer', () => {
    const root = join(tmp, 'big');
    writeProcTree(root, { memTotalKb: 1000, swapTotalKb: 0 }, [
      { pid: 70, comm: 'big', cmdline: ['x'.repeat(200_000)] },
    ]);
    expect(new ProcFs(root).readText('70/cmdline')).toHaveLength(200_001);
  });
});
