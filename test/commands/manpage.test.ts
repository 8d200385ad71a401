// oomtop(1): rendered by man itself from the page the build generated, it lists every
// command, option and dashboard key of the tables the CLI and the dashboard are built from,
// every environment variable the code reads and every exit code it uses.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { manMarkdown } from '../../src/commands/manpage.js';
import { COMMANDS, DASHBOARD, ROOT_OPTIONS } from '../../src/commands/table.js';
import { BINDINGS } from '../../src/tui/keys.js';

const ROOT = join(import.meta.dirname, '../..');
const PAGE = join(ROOT, 'man/oomtop.1');

function render(): string {
  const r = spawnSync('man', ['--warnings', '-l', PAGE], {
    encoding: 'utf8',
    env: { ...process.env, MANWIDTH: '100', PAGER: 'cat' },
  });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  // man joins a word hyphenated at a line end back with U+2010; undo the line breaks
  return (
    r.stdout
      // bold and underline as a terminal's overstrike (x BS x, _ BS x): the letters only
      .replace(/.\x08/g, '')
      .replace(/‐\n\s+/g, '')
      .replace(/\s+/g, ' ')
  );
}

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? (f === 'bench' ? [] : sources(p)) : [p];
  });
}

describe('man oomtop', () => {
  const text = render();
  it('names every command, option and key', () => {
    expect(text).toMatch(/^OOMTOP\(1\) oomtop manual OOMTOP\(1\) NAME oomtop - predict/);
    for (const c of COMMANDS) {
      expect(text, c.path.join(' ')).toContain(`oomtop ${c.path.join(' ')}`);
      for (const o of c.options) if (!o.hidden) expect(text, `${c.path.join(' ')} ${o.flags}`).toContain(o.flags);
    }
    for (const o of [...ROOT_OPTIONS, ...DASHBOARD.options]) expect(text.includes(o.flags), o.flags).toBe(!o.hidden);
    for (const b of BINDINGS) expect(text, b.label).toContain(`${b.label}: ${b.help.slice(0, 20)}`);
  });
  it('every environment variable oomtop reads, and every exit code it uses', () => {
    const code = sources(join(ROOT, 'src'))
      .map((f) => readFileSync(f, 'utf8'))
      .join('\n');
    const vars = new Set([...code.matchAll(/\benv\.([A-Z][A-Z0-9_]+)/g)].map((m) => m[1] as string));
    expect(vars.size).toBeGreaterThan(3);
    const env = text.slice(text.indexOf(' ENVIRONMENT '), text.indexOf(' EXAMPLES '));
    for (const v of vars) expect(env, v).toContain(`${v}:`);
    const codes = new Set([...code.matchAll(/new UserError\([^;]*?, (\d+)[,)]/g)].map((m) => m[1] as string));
    expect([...codes].sort()).toEqual(['1', '2', '3']);
    const exits = text.slice(text.indexOf(' EXIT STATUS '), text.indexOf(' ENVIRONMENT '));
    for (const c of [...codes, '0', '70']) expect(exits, c).toContain(` ${c}: `);
  });
  it('is built from its markdown source and the tables, with nothing left unfilled', () => {
    const md = manMarkdown(readFileSync(join(ROOT, 'man/oomtop.md'), 'utf8'));
    expect(md).not.toMatch(/\{\{/);
    expect(() => manMarkdown('{{NOPE}}')).toThrow(/unknown placeholder/);
    expect(statSync(PAGE).mtimeMs).toBeGreaterThanOrEqual(statSync(join(ROOT, 'dist/commands/table.js')).mtimeMs);
  });
});
