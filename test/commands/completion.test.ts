// Shell completion, generated from the command table, exercised in the real shells: bash
// (its completion function driven with COMP_WORDS), fish (`complete -C`, fish's own
// completion engine) and zsh (an interactive zsh under a pseudo-terminal, Tab pressed).
// The values an option is completed with are the values its command accepts.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pty from '@lydell/node-pty';
import xterm from '@xterm/headless';
import { afterAll, describe, expect, it } from 'vitest';
import { bashCompletion, fishCompletion, zshCompletion } from '../../src/commands/completion.js';
import { COMMANDS } from '../../src/commands/table.js';
import { KILLER_NAMES } from '../../src/core/timeline.js';
import { needKernel } from '../helpers/kernel.js';

const ROOT = join(import.meta.dirname, '../..');
const CLI = join(ROOT, 'dist/bin/oomtop.js');
const FIXTURE = join(ROOT, 'test/fixtures/basic');
const dir = mkdtempSync(join(tmpdir(), 'oomtop-completion-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

/** What bash completes for WORDS (the last one is the word being completed). */
function bash(words: string[]): string[] {
  const script = join(dir, 'oomtop.bash');
  writeFileSync(script, bashCompletion());
  // compopt works only while bash itself runs a completion: a no-op here
  const driver = `compopt() { :; }; source ${script}; COMP_WORDS=("$@"); COMP_CWORD=$((\${#COMP_WORDS[@]} - 1)); _oomtop; printf '%s\\n' "\${COMPREPLY[@]}"`;
  const r = spawnSync('bash', ['-c', driver, 'bash', ...words], { encoding: 'utf8', cwd: dir });
  expect(r.stderr).toBe('');
  return r.stdout.split('\n').filter(Boolean);
}

function fish(line: string): string[] {
  const script = join(dir, 'oomtop.fish');
  writeFileSync(script, fishCompletion());
  const r = spawnSync('fish', ['--no-config', '-c', `source ${script}; complete -C ${JSON.stringify(line)}`], {
    encoding: 'utf8',
    cwd: dir,
  });
  expect(r.stderr).toBe('');
  return r.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split('\t')[0] as string);
}

describe('bash completion', () => {
  it('completes commands, subcommands, options and their values', () => {
    expect(bash(['oomtop', 'sn'])).toEqual(['snapshot']);
    expect(bash(['oomtop', 'snapshot', '--f'])).toEqual(['--format']);
    expect(bash(['oomtop', 'snapshot', '--format', ''])).toEqual(['json', 'csv', 'table', 'prometheus']);
    expect(bash(['oomtop', 'check', '-f', 'p'])).toEqual(['prometheus']);
    expect(bash(['oomtop', 'baseline', ''])).toEqual(['save']);
    expect(bash(['oomtop', 'baseline', 'save', '--critical', 'sshd', '--critical-u'])).toEqual(['--critical-unit']);
    expect(bash(['oomtop', 'history', '--killer', 'e'])).toEqual(['earlyoom']);
    expect(bash(['oomtop', 'completion', ''])).toEqual(['bash', 'zsh', 'fish']);
    expect(bash(['oomtop', '--re'])).toEqual(['--read-only']);
  });
  it("an option's value is not taken for a command, and files complete where a file goes", () => {
    expect(bash(['oomtop', '--proc-root', '/tmp', 'snap'])).toEqual(['snapshot']);
    expect(bash(['oomtop', 'snapshot', '--cgroup', 'sn', '--li'])).toEqual(['--limit']);
    mkdirSync(join(dir, 'out.d'), { recursive: true });
    writeFileSync(join(dir, 'out.json'), '');
    expect(bash(['oomtop', 'snapshot', '--output', 'out.j'])).toEqual(['out.json']);
    expect(bash(['oomtop', '--proc-root', 'out'])).toEqual(['out.d']);
    // a value no one can guess (a regex) gets nothing rather than the command list
    expect(bash(['oomtop', 'set', '--name', ''])).toEqual([]);
  });
  it('the installed script is the generated one', () => {
    expect(readFileSync(join(ROOT, 'completions/oomtop.bash'), 'utf8')).toBe(bashCompletion());
    expect(readFileSync(join(ROOT, 'completions/_oomtop'), 'utf8')).toBe(zshCompletion());
    expect(readFileSync(join(ROOT, 'completions/oomtop.fish'), 'utf8')).toBe(fishCompletion());
    const printed = spawnSync('node', [CLI, 'completion', 'bash'], { encoding: 'utf8' });
    expect(printed.stdout).toBe(bashCompletion());
    const bad = spawnSync('node', [CLI, 'completion', 'tcsh'], { encoding: 'utf8' });
    expect([bad.status, bad.stderr]).toEqual([2, "oomtop: unknown shell 'tcsh': use one of bash, zsh, fish\n"]);
  });
});

describe('fish completion', () => {
  it('completes through fish itself', (ctx) => {
    needKernel(ctx, has('fish'), 'fish is not installed (apt-get install fish)');
    expect(fish('oomtop sn')).toEqual(['snapshot']);
    expect(fish('oomtop snapshot --f')).toEqual(['--format']);
    expect(fish('oomtop snapshot --format ').sort()).toEqual(['csv', 'json', 'prometheus', 'table']);
    expect(fish('oomtop baseline ')).toEqual(['save']);
    expect(fish('oomtop --proc-root /tmp snap')).toEqual(['snapshot']);
    expect(fish('oomtop history --killer ').sort()).toEqual([...KILLER_NAMES].sort());
  });
});

describe('zsh completion', () => {
  it('completes under an interactive zsh when Tab is pressed', async (ctx) => {
    needKernel(ctx, has('zsh'), 'zsh is not installed (apt-get install zsh)');
    const fpath = join(dir, 'zfunc');
    mkdirSync(fpath, { recursive: true });
    writeFileSync(join(fpath, '_oomtop'), zshCompletion());
    expect(spawnSync('zsh', ['-n', join(fpath, '_oomtop')]).status).toBe(0);
    const term = new xterm.Terminal({ cols: 160, rows: 20, allowProposedApi: true });
    const p = pty.spawn('zsh', ['-f', '-i'], {
      cols: 160,
      rows: 20,
      cwd: dir,
      env: { PATH: process.env.PATH ?? '', TERM: 'xterm', HOME: dir },
    });
    p.onData((d) => term.write(d));
    const line = () => {
      const b = term.buffer.active;
      return b.getLine(b.cursorY + b.baseY)?.translateToString(true) ?? '';
    };
    const until = async (ok: () => boolean) => {
      for (let i = 0; i < 100 && !ok(); i++) await new Promise((r) => setTimeout(r, 50));
    };
    try {
      p.write(`PS1='> '; fpath=(${fpath} $fpath); autoload -Uz compinit && compinit -u -D; echo ready\r`);
      await until(() => line() === '> ');
      const tab = async (typed: string, want: string) => {
        p.write(`${typed}\t`);
        await until(() => line() === `> ${want}`);
        expect(line()).toBe(`> ${want}`);
        p.write('\x03');
        await until(() => line() === '> ');
      };
      await tab('oomtop sn', 'oomtop snapshot ');
      await tab('oomtop snapshot --for', 'oomtop snapshot --format ');
      await tab('oomtop snapshot --format pr', 'oomtop snapshot --format prometheus ');
      await tab('oomtop baseline s', 'oomtop baseline save ');
      await tab('oomtop --proc-root /tmp sna', 'oomtop --proc-root /tmp snapshot ');
    } finally {
      p.kill();
    }
  });
});

describe('the completed values are the accepted ones', () => {
  it('a value not completed is refused by the command, with the completed ones as the choice', () => {
    const env = { ...process.env, OOMTOP_STATE_DIR: join(dir, 'state') };
    const base = ['--proc-root', join(FIXTURE, 'proc'), '--sys-root', join(FIXTURE, 'sys')];
    expect(
      COMMANDS.find((c) => c.path[0] === 'history')?.options.find((o) => o.flags === '--killer <name>')?.values,
    ).toEqual(KILLER_NAMES);
    for (const c of COMMANDS)
      for (const o of c.options) {
        if (!o.values) continue;
        const flag = o.flags.split(/[ ,]+/).find((f) => f.startsWith('--')) as string;
        const r = spawnSync('node', [CLI, ...c.path, ...base, flag, 'bogus'], { encoding: 'utf8', env });
        // one line; check, a monitoring plugin, says UNKNOWN on standard output and exits 3
        const [said, code] = c.path[0] === 'check' && r.status === 3 ? [r.stdout, 3] : [r.stderr, 2];
        expect(said, `${c.path.join(' ')} ${flag}`).toMatch(/^(oomtop: |OOMTOP UNKNOWN - ).*'?bogus'?.*\n$/);
        expect(r.status).toBe(code);
        for (const v of o.values) expect(said, `${c.path.join(' ')} ${flag} ${v}`).toContain(v);
      }
  });
});
