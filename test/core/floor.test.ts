// The one rule for "the lowest value this user may set" (fs/proc/base.c __set_oom_adj()).
import { describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../src/core/audit.js';
import { adjFloor, checkFloor, protectTarget, refusalMessage } from '../../src/core/floor.js';

const rec = (o: Partial<AuditRecord>): AuditRecord => ({
  id: 'r',
  time: 't',
  user: 'u',
  uid: 0,
  source: 'set',
  pid: 10,
  startTime: 5,
  comm: 'x',
  old: 0,
  new: 0,
  result: 'ok',
  ...o,
});
const p = { pid: 10, startTime: 5, oomScoreAdj: 300 };

describe('adjFloor', () => {
  it('with CAP_SYS_RESOURCE the floor is -1000', () => {
    const f = adjFloor(p, [], true);
    expect(f).toMatchObject({ allowed: -1000, exact: true });
    expect(checkFloor(f, -1000).kind).toBe('allowed');
    expect(protectTarget(f)).toBe(-1000);
  });
  it('without it, the lowest value seen is known to be allowed, lower ones may be refused', () => {
    const f = adjFloor(p, [], false);
    expect(f).toMatchObject({ allowed: 300, refused: null, exact: false });
    expect(checkFloor(f, 300).kind).toBe('allowed');
    expect(checkFloor(f, 100).kind).toBe('unknown');
    expect(protectTarget(f)).toBe(300);
  });
  it('a value oomtop wrote or read back lowers what is known to be allowed (set lowered 300 → 100)', () => {
    const f = adjFloor(p, [rec({ old: 300, new: 100 }), rec({ old: 100, new: 300 })], false);
    expect(f.allowed).toBe(100);
    expect(protectTarget(f)).toBe(100);
  });
  it('a refusal recorded for the same process is known before anything is written', () => {
    const f = adjFloor(p, [rec({ old: 300, new: 0, result: 'below-floor' })], false);
    expect(f.refused).toBe(0);
    expect(checkFloor(f, -500).kind).toBe('refused');
    expect(checkFloor(f, 0).kind).toBe('refused');
    expect(checkFloor(f, 200).kind).toBe('unknown');
    const exact = adjFloor(p, [rec({ old: 300, new: 299, result: 'below-floor' })], false);
    expect(exact.exact).toBe(true);
  });
  it('records of another process (another start time: a reused pid) do not count', () => {
    const f = adjFloor(
      p,
      [rec({ startTime: 6, old: 0, new: -900 }), rec({ startTime: 6, new: 250, result: 'below-floor' })],
      false,
    );
    expect(f).toMatchObject({ allowed: 300, refused: null });
  });
  it('the refusal message names the lowest value known to be allowed', () => {
    expect(refusalMessage(adjFloor(p, [], false), -1000, 'java (pid 10)')).toMatch(
      /^lowering below 300 needs CAP_SYS_RESOURCE .*the kernel refused -1000 for java \(pid 10\)/,
    );
  });
});
