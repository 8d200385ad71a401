// Line readers with bounded memory (audit log, kernel log), and the audit log's rotation.
import { closeSync, mkdtempSync, openSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { auditRecord, AuditLog, changesToUndoIn } from '../../src/system/audit-log.js';
import { forEachLine, forEachLineBackward, MAX_LINE } from '../../src/system/lines.js';

let dirs: string[] = [];
afterEach(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs = [];
});
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'oomtop-lines-'));
  dirs.push(d);
  return d;
};

function lines(text: string | Buffer, backward: boolean): Array<string | number> {
  const f = join(tmp(), 'f');
  writeFileSync(f, text);
  const fd = openSync(f, 'r');
  const out: Array<string | number> = [];
  try {
    (backward ? forEachLineBackward : forEachLine)(fd, (line, length) => {
      out.push(line ? line.toString() : length);
    });
  } finally {
    closeSync(fd);
  }
  return backward ? out.reverse() : out;
}

describe('forEachLine and forEachLineBackward', () => {
  const long = 'x'.repeat(MAX_LINE + 10);
  const cases: Array<[string, string]> = [
    ['short lines', 'a\nbb\nccc\n'],
    ['no final newline', 'a\nbb\nccc'],
    [
      'lines across 64 KiB chunks',
      `${Array.from({ length: 3000 }, (_, i) => `line ${i} ${'y'.repeat(i % 97)}`).join('\n')}\n`,
    ],
    ['a line longer than MAX_LINE among others', `first\n${long}\nlast\n`],
    ['a long last line without newline', `first\n${long}`],
    ['empty lines', '\n\na\n\n'],
  ];
  it.each(cases)('%s: both directions give the same lines; an over-long one only as its length', (_name, text) => {
    const expected = text.split('\n');
    if (text.endsWith('\n')) expected.pop();
    const want = expected.map((l) => (l.length > MAX_LINE ? l.length : l));
    expect(lines(text, false)).toEqual(want);
    expect(lines(text, true)).toEqual(want);
  });
});

describe('the audit log rotates and is still read whole', () => {
  it('past its size it moves to audit.jsonl.1; read, undo and log see both files', () => {
    const dir = tmp();
    const log = new AuditLog(join(dir, 'state'), { rotateBytes: 2000 });
    for (let i = 0; i < 40; i++) {
      log.append(
        auditRecord(
          new Date(Date.UTC(2026, 0, 1, 0, 0, i)),
          { user: 'u', uid: 0 },
          'set',
          { pid: 100 + i, startTime: 1, comm: 'c', old: 0, new: i + 1 },
          'ok',
        ),
      );
    }
    expect(readdirSync(join(dir, 'state')).sort()).toEqual(['audit.jsonl', 'audit.jsonl.1']);
    const all = log.read();
    // one generation is kept: what it holds is contiguous and ends with the newest record
    expect(all.at(-1)?.pid).toBe(139);
    const pids = all.map((r) => r.pid);
    expect(pids).toEqual(Array.from({ length: pids.length }, (_, i) => 140 - pids.length + i));
    expect(pids.length).toBeGreaterThan(10);
    expect(changesToUndoIn(log, 3).map((r) => r.pid)).toEqual([139, 138, 137]);
    expect(log.readFor(new Set([`${pids[0]}@1`])).map((r) => r.pid)).toEqual([pids[0]]);
  });
});
