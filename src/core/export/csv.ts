// CSV with RFC 4180 quoting (csv-stringify): command lines carry commas and quotes. Text
// fields are printable(): a control character in a name is written as \xNN, never raw.
import { printable } from '../format.js';
import type { Snapshot, SnapshotProcess } from '../snapshot.js';

export const CSV_FIELDS: ReadonlyArray<keyof SnapshotProcess> = [
  'rank',
  'pid',
  'ppid',
  'uid',
  'user',
  'comm',
  'state',
  'killable',
  'unkillableReason',
  'unknownReason',
  'badnessPages',
  'oomScore',
  'predictedOomScore',
  'oomScoreAdj',
  'rssPages',
  'swapPages',
  'pageTablePages',
  'cgroup',
  'unit',
  'podUid',
  'qosClass',
  'containerId',
  'startTime',
  'startedAt',
  'cmdline',
];

/**
 * csv-stringify's `stringify` (csv-stringify/sync), passed in by the caller: the snapshot
 * command loads it only for a CSV export (it costs a one-shot command ~13 ms to load).
 */
export type CsvStringify = (records: string[][], options: { record_delimiter: 'unix' }) => string;

export function snapshotToCsv(s: Snapshot, stringify: CsvStringify): string {
  const rows = s.processes.map((p) =>
    CSV_FIELDS.map((f) => {
      const v = p[f];
      return v === null ? '' : typeof v === 'boolean' ? (v ? 'true' : 'false') : printable(String(v));
    }),
  );
  return stringify([CSV_FIELDS as string[], ...rows], { record_delimiter: 'unix' });
}
