// The dashboard's state and its reducer: reduce(state, event) -> { state, effects }. Pure:
// no timers, no I/O, no blessed. Effects (writes, exports, quitting) are carried out by the
// app, whose results come back as events. One render follows each event.
import { adjValueOrNull } from '../core/adj.js';
import { changesToUndo, originalAdj, processKey, type AdjChange, type AuditRecord } from '../core/audit.js';
import { OOM_SCORE_ADJ_MAX, OOM_SCORE_ADJ_MIN } from '../core/badness.js';
import { adjFloor, checkFloor, protectTarget, type AdjFloor } from '../core/floor.js';
import { printable } from '../core/format.js';
import { columnById, compareBy, type ColumnContext, type ColumnId } from '../core/columns.js';
import { buildSnapshot, rankSample, type Snapshot, type SnapshotProcess } from '../core/snapshot.js';
import type { RankedProcess } from '../core/types.js';
import type { DomainContext } from '../core/domains.js';
import type { SnapshotFormat } from '../core/export/render.js';
import type { OomEvent } from '../core/parse/kernel-log.js';
import { bindingFor, type Action } from './keys.js';


/** What the app ranked for the chosen OOM domain (core/domains.ts). */
export type DomainView = Pick<DomainContext, 'domain' | 'sample' | 'scanIndex' | 'headroomPages' | 'label'>;

export interface DomainChoice {
  path: string | null;
  label: string;
  headroomPages: number | null;
  limitPages: number | null;
  firstVictim: string | null;
  oomKills: number | null;
}

export interface PlanItem extends AdjChange {
  /** Predicted rank after the change (null: unkillable). */
  newRank: number | null;
  undoes?: string;
  /** What is known of the process's floor (core/floor.ts), for the adjuster's message. */
  floor?: AdjFloor;
  /** Said in the dialog: the kernel may refuse this value. */
  warning?: string;
}

export type Mode =
  | { kind: 'normal' }
  | { kind: 'help' }
  | { kind: 'filter' }
  | { kind: 'input'; purpose: 'setAdj' | 'whatIf'; text: string }
  | { kind: 'confirm'; title: string; source: string; plan: PlanItem[]; refused: string[] }
  | { kind: 'export' }
  | { kind: 'domain'; index: number }
  | { kind: 'events' };

export interface Message {
  text: string;
  kind: 'ok' | 'error' | 'info';
}

export interface HistoryPoint {
  timeMs: number;
  availPages: number | null;
  psiSome: number | null;
}

export interface DashState {
  cols: number;
  rows: number;
  intervalMs: number;
  readOnly: boolean;
  /** Why: '--read-only', or the audit log that cannot be used. */
  readOnlyWhy: string;
  /** CAP_SYS_RESOURCE: may lower adj below a process's floor. */
  canLower: boolean | null;
  uid: number;
  users: ReadonlyMap<number, string>;
  view: DomainView | null;
  snapshot: Snapshot | null;
  domains: DomainChoice[];
  domainPath: string | null;
  history: HistoryPoint[];
  oomKillsAtStart: number | null;
  /** OOM events from the kernel log (newest last), when it can be read. */
  oomEvents: OomEvent[];
  audit: AuditRecord[];
  cpu: ReadonlyMap<number, number>;
  selected: { pid: number; startTime: number } | null;
  scrollTop: number;
  filter: string;
  sort: { column: ColumnId; descending: boolean };
  tree: boolean;
  marked: ReadonlySet<string>;
  paused: boolean;
  showDetail: boolean;
  showGraph: boolean;
  whatIf: number | null;
  mode: Mode;
  message: Message | null;
  quitting: boolean;
}

export type DashEvent =
  | { type: 'sampled'; view: DomainView }
  | { type: 'domains'; domains: DomainChoice[] }
  | { type: 'audit'; records: AuditRecord[] }
  | { type: 'oomEvents'; events: OomEvent[]; alert: boolean }
  | { type: 'key'; name: string; ch?: string }
  | { type: 'resize'; cols: number; rows: number }
  | { type: 'click'; row: number }
  | { type: 'wheel'; delta: number }
  | { type: 'cpu'; cpu: ReadonlyMap<number, number> }
  /** The kernel's oom_score of rows scrolled into view since the last sample (read then, not predicted). */
  | { type: 'scores'; scores: ReadonlyMap<number, number> }
  | { type: 'adjusted'; results: Array<{ ok: boolean; message: string }> }
  | { type: 'message'; message: Message }
  /** The chosen cgroup is gone: back to the global domain. */
  | { type: 'domainLost'; reason: string };

export type Effect =
  | { type: 'adjust'; plan: PlanItem[]; source: string }
  | { type: 'export'; format: SnapshotFormat }
  | { type: 'refresh' }
  | { type: 'listDomains' }
  | { type: 'quit' };

export const SORTABLE: ColumnId[] = ['rank', 'badness', 'rss', 'swap', 'adj', 'score', 'pid', 'user', 'name', 'cpu'];
export const HISTORY_MS = 10 * 60 * 1000;
const ADJ_STEP = 100;

export function initialState(o: { cols: number; rows: number; intervalMs: number; readOnly: boolean; readOnlyWhy?: string; canLower: boolean | null; uid: number; users: ReadonlyMap<number, string> }): DashState {
  return {
    ...o, readOnlyWhy: o.readOnlyWhy ?? '--read-only', view: null, snapshot: null, domains: [], domainPath: null, history: [], oomKillsAtStart: null, oomEvents: [], audit: [],
    cpu: new Map(), selected: null, scrollTop: 0, filter: '', sort: { column: 'rank', descending: false }, tree: false,
    marked: new Set(), paused: false, showDetail: true, showGraph: false, whatIf: null, mode: { kind: 'normal' }, message: null, quitting: false,
  };
}

type Identity = { pid: number; startTime: number };
/** A process's key in the marked set: pid and start time (a reused pid is another process). */
export const keyOf = (p: Identity): string => processKey(p.pid, p.startTime);
const sameProcess = (a: Identity, b: Identity): boolean => a.pid === b.pid && a.startTime === b.startTime;

export function columnContext(s: DashState): ColumnContext {
  return { pageSize: s.snapshot?.pageSize ?? 4096, domainTotalPages: s.snapshot?.totalPages ?? 1, cpu: s.cpu };
}

// ---- derived rows (memoised: a key press must not re-sort thousands of rows) ----

let memo: { snapshot: Snapshot | null; filter: string; sort: string; tree: boolean; cpu: ReadonlyMap<number, number>; rows: TableRow[] } | null = null;

export interface TableRow {
  proc: SnapshotProcess;
  /** Tree view indentation depth. */
  depth: number;
}

function filterMatch(p: SnapshotProcess, needle: string): boolean {
  if (!needle) return true;
  const n = needle.toLowerCase();
  return p.comm.toLowerCase().includes(n) || (p.user ?? '').toLowerCase().includes(n)
    || (p.cgroup ?? '').toLowerCase().includes(n) || (p.cmdline ?? '').toLowerCase().includes(n) || (p.unit ?? '').toLowerCase().includes(n);
}

function treeOrder(rows: SnapshotProcess[]): TableRow[] {
  const byPid = new Map(rows.map((p) => [p.pid, p]));
  const children = new Map<number, SnapshotProcess[]>();
  const roots: SnapshotProcess[] = [];
  for (const p of rows) {
    if (p.ppid !== p.pid && byPid.has(p.ppid)) {
      const list = children.get(p.ppid) ?? [];
      list.push(p);
      children.set(p.ppid, list);
    } else roots.push(p);
  }
  const out: TableRow[] = [];
  const seen = new Set<number>();
  const walk = (p: SnapshotProcess, depth: number) => {
    if (seen.has(p.pid)) return;
    seen.add(p.pid);
    out.push({ proc: p, depth });
    for (const c of children.get(p.pid) ?? []) walk(c, depth + 1);
  };
  for (const r of roots) walk(r, 0);
  return out;
}

export function tableRows(s: DashState): TableRow[] {
  const sortKey = `${s.sort.column}:${s.sort.descending}`;
  if (memo && memo.snapshot === s.snapshot && memo.filter === s.filter && memo.sort === sortKey && memo.tree === s.tree
    && (s.sort.column !== 'cpu' || memo.cpu === s.cpu)) return memo.rows;
  const procs = (s.snapshot?.processes ?? []).filter((p) => filterMatch(p, s.filter));
  let rows: TableRow[];
  if (s.tree) rows = treeOrder(procs);
  else {
    if (s.sort.column !== 'rank' || s.sort.descending) {
      const col = columnById(s.sort.column);
      procs.sort(compareBy(col, columnContext(s), s.sort.descending));
    }
    rows = procs.map((p) => ({ proc: p, depth: 0 }));
  }
  memo = { snapshot: s.snapshot, filter: s.filter, sort: sortKey, tree: s.tree, cpu: s.cpu, rows };
  return rows;
}

/** The rows on screen now (and the one below: a half-drawn last line). */
export function visibleRows(s: DashState): TableRow[] {
  return tableRows(s).slice(s.scrollTop, s.scrollTop + tableHeight(s) + 1);
}

/** Rows of the table body that fit on screen (the layout gives the rest). */
export function tableHeight(s: DashState): number {
  const header = 7; // border + 5 header lines + border
  const footer = 1;
  const detail = detailHeight(s);
  return Math.max(1, s.rows - header - footer - detail - 1 /* column titles */);
}

export function detailHeight(s: DashState): number {
  if (s.showGraph && s.rows >= 24) return Math.min(12, Math.floor(s.rows / 3));
  return s.showDetail && s.rows >= 24 ? 7 : 0;
}

export function cursorIndex(s: DashState, rows = tableRows(s)): number {
  const sel = s.selected;
  if (!sel) return 0;
  const i = rows.findIndex((r) => sameProcess(r.proc, sel));
  return i < 0 ? 0 : i;
}

export function selectedProc(s: DashState): SnapshotProcess | null {
  const rows = tableRows(s);
  return rows[cursorIndex(s, rows)]?.proc ?? null;
}

function selectIndex(s: DashState, index: number): DashState {
  const rows = tableRows(s);
  if (!rows.length) return { ...s, selected: null, scrollTop: 0 };
  const i = Math.max(0, Math.min(rows.length - 1, index));
  const h = tableHeight(s);
  let top = s.scrollTop;
  if (i < top) top = i;
  if (i >= top + h) top = i - h + 1;
  top = Math.max(0, Math.min(top, Math.max(0, rows.length - h)));
  const p = (rows[i] as TableRow).proc;
  return { ...s, selected: { pid: p.pid, startTime: p.startTime }, scrollTop: top, whatIf: null };
}

/** Keeps the selection on the same process (pid + start time) as rows move. */
function keepSelection(s: DashState): DashState {
  const rows = tableRows(s);
  if (!rows.length) return { ...s, scrollTop: 0 };
  const sel = s.selected;
  const found = sel ? rows.findIndex((r) => sameProcess(r.proc, sel)) : -1;
  return selectIndex(s, found < 0 ? Math.min(cursorIndex(s, rows), rows.length - 1) : found);
}

// ---- planning writes ----

/** Targets of an action: the marked rows, else the selected one. */
export function actionTargets(s: DashState): SnapshotProcess[] {
  const procs = s.snapshot?.processes ?? [];
  if (s.marked.size) return procs.filter((p) => s.marked.has(keyOf(p)));
  const sel = selectedProc(s);
  return sel ? [sel] : [];
}

/** The kill order of a domain view, as the records the table shows. */
function rankView(users: ReadonlyMap<number, string>, view: DomainView): Snapshot {
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

export function whatIfOf(s: DashState, p: SnapshotProcess, value: number): { rank: number | null; badness: number | null } {
  if (!s.view) return { rank: null, badness: null };
  const q = rankedWith(s.view, new Map([[p.pid, value]])).find((r) => r.proc.pid === p.pid);
  return { rank: q?.rank ?? null, badness: q?.badnessPages ?? null };
}

/**
 * The writes an action asks for, each checked against what is known of the process's floor
 * before any dialog: a value the kernel refused before is said now and left out, one it may
 * refuse carries a warning into the dialog.
 */
function plan(s: DashState, targets: SnapshotProcess[], valueOf: (p: SnapshotProcess) => number | null, extra?: (p: SnapshotProcess) => Partial<PlanItem>): { items: PlanItem[]; refused: string[] } {
  const pairs = targets.map((p) => [p, valueOf(p)] as const).filter(([p, v]) => v !== null && v !== p.oomScoreAdj) as Array<readonly [SnapshotProcess, number]>;
  const refused: string[] = [];
  const kept: Array<readonly [SnapshotProcess, number, AdjFloor, string | undefined]> = [];
  for (const [p, v] of pairs) {
    const floor = adjFloor(p, s.audit, s.canLower);
    const verdict = checkFloor(floor, v);
    if (verdict.kind === 'refused') refused.push(`${printable(p.comm)} ${p.pid}: ${verdict.message}`);
    else kept.push([p, v, floor, verdict.kind === 'unknown' ? verdict.message : undefined]);
  }
  const ranks = ranksWith(s, new Map(kept.map(([p, v]) => [p.pid, v])));
  const items = kept.map(([p, v, floor, warning]) => ({ pid: p.pid, startTime: p.startTime, comm: p.comm, old: p.oomScoreAdj, new: v, newRank: ranks.get(p.pid) ?? null, floor,
    ...(warning ? { warning } : {}), ...extra?.(p) }));
  return { items, refused };
}

/** The lowest value reachable: -1000 with CAP_SYS_RESOURCE, else the lowest known to be allowed (core/floor.ts). */
export function protectValue(s: DashState, p: SnapshotProcess): number {
  return protectTarget(adjFloor(p, s.audit, s.canLower));
}

const clampAdj = (v: number) => Math.max(OOM_SCORE_ADJ_MIN, Math.min(OOM_SCORE_ADJ_MAX, v));

function confirmOrSay(s: DashState, title: string, source: string, planned: { items: PlanItem[]; refused: string[] }, nothing: string): DashState {
  const { items, refused } = planned;
  if (!items.length) return { ...s, message: { text: refused.length ? `nothing written: ${refused.join('; ')}` : nothing, kind: refused.length ? 'error' : 'info' } };
  return { ...s, mode: { kind: 'confirm', title, source, plan: items, refused } };
}

function startAction(s: DashState, action: Action): { state: DashState; effects: Effect[] } {
  const none = (state: DashState) => ({ state, effects: [] as Effect[] });
  const targets = actionTargets(s);
  switch (action) {
    case 'protect': {
      const items = plan(s, targets, (p) => protectValue(s, p));
      const note = s.canLower === false ? ' (no CAP_SYS_RESOURCE: the lowest value you may set; -1000 needs systemd OOMScoreAdjust=)' : '';
      return none(confirmOrSay(s, `protect${note}`, 'dashboard', items,
        s.canLower === false ? 'already at the lowest value you may set: -1000 needs CAP_SYS_RESOURCE (systemd OOMScoreAdjust= can)' : 'already protected'));
    }
    case 'raise':
    case 'lower': {
      const d = action === 'raise' ? ADJ_STEP : -ADJ_STEP;
      return none(confirmOrSay(s, action === 'raise' ? 'raise adj (dies sooner)' : 'lower adj (dies later)', 'dashboard',
        plan(s, targets, (p) => clampAdj((p.oomScoreAdj ?? 0) + d)), 'adj is already at its limit'));
    }
    case 'reset': {
      const items = plan(s, targets, (p) => originalAdj(s.audit, p.pid, p.startTime));
      return none(confirmOrSay(s, 'reset to the value before oomtop changed it', 'reset', items, 'nothing to reset: oomtop has not changed this process'));
    }
    case 'undo': {
      const last = changesToUndo(s.audit, 1)[0];
      if (!last) return none({ ...s, message: { text: 'nothing to undo', kind: 'info' } });
      const live = s.snapshot?.processes.find((p) => sameProcess(p, last));
      if (!live) return none({ ...s, message: { text: `cannot undo ${last.comm} (pid ${last.pid}) ${last.old} → ${last.new}: the process is gone`, kind: 'error' } });
      return none(confirmOrSay(s, 'undo the last change', 'undo', plan(s, [live], () => last.old, () => ({ undoes: last.id })), 'nothing to undo: the value is already back'));
    }
    default:
      return none(s);
  }
}

// ---- the reducer ----

function onAction(s: DashState, action: Action): { state: DashState; effects: Effect[] } {
  const none = (state: DashState) => ({ state, effects: [] as Effect[] });
  const rows = tableRows(s);
  const i = cursorIndex(s, rows);
  const page = tableHeight(s);
  switch (action) {
    case 'up': return none(selectIndex(s, i - 1));
    case 'down': return none(selectIndex(s, i + 1));
    case 'pageUp': return none(selectIndex(s, i - page));
    case 'pageDown': return none(selectIndex(s, i + page));
    case 'home': return none(selectIndex(s, 0));
    case 'end': return none(selectIndex(s, rows.length - 1));
    case 'filter': return none({ ...s, mode: { kind: 'filter' } });
    case 'sort': {
      const next = SORTABLE[(SORTABLE.indexOf(s.sort.column) + 1) % SORTABLE.length] as ColumnId;
      return none(keepSelection({ ...s, tree: false, sort: { column: next, descending: columnById(next).descending }, message: { text: `sorted by ${columnById(next).title}`, kind: 'info' } }));
    }
    case 'sortReverse': return none(keepSelection({ ...s, sort: { ...s.sort, descending: !s.sort.descending } }));
    case 'tree': return none(keepSelection({ ...s, tree: !s.tree }));
    case 'mark': {
      const p = rows[i]?.proc;
      if (!p) return none(s);
      const marked = new Set(s.marked);
      if (marked.has(keyOf(p))) marked.delete(keyOf(p));
      else marked.add(keyOf(p));
      return none(selectIndex({ ...s, marked }, i + 1));
    }
    case 'detail': return none({ ...s, showDetail: !s.showDetail, showGraph: false });
    case 'graph': return none({ ...s, showGraph: !s.showGraph });
    case 'domain':
      // The list (every cgroup ranked) is built only while the selector is open.
      return { state: { ...s, mode: { kind: 'domain', index: 0 } }, effects: [{ type: 'listDomains' }] };
    case 'whatIf': return none(selectedProc(s) ? { ...s, mode: { kind: 'input', purpose: 'whatIf', text: '' } } : s);
    case 'setAdj': return none(actionTargets(s).length ? { ...s, mode: { kind: 'input', purpose: 'setAdj', text: '' } } : s);
    case 'export': return none({ ...s, mode: { kind: 'export' } });
    case 'events': return none({ ...s, mode: { kind: 'events' } });
    case 'pause': return { state: { ...s, paused: !s.paused, message: { text: s.paused ? 'refreshing again' : 'paused: z resumes', kind: 'info' } }, effects: s.paused ? [{ type: 'refresh' }] : [] };
    case 'help': return none({ ...s, mode: { kind: 'help' } });
    case 'quit': return { state: { ...s, quitting: true }, effects: [{ type: 'quit' }] };
    default: return startAction(s, action);
  }
}

function onModeKey(s: DashState, name: string, ch: string | undefined): { state: DashState; effects: Effect[] } | null {
  const none = (state: DashState) => ({ state, effects: [] as Effect[] });
  const m = s.mode;
  const typed = ch && ch.length === 1 && ch >= ' ' && ch !== '\x7f' ? ch : undefined;
  switch (m.kind) {
    case 'normal': return null;
    case 'help':
    case 'events': return none({ ...s, mode: { kind: 'normal' } });
    case 'filter':
      if (name === 'enter') return none({ ...s, mode: { kind: 'normal' } });
      if (name === 'escape') return none(keepSelection({ ...s, filter: '', mode: { kind: 'normal' } }));
      if (name === 'backspace') return none(keepSelection({ ...s, filter: s.filter.slice(0, -1) }));
      if (typed) return none(keepSelection({ ...s, filter: s.filter + typed }));
      return none(s);
    case 'input': {
      if (name === 'escape') return none({ ...s, mode: { kind: 'normal' }, whatIf: null });
      if (name === 'backspace') return none({ ...s, mode: { ...m, text: m.text.slice(0, -1) }, whatIf: adjValueOrNull(m.text.slice(0, -1)) });
      if (typed && /[-0-9]/.test(typed)) {
        const text = m.text + typed;
        return none({ ...s, mode: { ...m, text }, whatIf: adjValueOrNull(text), message: null });
      }
      if (name === 'enter') {
        const v = adjValueOrNull(m.text);
        if (v === null) return none({ ...s, message: { text: `'${m.text}' is not an adj value: type an integer from -1000 to 1000`, kind: 'error' } });
        if (m.purpose === 'whatIf') {
          // What if never writes: it says the rank the value would give, and how to set it.
          const p = selectedProc(s);
          const w = p ? whatIfOf(s, p, v) : null;
          const text = p && w ? `what if ${printable(p.comm)} ${p.pid} had adj ${v}: rank ${w.rank ?? '— (never killed)'} (now ${p.rank ?? '—'}); nothing written (a sets a value)` : 'no process selected';
          return none({ ...s, mode: { kind: 'normal' }, whatIf: null, message: { text, kind: 'info' } });
        }
        if (s.readOnly) return none({ ...s, mode: { kind: 'normal' }, message: { text: `read-only mode (${s.readOnlyWhy}): nothing is written`, kind: 'info' } });
        return none(confirmOrSay({ ...s, mode: { kind: 'normal' }, whatIf: null }, `set adj to ${v}`, 'dashboard', plan(s, actionTargets(s), () => v), `adj is already ${v}`));
      }
      return none(s);
    }
    case 'confirm':
      if (name === 'y' || name === 'enter') {
        return { state: { ...s, mode: { kind: 'normal' }, marked: new Set(), message: { text: 'writing…', kind: 'info' } }, effects: [{ type: 'adjust', plan: m.plan, source: m.source }] };
      }
      if (name === 'n' || name === 'escape' || name === 'q') return none({ ...s, mode: { kind: 'normal' }, message: { text: 'cancelled: nothing written', kind: 'info' } });
      return none(s);
    case 'export': {
      const formats: Record<string, SnapshotFormat> = { j: 'json', c: 'csv', t: 'table', p: 'prometheus' };
      const f = formats[name];
      if (f) return { state: { ...s, mode: { kind: 'normal' } }, effects: [{ type: 'export', format: f }] };
      return none({ ...s, mode: { kind: 'normal' }, message: name === 'escape' ? null : { text: 'export: press j, c, t or p', kind: 'info' } });
    }
    case 'domain': {
      const n = s.domains.length;
      if (name === 'up' || name === 'k') return none({ ...s, mode: { ...m, index: (m.index - 1 + n) % Math.max(1, n) } });
      if (name === 'down' || name === 'j') return none({ ...s, mode: { ...m, index: (m.index + 1) % Math.max(1, n) } });
      if (name === 'enter') {
        const d = s.domains[m.index];
        if (!d) return none({ ...s, mode: { kind: 'normal' } });
        return { state: { ...s, domainPath: d.path, domains: [], mode: { kind: 'normal' }, marked: new Set(), message: { text: `domain: ${d.label}`, kind: 'info' } }, effects: [{ type: 'refresh' }] };
      }
      return none({ ...s, domains: [], mode: { kind: 'normal' } });
    }
  }
}

export function reduce(s: DashState, e: DashEvent): { state: DashState; effects: Effect[] } {
  const none = (state: DashState) => ({ state, effects: [] as Effect[] });
  switch (e.type) {
    case 'sampled': {
      const snapshot = rankView(s.users, e.view);
      const point: HistoryPoint = { timeMs: e.view.sample.timeMs, availPages: e.view.headroomPages, psiSome: e.view.sample.pressure?.some.avg10 ?? null };
      const history = [...s.history, point].filter((h) => h.timeMs >= point.timeMs - HISTORY_MS);
      const oomKillsAtStart = s.oomKillsAtStart ?? e.view.sample.oomKillCount;
      // Marks of processes that are gone fall away (no key set to build when nothing is marked).
      const live = s.marked.size ? new Set(snapshot.processes.map(keyOf)) : null;
      const marked = live ? new Set([...s.marked].filter((k) => live.has(k))) : s.marked;
      const first = s.snapshot === null;
      const next = keepSelection({ ...s, view: e.view, snapshot, history: s.view && s.view.domain.path !== e.view.domain.path ? [point] : history, oomKillsAtStart, marked });
      return none(first ? selectIndex(next, 0) : next);
    }
    case 'domains': {
      // Opening the selector puts the cursor on the domain shown now.
      const opening = s.mode.kind === 'domain' && !s.domains.length;
      const idx = Math.max(0, e.domains.findIndex((d) => d.path === s.domainPath));
      return none({ ...s, domains: e.domains, mode: opening ? { kind: 'domain', index: idx } : s.mode });
    }
    case 'audit': return none({ ...s, audit: e.records });
    case 'oomEvents': {
      const last = e.events.at(-1);
      const v = last?.victims[0];
      const alert = e.alert && last ? { text: `OOM KILL: ${v ? `${v.comm} ${v.pid}` : 'victim unknown'} in ${last.domain ?? 'an unknown domain'} at ${last.wall?.slice(11, 19) ?? '?'} (o lists recent kills)`, kind: 'error' as const } : s.message;
      return none({ ...s, oomEvents: e.events, message: alert });
    }
    case 'cpu': return none({ ...s, cpu: e.cpu });
    case 'scores': {
      if (!s.snapshot || !e.scores.size) return none(s);
      const processes = s.snapshot.processes.map((p) => {
        const score = p.oomScore === null ? e.scores.get(p.pid) : undefined;
        return score === undefined ? p : { ...p, oomScore: score };
      });
      return none({ ...s, snapshot: { ...s.snapshot, processes } });
    }
    case 'resize': return none(keepSelection({ ...s, cols: e.cols, rows: e.rows }));
    case 'click': return none(s.mode.kind === 'normal' ? selectIndex(s, s.scrollTop + e.row) : s);
    case 'wheel': {
      const rows = tableRows(s);
      const top = Math.max(0, Math.min(s.scrollTop + e.delta, Math.max(0, rows.length - tableHeight(s))));
      const i = cursorIndex(s, rows);
      const moved = { ...s, scrollTop: top };
      return none(i < top || i >= top + tableHeight(s) ? selectIndex(moved, i < top ? top : top + tableHeight(s) - 1) : moved);
    }
    case 'adjusted': {
      const failed = e.results.filter((r) => !r.ok);
      const text = failed.length ? failed.map((r) => r.message).join('; ') : e.results.map((r) => r.message).join('; ');
      return { state: { ...s, message: { text, kind: failed.length ? 'error' : 'ok' } }, effects: [{ type: 'refresh' }] };
    }
    case 'message': return none({ ...s, message: e.message });
    case 'domainLost': return none({ ...s, domainPath: null, message: { text: `${e.reason}: back to the global domain`, kind: 'error' } });
    case 'key': {
      const moded = onModeKey(s, e.name, e.ch);
      if (moded) return moded;
      const b = bindingFor(e.name);
      if (!b) return none(s);
      if (b.writes && s.readOnly) return none({ ...s, message: { text: `read-only mode (${s.readOnlyWhy}): nothing is written`, kind: 'info' } });
      return onAction({ ...s, message: null }, b.action);
    }
  }
}

