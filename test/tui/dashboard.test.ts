// The dashboard rendered to fake streams on fixture /proc trees: the screen text is read
// back and asserted on, and keys go through blessed's own input parsing.
import { buildTimeline, type TimelineEntry } from '../../src/core/timeline.js';
import { parseLog } from '../../src/core/parse/log.js';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { dashboardOptions } from '../../src/commands/dashboard.js';
import { globalContext } from '../../src/core/domains.js';
import { Adjuster } from '../../src/system/adjuster.js';
import { AuditLog } from '../../src/system/audit-log.js';
import { loadUsers } from '../../src/system/env.js';
import { Sampler } from '../../src/system/sampler.js';
import { type AppOptions, DashboardApp } from '../../src/tui/app.js';
import { protectionReport } from '../../src/core/killers/protection.js';
import { killersReport } from '../../src/core/killers/race.js';
import { parseOomdConf } from '../../src/core/killers/systemd-oomd.js';
import { buildSnapshot } from '../../src/core/snapshot.js';
import { parseOomEvents } from '../../src/core/parse/kernel-log.js';
import { statLine, statusText } from '../helpers/proc-tree.js';
import { BASIC, writableBasic } from '../helpers/io.js';
import { fakeTerminal } from '../helpers/terminal.js';

const apps: DashboardApp[] = [];
const dirs: string[] = [];
afterEach(() => {
  for (const a of apps.splice(0)) if (!a.state.quitting) a.quit(0);
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function makeApp(
  o: {
    cols?: number;
    rows?: number;
    readOnly?: boolean;
    noCap?: boolean;
    killers?: AppOptions['killers'];
    timeline?: AppOptions['timeline'];
    /** Runs before the first sample: to watch the sampler. */
    beforeStart?: (app: DashboardApp, sampler: Sampler) => void;
    /** Leave the start to the test (the dashboard's first sample is read ahead meanwhile). */
    noStart?: boolean;
  } = {},
) {
  const { dir, roots } = writableBasic();
  dirs.push(dir);
  // oomtop's own status inside the fixture: root without CAP_SYS_RESOURCE (bit 24 clear).
  mkdirSync(join(roots.procRoot, 'self'));
  writeFileSync(
    join(roots.procRoot, 'self/status'),
    `Name:\tnode\nCapEff:\t${o.noCap === false ? '000001ffffffffff' : '000001fffeffffff'}\n`,
  );
  const term = fakeTerminal(o.cols ?? 120, o.rows ?? 36);
  const sampler = new Sampler(roots.procRoot);
  const audit = new AuditLog(join(dir, 'state'));
  let t = Date.UTC(2026, 10, 26, 12, 0, 0);
  const now = () => new Date((t += 2000));
  const app = new DashboardApp({
    sampler,
    adjuster: o.readOnly ? null : new Adjuster(sampler.proc, audit, { user: 'tester', uid: 0 }, now),
    audit,
    users: loadUsers(join(BASIC, 'passwd')),
    intervalMs: 2000,
    readOnly: Boolean(o.readOnly),
    cpu: false,
    exportDir: dir,
    uid: 0,
    domainView: (s) => globalContext(s),
    killers: o.killers,
    timeline: o.timeline,
    now,
    input: term.input,
    output: term.output,
    timers: false,
  });
  o.beforeStart?.(app, sampler);
  if (!o.noStart) app.start();
  apps.push(app);
  const press = async (...keys: string[]) => {
    for (const k of keys) {
      term.input.write(k);
      await new Promise((r) => setImmediate(r));
    }
  };
  const adj = (pid: number) => readFileSync(join(roots.procRoot, String(pid), 'oom_score_adj'), 'utf8').trim();
  return { app, term, press, roots, dir, adj, screen: () => app.text() };
}

const rowLines = (screen: string) => screen.split('\n').filter((l) => /^[▶* ]\s+(\d+|—)\s+\d+ /.test(l));
const DOWN = '\x1b[B';
const ESC = '\x1b';

describe('keys pressed before the first sample (it is read ahead while the screen loads)', () => {
  it('draw nothing they cannot, write nothing, and leave the first screen whole', async () => {
    const { app, press, screen, adj } = makeApp({ noStart: true });
    const before = [1, 150, 302].map(adj);
    const moves = ['j', DOWN, 'd', 't', 't', '/', 'x', ESC];
    const writes = ['+', '-', 'r', 'u', 'a', '5', '\r', ESC, 'w', ESC, 'e', ESC, 'K', ESC];
    await press(...moves, ...writes);
    expect(app.state.quitting).toBe(false);
    app.start();
    expect([1, 150, 302].map(adj)).toEqual(before);
    expect(screen()).toContain('dies first: batch 302 (4.8 GiB)');
    expect(rowLines(screen()).length).toBeGreaterThan(3);
  });

  it('quit at once: start() then samples nothing and the dashboard is done', async () => {
    let sampled = 0;
    const { app, press } = makeApp({
      noStart: true,
      beforeStart: (_a, sampler) => {
        const sample = sampler.sample.bind(sampler);
        sampler.sample = (...args) => {
          sampled++;
          return sample(...args);
        };
      },
    });
    await press('q');
    app.start();
    await expect(app.done).resolves.toBe(0);
    expect(sampled).toBe(0);
  });
});

describe('dashboard on the basic fixture', () => {
  it('shows the header: memory, OOM kills, domain and what this user may do', () => {
    const { screen } = makeApp();
    const s = screen();
    expect(s).toContain('oomtop ── web01 · Linux 6.18.44-fixture · 2 s');
    expect(s).toMatch(/Mem {2}\[.*\] +40% +1\.5 GiB\/3\.8 GiB +avail 2\.3 GiB/);
    expect(s).toContain('OOM kills since boot: 3 · adj: raise only (no CAP_SYS_RESOURCE)');
    expect(s).toContain('PSI some 1.50%');
    expect(s).toContain('Domain: global (RAM+swap), 1,250,000 pages');
    expect(s).toContain('dies first: batch 302 (4.8 GiB)');
  });

  it('lists rows in predicted kill order, unkillable ones last with their reason', () => {
    const { screen } = makeApp();
    const rows = rowLines(screen());
    expect(
      rows.map((l) =>
        l.trim().split(/\s+/)[1] === '—'
          ? l.trim().split(/\s+/)[1]
          : l
              .replace(/^[▶* ]/, '')
              .trim()
              .split(/\s+/)[1],
      ),
    ).toEqual(['302', '301', '300', '307', '306', '304', '309', '305', '1', '2', '3', '150', '303']);
    // SHARE is the memory it holds (4 MiB of 4.8 GiB), not its badness: adj 1000 moves the rank, not the share
    expect(rows[0]).toMatch(/^▶ +1 +302 app +batch +4\.8 GiB +0\.1% +1333 +1000 /);
    expect(rows.find((l) => l.includes(' 150 '))).toMatch(/sshd +protected \(adj -1000\): never killed/);
    expect(rows.find((l) => l.includes(' 303 '))).toMatch(/defunct +no mm \(zombie or exiting\)/);
    expect(rows.find((l) => l.includes(' 2 root'))).toMatch(/kthreadd +kernel thread/);
  });

  it('ranks every process on the files the model needs first, fills in the rows it shows, then reads all at once', () => {
    const needs: boolean[] = [];
    type Frame = { shown: string; cmdlines: Map<number, string | null> };
    const frames: Frame[] = [];
    const { app } = makeApp({
      rows: 18,
      beforeStart: (a, sampler) => {
        const sample = sampler.sample.bind(sampler);
        sampler.sample = (t, asked) => {
          // the second sample starts with the first screen drawn
          if (needs.length === 1)
            frames.push({
              shown: a.text(),
              cmdlines: new Map(a.state.snapshot?.processes.map((p) => [p.pid, p.cmdline])),
            });
          needs.push(asked?.cmdline ?? true);
          return sample(t, asked);
        };
      },
    });
    expect(needs).toEqual([false, true]);
    const f = frames[0] as Frame;
    // the rows on the first screen have their command line; the rows below it not yet
    const shown = rowLines(f.shown).map((l) =>
      Number(
        l
          .replace(/^[▶* ]/, '')
          .trim()
          .split(/\s+/)[1],
      ),
    );
    expect(shown.length).toBeGreaterThan(1);
    expect(shown.length).toBeLessThan(f.cmdlines.size);
    for (const pid of shown) expect(f.cmdlines.get(pid)).not.toBeNull();
    expect([...f.cmdlines].filter(([pid, c]) => !shown.includes(pid) && c === null).length).toBeGreaterThan(0);
    expect(f.shown).toMatch(/ 301 app +java .* app\.service/);
    // and a moment later every process has it
    expect(app.state.snapshot?.processes.every((p) => p.cmdline !== null)).toBe(true);
  });

  it('explains the selected process in the detail pane', async () => {
    const { press, screen } = makeApp();
    expect(screen()).toContain('badness 1,251,012 pages = rss 1,000 + swap 0 + page tables 12 + adj 1000 × 1,250');
    await press(DOWN, DOWN);
    const s = screen();
    expect(s).toContain('─ postgres 300 ─');
    expect(s).toContain('badness 51,100 pages = rss 50,000 + swap 1,000 + page tables 100 + adj 0 × 1,250');
    expect(s).toContain('rank 3 of 7 · 4.1% of the domain · kernel oom_score 693 (predicted 693)');
    expect(s).toContain(
      '/usr/lib/postgresql/15/bin/postgres -D /var/lib/postgresql/15/main   cgroup /system.slice/postgresql.service',
    );
  });

  it('filters by name, user, cgroup or command line', async () => {
    const { press, screen } = makeApp();
    await press('/', ...'www-d', '\r');
    expect(rowLines(screen()).map((l) => l.match(/ (\d+) www-data/)?.[1])).toEqual(['307', '306']);
    expect(screen()).toContain("filter 'www-d'");
    await press('/', ESC);
    expect(rowLines(screen())).toHaveLength(13);
    await press('/', ...'redis.service', '\r');
    expect(rowLines(screen())).toHaveLength(1);
    await press('/', ESC, '/', ...'-Xmx4g', '\r');
    expect(rowLines(screen())[0]).toContain('java');
  });

  it('cycles the sort column and reverses it', async () => {
    const { press, screen } = makeApp();
    await press('s');
    expect(screen()).toContain('BADNESS▼');
    expect(screen()).toContain('sorted by BADNESS');
    await press('s', 's');
    expect(screen()).toContain('SWAP▼');
    expect(rowLines(screen())[0]).toContain('postgres');
    await press('S');
    expect(screen()).toContain('SWAP▲');
  });

  it('shows parents and their children in tree view, and back', async () => {
    const { press, screen, roots, app } = makeApp();
    // make 307 a child of 306
    writeFileSync(
      join(roots.procRoot, '307/stat'),
      statLine({ pid: 307, comm: 'worker', ppid: 306, startTime: 6000, rssPages: 10_000 }),
    );
    app.tick();
    await press('t');
    const rows = rowLines(screen());
    const i306 = rows.findIndex((l) => / 306 www-data/.test(l));
    expect(rows[i306 + 1]).toMatch(/ 307 www-data +└ worker/);
    expect(rows[0]).toMatch(/ 1 root +systemd/);
    await press('t');
    expect(rowLines(screen())[0]).toMatch(/302 app +batch/);
  });

  it('marks several rows and acts on all of them, after a confirmation with old → new and the new rank', async () => {
    const { press, screen, adj } = makeApp();
    await press(DOWN, ' ', ' ');
    expect(screen()).toContain('2 marked');
    expect(rowLines(screen()).filter((l) => l.startsWith('*'))).toHaveLength(2);
    await press('+');
    const s = screen();
    expect(s).toContain('raise adj (dies sooner)');
    expect(s).toMatch(/301 java +adj 0 → 100 +new rank 2/);
    expect(s).toMatch(/300 postgres +adj 0 → 100 +new rank 3/);
    expect(s).toContain('write? y / Enter yes · n / Esc no');
    expect(adj(301)).toBe('0');
    await press('y');
    expect([adj(301), adj(300)]).toEqual(['100', '100']);
    expect(screen()).toContain('java (pid 301): oom_score_adj 0 → 100; postgres (pid 300): oom_score_adj 0 → 100');
  });

  it('cancels a confirmation without writing', async () => {
    const { press, screen, adj } = makeApp();
    await press(DOWN, 'p');
    // Without CAP_SYS_RESOURCE the lowest reachable value is the floor, and java is there.
    expect(screen()).toContain('already at the lowest value you may set: -1000 needs CAP_SYS_RESOURCE');
    await press('+', 'y', 'p');
    expect(screen()).toMatch(/protect \(no CAP_SYS_RESOURCE: the lowest value you may set/);
    expect(screen()).toMatch(/301 java +adj 100 → 0 +new rank 2/);
    await press('n');
    expect(screen()).toContain('cancelled: nothing written');
    expect(adj(301)).toBe('100');
  });

  it('protects with -1000 when it may, and undo and reset put values back', async () => {
    const { press, screen, adj } = makeApp({ noCap: false });
    await press(DOWN, 'p');
    expect(screen()).toMatch(/301 java +adj 0 → -1000 +new rank — \(never killed\)/);
    await press('\r');
    expect(adj(301)).toBe('-1000');
    expect(rowLines(screen()).find((l) => l.includes(' 301 '))).toMatch(/protected \(adj -1000\): never killed/);
    await press('u');
    expect(screen()).toContain('undo the last change');
    await press('y');
    expect(adj(301)).toBe('0');
    await press('a', '7', '7', '\r', 'y');
    expect(adj(301)).toBe('77');
    await press('r', 'y');
    expect(adj(301)).toBe('0');
  });

  it('shows why a write was refused: the pid was reused by another process', async () => {
    const { press, screen, adj, roots } = makeApp();
    await press(DOWN, DOWN, '+');
    writeFileSync(
      join(roots.procRoot, '300/stat'),
      statLine({ pid: 300, comm: 'newcomer', startTime: 123_456, rssPages: 5 }),
    );
    writeFileSync(join(roots.procRoot, '300/status'), statusText({ pid: 300, comm: 'newcomer', rssPages: 5 }));
    await press('y');
    expect(screen()).toContain(
      'pid 300 is no longer postgres (it exited and the pid was reused by newcomer): nothing written',
    );
    expect(adj(300)).toBe('0');
  });

  it('answers what-if before anything is written', async () => {
    const { press, screen, adj } = makeApp();
    await press('w', '-', '1', '0', '0', '0');
    expect(screen()).toContain('what if adj = [ -1000▏] → rank — (unkillable)');
    await press(ESC);
    expect(screen()).not.toContain('what if adj = [');
    await press(DOWN, 'w', '9', '9', '9');
    expect(screen()).toContain('what if adj = [ 999▏] → rank 1 (badness 1,448,950)');
    expect(adj(301)).toBe('0');
  });

  it('keeps the selection on the same process when rows move', async () => {
    const { app, press, screen, roots } = makeApp();
    await press(DOWN, DOWN, DOWN); // 307 worker
    expect(screen()).toContain('─ worker 307 ─');
    // 307 grows past everything else but batch
    writeFileSync(
      join(roots.procRoot, '307/stat'),
      statLine({ pid: 307, comm: 'worker', startTime: 6000, rssPages: 900_000 }),
    );
    app.tick();
    expect(rowLines(screen())[1]).toMatch(/^▶ +2 +307 /);
    expect(screen()).toContain('─ worker 307 ─');
  });

  it('shows the key table on ?, and any key closes it', async () => {
    const { press, screen } = makeApp({ rows: 70 });
    await press('?');
    expect(screen()).toContain('oomtop keys');
    expect(screen()).toContain('protect: adj -1000 (or the lowest value you may set)');
    expect(screen()).toContain('mouse: click selects a row, the wheel scrolls');
    await press('x');
    expect(screen()).not.toContain('oomtop keys');
  });

  it('exports a snapshot atomically and shows the path', async () => {
    const { press, screen, dir } = makeApp();
    await press('e');
    // where it writes is said before it writes
    expect(screen()).toContain(`export the snapshot into ${dir}/ as: j json`);
    await press('j');
    const file = readdirSync(dir).find((f) => f.endsWith('.json')) as string;
    expect(screen()).toContain(`exported json snapshot to ${join(dir, file)}`);
    expect(JSON.parse(readFileSync(join(dir, file), 'utf8')).processes).toHaveLength(13);
  });

  it('read-only mode greys the actions and writes nothing', async () => {
    const { press, screen, adj } = makeApp({ readOnly: true });
    expect(screen()).toContain('read-only');
    await press(DOWN, 'p');
    expect(screen()).toContain('read-only mode (--read-only): nothing is written');
    expect(adj(301)).toBe('0');
  });

  it('selects with a click and scrolls with the wheel', async () => {
    const { app, screen } = makeApp({ rows: 26 });
    app.dispatch({ type: 'click', row: 3 });
    expect(screen()).toContain('─ worker 307 ─');
    app.dispatch({ type: 'wheel', delta: 3 });
    expect(rowLines(screen())[0]).toMatch(/ 4 +307 /);
  });

  it("reads the kernel's oom_score of rows scrolled into view at once, not a refresh later", async () => {
    const { app, press, screen } = makeApp({ rows: 13 });
    app.tick(); // from the second sample on, the kernel's number is read for the rows on screen only
    const redis = () => app.state.snapshot?.processes.find((p) => p.pid === 309);
    expect(rowLines(screen()).some((l) => / 309 /.test(l))).toBe(false);
    expect(redis()?.oomScore).toBeNull();
    await press(DOWN, DOWN, DOWN, DOWN, DOWN, DOWN); // down to rank 7, redis
    const row = rowLines(screen()).find((l) => / 309 /.test(l));
    expect(row).toMatch(/ 309 redis +redis-server +-2\.0 GiB +\d+\.\d% +387 +-500\* /);
    expect(redis()?.oomScore).toBe(387);
  });

  it('survives a resize to 80×24: lower-priority columns and the detail pane give way', async () => {
    const { app, term, screen } = makeApp();
    expect(screen()).toContain('SHARE');
    term.output.columns = 80;
    term.output.rows = 24;
    term.output.emit('resize');
    await new Promise((r) => setTimeout(r, 50));
    expect(app.state.cols).toBe(80);
    const s = screen();
    expect(s.split('\n').every((l) => l.length <= 80)).toBe(true);
    expect(s).not.toContain('SHARE');
    expect(s).toMatch(/#▲ +PID USER +NAME +BADNESS SCORE +ADJ/);
    expect(rowLines(s)[0]).toContain('batch');
    expect(s).toContain('q quit');
    term.output.columns = 8;
    term.output.rows = 3;
    term.output.emit('resize');
    await new Promise((r) => setTimeout(r, 50));
    expect(app.state.cols).toBe(8);
  });

  it('quits on q and on Ctrl-C', async () => {
    const a = makeApp();
    await a.press('q');
    expect(await a.app.done).toBe(0);
    const b = makeApp();
    await b.press('\x03');
    expect(await b.app.done).toBe(0);
    expect(existsSync(b.dir)).toBe(true);
  });
});

describe('dashboard OOM domains (v2 fixture)', () => {
  it('chooses a memory cgroup: the table shows the kill order inside it, the selector shows headroom bars', async () => {
    const fx = join(import.meta.dirname, '../fixtures/v2');
    const state = mkdtempSync(join(tmpdir(), 'oomtop-dash-'));
    dirs.push(state);
    const term = fakeTerminal(120, 36);
    const o = dashboardOptions(
      { procRoot: join(fx, 'proc'), sysRoot: join(fx, 'sys'), passwdFile: join(BASIC, 'passwd') },
      { readOnly: true },
      state,
      { user: 't', uid: 0 },
    );
    const app = new DashboardApp({ ...o, input: term.input, output: term.output, timers: false, cpu: false }).start();
    apps.push(app);
    const press = async (...keys: string[]) => {
      for (const k of keys) {
        term.input.write(k);
        await new Promise((r) => setImmediate(r));
      }
    };
    expect(app.text()).toContain('Domain: global (RAM+swap), 1,250,000 pages');
    await press('D');
    const overlay = app.text();
    expect(overlay).toContain('OOM domain');
    expect(overlay).toMatch(/\/batch\.slice +5\.0 MiB free \[.*█.*\] first: batch 440/);
    expect(overlay).toMatch(/app\.service +324 MiB free \[.*\] 1 kills first: app-worker 401/);
    await press(DOWN, '\r'); // global is first; the next is the tightest: /batch.slice
    const s = app.text();
    expect(s).toContain('Domain: /batch.slice (cgroup v2), 275,600 pages');
    expect(rowLines(s).map((l) => l.match(/ (44\d) /)?.[1])).toEqual(['440', '441']);
    expect(s).toMatch(/headroom 5\.0 MiB/);
    // inside the cgroup: SCORE is the kernel's formula over its limit (690: (1000 + 36) × 2 / 3),
    // not the global /proc/PID/oom_score; SHARE is the memory held; UNIT/CGROUP is the path
    // below the domain ('.': the domain's own cgroup)
    expect(readFileSync(join(fx, 'proc/440/oom_score'), 'utf8').trim()).not.toBe('690');
    expect(rowLines(s)[0]).toMatch(/ 440 root +batch +39 MiB +3\.6% +690 +0 +39 MiB +0 B \.$/);
  });

  it('falls back to the global domain, and says so, when the chosen cgroup disappears', async () => {
    const src = join(import.meta.dirname, '../fixtures/v2');
    const fx = mkdtempSync(join(tmpdir(), 'oomtop-v2rw-'));
    dirs.push(fx);
    cpSync(src, fx, { recursive: true, verbatimSymlinks: true });
    const term = fakeTerminal(120, 36);
    const o = dashboardOptions(
      { procRoot: join(fx, 'proc'), sysRoot: join(fx, 'sys'), passwdFile: join(BASIC, 'passwd') },
      { readOnly: true },
      fx,
      { user: 't', uid: 0 },
    );
    const app = new DashboardApp({ ...o, input: term.input, output: term.output, timers: false, cpu: false }).start();
    apps.push(app);
    term.input.write('D');
    await new Promise((r) => setImmediate(r));
    term.input.write(DOWN);
    await new Promise((r) => setImmediate(r));
    term.input.write('\r');
    await new Promise((r) => setImmediate(r));
    expect(app.text()).toContain('Domain: /batch.slice');
    rmSync(join(fx, 'sys/batch.slice'), { recursive: true });
    app.tick();
    expect(app.text()).toContain('Domain: global (RAM+swap)');
    expect(app.text()).toContain('no cgroup /batch.slice in the memory hierarchy');
    expect(app.state.message?.text).toMatch(/: back to the global domain$/);
  });
});

describe('dashboard OOM alerts', () => {
  it('flags a kill that happens while it runs, and lists recent kills on o', async () => {
    const { dir, roots } = writableBasic();
    dirs.push(dir);
    const term = fakeTerminal(120, 36);
    let log = readFileSync(join(import.meta.dirname, '../fixtures/logs/ubuntu-5.4-global.log'), 'utf8').split('\n');
    const app = new DashboardApp({
      sampler: new Sampler(roots.procRoot),
      adjuster: null,
      audit: null,
      users: loadUsers(join(BASIC, 'passwd')),
      intervalMs: 2000,
      readOnly: true,
      cpu: false,
      exportDir: dir,
      uid: 0,
      domainView: (s) => globalContext(s),
      input: term.input,
      output: term.output,
      timers: false,
      timeline: () => {
        const events = parseOomEvents(log).map((e) => ({ ...e, wall: e.wall ?? '2026-11-26T13:58:00.000Z' }));
        return buildTimeline(events, []);
      },
    }).start();
    apps.push(app);
    expect(app.text()).toContain('OOM kills since boot: 3');
    expect(app.text()).not.toContain('while watching');
    // the kernel kills again
    log = [...log, ...readFileSync(join(import.meta.dirname, '../fixtures/logs/debian9-4.9.log'), 'utf8').split('\n')];
    writeFileSync(join(roots.procRoot, 'vmstat'), 'nr_free_pages 1000\noom_kill 4\n');
    app.tick();
    const s = app.text();
    expect(s).toContain('OOM kills since boot: 4 (+1 while watching, last 13:58 stress 990)');
    expect(s).toContain('OOM KILL: stress 990 in global at 13:58:00 (o lists recent kills)');
    term.input.write('o');
    await new Promise((r) => setImmediate(r));
    expect(app.text()).toContain("recent kills (every killer's, oldest first as oomtop history");
    expect(app.text()).toContain("RULE ✓: the kernel took the process its rule picks from the event's tasks table");
    expect(app.text()).toMatch(/TIME +KILLER +DOMAIN +VICTIM +SIZE RULE/);
    // oldest first, as `oomtop history` prints them; each with the victim's size (its rss)
    const t = app.text();
    expect(t).toMatch(/kernel +global +java 4022 +[\d.]+ [KMG]i?B +✓/);
    expect(t).toMatch(/2026-11-26 13:58:00 +kernel +global +stress 990 +[\d.]+ [KMG]i?B +✓/);
    const list = t.slice(t.indexOf('TIME '));
    expect(list.indexOf('java 4022')).toBeLessThan(list.indexOf('stress 990'));
  });
});

describe('the killer race in the dashboard', () => {
  // earlyoom runs with -m 99: it fires now, before the kernel, and takes its own victim
  const killers: AppOptions['killers'] = (sample) => {
    const { snapshot } = buildSnapshot(sample, { users: new Map() });
    const report = killersReport({
      snapshot,
      processTableUnreadable: null,
      earlyoom: {
        process: { pid: 4242, argv: ['earlyoom', '-m', '99', '-s', '100', '--avoid', '^batch$'] },
        defaults: null,
      },
      nohang: { process: null, config: null },
      systemdOomd: {
        process: null,
        conf: parseOomdConf([]),
        units: [],
        v2Memory: false,
        unreadable: [],
        lastPgscan: null,
      },
      kubelet: { process: null, config: null, parsed: null, pods: [], memoryAvailableBytes: null, unreadable: [] },
    });
    return { report, protection: protectionReport(snapshot.processes, report) };
  };

  it('says in the header which killer acts first and whom it takes; K opens the table', async () => {
    const { app, press } = makeApp({ killers });
    expect(app.text()).toMatch(/first to act: earlyoom firing now → \S+ \d+; kernel → batch 302/);
    await press('K');
    expect(app.text()).toContain('the killer race');
    expect(app.text()).toMatch(/earlyoom +yes +SIGTERM at MemAvailable ≤ 99%/);
    await press('x');
    expect(app.text()).not.toContain('the killer race');
  });

  it('draws each refresh once after the first screen, however many events it dispatched', () => {
    const { app } = makeApp({ killers });
    let draws = 0;
    let events = 0;
    const render = app.render.bind(app);
    const dispatch = app.dispatch.bind(app);
    app.render = () => {
      draws++;
      render();
    };
    app.dispatch = (e) => {
      events++;
      dispatch(e);
    };
    const perTick: Array<[number, number]> = [];
    for (let i = 0; i < 6; i++) {
      [draws, events] = [0, 0];
      app.tick();
      perTick.push([events, draws]);
    }
    // the killer race (every 10 s) came in one of them: two events, one draw
    expect(perTick.some(([e]) => e >= 2)).toBe(true);
    expect(perTick.every(([, d]) => d === 1)).toBe(true);
    expect(app.text()).toMatch(/first to act: earlyoom firing now/);
  });

  it('the detail pane of a protected process says which killers it is safe from, and the fix for the others', async () => {
    const { app, press } = makeApp({ killers });
    // redis-server has adj −500: safe from neither the kernel nor earlyoom (which reads oom_score)
    await press('/', ...'redis-server', '\r');
    expect(app.text()).toMatch(
      /protected from no active killer · not from kernel, earlyoom · fix: kernel: oomtop protect 309 .*\(K: every fix\)/,
    );
    await press('K');
    expect(app.text()).toContain("--ignore '^redis-server$'");
    await press('x');
    // sshd at −1000 is safe from both; an unprotected process keeps the what-if hint
    await press('/', ESC, '/', ...'sshd', '\r');
    expect(app.text()).toContain('protected from kernel, earlyoom');
    await press('/', ESC, '/', ...'batch', '\r');
    expect(app.text()).toContain('w: what if adj =');
    expect(app.text()).not.toContain('protected from');
  });

  it("alerts on a user-space killer's kill, which the kernel's count does not see; reads no log while none runs", () => {
    let entries: TimelineEntry[] = [];
    let reads = 0;
    const timeline = () => {
      reads++;
      return entries;
    };
    const { app } = makeApp({ killers, timeline });
    const line =
      'Nov 26 12:01:00 web01 earlyoom[4242]: sending SIGTERM to process 302 uid 1000 "batch": badness 1333, VmRSS 3 MiB';
    entries = buildTimeline([], parseLog([line], { year: 2026 }).kills);
    for (let i = 0; i < 30 && !app.text().includes('KILLED BY'); i++) app.tick();
    expect(app.text()).toContain('KILLED BY EARLYOOM: batch 302 in global at 12:01:00 (o lists recent kills)');
    // no user-space killer runs: the logs are read at start only, while the kernel's count stays
    const quiet = makeApp({ timeline });
    reads = 0;
    for (let i = 0; i < 30; i++) quiet.app.tick();
    expect(reads).toBe(0);
  });

  it('keeps the kernel line when no other killer runs', () => {
    const { app } = makeApp();
    expect(app.text()).toContain('dies first: batch 302');
  });
});

/** The fixture's meminfo with this much available (4 GB total, swap full). */
function writeMeminfo(procRoot: string, availKb: number): void {
  writeFileSync(
    join(procRoot, 'meminfo'),
    `MemTotal:       4000000 kB\nMemFree:        100000 kB\nMemAvailable:   ${availKb} kB\nSwapTotal:      1000000 kB\nSwapFree:       0 kB\n`,
  );
}

describe('dashboard header warnings and trends', () => {
  it('estimates the time left while available memory falls, and who dies then', () => {
    const { app, roots } = makeApp();
    const meminfo = (availKb: number) => writeMeminfo(roots.procRoot, availKb);
    // 2 s a tick (the test clock); 20 MiB less every tick: 10 MiB/s, sustained for 38 s
    for (let i = 0; i < 20; i++) {
      meminfo(1_000_000 - i * 20_480);
      app.tick();
    }
    expect(app.text()).toMatch(/available memory falling: exhausted in ~\d+ s, then batch 302 dies/);
    expect(app.text()).toMatch(/avail 597 MiB [▁▂▃▄▅▆▇█]+/);
  });

  it('gives no time left after a burst that stopped, nor from a short fall', () => {
    const { app, roots } = makeApp();
    const meminfo = (availKb: number) => writeMeminfo(roots.procRoot, availKb);
    // a 200 MiB burst over 8 s, then flat for 40 s
    for (let i = 0; i < 24; i++) {
      meminfo(1_000_000 - Math.min(i, 4) * 51_200);
      app.tick();
      if (i === 4) expect(app.text()).not.toContain('exhausted in'); // 8 s of fall: too short
    }
    expect(app.text()).not.toContain('exhausted in');
  });

  it('warns when the OOM sysctls change what the ranking means', () => {
    const { app, roots } = makeApp();
    writeFileSync(join(roots.procRoot, 'sys/vm/panic_on_oom'), '1\n');
    writeFileSync(join(roots.procRoot, 'sys/vm/oom_kill_allocating_task'), '1\n');
    app.tick();
    expect(app.text()).toContain(
      'OOM kills since boot: 3  ⚠ panic_on_oom=1: a global OOM panics  ⚠ oom_kill_allocating_task=1: the allocator dies',
    );
    expect(app.text()).toContain('Domain: global (RAM+swap), 1,250,000 pages · adj: raise only (no CAP_SYS_RESOURCE)');
  });

  it('draws MemAvailable and PSI as a blessed-contrib line chart on m', async () => {
    const { app, press } = makeApp();
    app.tick();
    app.tick();
    await press('m');
    expect(app.text()).toContain('MemAvailable (MiB) and PSI some avg10 (%)');
    await press('m');
    expect(app.text()).not.toContain('MemAvailable (MiB) and PSI');
    expect(app.text()).toContain('─ batch 302 ─');
  });
});

describe('the dashboard writes only after an explicit yes', () => {
  const auditLines = (dir: string) => {
    const f = join(dir, 'state', 'audit.jsonl');
    // the outcomes: each change's intent line (written before the kernel) is not counted
    return existsSync(f)
      ? readFileSync(f, 'utf8')
          .trim()
          .split('\n')
          .filter((l) => l && !l.includes('"result":"pending"'))
      : [];
  };

  it('a carriage return is one Enter: a, 400, Enter opens the dialog and writes nothing', async () => {
    const { press, screen, adj, dir } = makeApp();
    await press(DOWN, 'a', '4', '0', '0', '\r');
    expect(screen()).toContain('set adj to 400');
    expect(screen()).toContain('write? y / Enter yes');
    expect(adj(301)).toBe('0');
    expect(auditLines(dir)).toHaveLength(0);
    await press('y');
    expect(adj(301)).toBe('400');
    expect(auditLines(dir)).toHaveLength(1);
  });

  it('Enter on the dialog writes once, and the same key press does not also toggle the detail pane', async () => {
    const { app, press, adj, dir } = makeApp();
    await press(DOWN, '+');
    expect(app.state.mode.kind).toBe('confirm');
    await press('\r');
    expect(adj(301)).toBe('100');
    expect(auditLines(dir)).toHaveLength(1);
    expect(app.state.showDetail).toBe(true);
  });

  it('what if never writes, not even an attempt: Enter shows the rank that value would give', async () => {
    const { app, press, screen, adj, dir } = makeApp();
    await press(DOWN, 'w', '-', '5', '0', '0', '\r');
    expect(app.state.mode.kind).toBe('normal');
    expect(screen()).toMatch(/what if java 301 had adj -500: rank \d+ \(now 2\); nothing written/);
    expect(adj(301)).toBe('0');
    expect(auditLines(dir)).toHaveLength(0);
    await press('w', '9', '9', '9', '\r', 'y', '\r');
    expect(adj(301)).toBe('0');
    expect(auditLines(dir)).toHaveLength(0);
  });

  it('Enter that ends a filter does not toggle the detail pane', async () => {
    const { app, press } = makeApp();
    await press('/', 'e', 'v', '\r');
    expect(app.state.mode.kind).toBe('normal');
    expect(app.state.showDetail).toBe(true);
    await press('\r'); // in the list, Enter does what ? says: shows or hides the detail pane
    expect(app.state.showDetail).toBe(false);
  });

  it('the adj prompt shows with the detail pane hidden', async () => {
    const { press, screen } = makeApp();
    await press('d', DOWN, 'a', '2');
    expect(screen()).toContain('set adj to [ 2▏]');
    await press(ESC, 'w', '5');
    expect(screen()).toContain('what if adj = [ 5▏] → rank');
  });

  it('a value the kernel refused for this process before is said before any dialog, never after y', async () => {
    const { app, press, screen, dir } = makeApp();
    // oomtop lacks CAP_SYS_RESOURCE in this fixture; the audit log holds a refusal of -100 for java 301
    mkdirSync(join(dir, 'state'), { recursive: true, mode: 0o700 });
    const java = app.state.snapshot?.processes.find((p) => p.pid === 301);
    writeFileSync(
      join(dir, 'state', 'audit.jsonl'),
      `${JSON.stringify({
        id: 'x1',
        time: '2026-11-26T11:00:00.000Z',
        user: 'tester',
        uid: 0,
        source: 'set',
        pid: 301,
        startTime: java?.startTime,
        comm: 'java',
        old: 0,
        new: -100,
        result: 'below-floor',
      })}\n`,
      { mode: 0o600 },
    );
    app.dispatch({ type: 'audit', records: (app as unknown as { o: { audit: AuditLog } }).o.audit.read() });
    await press(DOWN, '-');
    expect(app.state.mode.kind).toBe('normal');
    expect(screen()).toContain('nothing written: java 301: the kernel refused -100 for this process before');
    expect(auditLines(dir)).toHaveLength(1);
  });

  it('below the lowest value known to be allowed, the dialog says the kernel may refuse', async () => {
    const { press, screen } = makeApp();
    await press(DOWN, '-');
    expect(screen()).toContain('may be refused: -100 is below 0, the lowest value known to be allowed');
  });
});

describe('the dashboard when its state cannot be used', () => {
  it('starts read-only with the reason on screen, never hangs on sampling or throws', async () => {
    const { dir, roots } = writableBasic();
    dirs.push(dir);
    const state = join(dir, 'state');
    mkdirSync(state, { mode: 0o777 });
    const { chmodSync } = await import('node:fs');
    chmodSync(state, 0o777); // others can write it: refused
    const o = dashboardOptions(roots, {}, state, { user: 'tester', uid: 0 });
    expect(o.readOnly).toBe(true);
    expect(o.adjuster).toBeNull();
    const term = fakeTerminal(120, 36);
    const app = new DashboardApp({
      ...o,
      cpu: false,
      input: term.input,
      output: term.output,
      timers: false,
      timeline: () => [],
    }).start();
    apps.push(app);
    expect(app.text()).toContain('read-only: refusing the state folder');
    expect(app.text()).not.toContain('sampling…');
    term.input.write('p');
    await new Promise((r) => setImmediate(r));
    expect(app.text()).toContain('read-only mode (the audit log cannot be used): nothing is written');
  });
});

describe('help at 80×24', () => {
  it('says what is cut and scrolls to the end: the keys of every prompt and dialog are listed', async () => {
    const { press, screen } = makeApp({ cols: 80, rows: 24 });
    await press('?');
    expect(screen()).toMatch(/↓ \d+ more: j\/k\/PgUp\/PgDn scroll/);
    for (let i = 0; i < 6; i++) await press('\x1b[6~'); // PgDn
    expect(screen()).toContain('rank in this domain');
    expect(screen()).toMatch(/↑ \d+ line\(s\) above/);
    await press('x');
    expect(screen()).not.toContain('oomtop keys');
  });
});

describe('at 80×24, as a new user tries it', () => {
  /** Every line of the screen: at most 80 cells (blessed would cut the rest silently). */
  const fits = (s: string) => s.split('\n').every((l) => l.length <= 80);

  it('the detail pane wraps its numbers instead of cutting them', async () => {
    const { press, screen, app } = makeApp({ cols: 80, rows: 24 });
    // java, with adj 500 (a three-digit adj made the line run off the pane)
    await press(DOWN, 'a', '5', '0', '0', '\r', 'y');
    expect(app.state.snapshot?.processes.find((p) => p.pid === 301)?.oomScoreAdj).toBe(500);
    const s = screen();
    expect(fits(s)).toBe(true);
    expect(s).toMatch(/badness [\d,]+ pages = rss [\d,]+ \+ swap \d+ \+ page tables [\d,]+ +│/);
    expect(s).toMatch(/│ {2}\+ adj 500 × 1,250 \(totalpages\/1000\) +│/);
    // what does not fit in the pane's five lines is said, not cut silently
    expect(s).toMatch(/│… \d+ more lines +│/);
  });

  it('the sorted column always shows its arrow, and no title is cut for it', async () => {
    const { press, screen } = makeApp({ cols: 80, rows: 24 });
    for (let i = 0; i < 12; i++) {
      const titles = screen()
        .split('\n')
        .find((l) => /^ +#.* PID/.test(l)) as string;
      expect(titles, `step ${i}`).toMatch(/[▲▼]/);
      expect(titles).not.toContain('…');
      expect(titles).toMatch(/#.* PID.* USER.* NAME.* BADNESS.* SCORE.* ADJ.* RSS/);
      await press('s');
    }
  });

  it('after a resize from 120×40 to 80×24 a selection that fits keeps rank 1 in view', async () => {
    const { press, term, screen, app } = makeApp({ cols: 120, rows: 40 });
    await press(DOWN, DOWN, DOWN);
    term.output.columns = 80;
    term.output.rows = 24;
    term.output.emit('resize');
    await new Promise((r) => setTimeout(r, 50));
    expect(app.state.rows).toBe(24);
    const rows = rowLines(screen());
    expect(rows[0]).toMatch(/^ +1 +302 /);
    expect(rows[3]).toMatch(/^▶ +4 /);
  });

  it('help, the killer race and the recent kills fit or say what is cut, and scroll', async () => {
    const many: TimelineEntry[] = buildTimeline(
      parseOomEvents(readFileSync(join(import.meta.dirname, '../fixtures/logs/debian9-4.9.log'), 'utf8').split('\n')),
      [],
    );
    const timeline = Array.from({ length: 30 }, (_, i) => ({
      ...(many[0] as TimelineEntry),
      wall: `2026-11-26T12:${String(i).padStart(2, '0')}:00Z`,
    }));
    const { press, screen } = makeApp({ cols: 80, rows: 24, timeline: () => timeline });
    await press('?');
    expect(fits(screen())).toBe(true);
    expect(screen()).toMatch(/filter: a regular expression \(as --name\) on name, user, un…/);
    await press('x', 'o');
    const s = screen();
    expect(fits(s)).toBe(true);
    // opened at the newest, oldest first above it
    expect(s).toContain('2026-11-26 12:29:00');
    expect(s).not.toContain('2026-11-26 12:00:00');
    expect(s).toMatch(/↑ \d+ line\(s\) above: j\/k\/PgUp\/PgDn scroll/);
    await press('g');
    expect(screen()).toContain('TIME ');
    expect(screen()).toContain('2026-11-26 12:00:00');
    expect(screen()).toMatch(/↓ \d+ more/);
    await press('x');
    expect(screen()).not.toContain('recent kills');
  });

  it("htop's keys: F1 help, F3/F4 filter, F5 tree, F6 sort, M and P sort, F9 says no signal, F10 quits", async () => {
    const { press, screen, app } = makeApp({ cols: 80, rows: 60 });
    await press('\x1bOP'); // F1
    expect(screen()).toContain('oomtop keys');
    expect(screen()).toMatch(/\? h F1 +this help/);
    await press('x', '\x1bOR'); // F3
    expect(app.state.mode.kind).toBe('filter');
    await press(ESC, '\x1bOS'); // F4
    expect(app.state.mode.kind).toBe('filter');
    await press(ESC, '\x1b[15~'); // F5
    expect(app.state.tree).toBe(true);
    await press('\x1b[17~'); // F6
    expect(app.state.tree).toBe(false);
    expect(app.state.sort.column).toBe('badness');
    await press('M');
    expect(app.state.sort).toEqual({ column: 'rss', descending: true });
    expect(screen()).toContain('sorted by RSS ▼');
    await press('P');
    expect(app.state.sort).toEqual({ column: 'cpu', descending: true });
    await press('\x1b[20~'); // F9
    expect(screen()).toContain('oomtop never sends a signal');
    await press('\x1b[21~'); // F10
    expect(await app.done).toBe(0);
  });

  it('the filter is a regular expression, as --name: one rule, and a half-typed one matches as text', async () => {
    const { press, screen } = makeApp({ cols: 100, rows: 30 });
    await press('/', '^', 'w', 'o', 'r', 'k');
    expect(
      rowLines(screen())
        .map((l) => l.match(/ (30\d) /)?.[1])
        .sort(),
    ).toEqual(['306', '307']);
    expect(screen()).toContain('filter (regex): ^work');
    await press(ESC, '/', 'j', 'a', 'v', 'a', '(');
    expect(screen()).toContain('not a valid regex yet: plain text');
    expect(rowLines(screen())).toEqual([]);
  });

  it('e says where it will write, writes into the state folder, and a host name cannot steer the path', async () => {
    const { press, screen, roots, dir } = makeApp({ cols: 120, rows: 30 });
    writeFileSync(join(roots.procRoot, 'sys/kernel/hostname'), '../../evil\x1b[31m\n');
    await press('z', 'z'); // pause and resume: a fresh sample with the new host name
    await press('e');
    expect(screen()).toContain(`export the snapshot into ${dir}/ as:`);
    await press('j');
    const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
    expect(files).toHaveLength(1);
    // only [A-Za-z0-9._-] (and no leading dot): no '/', no control byte
    expect(files[0]).toMatch(/^oomtop-__\.\._evil__31m-\d{8}T\d{6}\.json$/);
    expect(screen()).toContain(`exported json snapshot to ${join(dir, files[0] as string)}`);
  });
});
