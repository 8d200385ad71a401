import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseStat } from '../../../src/core/parse/stat.js';
import { statLine } from '../../helpers/proc-tree.js';

/** The parser as it was, splitting the fields into strings: the reference the scanner must match. */
function splitParse(text: string) {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return { ok: false };
  const rest = text.slice(close + 2).split(' ', 22);
  if (rest.length < 22) return { ok: false, error: `stat: ${rest.length + 2} fields, need at least 24` };
  rest[21] = (rest[21] as string).trimEnd();
  const num = (i: number): number => Number(rest[i]);
  const value = {
    comm: text.slice(open + 1, close),
    state: rest[0] ?? '?',
    ppid: num(1),
    flags: num(6),
    startTime: num(19),
    vsizeBytes: num(20),
    rssPages: num(21),
    minflt: num(7),
    majflt: num(9),
    cpuTicks: Number.isFinite(num(11) + num(12)) ? num(11) + num(12) : null,
  };
  for (const k of ['ppid', 'flags', 'startTime', 'vsizeBytes', 'rssPages'] as const)
    if (!Number.isFinite(value[k])) return { ok: false, error: `stat: ${k} is not a number` };
  return { ok: true, value };
}

describe('parseStat', () => {
  it('reads what splitting the line into fields read, on lines the kernel prints, cut short or spoilt', () => {
    const number = fc.oneof(
      fc.nat(),
      fc.integer({ min: -2_000_000_000, max: -1 }),
      fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
    );
    const spoilt = fc.constantFrom('', 'x', '-', '--1', '1-', '?', '12a', 'S');
    fc.assert(
      fc.property(
        fc.string({ maxLength: 15 }),
        fc.array(number, { minLength: 50, maxLength: 50 }),
        fc.array(fc.tuple(fc.nat(49), spoilt), { maxLength: 2 }),
        fc.option(fc.nat(30)),
        fc.constantFrom('\n', '', ' \n'),
        (comm, numbers, spoil, cut, end) => {
          const fields: Array<string | number | bigint> = ['S', ...numbers];
          for (const [i, bad] of spoil) fields[i + 1] = bad;
          const line = `42 (${comm}) ${fields.slice(0, cut ?? fields.length).join(' ')}${end}`;
          const r = parseStat(line);
          const want = splitParse(line);
          expect(r.ok).toBe(want.ok);
          if (r.ok && want.ok) expect(r.value).toEqual(want.value);
          if (!r.ok && !want.ok && 'error' in want) expect(r.error).toBe(want.error);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('reads the fields after the last parenthesis', () => {
    const r = parseStat(
      statLine({ pid: 7, comm: 'a) b (c) ) x', rssPages: 1234, startTime: 999, ppid: 3, state: 'R' }),
    );
    expect(r.ok && r.value).toMatchObject({
      comm: 'a) b (c) ) x',
      rssPages: 1234,
      startTime: 999,
      ppid: 3,
      state: 'R',
    });
  });

  it('reads a real 6.18 line', () => {
    const line =
      '1080 (bash) S 1079 1080 1080 0 -1 4194560 9721 809067 0 224 19 25 3571 1599 20 0 1 0 4035 5365760 988 18446744073709551615 94342104449024 94342105238429 140720774300704 0 0 0 65536 4 1132560123 1 0 0 17 1 0 0 0 0 0 94342105471728 94342105519972 94342188670976 140720774306684 140720774306699 140720774306699 140720774307818 0\n';
    const r = parseStat(line);
    expect(r.ok && r.value).toEqual({
      comm: 'bash',
      state: 'S',
      ppid: 1079,
      flags: 4194560,
      startTime: 4035,
      vsizeBytes: 5365760,
      rssPages: 988,
      minflt: 9721,
      majflt: 0,
      cpuTicks: 44, // utime 19 + stime 25
    });
  });

  it('rejects truncated and garbage lines with a reason instead of throwing', () => {
    expect(parseStat('12 (x) S 1 2')).toMatchObject({ ok: false });
    expect(parseStat('no parens at all')).toMatchObject({ ok: false });
    expect(parseStat('')).toMatchObject({ ok: false });
  });

  it('never throws on arbitrary input, and keeps any comm intact', () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        parseStat(s);
      }),
    );
    fc.assert(
      fc.property(
        fc.string({ maxLength: 15 }).filter((c) => !c.includes('\n')),
        fc.nat(),
        (comm, rss) => {
          const r = parseStat(statLine({ pid: 1, comm, rssPages: rss }));
          expect(r.ok && r.value.comm).toBe(comm);
          expect(r.ok && r.value.rssPages).toBe(rss);
        },
      ),
    );
  });
});
