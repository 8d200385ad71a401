import type { KillersReport } from '../killers/race.js';
import type { Snapshot } from '../snapshot.js';
import { toJson } from '../format.js';

/** The snapshot; with the killer race (global domain) as its `killers`. */
export function snapshotToJson(s: Snapshot, killers?: KillersReport): string {
  return `${toJson(killers ? { ...s, killers } : s, 2)}\n`;
}
