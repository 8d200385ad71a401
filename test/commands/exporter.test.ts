// The exporter: on a fixture tree it serves the same series as the textfile (through
// prom-client), promtool accepts every format oomtop exports, and a real Prometheus scrapes
// it and answers queries for oomtop's series on the live machine.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseListen } from '../../src/commands/exporter.js';
import { BASIC } from '../helpers/io.js';
import { needKernel } from '../helpers/kernel.js';

const CLI = join(import.meta.dirname, '../../dist/bin/oomtop.js');
const children: ChildProcess[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) {
    if (c.exitCode === null && c.signalCode === null) {
      const gone = new Promise((r) => c.once('exit', r));
      c.kill('SIGTERM');
      await gone;
    }
  }
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A loopback port free now. */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Starts the exporter; resolves with its URL once it says where it listens. */
async function startExporter(args: string[]): Promise<string> {
  const port = await freePort();
  const child = spawn('node', [CLI, ...args, 'exporter', '--listen', `127.0.0.1:${port}`, '--min-interval', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let err = '';
  child.stderr?.on('data', (d) => {
    err += String(d);
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (d) => String(d).includes('/metrics') && resolve());
    child.once('exit', (code) => reject(new Error(`exporter exited ${code}: ${err}`)));
  });
  return `http://127.0.0.1:${port}/metrics`;
}

/** "name{labels} value" lines of a text exposition, comments and prom-client's own series left out. */
function samples(text: string): string[] {
  return text
    .split('\n')
    .filter((l) => l && !l.startsWith('#') && !l.startsWith('oomtop_exporter_') && !l.startsWith('oomtop_snapshot_'))
    .map((l) =>
      l.replace(
        /\{([^}]*)\}/,
        (_m, inner: string) =>
          `{${inner
            .split(/,(?=\w+=")/)
            .sort()
            .join(',')}}`,
      ),
    )
    .sort();
}

describe('oomtop exporter', () => {
  it('takes ADDR:PORT and refuses anything else with the form to use', () => {
    expect(parseListen('127.0.0.1:9717')).toEqual({ host: '127.0.0.1', port: 9717 });
    expect(parseListen('[::1]:9717')).toEqual({ host: '::1', port: 9717 });
    expect(parseListen(':9717')).toEqual({ host: undefined, port: 9717 });
    expect(() => parseListen('9717')).toThrow("--listen '9717' is not ADDR:PORT: give e.g. 127.0.0.1:9717");
    expect(() => parseListen('x:70000')).toThrow('is not ADDR:PORT');
  });

  it("serves the textfile's series on a fixture tree, through prom-client", async () => {
    const fixture = [
      '--proc-root',
      join(BASIC, 'proc'),
      '--sys-root',
      join(BASIC, 'sys'),
      '--passwd',
      join(BASIC, 'passwd'),
    ];
    const url = await startExporter(fixture);
    const res = await fetch(url);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const served = await res.text();
    const file = spawnSync('node', [CLI, ...fixture, 'snapshot', '--format', 'prometheus'], {
      encoding: 'utf8',
    }).stdout;
    expect(samples(served)).toEqual(samples(file));
    expect(served).toContain(
      'oomtop_process_badness_bytes{pid="302",comm="batch",user="app",unit="session-3.scope",rank="1"} 5124145152',
    );
    expect(served).toMatch(/^oomtop_exporter_process_resident_memory_bytes \d+$/m);
    expect(served).toMatch(/^oomtop_exporter_reads_total 1$/m);
    expect((await fetch(url.replace('/metrics', '/nope'))).status).toBe(404);
  });

  it('every exported format passes promtool check metrics', async (ctx) => {
    const promtool = spawnSync('promtool', ['--version']).status === 0;
    needKernel(ctx, promtool, 'promtool is not installed (Debian package prometheus)');
    const state = mkdtempSync(join(tmpdir(), 'oomtop-prom-'));
    dirs.push(state);
    const url = await startExporter([]);
    const texts = {
      exporter: await (await fetch(url)).text(),
      snapshot: spawnSync('node', [CLI, 'snapshot', '--format', 'prometheus'], { encoding: 'utf8' }).stdout,
      check: spawnSync('node', [CLI, 'check', '--format', 'prometheus'], {
        encoding: 'utf8',
        env: { ...process.env, OOMTOP_STATE_DIR: state },
      }).stdout,
    };
    for (const [what, text] of Object.entries(texts)) {
      expect(text, what).toMatch(/^# HELP oomtop_/m);
      const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
      expect(`${r.stdout}${r.stderr}`, what).toBe('');
      expect(r.status, what).toBe(0);
    }
  });

  it('the README documents every series oomtop exports', async () => {
    const state = mkdtempSync(join(tmpdir(), 'oomtop-prom-'));
    dirs.push(state);
    writeFileSync(join(state, 'empty.log'), '');
    const url = await startExporter([]);
    const texts = [
      await (await fetch(url)).text(),
      spawnSync('node', [CLI, 'check', '--format', 'prometheus', '--from', join(state, 'empty.log')], {
        encoding: 'utf8',
        env: { ...process.env, OOMTOP_STATE_DIR: state },
      }).stdout,
    ];
    const names = new Set(texts.flatMap((t) => [...t.matchAll(/^# TYPE (oomtop_\S+)/gm)].map((m) => m[1] as string)));
    expect(names.size).toBeGreaterThan(20);
    const readme = readFileSync(join(import.meta.dirname, '../../README.md'), 'utf8');
    const rows = new Set([...readme.matchAll(/^\| `(oomtop_[a-z_]+)` \|/gm)].map((m) => m[1] as string));
    // prom-client's own process and Node metrics are documented as one row of prefixes
    const undocumented = [...names].filter((n) => !rows.has(n) && !/^oomtop_exporter_(process|nodejs)_/.test(n));
    expect(undocumented).toEqual([]);
  });

  it('a real Prometheus scrapes it: the top victim, the kill counter and the headroom can be queried', async (ctx) => {
    const ok = spawnSync('prometheus', ['--version']).status === 0;
    needKernel(ctx, ok, 'prometheus is not installed (Debian package prometheus)');
    const dir = mkdtempSync(join(tmpdir(), 'oomtop-prometheus-'));
    dirs.push(dir);
    const target = (await startExporter([])).replace(/^http:\/\//, '').replace('/metrics', '');
    const cfg = join(dir, 'prometheus.yml');
    // a reading of a large process table takes a second or more: the scrape waits for it
    writeFileSync(
      cfg,
      `global:\n  scrape_interval: 2s\n  scrape_timeout: 2s\nscrape_configs:\n  - job_name: oomtop\n    static_configs:\n      - targets: ['${target}']\n`,
    );
    const port = await freePort();
    const prom = spawn(
      'prometheus',
      [`--config.file=${cfg}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`],
      { stdio: 'ignore' },
    );
    children.push(prom);
    const query = async (q: string) => {
      const r = await fetch(`http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent(q)}`);
      const j = (await r.json()) as {
        data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> };
      };
      return j.data.result;
    };
    let up: Awaited<ReturnType<typeof query>> = [];
    for (let i = 0; i < 120 && !up.some((r) => r.value[1] === '1'); i++) {
      await new Promise((r) => setTimeout(r, 500));
      up = await query('up{job="oomtop"}').catch(() => []);
    }
    expect(up).toEqual([expect.objectContaining({ value: [expect.any(Number), '1'] })]);
    let top: Awaited<ReturnType<typeof query>> = [];
    for (let i = 0; i < 20 && !top.length; i++) {
      top = await query('oomtop_process_badness_bytes{rank="1"}');
      if (!top.length) await new Promise((r) => setTimeout(r, 500));
    }
    expect(top).toHaveLength(1);
    expect(Number(top[0]?.metric.pid)).toBeGreaterThan(0);
    const kills = await query('oomtop_oom_kills_total');
    const vmstat = Number(/^oom_kill (\d+)$/m.exec(readFileSync('/proc/vmstat', 'utf8'))?.[1]);
    expect(Number(kills[0]?.value[1])).toBeLessThanOrEqual(vmstat);
    expect(Number(kills[0]?.value[1])).toBeGreaterThanOrEqual(0);
    const avail = await query('oomtop_mem_available_bytes');
    expect(Number(avail[0]?.value[1])).toBeGreaterThan(0);
    const kernel = await query('oomtop_killer_active{killer="kernel"}');
    expect(kernel[0]?.value[1]).toBe('1');
  }, 90_000);
});
