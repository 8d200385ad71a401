// End to end: the built oomtop under a pseudo-terminal on the real /proc, its output fed to
// a headless xterm. Plain node runs dist/bin/oomtop.js, so an import form that only works under
// vitest's interop fails here.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startInPty } from '../helpers/terminal.js';

const CLI = join(import.meta.dirname, '../../dist/bin/oomtop.js');
const state = mkdtempSync(join(tmpdir(), 'oomtop-e2e-'));
afterAll(() => rmSync(state, { recursive: true, force: true }));

async function until(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('oomtop under a pseudo-terminal', () => {
  it('renders rows, moves, opens help, quits with 0 and restores the terminal', async () => {
    const run = startInPty(CLI, ['--interval', '1'], { cols: 100, rows: 30, cwd: state, stateDir: state });
    const { term, child } = run;
    const screenText = () => run.screen();
    try {
      await until(() => /#.\s+PID USER/.test(screenText()), 'the table header');
      expect(term.buffer.active.type).toBe('alternate');
      await until(() => /▶\s+1\s+\d+/.test(screenText()), 'the first row selected');
      const first = screenText();
      expect(first).toContain('oomtop');
      expect(first).toMatch(/OOM kills since boot: \d+/);
      expect(first).toMatch(/dies first: .+ \d+ \(/);
      child.write('j');
      await until(() => /▶\s+2\s+\d+/.test(screenText()), 'the cursor on row 2');
      child.write('?');
      await until(() => screenText().includes('oomtop keys'), 'the help');
      child.write('x');
      await until(() => !screenText().includes('oomtop keys'), 'the help to close');
      child.write('q');
      await until(() => run.exit !== null, 'oomtop to exit');
      expect(run.exit).toMatchObject({ exitCode: 0 });
      await new Promise((r) => setTimeout(r, 50));
      // Restored: back on the normal screen, cursor shown again.
      expect(term.buffer.active.type).toBe('normal');
    } finally {
      if (run.exit === null) child.kill();
      term.dispose();
    }
  });

  it('writes only after an explicit yes: real keys, real blessed, a process this test started', async () => {
    const tag = `${7000 + (process.pid % 1000)}.375`;
    const sleeper = spawn('sleep', [tag], { stdio: 'ignore' });
    const adj = () => readFileSync(`/proc/${sleeper.pid}/oom_score_adj`, 'utf8').trim();
    const run = startInPty(CLI, ['--interval', '1'], { cols: 120, rows: 32, cwd: state, stateDir: state });
    const { term, child } = run;
    const screen = () => run.screen();
    try {
      await until(() => /#.\s+PID USER/.test(screen()), 'the table header');
      child.write('/');
      for (const c of tag) child.write(c);
      child.write('\r');
      await until(
        () => new RegExp(`▶\\s+\\d+\\s+${sleeper.pid} `).test(screen()),
        'the sleeper selected by the filter',
      );
      // a, 400, Enter: the dialog, nothing written
      child.write('a');
      child.write('400');
      await until(() => screen().includes('set adj to [ 400▏]'), 'the prompt');
      child.write('\r');
      await until(() => screen().includes('write? y / Enter yes'), 'the confirmation');
      expect(screen()).toMatch(/adj 0 → 400 +new rank \d+/);
      expect(adj()).toBe('0');
      child.write('n');
      await until(() => screen().includes('cancelled: nothing written'), 'the cancel');
      expect(adj()).toBe('0');
      // what if -500, Enter: shows the rank, writes nothing
      child.write('w');
      child.write('-500');
      child.write('\r');
      await until(() => screen().includes('nothing written (a sets a value)'), 'the what-if answer');
      expect(adj()).toBe('0');
      // +, Enter on the dialog: writes once
      child.write('+');
      await until(() => screen().includes('raise adj (dies sooner)'), 'the raise dialog');
      child.write('\r');
      await until(() => adj() === '100', 'the write');
      const log = readFileSync(`${state}/audit.jsonl`, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { pid: number; result: string; new: number });
      expect(log.filter((r) => r.pid === sleeper.pid && r.result !== 'pending').map((r) => [r.result, r.new])).toEqual([
        ['ok', 100],
      ]);
      child.write('q');
      await until(() => run.exit !== null, 'oomtop to exit');
    } finally {
      if (run.exit === null) child.kill();
      sleeper.kill('SIGKILL');
      term.dispose();
    }
  });
});
