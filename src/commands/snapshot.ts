// `oomtop snapshot`: one sample, ranked, exported as json, csv, table or prometheus text.
import { createRequire } from 'node:module';
import { parseFormat, parsePositiveInt } from './args.js';
import { resolveDomain } from './domains.js';
import { renderSnapshot, SNAPSHOT_FORMATS, type CsvStringify } from '../core/export/render.js';
import { buildSnapshot } from '../core/snapshot.js';
import { killersOf } from './killers.js';
import { checkOutputPath, writeFileAtomic } from '../system/atomic-write.js';
import { loadUsers, type Roots } from '../system/env.js';
import { Sampler } from '../system/sampler.js';

export interface SnapshotCommandOptions {
  format?: string;
  output?: string;
  limit?: string;
  /** Rank within this memory cgroup's OOM domain instead of the global one. */
  cgroup?: string;
  /** Standard output is a terminal: the default format is then a table. */
  isTTY: boolean;
  width?: number;
}

/** Returns what goes to standard output ('' when written to --output). */
export function runSnapshot(roots: Roots, opts: SnapshotCommandOptions, now: number): string {
  const format = parseFormat(
    opts.format ?? (opts.isTTY && opts.output === undefined ? 'table' : 'json'),
    SNAPSHOT_FORMATS,
  );
  if (opts.output !== undefined) checkOutputPath(opts.output);
  const limit = opts.limit === undefined ? undefined : parsePositiveInt(opts.limit, '--limit');
  const sample = new Sampler(roots.procRoot).sample(now);
  const ctx = resolveDomain(roots, sample, opts.cgroup);
  // Prometheus wants every protected process whatever the limit: the limit is its top N.
  const { snapshot } = buildSnapshot(ctx.sample, {
    users: loadUsers(roots.passwdFile),
    limit: format === 'prometheus' ? undefined : limit,
    domain: ctx.domain,
    scanIndex: ctx.scanIndex,
  });
  // csv-stringify is loaded for a CSV export only (synchronously, its CommonJS build).
  const csv =
    format === 'csv'
      ? (createRequire(import.meta.url)('csv-stringify/sync') as { stringify: CsvStringify }).stringify
      : undefined;
  // The killer race is global: it goes with a global ranking (json gains `killers`,
  // prometheus its oomtop_killer_* series).
  const killers =
    !opts.cgroup && (format === 'json' || format === 'prometheus')
      ? killersOf(roots, sample, snapshot).report
      : undefined;
  const text = renderSnapshot(snapshot, format, limit ?? 10, opts.width, csv, killers);
  if (opts.output !== undefined) {
    writeFileAtomic(opts.output, text);
    return '';
  }
  return text;
}
