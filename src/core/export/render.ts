// One snapshot in any export format: the snapshot command and the dashboard's export key.
import { snapshotToCsv, type CsvStringify } from './csv.js';
import { snapshotToJson } from './json.js';
import { snapshotToPrometheus } from './prometheus.js';
import { snapshotToTable } from './table.js';
import type { KillersReport } from '../killers/race.js';
import type { Snapshot } from '../snapshot.js';

export const SNAPSHOT_FORMATS = ['json', 'csv', 'table', 'prometheus'] as const;
export type SnapshotFormat = (typeof SNAPSHOT_FORMATS)[number];

export type { CsvStringify };

/**
 * `topN`: the prometheus top N; `width`: the table's width; `csv`: csv-stringify's stringify
 * (CSV only); `killers`: the killer race, carried by JSON and Prometheus (global domain).
 */
export function renderSnapshot(
  s: Snapshot,
  format: SnapshotFormat,
  topN: number,
  width?: number,
  csv?: CsvStringify,
  killers?: KillersReport,
): string {
  switch (format) {
    case 'json':
      return snapshotToJson(s, killers);
    case 'csv':
      if (!csv) throw new Error("renderSnapshot: a CSV export needs csv-stringify's stringify");
      return snapshotToCsv(s, csv);
    case 'table':
      return snapshotToTable(s, width);
    case 'prometheus':
      return snapshotToPrometheus(s, topN, killers);
  }
}
