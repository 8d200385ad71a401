import type { Snapshot } from '../snapshot.js';
import { toJson } from '../format.js';

export function snapshotToJson(s: Snapshot): string {
  return `${toJson(s, 2)}\n`;
}
