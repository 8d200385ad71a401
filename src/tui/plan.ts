// Writes the dashboard plans: their targets, values, floors and predicted ranks, and the
// dialog that asks before anything is written (or the message that says why not). Pure.
import { changesToUndo, originalAdj } from '../core/audit.js';
import { OOM_SCORE_ADJ_MAX, OOM_SCORE_ADJ_MIN } from '../core/badness.js';
import { adjFloor, checkFloor, protectTarget, type AdjFloor } from '../core/floor.js';
import { printable } from '../core/format.js';
import { buildSnapshot, rankSample, type Snapshot, type SnapshotProcess } from '../core/snapshot.js';
import type { RankedProcess } from '../core/types.js';
import type { Action } from './keys.js';
import { keyOf, sameProcess, selectedProc } from './rows.js';
import type { DashState, DomainView, Effect, PlanItem } from './state.js';

/** Targets of an action: the marked rows, else the selected one. */
export function actionTargets(s: DashState): SnapshotProcess[] {
  const procs = s.snapshot?.processes ?? [];
  if (s.marked.size) return procs.filter((p) => s.marked.has(keyOf(p)));
  const sel = selectedProc(s);
  return sel ? [sel] : [];
}

/** The kill order of a domain view, as the records the table shows. */
export function rankView(users: ReadonlyMap<number, string>, view: DomainView): Snapshot {
  return buildSnapshot(view.sample, { users, domain: view.domain, scanIndex: view.scanIndex }).snapshot;
}

/** The kill order with hypothetical adj values: ranks only, no records (it runs as the user types). */
function rankedWith(view: DomainView, overrides: ReadonlyMap<number, number>): RankedProcess[] {
  return rankSample(view.sample, { domain: view.domain, scanIndex: view.scanIndex, adjOverrides: overrides });
}

export function ranksWith(s: DashState, overrides: ReadonlyMap<number, number>): Map<number, number | null> {
  if (!s.view) return new Map();
  return new Map(rankedWith(s.view, overrides).map((r) => [r.proc.pid, r.rank]));
}

export function whatIfOf(
  s: DashState,
  p: SnapshotProcess,
  value: number,
): { rank: number | null; badness: number | null } {
  if (!s.view) return { rank: null, badness: null };
  const q = rankedWith(s.view, new Map([[p.pid, value]])).find((r) => r.proc.pid === p.pid);
  return { rank: q?.rank ?? null, badness: q?.badnessPages ?? null };
}

/**
 * The writes an action asks for, each checked against what is known of the process's floor
 * before any dialog: a value the kernel refused before is said now and left out, one it may
 * refuse carries a warning into the dialog.
 */
export function plan(
  s: DashState,
  targets: SnapshotProcess[],
  valueFor: (p: SnapshotProcess) => number | null,
  more?: (p: SnapshotProcess) => Partial<PlanItem>,
): { items: PlanItem[]; refused: string[] } {
  const pairs = targets
    .map((p) => [p, valueFor(p)] as const)
    .filter(([p, v]) => v !== null && v !== p.oomScoreAdj) as Array<readonly [SnapshotProcess, number]>;
  const refused: string[] = [];
  const kept: Array<readonly [SnapshotProcess, number, AdjFloor, string | undefined]> = [];
  for (const [p, v] of pairs) {
    const floor = adjFloor(p, s.audit, s.canLower);
    const verdict = checkFloor(floor, v);
    if (verdict.kind === 'refused') refused.push(`${printable(p.comm)} ${p.pid}: ${verdict.message}`);
    else kept.push([p, v, floor, verdict.kind === 'unknown' ? verdict.message : undefined]);
  }
  const ranks = ranksWith(s, new Map(kept.map(([p, v]) => [p.pid, v])));
  const items = kept.map(([p, v, floor, warning]) => ({
    pid: p.pid,
    startTime: p.startTime,
    comm: p.comm,
    old: p.oomScoreAdj,
    new: v,
    newRank: ranks.get(p.pid) ?? null,
    floor,
    ...(warning ? { warning } : {}),
    ...more?.(p),
  }));
  return { items, refused };
}

/** The lowest value reachable: -1000 with CAP_SYS_RESOURCE, else the lowest known to be allowed (core/floor.ts). */
export function protectValue(s: DashState, p: SnapshotProcess): number {
  return protectTarget(adjFloor(p, s.audit, s.canLower));
}

export const clampAdj = (v: number) => Math.max(OOM_SCORE_ADJ_MIN, Math.min(OOM_SCORE_ADJ_MAX, v));

export function confirmOrSay(
  s: DashState,
  title: string,
  source: string,
  planned: { items: PlanItem[]; refused: string[] },
  nothing: string,
): DashState {
  const { items, refused } = planned;
  if (!items.length)
    return {
      ...s,
      message: {
        text: refused.length ? `nothing written: ${refused.join('; ')}` : nothing,
        kind: refused.length ? 'error' : 'info',
      },
    };
  return { ...s, mode: { kind: 'confirm', title, source, plan: items, refused } };
}

type Planned = { state: DashState; effects: Effect[] };
const say = (state: DashState): Planned => ({ state, effects: [] });

function planProtect(s: DashState): DashState {
  const items = plan(s, actionTargets(s), (p) => protectValue(s, p));
  if (s.canLower === false)
    return confirmOrSay(
      s,
      'protect (no CAP_SYS_RESOURCE: the lowest value you may set; -1000 needs systemd OOMScoreAdjust=)',
      'dashboard',
      items,
      'already at the lowest value you may set: -1000 needs CAP_SYS_RESOURCE (systemd OOMScoreAdjust= can)',
    );
  return confirmOrSay(s, 'protect', 'dashboard', items, 'already protected');
}

function planStep(s: DashState, up: boolean): DashState {
  const d = up ? ADJ_STEP : -ADJ_STEP;
  const items = plan(s, actionTargets(s), (p) => clampAdj((p.oomScoreAdj ?? 0) + d));
  const title = up ? 'raise adj (dies sooner)' : 'lower adj (dies later)';
  return confirmOrSay(s, title, 'dashboard', items, 'adj is already at its limit');
}

function planReset(s: DashState): DashState {
  const items = plan(s, actionTargets(s), (p) => originalAdj(s.audit, p.pid, p.startTime));
  const nothing = 'nothing to reset: oomtop has not changed this process';
  return confirmOrSay(s, 'reset to the value before oomtop changed it', 'reset', items, nothing);
}

function planUndo(s: DashState): DashState {
  const last = changesToUndo(s.audit, 1)[0];
  if (!last) return { ...s, message: { text: 'nothing to undo', kind: 'info' } };
  const live = s.snapshot?.processes.find((p) => sameProcess(p, last));
  if (!live) {
    const text = `cannot undo ${printable(last.comm)} (pid ${last.pid}) ${last.old} → ${last.new}: the process is gone`;
    return { ...s, message: { text, kind: 'error' } };
  }
  const items = plan(
    s,
    [live],
    () => last.old,
    () => ({ undoes: last.id }),
  );
  return confirmOrSay(s, 'undo the last change', 'undo', items, 'nothing to undo: the value is already back');
}

/** The writing actions of the key table: each plans its write and asks before it (plan, then confirm). */
const WRITES: Partial<Record<Action, (s: DashState) => DashState>> = {
  protect: planProtect,
  raise: (s) => planStep(s, true),
  lower: (s) => planStep(s, false),
  reset: planReset,
  undo: planUndo,
};

export function startAction(s: DashState, action: Action): Planned {
  const write = WRITES[action];
  return say(write ? write(s) : s);
}

const ADJ_STEP = 100;
