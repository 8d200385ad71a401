import type { Snapshot } from '../snapshot.js';

export function snapshotToJson(s: Snapshot): string {
  return JSON.stringify(s, null, 2) + '\n';
}
