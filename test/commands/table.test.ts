// The command table is the one source of the CLI: the parser, the help and the README's
// command list agree with it, and every command runs through (ctx, args, opts).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMMANDS, GROUPS } from '../../src/commands/table.js';
import { VERSION } from '../../src/version.js';

const ROOT = join(import.meta.dirname, '../..');
const CLI = join(ROOT, 'dist/bin/oomtop.js');
const help = (args: string[]) => spawnSync('node', [CLI, ...args, '--help'], { encoding: 'utf8' }).stdout;

describe('the command table', () => {
  it('every command has a unique path, a summary and a group it belongs to', () => {
    const paths = COMMANDS.map((c) => c.path.join(' '));
    expect(new Set(paths).size).toBe(paths.length);
    for (const c of COMMANDS) {
      expect(c.summary.length).toBeGreaterThan(10);
      if (c.path.length > 1) expect(GROUPS.map((g) => g.path.join(' '))).toContain(c.path.slice(0, -1).join(' '));
    }
  });
  it('the help lists every command, and each command its options', () => {
    const top = help([]);
    for (const c of COMMANDS) expect(top).toContain(c.path[0] as string);
    for (const c of COMMANDS) {
      const h = help(c.path);
      for (const o of c.options)
        if (!o.hidden)
          expect(h, `${c.path.join(' ')} ${o.flags}`).toContain(
            o.flags.split(/[ ,]+/).find((f) => f.startsWith('--')) as string,
          );
    }
  });
  it("the README's command list names every command", () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    for (const c of COMMANDS) expect(readme, c.path.join(' ')).toContain(`oomtop ${c.path.join(' ')}`);
  });
  it('the version is the package version', () => {
    expect(VERSION).toBe(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version);
    const [version, reader] = spawnSync('node', [CLI, '--version'], { encoding: 'utf8' }).stdout.split('\n');
    expect(version).toBe(VERSION);
    expect(reader).toMatch(/^(native reader \((prebuilt|built at install): .*\.node\)|JavaScript reader \(.+\))$/);
  });
});
