import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CommandIo } from '../../src/commands/adjust.js';
import type { Roots } from '../../src/system/env.js';

export const BASIC = join(import.meta.dirname, '../fixtures/basic');

/** A writable copy of a fixture tree, so the adjuster can write into it. */
export function writableBasic(): { roots: Roots; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'oomtop-rw-'));
  cpSync(join(BASIC, 'proc'), join(dir, 'proc'), { recursive: true, verbatimSymlinks: true });
  return { dir, roots: { procRoot: join(dir, 'proc'), sysRoot: join(dir, 'sys'), passwdFile: join(BASIC, 'passwd') } };
}

/** Captures output; answers confirmations with `answer`. */
export function fakeIo(stateDir: string, answer = false): CommandIo & { text: () => string } {
  const chunks: string[] = [];
  let t = Date.UTC(2026, 10, 26, 12, 0, 0);
  return {
    out: (s) => {
      chunks.push(s);
    },
    confirm: async (q) => {
      chunks.push(q);
      return answer;
    },
    now: () => new Date(t++),
    stateDir,
    actor: { user: 'tester', uid: 0 },
    text: () => chunks.join(''),
  };
}
