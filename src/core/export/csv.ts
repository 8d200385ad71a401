// CSV with RFC 4180 quoting (csv-stringify): command lines carry commas and quotes.
import { stringify } from 'csv-stringify/sync';
import type { Snapshot, SnapshotProcess } from '../snapshot.js';

export const CSV_FIELDS: ReadonlyArray<keyof SnapshotProcess> = [
  'rank', 'pid', 'ppid', 'uid', 'user', 'comm', 'state', 'killable', 'unkillableReason', 'unknownReason',
  'badnessPages', 'oomScore', 'predictedOomScore', 'oomScoreAdj', 'rssPages', 'swapPages', 'pageTablePages',
  'cgroup', 'unit', 'podUid', 'qosClass', 'containerId', 'startTime', 'startedAt', 'cmdline',
];

export function snapshotToCsv(s: Snapshot): string {
  const rows = s.processes.map((p) => CSV_FIELDS.map((f) => {
    const v = p[f];
    return v === null ? '' : typeof v === 'boolean' ? (v ? 'true' : 'false') : String(v);
  }));
  return stringify([CSV_FIELDS as string[], ...rows], { record_delimiter: 'unix' });
}
