// A plain text table for terminals, from the shared column table.
import { inDomain, layoutColumns, type ColumnContext, type ColumnId } from '../columns.js';
import { fit, fitCell, formatBytes, formatInt, printable } from '../format.js';
import { rulesById, type GenerationId } from '../kernel-model.js';
import type { Snapshot } from '../snapshot.js';

export const TABLE_COLUMNS: ColumnId[] = [
  'rank',
  'pid',
  'user',
  'name',
  'badness',
  'share',
  'score',
  'predicted',
  'adj',
  'rss',
  'swap',
  'unit',
  'note',
];

/** As the dashboard's: in a memory cgroup, SCORE over its limit and UNIT the cgroup below it. */
function tableContext(s: Snapshot): ColumnContext {
  const ctx: ColumnContext = { pageSize: s.pageSize, domainTotalPages: s.totalPages };
  if (s.domain.kind === 'global' || s.domain.path === null) return ctx;
  return inDomain(ctx, s.domain.path, rulesById(s.model.generation as GenerationId));
}

export function snapshotToTable(s: Snapshot, width = 160): string {
  const ctx = tableContext(s);
  const cols = layoutColumns(TABLE_COLUMNS, width);
  const line = (cells: string[]) => cells.join(' ').trimEnd();
  const domain =
    s.domain.kind === 'global'
      ? 'global (RAM + swap)'
      : `memcg ${printable(s.domain.path ?? '?')} (v${s.domain.cgroupVersion})`;
  const head = [
    `oomtop snapshot ${s.time}  ${printable(s.hostname ?? '')}  Linux ${printable(s.kernelRelease ?? '?')}`,
    `domain ${domain}: ${formatInt(s.totalPages)} pages (${formatBytes(s.totalPages * s.pageSize)}); ` +
      `MemAvailable ${s.memAvailableKb === null ? '?' : formatBytes(s.memAvailableKb * 1024)}; ` +
      `panic_on_oom=${s.sysctls.panicOnOom ?? '?'} oom_kill_allocating_task=${s.sysctls.oomKillAllocatingTask ?? '?'}; ` +
      `oom kills since boot ${s.oomKillCount ?? '?'}`,
    `${s.counts.killable} killable, ${s.counts.unkillable} unkillable, ${s.counts.unknown} unknown`,
    '',
    line(cols.map(({ col, width: w }) => fit(col.title, w, col.align))),
  ];
  const rows = s.processes.map((p) => line(cols.map(({ col, width: w }) => fitCell(col.format(p, ctx), w, col))));
  return `${[...head, ...rows].join('\n')}\n`;
}
