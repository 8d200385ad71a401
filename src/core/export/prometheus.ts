// Prometheus text exposition format (0.0.4) for node_exporter's textfile collector:
// per-process series for the top N and for every protected process (adj < 0), plus totals.
import { printable } from '../format.js';
import type { KillersReport } from '../killers/race.js';
import { killersToPrometheus } from '../killers/render.js';
import type { Snapshot, SnapshotProcess } from '../snapshot.js';

/** Label values: printable() (no control character reaches a scraper's UI), then the format's escapes of backslash, double quote and newline. */
export function escapeLabel(v: string): string {
  return printable(v).replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

export function labels(l: Record<string, string | number | null>): string {
  const parts = Object.entries(l)
    .filter(([, v]) => v !== null)
    .map(([k, v]) => `${k}="${escapeLabel(String(v))}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}

export type MetricSample = [Record<string, string | number | null>, number];

/** One metric family: what the text format prints and what the exporter registers with prom-client. */
export interface MetricFamily {
  name: string;
  help: string;
  type: 'gauge' | 'counter';
  samples: MetricSample[];
}

export class MetricWriter {
  readonly families: MetricFamily[] = [];
  metric(name: string, help: string, type: 'gauge' | 'counter', samples: MetricSample[]): void {
    this.families.push({ name, help, type, samples });
  }
  toString(): string {
    const out: string[] = [];
    for (const f of this.families) {
      out.push(`# HELP ${f.name} ${f.help}`, `# TYPE ${f.name} ${f.type}`);
      for (const [l, v] of f.samples) out.push(`${f.name}${labels(l)} ${v}`);
    }
    return `${out.join('\n')}\n`;
  }
}

/** Per process: the top N by kill order, and every protected process. */
function processMetrics(w: MetricWriter, s: Snapshot, topN: number): void {
  const chosen = s.processes.filter(
    (p) => (p.rank !== null && p.rank <= topN) || (p.oomScoreAdj !== null && p.oomScoreAdj < 0),
  );
  const lbl = (p: SnapshotProcess) => ({
    pid: p.pid,
    comm: p.comm,
    user: p.user,
    unit: p.unit,
    rank: p.rank ?? 'unkillable',
  });
  w.metric(
    'oomtop_process_badness_bytes',
    'oom_badness() in bytes (its pages times the page size; top N by kill order, and protected processes)',
    'gauge',
    chosen.filter((p) => p.badnessPages !== null).map((p) => [lbl(p), (p.badnessPages as number) * s.pageSize]),
  );
  w.metric(
    'oomtop_process_oom_score_adj',
    'oom_score_adj of the process',
    'gauge',
    chosen.filter((p) => p.oomScoreAdj !== null).map((p) => [lbl(p), p.oomScoreAdj as number]),
  );
  w.metric(
    'oomtop_process_oom_score',
    "the kernel's /proc/PID/oom_score",
    'gauge',
    chosen.filter((p) => p.oomScore !== null).map((p) => [lbl(p), p.oomScore as number]),
  );
}

/** The domain and the machine. */
function systemMetrics(w: MetricWriter, s: Snapshot): void {
  const domain = { domain: s.domain.path ?? 'global' };
  w.metric('oomtop_processes', 'processes by OOM killability', 'gauge', [
    [{ ...domain, state: 'killable' }, s.counts.killable],
    [{ ...domain, state: 'unkillable' }, s.counts.unkillable],
    [{ ...domain, state: 'unknown' }, s.counts.unknown],
  ]);
  w.metric('oomtop_protected_processes', 'processes with a negative oom_score_adj', 'gauge', [
    [domain, s.processes.filter((p) => p.oomScoreAdj !== null && p.oomScoreAdj < 0).length],
  ]);
  w.metric(
    'oomtop_domain_total_bytes',
    'totalpages of the OOM domain (RAM + swap, or the memcg limit) in bytes',
    'gauge',
    [[domain, s.totalPages * s.pageSize]],
  );
  w.metric('oomtop_page_size_bytes', 'page size', 'gauge', [[{}, s.pageSize]]);
  if (s.memAvailableKb !== null)
    w.metric('oomtop_mem_available_bytes', 'MemAvailable', 'gauge', [[{}, s.memAvailableKb * 1024]]);
  if (s.oomKillCount !== null)
    w.metric('oomtop_oom_kills_total', 'OOM kills since boot (/proc/vmstat oom_kill)', 'counter', [
      [{}, s.oomKillCount],
    ]);
  const m = s.model;
  const rules = { generation: m.generation, chosen_by: m.chosenBy };
  w.metric(
    'oomtop_model_oom_score_compared',
    'processes whose /proc/PID/oom_score was compared with the model',
    'gauge',
    [[rules, m.compared]],
  );
  w.metric('oomtop_model_oom_score_matched', 'of those, how many the kernel rules in use reproduce', 'gauge', [
    [rules, m.matched],
  ]);
  w.metric('oomtop_model_exact', '1 when every compared oom_score is reproduced: the kill order is exact', 'gauge', [
    [rules, m.exact ? 1 : 0],
  ]);
  w.metric('oomtop_snapshot_timestamp_seconds', 'when the snapshot was taken', 'gauge', [
    [{}, Date.parse(s.time) / 1000],
  ]);
}

/** The snapshot's metric families (and the killer race's): the textfile's and the exporter's. */
export function snapshotMetrics(s: Snapshot, topN: number, killers?: KillersReport): MetricWriter {
  const w = new MetricWriter();
  processMetrics(w, s, topN);
  systemMetrics(w, s);
  if (killers) killersToPrometheus(killers, w);
  return w;
}

export function snapshotToPrometheus(s: Snapshot, topN: number, killers?: KillersReport): string {
  return snapshotMetrics(s, topN, killers).toString();
}
