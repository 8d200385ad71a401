import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseStat } from '../../../src/core/parse/stat.js';
import { statLine } from '../../helpers/proc-tree.js';

describe('parseStat', () => {
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
