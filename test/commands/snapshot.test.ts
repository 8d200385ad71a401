import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { afterAll, describe, expect, it } from 'vitest';
import { runSnapshot } from '../../src/commands/snapshot.js';
import type { Snapshot } from '../../src/core/snapshot.js';
import { expectGolden } from '../helpers/golden.js';

const FIX = join(import.meta.dirname, '../fixtures/basic');
const roots = { procRoot: join(FIX, 'proc'), sysRoot: join(FIX, 'sys'), passwdFile: join(FIX, 'passwd') };
const NOW = Date.UTC(2026, 10, 26, 12, 0, 0);
const CLI = join(import.meta.dirname, '../../dist/bin/oomtop.js');
const tmp = mkdtempSync(join(tmpdir(), 'oomtop-snap-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const json = (): Snapshot => JSON.parse(runSnapshot(roots, { format: 'json', isTTY: false }, NOW)) as Snapshot;

describe('oomtop snapshot on the basic fixture', () => {
  it('ranks in the kernel order: adj +1000 first, ties to the later start, unkillable last with a reason', () => {
    const s = json();
    expect(s.processes.map((p) => [p.rank, p.pid])).toEqual([
      [1, 302],
      [2, 301],
      [3, 300],
      [4, 307],
      [5, 306],
      [6, 304],
      [7, 309],
      [null, 305],
      [null, 1],
      [null, 2],
      [null, 3],
      [null, 150],
      [null, 303],
    ]);
    expect(s.processes.find((p) => p.pid === 150)).toMatchObject({
      killable: false,
      unkillableReason: 'oom_score_adj -1000',
      oomScore: 0,
      predictedOomScore: 0,
    });
    expect(s.processes.find((p) => p.pid === 303)?.unkillableReason).toBe('no mm (zombie or exiting)');
    expect(s.processes.find((p) => p.pid === 305)).toMatchObject({
      killable: null,
      rank: null,
      unknownReason: 'unreadable: status VmSwap/VmPTE',
    });
    expect(s.processes.find((p) => p.pid === 301)).toMatchObject({
      badnessPages: 200_200,
      user: 'app',
      unit: 'app.service',
    });
  });

  it('predicts every readable oom_score of the fixture kernel', () => {
    for (const p of json().processes)
      if (p.oomScore !== null && p.killable !== null) expect(p.predictedOomScore, `pid ${p.pid}`).toBe(p.oomScore);
  });

  it('pins the JSON schema and CSV in golden files', () => {
    expectGolden(join(FIX, 'snapshot.json'), runSnapshot(roots, { format: 'json', isTTY: false }, NOW));
    expectGolden(join(FIX, 'snapshot.csv'), runSnapshot(roots, { format: 'csv', isTTY: false }, NOW));
    expectGolden(
      join(FIX, 'snapshot.prom'),
      runSnapshot(roots, { format: 'prometheus', limit: '3', isTTY: false }, NOW),
    );
    expectGolden(join(FIX, 'snapshot.txt'), runSnapshot(roots, { format: 'table', isTTY: false, width: 150 }, NOW));
  });

  it('quotes CSV per RFC 4180 so a parser gets the command line back', () => {
    const rows = parseCsv(runSnapshot(roots, { format: 'csv', isTTY: false }, NOW), { columns: true }) as Array<
      Record<string, string>
    >;
    expect(rows.find((r) => r.pid === '301')?.cmdline).toBe('/usr/bin/java -Xmx4g -Dnames=a,b -jar /srv/"app".jar');
    expect(rows.find((r) => r.pid === '304')?.comm).toBe('tmux: (server) x)');
    expect(rows).toHaveLength(13);
  });

  it('exports the top N and every protected process to prometheus, with escaped labels', () => {
    const text = runSnapshot(roots, { format: 'prometheus', limit: '1', isTTY: false }, NOW);
    expect(text).toContain(
      'oomtop_process_badness_bytes{pid="302",comm="batch",user="app",unit="session-3.scope",rank="1"} 5124145152',
    );
    expect(text).toContain(
      'oomtop_process_oom_score_adj{pid="150",comm="sshd",user="root",unit="ssh.service",rank="unkillable"} -1000',
    );
    expect(text).toContain('pid="309"');
    expect(text).not.toContain('pid="301"');
  });

  it('limits, and defaults to a table on a terminal and json when piped', () => {
    expect(json().processes).toHaveLength(13);
    expect((JSON.parse(runSnapshot(roots, { limit: '2', isTTY: false }, NOW)) as Snapshot).processes).toHaveLength(2);
    expect(runSnapshot(roots, { isTTY: true }, NOW)).toMatch(/^oomtop snapshot/);
  });

  it('writes --output atomically and leaves no temp file', () => {
    const out = join(tmp, 'snap.json');
    expect(runSnapshot(roots, { format: 'json', output: out, isTTY: true }, NOW)).toBe('');
    expect((JSON.parse(readFileSync(out, 'utf8')) as Snapshot).schema).toBe('oomtop.snapshot/1');
    expect(readdirSync(tmp)).toEqual(['snap.json']);
  });
});

describe('oomtop snapshot: bad input (the built CLI)', () => {
  const run = (...args: string[]) => spawnSync('node', [CLI, ...args], { encoding: 'utf8' });

  it.each([
    [['snapshot', '--format', 'xml'], /^oomtop: unknown --format 'xml': use one of json, csv, table, prometheus\n$/],
    [
      ['--proc-root', '/nonexistent', 'snapshot'],
      /^oomtop: \/nonexistent is not a proc filesystem \(no meminfo\): pass --proc-root/,
    ],
    [['--proc-root', join(FIX, 'proc/300'), 'snapshot'], /not a proc filesystem \(no meminfo\)/],
    [['snapshot', '--limit', '0'], /^oomtop: --limit must be a whole number above 0, got '0'\n$/],
    [
      ['snapshot', '--output', '/nonexistent/dir/x.json'],
      /^oomtop: cannot write \/nonexistent\/dir\/x.json: folder \/nonexistent\/dir does not exist/,
    ],
    [['snapshot', '--bogus'], /unknown option '--bogus'/],
  ])('%j fails with one line and exit 2', (args, message) => {
    const r = run(...args);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stdout).toBe('');
  });

  it('writes nothing when the format is bad', () => {
    const out = join(tmp, 'never.json');
    expect(run('snapshot', '--format', 'yaml', '--output', out).status).toBe(2);
    expect(existsSync(out)).toBe(false);
  });

  it('prints json when piped, from the real /proc, without loading the TUI libraries', () => {
    const out = execFileSync('node', [CLI, 'snapshot', '--limit', '3'], { encoding: 'utf8' });
    expect((JSON.parse(out) as Snapshot).processes).toHaveLength(3);
    // NODE_DEBUG=module logs every CommonJS module loaded (blessed and blessed-contrib are
    // CommonJS; commander, bundled into dist/bin/, requires node:events through it)
    const traced = spawnSync('node', [CLI, 'snapshot', '--limit', '1'], {
      encoding: 'utf8',
      env: { ...process.env, NODE_DEBUG: 'module' },
    });
    expect(traced.status).toBe(0);
    expect(traced.stderr).toContain('Module._load REQUEST node:events');
    expect(traced.stderr).not.toMatch(/blessed/);
  });
});
