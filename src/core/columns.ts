// The one column table (htop's Process_fields[] idea): id, title, help, width, how a row
// formats and compares, and which columns give way first on a narrow screen. The table
// export and the dashboard both draw from it.
import { formatPages, formatPercent, printable, shortCgroup } from './format.js';
import { oomScoreOf, type KernelRules } from './kernel-model.js';
import type { SnapshotProcess } from './snapshot.js';

export interface ColumnContext {
  pageSize: number;
  /** totalpages of the domain shown, for the SHARE column. */
  domainTotalPages: number;
  /** CPU% by pid, for the rows on screen only (from their stat utime + stime). */
  cpu?: ReadonlyMap<number, number>;
  /**
   * Ranking inside a memory cgroup: its path (the UNIT/CGROUP column shows paths below it,
   * which tell its rows apart), and the oom_score formula over its limit (the SCORE column;
   * /proc/PID/oom_score is always the global one).
   */
  domain?: { path: string; score: (p: SnapshotProcess) => number | null };
}

/**
 * `ctx` for a ranking inside the memory cgroup at `path` (the dashboard's and the table
 * export's): SCORE is `rules`' oom_score formula over the domain's totalpages.
 */
export function inDomain(ctx: ColumnContext, path: string, rules: KernelRules): ColumnContext {
  const total = ctx.domainTotalPages;
  const score = (p: SnapshotProcess) => (p.badnessPages === null ? null : oomScoreOf(rules, p.badnessPages, total));
  return { ...ctx, domain: { path, score } };
}

export interface Column {
  id: ColumnId;
  title: string;
  help: string;
  width: number;
  align: 'left' | 'right';
  /** Higher stays longer on a narrow screen. */
  priority: number;
  /** The column grows to fill spare width. */
  flex?: boolean;
  /** Cut long values at the start (paths: the end names the unit). */
  cutLeft?: boolean;
  format(p: SnapshotProcess, ctx: ColumnContext): string;
  /** Sort key; null sorts last. */
  key(p: SnapshotProcess, ctx: ColumnContext): number | string | null;
  /** Default direction when first sorted by this column. */
  descending: boolean;
}

export type ColumnId =
  | 'rank'
  | 'pid'
  | 'user'
  | 'name'
  | 'badness'
  | 'share'
  | 'score'
  | 'predicted'
  | 'adj'
  | 'rss'
  | 'swap'
  | 'cpu'
  | 'unit'
  | 'container'
  | 'cmdline'
  | 'note';

const numOrDash = (n: number | null): string => (n === null ? '—' : String(n));

/** Pages the process holds: what the kernel frees by killing it. */
const heldPages = (p: SnapshotProcess): number => (p.rssPages ?? 0) + (p.swapPages ?? 0) + (p.pageTablePages ?? 0);

/** The cgroup below the domain's ("." for the domain's own), which tells its rows apart. */
function belowDomain(p: SnapshotProcess, domain: string): string {
  const cg = p.cgroup ?? '';
  const base = domain.replace(/\/+$/, '');
  if (cg === base) return '.';
  return shortCgroup(cg.startsWith(`${base}/`) ? `.${cg.slice(base.length)}` : cg);
}

/** Why the kernel never picks this process (or why its badness is unknown); null if it may. */
export function notKillableWhy(p: SnapshotProcess): string | null {
  if (p.unkillableReason)
    return p.unkillableReason === 'oom_score_adj -1000' ? 'protected (adj -1000): never killed' : p.unkillableReason;
  return p.unknownReason;
}

function note(p: SnapshotProcess): string {
  const why = notKillableWhy(p);
  if (why) return why;
  if (p.oomScore !== null && p.predictedOomScore !== null && p.oomScore !== p.predictedOomScore) {
    return `kernel score ${p.oomScore} ≠ predicted ${p.predictedOomScore}`;
  }
  return '';
}

export const COLUMNS: readonly Column[] = [
  {
    id: 'rank',
    title: '#',
    help: 'predicted kill order in the domain (1 dies first); — when unkillable',
    width: 5,
    align: 'right',
    priority: 100,
    format: (p) => numOrDash(p.rank),
    key: (p) => p.rank,
    descending: false,
  },
  {
    id: 'pid',
    title: 'PID',
    help: 'process id',
    width: 7,
    align: 'right',
    priority: 99,
    format: (p) => String(p.pid),
    key: (p) => p.pid,
    descending: false,
  },
  {
    id: 'user',
    title: 'USER',
    help: 'owner (real uid)',
    width: 9,
    align: 'left',
    priority: 60,
    format: (p) => p.user ?? '?',
    key: (p) => p.user,
    descending: false,
  },
  {
    id: 'name',
    title: 'NAME',
    help: 'comm from /proc/PID/stat',
    width: 15,
    align: 'left',
    priority: 98,
    format: (p) => printable(p.comm),
    key: (p) => p.comm,
    descending: false,
  },
  {
    id: 'badness',
    title: 'BADNESS',
    help: 'oom_badness(): rss + swap + page tables + adj × totalpages/1000, shown as memory',
    width: 9,
    align: 'right',
    priority: 97,
    format: (p, c) => (p.badnessPages === null ? '—' : formatPages(p.badnessPages, c.pageSize)),
    key: (p) => p.badnessPages,
    descending: true,
  },
  {
    id: 'share',
    title: 'SHARE',
    help: 'the memory it holds (rss + swap + page tables) as a share of the OOM domain (adj moves its rank, not this)',
    width: 6,
    align: 'right',
    priority: 50,
    format: (p, c) => (p.badnessPages === null ? '' : formatPercent(heldPages(p) / c.domainTotalPages)),
    key: (p) => (p.badnessPages === null ? null : heldPages(p)),
    descending: true,
  },
  {
    id: 'score',
    title: 'SCORE',
    help: "the kernel's /proc/PID/oom_score as read (a lossy view of badness); in a memory cgroup, the same formula over the cgroup's limit",
    width: 5,
    align: 'right',
    priority: 70,
    format: (p, c) => numOrDash(c.domain ? c.domain.score(p) : p.oomScore),
    key: (p, c) => (c.domain ? c.domain.score(p) : p.oomScore),
    descending: true,
  },
  {
    id: 'predicted',
    title: 'PRED',
    help: 'the oom_score the model predicts',
    width: 5,
    align: 'right',
    priority: 15,
    format: (p) => numOrDash(p.predictedOomScore),
    key: (p) => p.predictedOomScore,
    descending: true,
  },
  {
    id: 'adj',
    title: 'ADJ',
    help: 'oom_score_adj (-1000 never killed, +1000 first)',
    width: 6,
    align: 'right',
    priority: 90,
    format: (p) => (p.oomScoreAdj === null ? '?' : p.oomScoreAdj < 0 ? `${p.oomScoreAdj}*` : String(p.oomScoreAdj)),
    key: (p) => p.oomScoreAdj,
    descending: true,
  },
  {
    id: 'rss',
    title: 'RSS',
    help: 'resident memory (stat field 24, the counter the kernel uses)',
    width: 9,
    align: 'right',
    priority: 55,
    format: (p, c) => formatPages(p.rssPages, c.pageSize),
    key: (p) => p.rssPages,
    descending: true,
  },
  {
    id: 'swap',
    title: 'SWAP',
    help: 'swapped-out memory (VmSwap)',
    width: 8,
    align: 'right',
    priority: 30,
    format: (p, c) => formatPages(p.swapPages, c.pageSize),
    key: (p) => p.swapPages,
    descending: true,
  },
  {
    id: 'cpu',
    title: 'CPU%',
    help: 'CPU use since the last refresh (stat utime + stime), for the rows on screen',
    width: 6,
    align: 'right',
    priority: 20,
    format: (p, c) => {
      const v = c.cpu?.get(p.pid);
      return v === undefined ? '' : v.toFixed(1);
    },
    key: (p, c) => c.cpu?.get(p.pid) ?? null,
    descending: true,
  },
  {
    id: 'unit',
    title: 'UNIT/CGROUP',
    help: 'systemd unit, or the memory cgroup',
    width: 18,
    align: 'left',
    priority: 25,
    flex: true,
    format: (p, c) => (c.domain ? belowDomain(p, c.domain.path) : (p.unit ?? shortCgroup(p.cgroup ?? ''))),
    key: (p, c) => (c.domain ? belowDomain(p, c.domain.path) : (p.unit ?? p.cgroup)),
    descending: false,
    cutLeft: true,
  },
  {
    id: 'container',
    title: 'POD/CONTAINER',
    help: 'Kubernetes QoS class and pod, or the container id, from the cgroup path',
    width: 22,
    align: 'left',
    priority: 22,
    format: (p) => [p.qosClass, p.podUid?.slice(0, 8), p.containerId].filter(Boolean).join(' '),
    key: (p) => p.podUid ?? p.containerId,
    descending: false,
  },
  {
    id: 'cmdline',
    title: 'COMMAND',
    help: 'command line',
    width: 30,
    align: 'left',
    priority: 5,
    flex: true,
    format: (p) => printable(p.cmdline ?? ''),
    key: (p) => p.cmdline,
    descending: false,
  },
  {
    id: 'note',
    title: 'NOTE',
    help: 'why a process is unkillable or unknown',
    width: 24,
    align: 'left',
    priority: 85,
    flex: true,
    format: (p) => note(p),
    key: (p) => note(p),
    descending: false,
  },
];

export function columnById(id: ColumnId): Column {
  const c = COLUMNS.find((x) => x.id === id);
  if (!c) throw new Error(`no column ${id}`);
  return c;
}

/** Compares by a column's key, nulls last whatever the direction. */
export function compareBy(col: Column, ctx: ColumnContext, descending: boolean) {
  return (a: SnapshotProcess, b: SnapshotProcess): number => {
    const ka = col.key(a, ctx);
    const kb = col.key(b, ctx);
    if (ka === null || kb === null) return ka === kb ? 0 : ka === null ? 1 : -1;
    const c = typeof ka === 'number' && typeof kb === 'number' ? ka - kb : String(ka).localeCompare(String(kb));
    return descending ? -c : c;
  };
}

/**
 * Picks the columns that fit `width` (one space between columns), dropping the lowest
 * priority first, and gives spare width to the flexible ones. Returns columns with widths.
 */
export function layoutColumns(ids: readonly ColumnId[], width: number): Array<{ col: Column; width: number }> {
  let chosen = ids.map(columnById);
  const total = (cs: Column[]) => cs.reduce((s, c) => s + c.width, 0) + Math.max(0, cs.length - 1);
  while (chosen.length > 1 && total(chosen) > width) {
    const lowest = chosen.reduce((lo, c) => (c.priority < lo.priority ? c : lo));
    chosen = chosen.filter((c) => c !== lowest);
  }
  const spare = Math.max(0, width - total(chosen));
  const flex = chosen.filter((c) => c.flex);
  return chosen.map((c) => ({ col: c, width: c.width + (flex.length && c === flex[flex.length - 1] ? spare : 0) }));
}
