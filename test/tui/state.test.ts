// The dashboard's reducer driven directly: events in, state and effects out, no blessed.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { globalContext } from '../../src/core/domains.js';
import { loadUsers } from '../../src/system/env.js';
import { Sampler } from '../../src/system/sampler.js';
import { tableHeight } from '../../src/tui/layout.js';
import { selectedProc, tableRows } from '../../src/tui/rows.js';
import { initialState, reduce, type DashEvent, type DashState, type Effect } from '../../src/tui/state.js';
import { BASIC } from '../helpers/io.js';

const view = globalContext(new Sampler(join(BASIC, 'proc')).sample(Date.UTC(2026, 10, 26)));
const users = loadUsers(join(BASIC, 'passwd'));

function start(o: { canLower?: boolean | null; readOnly?: boolean; rows?: number } = {}): DashState {
  const s = initialState({
    cols: 120,
    rows: o.rows ?? 36,
    intervalMs: 2000,
    readOnly: o.readOnly ?? false,
    canLower: o.canLower ?? false,
    uid: 0,
    users,
  });
  return reduce(s, { type: 'sampled', view }).state;
}

/** Feeds events in order; returns the last state and every effect. */
function feed(s: DashState, ...events: Array<DashEvent | string>): { state: DashState; effects: Effect[] } {
  const effects: Effect[] = [];
  let state = s;
  for (const e of events) {
    const ev: DashEvent = typeof e === 'string' ? { type: 'key', name: e, ch: e.length === 1 ? e : undefined } : e;
    const r = reduce(state, ev);
    state = r.state;
    effects.push(...r.effects);
  }
  return { state, effects };
}

describe('reduce', () => {
  it('the first sample selects rank 1', () => {
    const s = start();
    expect(selectedProc(s)?.pid).toBe(302);
    expect(tableRows(s).procs.length).toBe(13);
  });

  it('a, digits, Enter opens the dialog; only y asks for the write', () => {
    const { state, effects } = feed(start(), 'down', 'a', '4', '0', '0', 'enter');
    expect(state.mode).toMatchObject({ kind: 'confirm', title: 'set adj to 400' });
    expect(effects).toEqual([]);
    const yes = feed(state, 'y');
    expect(yes.effects).toEqual([
      { type: 'adjust', source: 'dashboard', plan: [expect.objectContaining({ pid: 301, old: 0, new: 400 })] },
    ]);
    const no = feed(state, 'n');
    expect(no.effects).toEqual([]);
    expect(no.state.message?.text).toBe('cancelled: nothing written');
  });

  it('what if never asks for a write', () => {
    const { state, effects } = feed(start(), 'down', 'w', '-', '5', '0', '0', 'enter', 'y', 'enter');
    expect(effects.filter((e) => e.type === 'adjust')).toEqual([]);
    expect(state.mode.kind).toBe('normal');
  });

  it('a refusal in the audit log is said before the dialog', () => {
    const s = start();
    const java = tableRows(s).procs.find((p) => p.pid === 301);
    const audit = feed(s, {
      type: 'audit',
      records: [
        {
          id: 'r',
          time: 't',
          user: 'u',
          uid: 0,
          source: 'set',
          pid: 301,
          startTime: java?.startTime as number,
          comm: 'java',
          old: 0,
          new: -100,
          result: 'below-floor',
        },
      ],
    }).state;
    const { state, effects } = feed(audit, 'down', '-');
    expect(state.mode.kind).toBe('normal');
    expect(state.message?.text).toContain('the kernel refused -100 for this process before');
    expect(effects).toEqual([]);
  });

  it('read-only refuses write keys and emits nothing', () => {
    const { state, effects } = feed(start({ readOnly: true }), 'down', 'p', '+', 'u');
    expect(effects).toEqual([]);
    expect(state.message?.text).toBe('read-only mode (--read-only): nothing is written');
  });

  it('filter narrows the rows; Escape clears it; the selection stays on the same process', () => {
    const f = feed(start(), '/', 'j', 'a', 'v', 'a').state;
    expect(tableRows(f).procs.map((p) => p.pid)).toEqual([301]);
    const cleared = feed(f, 'escape').state;
    expect(tableRows(cleared).procs.length).toBe(13);
    expect(selectedProc(cleared)?.pid).toBe(301);
  });

  it('paging moves by the table height the layout gives', () => {
    const s = start({ rows: 24 });
    const h = tableHeight(s);
    const moved = feed(s, 'pagedown').state;
    expect(tableRows(moved).procs.findIndex((p) => p.pid === selectedProc(moved)?.pid)).toBe(Math.min(h, 12));
  });

  it('each dashboard holds its own row cache', () => {
    const a = start();
    const b = feed(start(), '/', 'x').state;
    expect(a.rowCache).not.toBe(b.rowCache);
    expect(tableRows(a).procs.length).toBe(13);
    expect(tableRows(feed(a, 's').state)).not.toBe(tableRows(a));
  });

  it('quit asks the app to quit', () => {
    expect(feed(start(), 'q').effects).toEqual([{ type: 'quit' }]);
  });

  it('asks once per sample for the kernel oom_score of rows in view that lack it (an effect)', () => {
    const blind = globalContext(
      new Sampler(join(BASIC, 'proc')).sample(Date.UTC(2026, 10, 26), {
        cmdline: true,
        cgroup: true,
        oomScoreFor: new Set(),
      }),
    );
    const s0 = initialState({ cols: 120, rows: 36, intervalMs: 2000, readOnly: false, canLower: false, uid: 0, users });
    const first = reduce(s0, { type: 'sampled', view: blind });
    const asked = first.effects.filter((e) => e.type === 'readScores');
    expect(asked).toHaveLength(1);
    expect((asked[0] as { pids: number[] }).pids.length).toBe(13);
    expect(feed(first.state, 'down', 'down').effects).toEqual([]); // asked already this sample
    const again = reduce(first.state, { type: 'sampled', view: blind });
    expect(again.effects.filter((e) => e.type === 'readScores')).toHaveLength(1);
  });
});
