import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runLog, runReset, runSet, runUndo } from '../../src/commands/adjust.js';
import { parseAdjValue, parsePidAdj } from '../../src/core/adj.js';
import { UserError } from '../../src/core/errors.js';
import { fakeIo, writableBasic } from '../helpers/io.js';

let dirs: string[] = [];
afterEach(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs = [];
});

function setup(answer = false) {
  const { dir, roots } = writableBasic();
  dirs.push(dir);
  const io = fakeIo(join(dir, 'state'), answer);
  const adj = (pid: number) => Number(readFileSync(join(roots.procRoot, String(pid), 'oom_score_adj'), 'utf8'));
  return { roots, io, adj };
}

describe('adj values', () => {
  it.each(['1e3', '0x10', '010', ' 5', '5 ', '+5', '-0', '1001', '-1001', '', '5\n', '１'])('rejects %j', (v) => {
    expect(() => parseAdjValue(v)).toThrow(UserError);
  });
  it.each([
    ['0', 0],
    ['-1000', -1000],
    ['1000', 1000],
    ['-500', -500],
    ['7', 7],
  ])('accepts %s', (v, n) => {
    expect(parseAdjValue(v)).toBe(n);
  });
  it('parses PID=N', () => {
    expect(parsePidAdj('12=-500')).toEqual([12, -500]);
    expect(() => parsePidAdj('12:5')).toThrow(/PID=N/);
  });
});

describe('oomtop set / protect / reset / undo / log on a fixture tree', () => {
  it('sets by pid, shows the kill order after, and logs it', async () => {
    const { roots, io, adj } = setup();
    expect(await runSet(roots, io, ['300'], { adj: '800' }, 'set')).toBe(0);
    expect(adj(300)).toBe(800);
    expect(io.text()).toContain('ok: postgres (pid 300): oom_score_adj 0 → 800');
    expect(io.text()).toMatch(/\* 3 → 2 +300 postgres +adj 0 → 800/);
    runLog(io, {});
    expect(io.text()).toMatch(/tester +set +300 postgres +0→800 +ok/);
  });

  it('protects with -1000 by default (fixture files accept negative values)', async () => {
    const { roots, io, adj } = setup();
    expect(await runSet(roots, io, ['301', '300'], {}, 'protect')).toBe(0);
    expect([adj(301), adj(300)]).toEqual([-1000, -1000]);
    expect(io.text()).toMatch(/\* 2 → — +301 java +adj 0 → -1000 +\(oom_score_adj -1000\)/);
  });

  it('dry run prints old → new and the order before and after, and writes nothing', async () => {
    const { roots, io, adj } = setup();
    expect(await runSet(roots, io, [], { name: '^worker$', adj: '-500', dryRun: true }, 'set')).toBe(0);
    expect(adj(306)).toBe(0);
    expect(io.text()).toContain('dry run: nothing written');
    expect(io.text()).toMatch(/306 worker +www-data +adj 0 → -500/);
    expect(io.text()).toMatch(/\* 5 → 7 +306 worker +adj 0 → -500/);
  });

  it('asks before changing several matches and changes nothing without a yes', async () => {
    const { roots, io, adj } = setup(false);
    await expect(runSet(roots, io, [], { user: 'www-data', adj: '100' }, 'set')).rejects.toThrow(
      /2 processes match and nothing was confirmed: add --yes/,
    );
    expect(io.text()).toContain('change all 2? [y/N]');
    expect([adj(306), adj(307)]).toEqual([0, 0]);
    const yes = setup(true);
    expect(await runSet(yes.roots, yes.io, [], { user: 'www-data', adj: '100' }, 'set')).toBe(0);
    expect([yes.adj(306), yes.adj(307)]).toEqual([100, 100]);
    const flag = setup(false);
    expect(
      await runSet(flag.roots, flag.io, [], { cgroup: '/system.slice/apache2.service', adj: '50', yes: true }, 'set'),
    ).toBe(0);
    expect([flag.adj(306), flag.adj(307)]).toEqual([50, 50]);
  });

  it('selects by cmdline and by cgroup glob', async () => {
    const { roots, io, adj } = setup();
    expect(await runSet(roots, io, [], { cmdline: 'redis-server 127\\.0\\.0\\.1', adj: '1' }, 'set')).toBe(0);
    expect(adj(309)).toBe(1);
    expect(await runSet(roots, io, [], { cgroup: '/system.slice/postgres*', adj: '2' }, 'set')).toBe(0);
    expect(adj(300)).toBe(2);
  });

  it('rejects bad input with one line', async () => {
    const { roots, io } = setup();
    await expect(runSet(roots, io, ['300'], { adj: '1e3' }, 'set')).rejects.toThrow(
      "--adj must be a plain decimal integer from -1000 to 1000, got '1e3'",
    );
    await expect(runSet(roots, io, ['4242'], { adj: '1' }, 'set')).rejects.toThrow('no process with pid 4242');
    await expect(runSet(roots, io, ['abc'], { adj: '1' }, 'set')).rejects.toThrow("'abc' is not a process id");
    await expect(runSet(roots, io, [], { name: '(', adj: '1' }, 'set')).rejects.toThrow(
      "--name '(' is not a valid regular expression",
    );
    await expect(runSet(roots, io, [], { name: 'nomatch', adj: '1' }, 'set')).rejects.toThrow('no process matches');
    await expect(runSet(roots, io, [], { adj: '1' }, 'set')).rejects.toThrow('choose processes');
  });

  it('reset puts back the value before oomtop first changed it; undo reverts the last changes', async () => {
    const { roots, io, adj } = setup();
    await runSet(roots, io, ['300'], { adj: '100' }, 'set');
    await runSet(roots, io, ['300'], { adj: '200' }, 'set');
    await runSet(roots, io, ['301'], { adj: '300' }, 'set');
    expect(await runReset(roots, io, ['300', '304'], {})).toBe(0);
    expect(adj(300)).toBe(0);
    expect(io.text()).toContain('nothing to reset: oomtop never changed tmux: (server) x) (pid 304)');
    // undo the reset (300: 0 -> 200), then the 301 change (300 -> 0)
    expect(await runUndo(roots, io, { last: '2' })).toBe(0);
    expect([adj(300), adj(301)]).toEqual([200, 0]);
    expect(await runUndo(roots, io, {})).toBe(0); // next: 300's 100 -> 200
    expect(adj(300)).toBe(100);
    await expect(runUndo(roots, io, { last: 'x' })).rejects.toThrow('--last must be a whole number');
  });
});
