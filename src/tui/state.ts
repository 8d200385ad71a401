// The dashboard's state and its reducer: reduce(state, event) -> { state, effects }. Pure:
// no timers, no I/O, no blessed. Effects (writes, exports, quitting) are carried out by the
// app, whose results come back as events. One render follows each event.
import { adjValueOrNull } from '../core/adj.js';
import type { AdjChange, AuditRecord } from '../core/audit.js';
import type { AdjFloor } from '../core/floor.js';
import { printable } from '../core/format.js';
import { columnById, layoutColumns, type ColumnId } from '../core/columns.js';
import type { Snapshot } from '../core/snapshot.js';
import type { DomainContext } from '../core/domains.js';
import type { SnapshotFormat } from '../core/export/render.js';
import { describeDomain, describeVictim, type TimelineEntry } from '../core/timeline.js';
import type { ProtectionReport } from '../core/killers/protection.js';
import type { KillersReport } from '../core/killers/race.js';
import { bindingFor, modeActionFor, type Action, type ModeAction } from './keys.js';
import { DASHBOARD_COLUMNS, tableHeight } from './layout.js';
import { maxOverlayTop } from './view.js';
import { actionTargets, confirmOrSay, plan, rankView, startAction, whatIfOf } from './plan.js';
import {
  cursorIndex,
  keepSelection,
  keyOf,
  RowCache,
  selectedProc,
  selectIndex,
  type TableRows,
  tableRows,
  visibleRows,
} from './rows.js';

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
  /** `top`: the first help line shown (the help scrolls when it is taller than the screen). */
  | { kind: 'help'; top: number }
  | { kind: 'filter' }
  | { kind: 'input'; purpose: 'setAdj' | 'whatIf'; text: string }
  | { kind: 'confirm'; title: string; source: string; plan: PlanItem[]; refused: string[] }
  | { kind: 'export' }
  | { kind: 'domain'; index: number }
  /** `top`: the first line shown of the recent kills and the killer race, which scroll too. */
  | { kind: 'events'; top: number }
  | { kind: 'killers'; top: number };

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
  /** Where `e` writes its exports (the state folder's exports/), shown before it writes. */
  exportDir: string;
  view: DomainView | null;
  snapshot: Snapshot | null;
  domains: DomainChoice[];
  domainPath: string | null;
  history: HistoryPoint[];
  /** The killer race (every killer active here and who acts first), when read. */
  killers: KillersReport | null;
  /** For each protected process (adj < 0): which active killers it is safe from, and the fix for the others. */
  protection: ReadonlyMap<number, ProtectionReport>;
  oomKillsAtStart: number | null;
  /** OOM events from the kernel log (newest last), when it can be read. */
  /** Every killer's kills, oldest first. */
  timeline: TimelineEntry[];
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
  /** The sorted, filtered rows of this dashboard (rows.ts), carried from state to state. */
  rowCache: RowCache;
  /** Pids whose oom_score a readScores effect read (or tried) since the last sample. */
  scoresAsked: ReadonlySet<number>;
}

export type DashEvent =
  | { type: 'sampled'; view: DomainView }
  | { type: 'domains'; domains: DomainChoice[] }
  | { type: 'audit'; records: AuditRecord[] }
  | { type: 'timeline'; timeline: TimelineEntry[]; alert: boolean }
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
  | { type: 'domainLost'; reason: string }
  /** The killer race, read every few ticks (killers.ts). */
  | { type: 'killers'; report: KillersReport; protection: readonly ProtectionReport[] };

export type Effect =
  | { type: 'adjust'; plan: PlanItem[]; source: string }
  | { type: 'export'; format: SnapshotFormat }
  | { type: 'refresh' }
  /** Read the kernel's oom_score of these rows in view now (the answer is a 'scores' event). */
  | { type: 'readScores'; pids: number[] }
  | { type: 'listDomains' }
  | { type: 'quit' };

export const SORTABLE: ColumnId[] = ['rank', 'badness', 'rss', 'swap', 'adj', 'score', 'pid', 'user', 'name', 'cpu'];
export const HISTORY_MS = 10 * 60 * 1000;

export function initialState(o: {
  cols: number;
  rows: number;
  intervalMs: number;
  readOnly: boolean;
  readOnlyWhy?: string;
  canLower: boolean | null;
  uid: number;
  users: ReadonlyMap<number, string>;
  exportDir?: string;
}): DashState {
  return {
    ...o,
    exportDir: o.exportDir ?? '.',
    readOnlyWhy: o.readOnlyWhy ?? '--read-only',
    view: null,
    snapshot: null,
    domains: [],
    domainPath: null,
    history: [],
    killers: null,
    protection: new Map(),
    oomKillsAtStart: null,
    timeline: [],
    audit: [],
    cpu: new Map(),
    selected: null,
    scrollTop: 0,
    filter: '',
    sort: { column: 'rank', descending: false },
    tree: false,
    marked: new Set(),
    paused: false,
    showDetail: true,
    showGraph: false,
    whatIf: null,
    mode: { kind: 'normal' },
    message: null,
    quitting: false,
    rowCache: new RowCache(),
    scoresAsked: new Set(),
  };
}

// ---- the reducer ----

type Result = { state: DashState; effects: Effect[] };
const none = (state: DashState): Result => ({ state, effects: [] });

/** Where the cursor is, for the moving actions. */
type Cursor = { rows: TableRows; i: number; page: number };

/**
 * A new size keeps the selection on screen, scrolled no further than it needs: a selection
 * that fits with rank 1 in view is shown with rank 1 in view.
 */
function onResize(s: DashState, cols: number, rows: number): DashState {
  const sized = { ...s, cols, rows };
  const i = cursorIndex(sized);
  return keepSelection({ ...sized, scrollTop: i < tableHeight(sized) ? 0 : sized.scrollTop });
}

/** htop's M and P: one column, its natural direction (largest first). */
function sortBy(s: DashState, column: ColumnId): DashState {
  const col = columnById(column);
  return keepSelection({
    ...s,
    tree: false,
    sort: { column, descending: col.descending },
    message: { text: `sorted by ${col.title} ${col.descending ? '▼' : '▲'}`, kind: 'info' },
  });
}

/** The next sortable column shown at this width (one off screen would sort by nothing visible). */
function sortNext(s: DashState): DashState {
  const shown = new Set(layoutColumns(DASHBOARD_COLUMNS, s.cols - 3).map((c) => c.col.id));
  const order = SORTABLE.filter((c) => shown.has(c) || c === s.sort.column);
  const next = order[(order.indexOf(s.sort.column) + 1) % order.length] as ColumnId;
  return keepSelection({
    ...s,
    tree: false,
    sort: { column: next, descending: columnById(next).descending },
    message: { text: `sorted by ${columnById(next).title}`, kind: 'info' },
  });
}

function toggleMark(s: DashState, c: Cursor): DashState {
  const p = c.rows.procs[c.i];
  if (!p) return s;
  const marked = new Set(s.marked);
  if (marked.has(keyOf(p))) marked.delete(keyOf(p));
  else marked.add(keyOf(p));
  return selectIndex({ ...s, marked }, c.i + 1);
}

function togglePause(s: DashState): Result {
  const message = { text: s.paused ? 'refreshing again' : 'paused: z resumes', kind: 'info' } as const;
  return { state: { ...s, paused: !s.paused, message }, effects: s.paused ? [{ type: 'refresh' }] : [] };
}

/**
 * What each key-table action does to the state: one entry an action. An action with no
 * entry here (protect, reset, undo, policy) plans a write: see plan.ts startAction.
 */
const ACTIONS: Partial<Record<Action, (s: DashState, c: Cursor) => Result>> = {
  up: (s, c) => none(selectIndex(s, c.i - 1)),
  down: (s, c) => none(selectIndex(s, c.i + 1)),
  pageUp: (s, c) => none(selectIndex(s, c.i - c.page)),
  pageDown: (s, c) => none(selectIndex(s, c.i + c.page)),
  home: (s) => none(selectIndex(s, 0)),
  end: (s, c) => none(selectIndex(s, c.rows.procs.length - 1)),
  filter: (s) => none({ ...s, mode: { kind: 'filter' } }),
  sort: (s) => none(sortNext(s)),
  sortReverse: (s) => none(keepSelection({ ...s, sort: { ...s.sort, descending: !s.sort.descending } })),
  sortMemory: (s) => none(sortBy(s, 'rss')),
  sortCpu: (s) => none(sortBy(s, 'cpu')),
  noSignal: (s) =>
    none({
      ...s,
      message: {
        text: 'oomtop never sends a signal: it predicts and adjusts (p protects, + makes a process die sooner)',
        kind: 'info',
      },
    }),
  tree: (s) => none(keepSelection({ ...s, tree: !s.tree })),
  mark: (s, c) => none(toggleMark(s, c)),
  detail: (s) => none({ ...s, showDetail: !s.showDetail, showGraph: false }),
  graph: (s) => none({ ...s, showGraph: !s.showGraph }),
  // The list (every cgroup ranked) is built only while the selector is open.
  domain: (s) => ({ state: { ...s, mode: { kind: 'domain', index: 0 } }, effects: [{ type: 'listDomains' }] }),
  whatIf: (s) => none(selectedProc(s) ? { ...s, mode: { kind: 'input', purpose: 'whatIf', text: '' } } : s),
  setAdj: (s) => none(actionTargets(s).length ? { ...s, mode: { kind: 'input', purpose: 'setAdj', text: '' } } : s),
  export: (s) => none({ ...s, mode: { kind: 'export' } }),
  // oldest first, as `oomtop history`: opened at the end, where the newest kills are
  events: (s) =>
    none({ ...s, mode: { kind: 'events', top: maxOverlayTop({ ...s, mode: { kind: 'events', top: 0 } }) } }),
  killers: (s) => none({ ...s, mode: { kind: 'killers', top: 0 } }),
  pause: (s) => togglePause(s),
  help: (s) => none({ ...s, mode: { kind: 'help', top: 0 } }),
  quit: (s) => ({ state: { ...s, quitting: true }, effects: [{ type: 'quit' }] }),
};

function onAction(s: DashState, action: Action): Result {
  const handler = ACTIONS[action];
  if (!handler) return startAction(s, action);
  const rows = tableRows(s);
  return handler(s, { rows, i: cursorIndex(s, rows), page: tableHeight(s) });
}

type Typed = string | undefined;
type ModeOf<K extends Mode['kind']> = Extract<Mode, { kind: K }>;
const normal = (s: DashState, more: Partial<DashState> = {}): DashState => ({
  ...s,
  mode: { kind: 'normal' },
  ...more,
});

function scrollKey(s: DashState, m: ModeOf<'help' | 'events' | 'killers'>, name: string): Result {
  // The scrolling keys scroll an overlay taller than the screen; any other key closes it.
  const page = Math.max(1, s.rows - 6);
  const step = {
    down: 1,
    j: 1,
    pagedown: page,
    space: page,
    up: -1,
    k: -1,
    pageup: -page,
    home: -1e6,
    g: -1e6,
    end: 1e6,
    G: 1e6,
  }[name];
  if (step === undefined) return none(normal(s));
  return none({ ...s, mode: { ...m, top: Math.max(0, Math.min(maxOverlayTop(s), m.top + step)) } });
}

function filterKey(s: DashState, action: ModeAction | undefined, typed: Typed): Result {
  if (action === 'keep') return none(normal(s));
  if (action === 'clear') return none(keepSelection(normal(s, { filter: '' })));
  if (action === 'erase') return none(keepSelection({ ...s, filter: s.filter.slice(0, -1) }));
  if (typed) return none(keepSelection({ ...s, filter: s.filter + typed }));
  return none(s);
}

function inputKey(s: DashState, m: ModeOf<'input'>, action: ModeAction | undefined, typed: Typed): Result {
  if (action === 'cancel') return none(normal(s, { whatIf: null }));
  if (action === 'submit') return none(submitAdj(s, m));
  if (action === 'erase') {
    const text = m.text.slice(0, -1);
    return none({ ...s, mode: { ...m, text }, whatIf: adjValueOrNull(text) });
  }
  if (!typed || !/[-0-9]/.test(typed)) return none(s);
  const text = m.text + typed;
  return none({ ...s, mode: { ...m, text }, whatIf: adjValueOrNull(text), message: null });
}

function confirmKey(s: DashState, m: ModeOf<'confirm'>, action: ModeAction | undefined): Result {
  if (action === 'yes') {
    const state = normal(s, { marked: new Set(), message: { text: 'writing…', kind: 'info' } });
    return { state, effects: [{ type: 'adjust', plan: m.plan, source: m.source }] };
  }
  if (action === 'no') return none(normal(s, { message: { text: 'cancelled: nothing written', kind: 'info' } }));
  return none(s);
}

const EXPORT_FORMATS: Partial<Record<ModeAction, SnapshotFormat>> = {
  json: 'json',
  csv: 'csv',
  table: 'table',
  prometheus: 'prometheus',
};

function exportKey(s: DashState, action: ModeAction | undefined): Result {
  const f = action && EXPORT_FORMATS[action];
  if (f) return { state: normal(s), effects: [{ type: 'export', format: f }] };
  return none(
    normal(s, { message: action === 'cancel' ? null : { text: 'export: press j, c, t or p', kind: 'info' } }),
  );
}

function domainKey(s: DashState, m: ModeOf<'domain'>, action: ModeAction | undefined): Result {
  const n = Math.max(1, s.domains.length);
  if (action === 'prev') return none({ ...s, mode: { ...m, index: (m.index - 1 + n) % n } });
  if (action === 'next') return none({ ...s, mode: { ...m, index: (m.index + 1) % n } });
  const d = action === 'pick' ? s.domains[m.index] : undefined;
  if (!d) return none(normal(s, { domains: [] }));
  const message = { text: `domain: ${d.label}`, kind: 'info' } as const;
  return {
    state: normal(s, { domainPath: d.path, domains: [], marked: new Set(), message }),
    effects: [{ type: 'refresh' }],
  };
}

function onModeKey(s: DashState, name: string, ch: string | undefined): Result | null {
  const m = s.mode;
  const typed = ch && ch.length === 1 && ch >= ' ' && ch !== '\x7f' ? ch : undefined;
  switch (m.kind) {
    case 'normal':
      return null;
    case 'help':
    case 'events':
    case 'killers':
      return scrollKey(s, m, name);
    case 'filter':
      return filterKey(s, modeActionFor(m.kind, name), typed);
    case 'input':
      return inputKey(s, m, modeActionFor(m.kind, name), typed);
    case 'confirm':
      return confirmKey(s, m, modeActionFor(m.kind, name));
    case 'export':
      return exportKey(s, modeActionFor(m.kind, name));
    case 'domain':
      return domainKey(s, m, modeActionFor(m.kind, name));
  }
}

/** Enter in the adj prompt: set asks to confirm; what if shows the rank and writes nothing. */
function submitAdj(s: DashState, m: Extract<Mode, { kind: 'input' }>): DashState {
  const v = adjValueOrNull(m.text);
  if (v === null)
    return {
      ...s,
      message: { text: `'${m.text}' is not an adj value: type an integer from -1000 to 1000`, kind: 'error' },
    };
  if (m.purpose === 'whatIf') {
    const p = selectedProc(s);
    const w = p ? whatIfOf(s, p, v) : null;
    const text =
      p && w
        ? `what if ${printable(p.comm)} ${p.pid} had adj ${v}: rank ${w.rank ?? '— (never killed)'} (now ${p.rank ?? '—'}); nothing written (a sets a value)`
        : 'no process selected';
    return { ...s, mode: { kind: 'normal' }, whatIf: null, message: { text, kind: 'info' } };
  }
  if (s.readOnly)
    return {
      ...s,
      mode: { kind: 'normal' },
      message: { text: `read-only mode (${s.readOnlyWhy}): nothing is written`, kind: 'info' },
    };
  return confirmOrSay(
    { ...s, mode: { kind: 'normal' }, whatIf: null },
    `set adj to ${v}`,
    'dashboard',
    plan(s, actionTargets(s), () => v),
    `adj is already ${v}`,
  );
}

export function reduce(s: DashState, e: DashEvent): { state: DashState; effects: Effect[] } {
  const r = reduceEvent(s, e);
  return e.type === 'scores' ? r : withScoreReads(r);
}

/**
 * The tick reads the kernel's oom_score for the rows on screen only. Rows that came into
 * view since (a key, the wheel, a filter) get theirs read by an effect, once each a sample,
 * instead of showing "—" until the next tick.
 */
function withScoreReads(r: { state: DashState; effects: Effect[] }): { state: DashState; effects: Effect[] } {
  const s = r.state;
  if (!s.snapshot || s.quitting) return r;
  const pids: number[] = [];
  for (const row of visibleRows(s))
    if (row.proc.oomScore === null && !s.scoresAsked.has(row.proc.pid)) pids.push(row.proc.pid);
  if (!pids.length) return r;
  return {
    state: { ...s, scoresAsked: new Set([...s.scoresAsked, ...pids]) },
    effects: [...r.effects, { type: 'readScores', pids }],
  };
}

type EventOf<T extends DashEvent['type']> = Extract<DashEvent, { type: T }>;

function reduceEvent(s: DashState, e: DashEvent): Result {
  switch (e.type) {
    case 'sampled':
      return none(onSampled(s, e));
    case 'domains': {
      // Opening the selector puts the cursor on the domain shown now.
      const opening = s.mode.kind === 'domain' && !s.domains.length;
      const idx = Math.max(
        0,
        e.domains.findIndex((d) => d.path === s.domainPath),
      );
      return none({ ...s, domains: e.domains, mode: opening ? { kind: 'domain', index: idx } : s.mode });
    }
    case 'audit':
      return none({ ...s, audit: e.records });
    case 'timeline':
      return none(onTimeline(s, e));
    case 'cpu':
      return none({ ...s, cpu: e.cpu });
    case 'killers':
      return none({ ...s, killers: e.report, protection: new Map(e.protection.map((p) => [p.pid, p])) });
    case 'scores':
      return none(onScores(s, e));
    case 'resize':
      return none(onResize(s, e.cols, e.rows));
    case 'click':
      return none(s.mode.kind === 'normal' ? selectIndex(s, s.scrollTop + e.row) : s);
    case 'wheel':
      return none(onWheel(s, e));
    case 'adjusted': {
      const failed = e.results.filter((r) => !r.ok);
      const text = (failed.length ? failed : e.results).map((r) => r.message).join('; ');
      return {
        state: { ...s, message: { text, kind: failed.length ? 'error' : 'ok' } },
        effects: [{ type: 'refresh' }],
      };
    }
    case 'message':
      return none({ ...s, message: e.message });
    case 'domainLost':
      return none({
        ...s,
        domainPath: null,
        message: { text: `${e.reason}: back to the global domain`, kind: 'error' },
      });
    case 'key':
      return onKey(s, e);
  }
}

/** A new sample ranked in the domain shown; the selection stays on its process. */
function onSampled(s: DashState, e: EventOf<'sampled'>): DashState {
  const snapshot = rankView(s.users, e.view);
  const point: HistoryPoint = {
    timeMs: e.view.sample.timeMs,
    availPages: e.view.headroomPages,
    psiSome: e.view.sample.pressure?.some.avg10 ?? null,
  };
  const history = [...s.history, point].filter((h) => h.timeMs >= point.timeMs - HISTORY_MS);
  const oomKillsAtStart = s.oomKillsAtStart ?? e.view.sample.oomKillCount;
  // Marks of processes that are gone fall away (no key set to build when nothing is marked).
  const live = s.marked.size ? new Set(snapshot.processes.map(keyOf)) : null;
  const marked = live ? new Set([...s.marked].filter((k) => live.has(k))) : s.marked;
  const next = keepSelection({
    ...s,
    view: e.view,
    snapshot,
    history: s.view && s.view.domain.path !== e.view.domain.path ? [point] : history,
    oomKillsAtStart,
    marked,
    scoresAsked: new Set(),
  });
  return s.snapshot === null ? selectIndex(next, 0) : next;
}

/** Every killer's kills; a new one (alert) becomes the message. */
function onTimeline(s: DashState, e: EventOf<'timeline'>): DashState {
  const last = e.timeline.at(-1);
  const v = last?.victims[0];
  const who = last?.killer === 'kernel' ? 'OOM KILL' : `KILLED BY ${last?.killer.toUpperCase()}`;
  const alert =
    e.alert && last
      ? {
          text: `${who}: ${v ? describeVictim(v) : 'victim unknown'} in ${describeDomain(last)} at ${last.wall?.slice(11, 19) ?? '?'} (o lists recent kills)`,
          kind: 'error' as const,
        }
      : s.message;
  return { ...s, timeline: e.timeline, message: alert };
}

/** The kernel's oom_score of rows scrolled into view, read since the sample. */
function onScores(s: DashState, e: EventOf<'scores'>): DashState {
  if (!s.snapshot || !e.scores.size) return s;
  const processes = s.snapshot.processes.map((p) => {
    const score = p.oomScore === null ? e.scores.get(p.pid) : undefined;
    return score === undefined ? p : { ...p, oomScore: score };
  });
  return { ...s, snapshot: { ...s.snapshot, processes } };
}

/** The wheel scrolls the table; the selection moves only when it would leave the screen. */
function onWheel(s: DashState, e: EventOf<'wheel'>): DashState {
  const rows = tableRows(s);
  const h = tableHeight(s);
  const top = Math.max(0, Math.min(s.scrollTop + e.delta, Math.max(0, rows.procs.length - h)));
  const i = cursorIndex(s, rows);
  const moved = { ...s, scrollTop: top };
  return i < top || i >= top + h ? selectIndex(moved, i < top ? top : top + h - 1) : moved;
}

/** A key: the open prompt or dialog's first, else the key table's. */
function onKey(s: DashState, e: EventOf<'key'>): Result {
  const moded = onModeKey(s, e.name, e.ch);
  if (moded) return moded;
  const b = bindingFor(e.name);
  if (!b) return none(s);
  if (b.writes && s.readOnly)
    return none({ ...s, message: { text: `read-only mode (${s.readOnlyWhy}): nothing is written`, kind: 'info' } });
  return onAction({ ...s, message: null }, b.action);
}
