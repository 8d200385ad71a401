// The committed fixture trees are generated from test/fixtures/scenarios.ts; this keeps
// them in step (set OOMTOP_UPDATE_FIXTURES=1 to rewrite them after editing the scenarios).
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, lstatSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeCgroupV2Tree, writeProcTree } from './helpers/proc-tree.js';
import { BASIC_PROCS, BASIC_SYSTEM, PASSWD, V2_CGROUPS, V2_PROCS, V2_SYSTEM } from './fixtures/scenarios.js';
import { GENERATION_FIXTURES } from './fixtures/generations.js';

const FIXTURES = join(import.meta.dirname, 'fixtures');

function listTree(root: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      const st = lstatSync(path);
      const rel = relative(root, path);
      if (st.isSymbolicLink()) out.set(rel, `-> ${readlinkSync(path)}`);
      else if (st.isDirectory()) {
        out.set(`${rel}/`, '');
        walk(path);
      } else out.set(rel, readFileSync(path, 'utf8'));
    }
  };
  walk(root);
  return out;
}

describe('committed fixture trees', () => {
  it('v2/proc and v2/sys match their scenario', () => {
    const tmp = mkdtempSync(join(tmpdir(), 'oomtop-fx-'));
    try {
      writeProcTree(join(tmp, 'proc'), V2_SYSTEM, V2_PROCS);
      writeCgroupV2Tree(join(tmp, 'sys'), V2_CGROUPS);
      const target = join(FIXTURES, 'v2');
      if (process.env.OOMTOP_UPDATE_FIXTURES) {
        rmSync(target, { recursive: true, force: true });
        writeProcTree(join(target, 'proc'), V2_SYSTEM, V2_PROCS);
        writeCgroupV2Tree(join(target, 'sys'), V2_CGROUPS);
      }
      expect(listTree(target)).toEqual(listTree(tmp));
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('basic/proc matches its scenario', () => {
    const tmp = mkdtempSync(join(tmpdir(), 'oomtop-fx-'));
    try {
      writeProcTree(tmp, BASIC_SYSTEM, BASIC_PROCS);
      const target = join(FIXTURES, 'basic/proc');
      if (process.env.OOMTOP_UPDATE_FIXTURES) {
        rmSync(target, { recursive: true, force: true });
        writeProcTree(target, BASIC_SYSTEM, BASIC_PROCS);
        writeFileSync(join(FIXTURES, 'basic/passwd'), PASSWD);
      }
      expect(listTree(target)).toEqual(listTree(tmp));
      expect(readFileSync(join(FIXTURES, 'basic/passwd'), 'utf8')).toBe(PASSWD);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  for (const g of GENERATION_FIXTURES) {
    it(`generations/${g.name}/proc matches its scenario (${g.follows})`, () => {
      const tmp = mkdtempSync(join(tmpdir(), 'oomtop-fx-'));
      try {
        writeProcTree(tmp, g.system, g.procs);
        const target = join(FIXTURES, 'generations', g.name, 'proc');
        if (process.env.OOMTOP_UPDATE_FIXTURES) {
          rmSync(target, { recursive: true, force: true });
          writeProcTree(target, g.system, g.procs);
        }
        expect(listTree(target)).toEqual(listTree(tmp));
      } finally {
        rmSync(tmp, { recursive: true, force: true });
      }
    });
  }
});
