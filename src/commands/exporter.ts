// `oomtop exporter --listen ADDR:PORT`: /metrics over HTTP for Prometheus, with prom-client.
// A scrape reads /proc again unless the last reading is younger than --min-interval (several
// Prometheus servers, or a fast scrape interval, do not multiply the work); the series are the
// snapshot's textfile series (the top N and every protected process, the machine, the killer
// race), plus prom-client's own process metrics for oomtop itself and the exporter's reading
// time. It never writes anything and never signals a process.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { UserError } from '../core/errors.js';
import { snapshotMetrics, type MetricFamily } from '../core/export/prometheus.js';
import { printable } from '../core/format.js';
import { Sampler } from '../system/sampler.js';
import type { Roots } from '../system/env.js';
import { sampleRanked, type CommandIo } from './adjust.js';
import { parsePositiveInt, parseSeconds } from './args.js';
import { killersOf } from './killers.js';

export interface ExporterOptions {
  listen?: string;
  limit?: string;
  minInterval?: string;
}

/** "127.0.0.1:9717", "[::1]:9717", ":9717" (every address). */
export function parseListen(text: string): { host: string | undefined; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(text.trim());
  const port = Number(m?.[3]);
  if (!m || port < 1 || port > 65535)
    throw new UserError(
      `--listen '${printable(text)}' is not ADDR:PORT: give e.g. 127.0.0.1:9717, [::1]:9717 or :9717 (every address)`,
    );
  const host = m[1] ?? m[2];
  return { host: host === '' ? undefined : host, port };
}

/** The families as prom-client metrics in a registry of their own (label values made printable). */
export function registryOf(families: readonly MetricFamily[]): Registry {
  const reg = new Registry();
  for (const f of families) {
    const labelNames = [...new Set(f.samples.flatMap(([l]) => Object.keys(l)))];
    const metric =
      f.type === 'counter'
        ? new Counter({ name: f.name, help: f.help, labelNames, registers: [reg] })
        : new Gauge({ name: f.name, help: f.help, labelNames, registers: [reg] });
    for (const [l, v] of f.samples) {
      const lbl: Record<string, string> = {};
      for (const [k, x] of Object.entries(l)) if (x !== null) lbl[k] = printable(String(x));
      if (metric instanceof Counter) metric.inc(lbl, v);
      else metric.set(lbl, v);
    }
  }
  return reg;
}

/** oomtop's own process metrics and the exporter's reading time and count. */
function ownMetrics(): { own: Registry; reading: Gauge; reads: Counter } {
  const own = new Registry();
  collectDefaultMetrics({ register: own, prefix: 'oomtop_exporter_' });
  // prom-client's three gauges named *_total break the naming convention (promtool says so); their
  // values are also in oomtop_exporter_nodejs_active_{handles,requests,resources}
  for (const n of ['handles', 'requests', 'resources'])
    own.removeSingleMetric(`oomtop_exporter_nodejs_active_${n}_total`);
  const reading = new Gauge({
    name: 'oomtop_exporter_read_duration_seconds',
    help: 'how long the last reading of /proc, the cgroups and the killers took',
    registers: [own],
  });
  const reads = new Counter({ name: 'oomtop_exporter_reads_total', help: 'readings of /proc', registers: [own] });
  return { own, reading, reads };
}

/** Listens, or a one-line error naming the address. */
async function listen(server: Server, host: string | undefined, port: number, what: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(
        new UserError(`cannot listen on ${printable(what)} (${e.code ?? e.message}): choose another address or port`),
      ),
    );
    server.listen(port, host, () => resolve());
  });
}

export async function runExporter(
  roots: Roots,
  io: CommandIo,
  o: ExporterOptions,
  signal: AbortSignal,
): Promise<number> {
  const { host, port } = parseListen(o.listen ?? '127.0.0.1:9717');
  const topN = o.limit === undefined ? 10 : parsePositiveInt(o.limit, '--limit');
  const minMs = parseSeconds(o.minInterval ?? '5', '--min-interval', 0, 3600) * 1000;
  const { own, reading, reads } = ownMetrics();
  const sampler = new Sampler(roots.procRoot);
  let cache: { at: number; reg: Registry } | null = null;
  const read = (): Registry => {
    const t0 = performance.now();
    const { sample, snapshot } = sampleRanked(roots, io.now(), sampler);
    const killers = killersOf(roots, sample, snapshot).report;
    const reg = registryOf(snapshotMetrics(snapshot, topN, killers).families);
    reading.set((performance.now() - t0) / 1000);
    reads.inc();
    return reg;
  };
  const serve = async (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' || path !== '/metrics') {
      res.writeHead(path === '/' ? 200 : 404, { 'content-type': 'text/plain' });
      res.end(path === '/' ? 'oomtop exporter: /metrics\n' : 'not found: oomtop serves /metrics\n');
      return;
    }
    try {
      if (!cache || Date.now() - cache.at >= minMs) cache = { at: Date.now(), reg: read() };
      const merged = Registry.merge([cache.reg, own]);
      res.writeHead(200, { 'content-type': merged.contentType });
      res.end(await merged.metrics());
    } catch (e) {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`oomtop could not read the system: ${printable(e instanceof Error ? e.message : String(e))}\n`);
    }
  };
  const server = createServer((req, res) => void serve(req, res));
  await listen(server, host, port, o.listen ?? '127.0.0.1:9717');
  const addr = server.address();
  const where =
    typeof addr === 'object' && addr
      ? `${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}`
      : o.listen;
  io.out(`oomtop exporter: http://${where}/metrics\n`);
  await new Promise<void>((resolve) => {
    if (signal.aborted) resolve();
    signal.addEventListener('abort', () => resolve(), { once: true });
  });
  // keep-alive connections (a Prometheus scraping) would hold close() open
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return 0;
}
