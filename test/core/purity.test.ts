// src/core is pure: it imports only src/core and plain-JS packages (no node:*, no TUI
// libraries) and never reads the clock.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const CORE = join(import.meta.dirname, '../../src/core');

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

describe('src/core boundaries', () => {
  const all = files(CORE);
  it.each(all.map((f) => [relative(CORE, f), f]))('%s is pure', (_name, file) => {
    const text = readFileSync(file, 'utf8');
    const imports = [...text.matchAll(/from '([^']+)'/g)].map((m) => m[1] as string);
    for (const spec of imports) {
      expect(
        spec.startsWith('node:') ||
          ['blessed', 'blessed-contrib'].includes(spec) ||
          spec.includes('/system/') ||
          spec.includes('/tui/') ||
          spec.includes('/commands/'),
        `${spec}`,
      ).toBe(false);
    }
    expect(text).not.toMatch(
      /Date\.now\(|new Date\(\)|\bprocess\.(env|pid|argv|exit|getuid|hrtime|cwd|stdout)|performance\.now/,
    );
  });
});
