// The dashboard's shell: one event inbox (timer ticks, keys, mouse, resizes, write results)
// feeding the reducer, one render per event, and the effects carried out here: writes
// through the one adjuster, atomic exports, refreshes, quitting with the terminal restored.
import { clipTagged } from './fit.js';
import { messageOf } from '../core/errors.js';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import blessed from 'blessed';
import { createRequire } from 'node:module';
import { stringify as csvStringify } from 'csv-stringify/sync';
import { renderSnapshot } from '../core/export/render.js';
import { printableText } from '../core/format.js';
import type { ProtectionReport } from '../core/killers/protection.js';
import type { KillersReport } from '../core/killers/race.js';
import type { FallRate } from '../core/trend.js';
import type { Snapshot } from '../core/snapshot.js';
import type { TimelineEntry } from '../core/timeline.js';
import type { SystemSample } from '../core/types.js';
import type { Adjuster } from '../system/adjuster.js';
import { changesToUndoIn, type AuditLog } from '../system/audit-log.js';
import { processKey } from '../core/audit.js';
import { writeFileAtomic } from '../system/atomic-write.js';
import { ALL_NEEDS, MODEL_NEEDS, type Sampler } from '../system/sampler.js';
import { DETAIL_HEIGHT, detailHeight, HEADER_HEIGHT, TABLE_TOP, tableHeight, TITLES_TOP } from './layout.js';
import { visibleRows } from './rows.js';
import {
  initialState,
  reduce,
  type DashEvent,
  type DashState,
  type DomainChoice,
  type DomainView,
  type Effect,
} from './state.js';
import {
  availableFall,
  detailLines,
  detailTitle,
  footerLine,
  headerLines,
  headerTitle,
  tableHeaderLine,
  tableLines,
  overlayText,
} from './view.js';

export interface AppOptions {
  sampler: Sampler;
  adjuster: Adjuster | null;
  audit: AuditLog | null;
  users: ReadonlyMap<number, string>;
  intervalMs: number;
  readOnly: boolean;
  /** Said at start (why the dashboard is read-only). */
  notice?: string;
  /** Why it is read-only, in its messages (default '--read-only'). */
  readOnlyWhy?: string;
  /** CPU% of the rows on screen, from their stat files (only on the real /proc). */
  cpu: boolean;
  exportDir: string;
  uid: number;
  /** Ranks a sample in the chosen domain (global, or a memory cgroup). */
  domainView: (sample: SystemSample, path: string | null) => DomainView;
  /** Every OOM domain, for the selector. */
  listDomains?: (sample: SystemSample) => DomainChoice[];
  /**
   * Every killer's kills, oldest first (read at start, when the kernel's kill count grows,
   * and every TIMELINE_EVERY_MS for the user-space killers, which the count does not see).
   */
  timeline?: () => TimelineEntry[];
  /**
   * The killer race for a sample, given its global ranking when that is the one on screen
   * (read every KILLERS_EVERY_MS: it reads config files).
   */
  /** `fall`: MemAvailable's sustained fall in bytes/s (for the time to each trigger), or null. */
  killers?: (
    sample: SystemSample,
    global: Snapshot | null,
    fall: FallRate | null,
  ) => { report: KillersReport; protection: readonly ProtectionReport[] };
  now?: () => Date;
  input?: NodeJS.ReadableStream;
  output?: NodeJS.WritableStream;
  /** false in tests: ticks are driven by hand. */
  timers?: boolean;
}

type BoxName = 'header' | 'titles' | 'table' | 'detail' | 'footer' | 'overlay';

function openScreen(o: AppOptions): blessed.Widgets.Screen {
  const quiet = console.error;
  console.error = () => {}; // blessed prints terminfo noise (Setulc) while parsing
  try {
    return blessed.screen({
      smartCSR: true,
      fullUnicode: true,
      terminal: 'xterm-256color',
      autoPadding: false,
      warnings: false,
      title: 'oomtop',
      ...(o.input ? { input: o.input as never } : {}),
      ...(o.output ? { output: o.output as never } : {}),
    });
  } finally {
    console.error = quiet;
  }
}

/** Whether this user may lower adj below the floor; null when that cannot be told. */
function canLowerOf(adjuster: AppOptions['adjuster']): boolean | null {
  try {
    return adjuster?.canLowerBelowFloor() ?? null;
  } catch {
    return null;
  }
}

/** The boxes, placed by the numbers layout.ts shares with the state. */
function makeBoxes(): Record<BoxName, blessed.Widgets.BoxElement> {
  const box = (opts: blessed.Widgets.BoxOptions) => blessed.box({ tags: true, wrap: false, ...opts });
  return {
    header: box({ top: 0, left: 0, width: '100%', height: HEADER_HEIGHT, border: { type: 'line' } }),
    titles: box({ top: TITLES_TOP, left: 0, width: '100%', height: 1, style: { bold: true } }),
    table: box({ top: TABLE_TOP, left: 0, width: '100%', height: 1, clickable: true }),
    detail: box({ left: 0, width: '100%', height: DETAIL_HEIGHT, border: { type: 'line' } }),
    footer: box({ bottom: 0, left: 0, width: '100%', height: 1 }),
    overlay: box({
      top: 'center',
      left: 'center',
      width: '90%',
      height: '70%',
      border: { type: 'line' },
      hidden: true,
      style: { border: { fg: 'cyan' } },
      scrollable: true,
    }),
  };
}

/** Off-screen processes whose oom_score each tick reads for calibration only. */
const CALIBRATION_SAMPLE = 24;
/** How often the killer race is read again (process table argv, config and unit files). */
const KILLERS_EVERY_MS = 10_000;

/** How often the dashboard re-reads the killers' logs when the kernel's count has not moved. */
const TIMELINE_EVERY_MS = 30_000;

export class DashboardApp {
  state: DashState;
  readonly screen: blessed.Widgets.Screen;
  private readonly boxes: Record<BoxName, blessed.Widgets.BoxElement>;
  private graph: blessed.Widgets.BoxElement | null = null;
  private timer: NodeJS.Timeout | null = null;
  private resolveDone!: (code: number) => void;
  readonly done: Promise<number>;
  private readonly now: () => Date;
  private lastSample: SystemSample | null = null;
  private lastKills: number | null = null;
  private lastTimelineMs: number | null = null;
  /** The newest kill seen, to alert on a newer one. */
  private lastKillKey: string | null = null;
  constructor(private readonly o: AppOptions) {
    this.now = o.now ?? (() => new Date());
    this.done = new Promise((r) => {
      this.resolveDone = r;
    });
    this.screen = openScreen(o);
    this.state = initialState({
      cols: Math.max(1, this.screen.width as number),
      rows: Math.max(1, this.screen.height as number),
      intervalMs: o.intervalMs,
      readOnly: o.readOnly,
      readOnlyWhy: o.readOnlyWhy,
      canLower: canLowerOf(o.adjuster),
      uid: o.uid,
      users: o.users,
      exportDir: o.exportDir,
    });
    this.boxes = makeBoxes();
    for (const b of Object.values(this.boxes)) this.screen.append(b);
    this.listen();
  }

  /** Keys, resizes, clicks and the wheel become events for the reducer. */
  private listen(): void {
    this.screen.enableMouse();
    this.screen.on('keypress', (ch: string | undefined, key: blessed.Widgets.Events.IKeyEventArg | undefined) => {
      const name = keyName(ch, key);
      if (name) this.dispatch({ type: 'key', name, ch });
    });
    this.screen.on('resize', () =>
      this.dispatch({ type: 'resize', cols: this.screen.width as number, rows: this.screen.height as number }),
    );
    this.boxes.table.on('click', (m: { y: number }) =>
      this.dispatch({ type: 'click', row: m.y - (this.boxes.table.atop as number) }),
    );
    this.boxes.table.on('wheeldown', () => this.dispatch({ type: 'wheel', delta: 3 }));
    this.boxes.table.on('wheelup', () => this.dispatch({ type: 'wheel', delta: -3 }));
  }

  /** First sample and render; then the timer (unless driven by hand). */
  start(): this {
    if (this.state.quitting) return this; // quit while its first sample was read ahead
    this.tick();
    this.loadAudit();
    if (this.o.notice) this.dispatch({ type: 'message', message: { text: this.o.notice, kind: 'error' } });
    if (this.o.timers !== false)
      this.timer = setInterval(() => {
        if (!this.state.paused) this.tick();
      }, this.o.intervalMs);
    return this;
  }

  /**
   * A refresh dispatches several events (the sample, the killers, the CPU column): once the
   * first screen is up they are drawn once, at the end of the refresh, not once each (each
   * draw ~3.5 ms, a tenth of a refresh at 3,000 processes). The first refresh draws its
   * ranking as soon as it has it.
   */
  private drawLater = false;

  tick(): void {
    if (!this.state.snapshot) {
      this.refresh();
      return;
    }
    this.drawLater = true;
    try {
      this.refresh();
    } finally {
      this.drawLater = false;
      this.render();
    }
  }

  private refresh(): void {
    // The first screen ranks every process on the files the model needs and reads the
    // command line and cgroup of the rows it shows only (at 20,000 processes the other two
    // files are a third of the kernel's work); the refresh right after it reads them all.
    const first = this.state.snapshot === null && this.state.domainPath === null;
    let sample = this.takeSample(first);
    if (!sample) return;
    if (this.state.mode.kind === 'domain') this.loadDomains();
    let view = this.viewOf(sample);
    if (first) {
      sample = this.o.sampler.withDetails(sample, this.shownIn(view));
      view = this.viewOf(sample);
    }
    this.lastSample = sample;
    this.dispatch({ type: 'sampled', view });
    if (first) {
      this.followUp();
      return;
    }
    this.watchOomKills(sample);
    this.readKillers(sample);
    if (this.o.cpu) this.sampleCpu(sample);
  }

  private takeSample(first: boolean): SystemSample | null {
    try {
      // The kernel's oom_score is read for the rows on screen only: the model predicts it.
      // A few more each tick, round the process table, keep the model proven (calibration).
      // (none at the first sample, before any row is on screen: 20,000 reads it would not show)
      const shown = new Set(this.state.snapshot ? visibleRows(this.state).map((r) => r.proc.pid) : []);
      return this.o.sampler.sample(this.now().getTime(), {
        ...(first ? MODEL_NEEDS : ALL_NEEDS),
        oomScoreFor: shown,
        calibrationSample: CALIBRATION_SAMPLE,
      });
    } catch (e) {
      this.dispatch({ type: 'message', message: { text: `sampling failed: ${messageOf(e)}`, kind: 'error' } });
      return null;
    }
  }

  private viewOf(sample: SystemSample): DomainView {
    try {
      return this.o.domainView(sample, this.state.domainPath);
    } catch (e) {
      // The chosen cgroup went away: fall back to the global domain and say so.
      this.dispatch({ type: 'domainLost', reason: messageOf(e) });
      return this.o.domainView(sample, null);
    }
  }

  /** The pids the table would show with this view (the reducer is pure: nothing is kept). */
  private shownIn(view: DomainView): Set<number> {
    const { state } = reduce(this.state, { type: 'sampled', view });
    return new Set(visibleRows(state).map((r) => r.proc.pid));
  }

  /** The full refresh after the first screen: at once, once that screen is out (timers), else now. */
  private followUp(): void {
    if (this.o.timers === false) {
      this.tick();
      return;
    }
    this.soon = setImmediate(() => {
      this.soon = null;
      if (!this.state.paused) this.tick();
    });
  }

  private soon: NodeJS.Immediate | null = null;

  private killersAt = Number.NEGATIVE_INFINITY;

  /** How fast available memory falls, in bytes/s, from the history of the global domain on screen. */
  private globalFall(sample: SystemSample): FallRate | null {
    const r = availableFall(this.state.history);
    return r && { perSec: r.perSec * sample.pageSize, se: r.se * sample.pageSize };
  }

  /** The killer race, every KILLERS_EVERY_MS: which killer acts first, for the header and `K`. */
  private readKillers(sample: SystemSample): void {
    if (!this.o.killers || sample.timeMs - this.killersAt < KILLERS_EVERY_MS) return;
    this.killersAt = sample.timeMs;
    try {
      // The state holds this sample's ranking (the 'sampled' event came first).
      const shown = this.state.snapshot;
      const global = shown?.domain.kind === 'global' ? shown : null;
      this.dispatch({ type: 'killers', ...this.o.killers(sample, global, global && this.globalFall(sample)) });
    } catch (e) {
      this.dispatch({
        type: 'message',
        message: { text: `cannot read the other killers: ${messageOf(e)}`, kind: 'error' },
      });
    }
  }

  dispatch(e: DashEvent): void {
    const { state, effects } = reduce(this.state, e);
    this.state = state;
    if (!this.drawLater) this.render();
    for (const eff of effects) this.run(eff);
  }

  /**
   * The audit records the dashboard needs: those of the processes shown (floors, reset) and
   * the last change not undone yet (u), read as a stream, never the whole log.
   */
  private loadAudit(): void {
    const audit = this.o.audit;
    if (!audit) return;
    try {
      const keys = new Set((this.state.snapshot?.processes ?? []).map((p) => processKey(p.pid, p.startTime)));
      const records = audit.readFor(keys);
      const last = changesToUndoIn(audit, 1)[0];
      if (last && !keys.has(processKey(last.pid, last.startTime))) records.push(last);
      this.dispatch({ type: 'audit', records });
    } catch (e) {
      this.dispatch({ type: 'message', message: { text: `audit log: ${messageOf(e)}`, kind: 'error' } });
    }
  }

  /** Every OOM domain with its headroom and first victim: only while the selector is open. */
  private loadDomains(): void {
    if (!this.o.listDomains || !this.lastSample) return;
    try {
      this.dispatch({ type: 'domains', domains: this.o.listDomains(this.lastSample) });
    } catch (e) {
      this.dispatch({
        type: 'message',
        message: { text: `cannot list the OOM domains: ${messageOf(e)}`, kind: 'error' },
      });
    }
  }

  /**
   * Reads every killer's kills at start, whenever /proc/vmstat oom_kill grows, and every
   * TIMELINE_EVERY_MS while a user-space killer runs (their kills leave the kernel's count
   * alone): a kill newer than the newest seen is an alert.
   */
  private watchOomKills(sample: SystemSample): void {
    const kills = sample.oomKillCount;
    const nowMs = sample.timeMs;
    const first = this.lastTimelineMs === null;
    const grown = kills !== null && this.lastKills !== null && kills > this.lastKills;
    this.lastKills = kills;
    // the user-space killers' logs are read again only while one of them runs
    const userKiller = this.state.killers?.killers.some((k) => k.name !== 'kernel' && k.active) ?? false;
    const due = first || grown || (userKiller && nowMs - (this.lastTimelineMs as number) >= TIMELINE_EVERY_MS);
    if (!this.o.timeline || !due) return;
    this.lastTimelineMs = nowMs;
    let timeline: TimelineEntry[];
    try {
      timeline = this.o.timeline();
    } catch {
      return; // the logs are not readable here: the counter in the header still shows kills
    }
    const last = timeline.at(-1);
    const key = last ? `${last.killer}|${last.wall}|${last.uptime}|${last.victims.map((v) => v.pid).join(',')}` : null;
    const alert = !first && key !== null && key !== this.lastKillKey;
    this.lastKillKey = key;
    this.dispatch({ type: 'timeline', timeline, alert });
  }

  /** utime + stime of the rows on screen at the last sample, to tell CPU% from. */
  private lastCpu = new Map<number, { ticks: number; startTime: number; timeMs: number }>();

  /**
   * CPU% of the rows on screen, from the utime and stime of the stat file this sample read
   * already (no read of its own), against the last sample's.
   */
  private sampleCpu(sample: SystemSample): void {
    const rows = visibleRows(this.state).map((r) => r.proc);
    const ticks = this.o.sampler.cpuTicksOf(rows.map((p) => p.pid));
    const cpu = new Map<number, number>();
    const next = new Map<number, { ticks: number; startTime: number; timeMs: number }>();
    for (const p of rows) {
      const t = ticks.get(p.pid);
      if (t === undefined) continue;
      const now = { ticks: t, startTime: p.startTime, timeMs: sample.timeMs };
      next.set(p.pid, now);
      const was = this.lastCpu.get(p.pid);
      const dt = (now.timeMs - (was?.timeMs ?? now.timeMs)) / 1000;
      if (was && was.startTime === p.startTime && dt > 0)
        cpu.set(p.pid, Math.max(0, ((t - was.ticks) / sample.clockTicks / dt) * 100));
    }
    this.lastCpu = next;
    if (cpu.size) this.dispatch({ type: 'cpu', cpu });
  }

  private run(eff: Effect): void {
    switch (eff.type) {
      case 'refresh':
        this.tick();
        break;
      case 'listDomains':
        this.loadDomains();
        break;
      case 'readScores': {
        const scores = this.o.sampler.readOomScores(eff.pids);
        if (scores.size) this.dispatch({ type: 'scores', scores });
        break;
      }
      case 'quit':
        this.quit(0);
        break;
      case 'export': {
        // The state's snapshot is the whole ranking of the domain shown: export it as is.
        const snap = this.state.snapshot;
        if (!snap) break;
        const ext = { json: 'json', csv: 'csv', table: 'txt', prometheus: 'prom' }[eff.format];
        const stamp = this.now().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '');
        // the host name is whatever root set: only [A-Za-z0-9._-] go into a file name
        const host = (snap.hostname ?? 'host').replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_');
        const path = join(this.o.exportDir, `oomtop-${host}-${stamp}.${ext}`);
        try {
          mkdirSync(this.o.exportDir, { recursive: true, mode: 0o700 });
          writeFileAtomic(path, renderSnapshot(snap, eff.format, 10, 200, csvStringify), 0o600);
          this.dispatch({
            type: 'message',
            message: { text: `exported ${eff.format} snapshot to ${path}`, kind: 'ok' },
          });
        } catch (e) {
          this.dispatch({
            type: 'message',
            message: { text: `export failed: ${messageOf(e)}`, kind: 'error' },
          });
        }
        break;
      }
      case 'adjust': {
        if (!this.o.adjuster || this.o.readOnly) {
          this.dispatch({
            type: 'message',
            message: { text: `read-only mode (${this.state.readOnlyWhy}): nothing is written`, kind: 'info' },
          });
          break;
        }
        const results = eff.plan.map((it) => {
          const r = (this.o.adjuster as Adjuster).write(
            { pid: it.pid, startTime: it.startTime, comm: it.comm },
            it.new,
            eff.source,
            { undoes: it.undoes, floor: it.floor },
          );
          return { ok: r.result === 'ok', message: r.message };
        });
        this.loadAudit();
        this.dispatch({ type: 'adjusted', results });
        break;
      }
    }
  }

  render(): void {
    const s = this.state;
    if (s.quitting || s.cols < 2 || s.rows < 2) return;
    const b = this.boxes;
    const clock = this.now().toISOString().slice(11, 19);
    // The last guard: whatever a view function's own escaping missed, no control character
    // but a newline reaches blessed (which would pass it to the terminal).
    const safe = printableText;
    b.header.setLabel(safe(clipTagged(headerTitle(s, clock), s.cols - 4)));
    b.header.setContent(safe(headerLines(s).join('\n')));
    b.titles.setContent(safe(tableHeaderLine(s)));
    const th = tableHeight(s);
    b.table.top = TABLE_TOP;
    b.table.height = th;
    b.table.setContent(safe(tableLines(s).join('\n')));
    const dh = detailHeight(s);
    if (dh > 0 && !s.showGraph) {
      b.detail.show();
      b.detail.top = TABLE_TOP + th;
      b.detail.height = dh;
      b.detail.setLabel(safe(detailTitle(s)));
      b.detail.setContent(safe(detailLines(s).join('\n')));
    } else b.detail.hide();
    this.renderGraph(s.showGraph && dh > 0 ? { top: TABLE_TOP + th, height: dh } : null);
    b.footer.setContent(safe(clipTagged(footerLine(s), s.cols)));
    const overlay = overlayText(s);
    if (overlay !== null) {
      b.overlay.setContent(safe(overlay));
      b.overlay.height = Math.min(s.rows - 2, overlay.split('\n').length + 2);
      b.overlay.show();
      b.overlay.setFront();
    } else b.overlay.hide();
    this.screen.render();
  }

  /** MemAvailable and PSI over the last minutes, as blessed-contrib's line chart. */
  private renderGraph(at: { top: number; height: number } | null): void {
    if (!at) {
      this.graph?.hide();
      return;
    }
    if (!this.graph) {
      // blessed-contrib's index loads every widget it has (maps, pictures, markdown: ~13 MiB):
      // the line chart alone is loaded, and only when m first shows it.
      const line = createRequire(import.meta.url)('blessed-contrib/lib/widget/charts/line.js') as (
        o: unknown,
      ) => blessed.Widgets.BoxElement;
      this.graph = line({
        label: ' MemAvailable (MiB) and PSI some avg10 (%) ',
        showLegend: true,
        legend: { width: 14 },
        left: 0,
        width: '100%',
        top: at.top,
        height: at.height,
        border: { type: 'line' },
        style: { line: 'yellow', text: 'green', baseline: 'white' },
      });
      this.screen.append(this.graph);
    }
    const g = this.graph as unknown as blessed.Widgets.BoxElement & { setData: (d: unknown[]) => void };
    g.top = at.top;
    g.height = at.height;
    g.show();
    const h = this.state.history.slice(-60);
    if (h.length < 2 || (this.screen.width as number) < 20) return;
    const page = this.state.snapshot?.pageSize ?? 4096;
    const x = h.map((p) => new Date(p.timeMs).toISOString().slice(14, 19));
    g.setData([
      { title: 'avail MiB', x, y: h.map((p) => ((p.availPages ?? 0) * page) / 1048576), style: { line: 'yellow' } },
      { title: 'PSI %', x, y: h.map((p) => p.psiSome ?? 0), style: { line: 'red' } },
    ]);
  }

  quit(code: number): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.soon) clearImmediate(this.soon);
    this.soon = null;
    this.state = { ...this.state, quitting: true };
    this.o.sampler.close(); // the stat and oom_score_adj files it holds open
    this.screen.destroy();
    this.resolveDone(code);
  }

  /** The screen as plain text (for tests and the pseudo-terminal check). */
  text(): string {
    const lines = (this.screen as unknown as { lines: Array<Array<[number, string]>> }).lines;
    // blessed marks the second cell of a wide character with \x03 (fullUnicode): not shown.
    return lines
      .map((l) =>
        l
          .map((c) => c[1])
          .join('')
          .replace(/\x03/g, '')
          .trimEnd(),
      )
      .join('\n');
  }
}

/**
 * blessed key names, normalised: printable characters as typed, special keys by name, and
 * '' for an event that is not a key press of its own. One key press is one event: for a
 * carriage return blessed emits a made-up 'enter' (sequence '\r') before the real 'return'
 * (node_modules/blessed/lib/program.js, listen()); only the 'return' counts. A keypad
 * Enter ('enter' with another sequence) and a line feed count as Enter too.
 */
export function keyName(
  ch: string | undefined,
  key: { full?: string; name?: string; sequence?: string } | undefined,
): string {
  const full = key?.full ?? key?.name ?? '';
  if (key?.name === 'enter' && key.sequence === '\r') return '';
  if (full === 'return' || full === 'enter' || full === 'linefeed') return 'enter';
  if (full === 'space' || ch === ' ') return 'space';
  if (full.startsWith('C-') || full.startsWith('M-')) return full;
  if (ch && ch.length === 1 && ch >= '!' && ch !== '\x7f') return ch;
  return full || ch || '';
}
