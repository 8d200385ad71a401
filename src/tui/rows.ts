// The table's rows as the state implies them: filter, sort, tree order, the selection and
// scrolling. Pure; the sorted rows are memoised in the state's own RowCache.
import { processKey } from '../core/audit.js';
import { columnById, compareBy, inDomain, type ColumnContext } from '../core/columns.js';
import type { Snapshot, SnapshotProcess } from '../core/snapshot.js';
import { tableHeight } from './layout.js';
import { compileOrNull } from '../core/pattern.js';
import { LATEST } from '../core/kernel-model.js';
import type { DashState } from './state.js';

type Identity = { pid: number; startTime: number };
/** A process's key in the marked set: pid and start time (a reused pid is another process). */
export const keyOf = (p: Identity): string => processKey(p.pid, p.startTime);
export const sameProcess = (a: Identity, b: Identity): boolean => a.pid === b.pid && a.startTime === b.startTime;

export function columnContext(s: DashState): ColumnContext {
  const total = s.snapshot?.totalPages ?? 1;
  const ctx: ColumnContext = { pageSize: s.snapshot?.pageSize ?? 4096, domainTotalPages: total, cpu: s.cpu };
  if (s.domainPath === null || !s.view) return ctx;
  return inDomain(ctx, s.domainPath, s.view.sample.model?.rules ?? LATEST);
}

/**
 * The sorted, filtered rows of the last state asked, held by the state itself (each
 * dashboard has its own): a key press must not re-sort thousands of rows, and two states
 * (two dashboards, two tests) never share a memo.
 */
export class RowCache {
  private memo: {
    snapshot: Snapshot | null;
    filter: string;
    sort: string;
    tree: boolean;
    cpu: ReadonlyMap<number, number>;
    rows: TableRows;
  } | null = null;

  rows(s: DashState): TableRows {
    const sortKey = `${s.sort.column}:${s.sort.descending}`;
    const m = this.memo;
    if (
      m &&
      m.snapshot === s.snapshot &&
      m.filter === s.filter &&
      m.sort === sortKey &&
      m.tree === s.tree &&
      (s.sort.column !== 'cpu' || m.cpu === s.cpu)
    )
      return m.rows;
    const rows = buildRows(s);
    this.memo = { snapshot: s.snapshot, filter: s.filter, sort: sortKey, tree: s.tree, cpu: s.cpu, rows };
    return rows;
  }
}

/** A row on screen: its process and, in the tree view, its indentation depth. */
export interface TableRow {
  proc: SnapshotProcess;
  depth: number;
}

/**
 * The table's rows in order: the processes, and in the tree view each row's depth (null:
 * all 0). Row objects are made for the rows on screen only (visibleRows): not 20,000 a
 * refresh for a table that shows 40.
 */
export interface TableRows {
  readonly procs: readonly SnapshotProcess[];
  readonly depths: Uint16Array | null;
}

/**
 * The filter (/) matches as --name and --cmdline do: an RE2 regular expression, searched in
 * the name, user, unit, cgroup and command line (case matters; (?i) turns it off). While
 * what is typed is not yet a valid expression ("java(") it matches as plain text.
 */
export function filterMatcher(needle: string): ((p: SnapshotProcess) => boolean) | null {
  if (!needle) return null;
  const re = compileOrNull(needle);
  const test = re ? (t: string) => re.test(t) : (t: string) => t.includes(needle);
  return (p) =>
    test(p.comm) || test(p.user ?? '') || test(p.unit ?? '') || test(p.cgroup ?? '') || test(p.cmdline ?? '');
}

function treeOrder(rows: readonly SnapshotProcess[]): TableRows {
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
  const procs: SnapshotProcess[] = [];
  const depths = new Uint16Array(rows.length);
  const seen = new Set<number>();
  const walk = (p: SnapshotProcess, depth: number) => {
    if (seen.has(p.pid)) return;
    seen.add(p.pid);
    depths[procs.length] = Math.min(depth, 0xffff);
    procs.push(p);
    for (const c of children.get(p.pid) ?? []) walk(c, depth + 1);
  };
  for (const r of roots) walk(r, 0);
  return { procs, depths };
}

/** Filtered, then sorted (or in tree order). */
function buildRows(s: DashState): TableRows {
  const match = filterMatcher(s.filter);
  const all = s.snapshot?.processes ?? [];
  const procs = match ? all.filter(match) : all;
  if (s.tree) return treeOrder(procs);
  // in kill order, unfiltered: the snapshot's own list, not a copy
  if (s.sort.column === 'rank' && !s.sort.descending) return { procs, depths: null };
  const col = columnById(s.sort.column);
  const sorted = procs === all ? [...all] : (procs as SnapshotProcess[]);
  return { procs: sorted.sort(compareBy(col, columnContext(s), s.sort.descending)), depths: null };
}

export function tableRows(s: DashState): TableRows {
  return s.rowCache.rows(s);
}

/** Row i of the table (undefined past its end). */
export function rowAt(rows: TableRows, i: number): TableRow | undefined {
  const proc = rows.procs[i];
  return proc && { proc, depth: rows.depths?.[i] ?? 0 };
}

/** The rows on screen now (and the one below: a half-drawn last line). */
export function visibleRows(s: DashState): TableRow[] {
  const rows = tableRows(s);
  const out: TableRow[] = [];
  const end = Math.min(rows.procs.length, s.scrollTop + tableHeight(s) + 1);
  for (let i = s.scrollTop; i < end; i++) out.push(rowAt(rows, i) as TableRow);
  return out;
}

export function cursorIndex(s: DashState, rows = tableRows(s)): number {
  const sel = s.selected;
  if (!sel) return 0;
  const i = rows.procs.findIndex((p) => sameProcess(p, sel));
  return Math.max(i, 0);
}

export function selectedProc(s: DashState): SnapshotProcess | null {
  const rows = tableRows(s);
  return rows.procs[cursorIndex(s, rows)] ?? null;
}

export function selectIndex(s: DashState, index: number): DashState {
  const rows = tableRows(s).procs;
  if (!rows.length) return { ...s, selected: null, scrollTop: 0 };
  const i = Math.max(0, Math.min(rows.length - 1, index));
  const h = tableHeight(s);
  let top = s.scrollTop;
  if (i < top) top = i;
  if (i >= top + h) top = i - h + 1;
  top = Math.max(0, Math.min(top, Math.max(0, rows.length - h)));
  const p = rows[i] as SnapshotProcess;
  return { ...s, selected: { pid: p.pid, startTime: p.startTime }, scrollTop: top, whatIf: null };
}

/** Keeps the selection on the same process (pid + start time) as rows move. */
export function keepSelection(s: DashState): DashState {
  const rows = tableRows(s);
  const n = rows.procs.length;
  if (!n) return { ...s, scrollTop: 0 };
  const sel = s.selected;
  const found = sel ? rows.procs.findIndex((p) => sameProcess(p, sel)) : -1;
  return selectIndex(s, found < 0 ? Math.min(cursorIndex(s, rows), n - 1) : found);
}
