// OOM events from kernel log text, across kernel generations (mm/oom_kill.c dump_header(),
// dump_tasks(), dump_oom_summary(), __oom_kill_process(); mm/memcontrol.c
// mem_cgroup_print_oom_meminfo()). Lines may come from dmesg, /dev/kmsg, journalctl -k or a
// syslog file, interleaved with other messages, cut off or repeated: nothing here throws,
// and an event that lacks its start or its kill is kept and marked incomplete.
import { fromKernel, type LogLine, parseLogLine } from './log-line.js';

export { type LogLine, parseLogLine } from './log-line.js';

export interface TaskRow {
  pid: number;
  uid: number;
  tgid: number;
  totalVm: number;
  rss: number;
  rssAnon: number | null;
  rssFile: number | null;
  rssShmem: number | null;
  /** Page-table pages (pgtables_bytes / 4096, or nr_ptes + nr_pmds). */
  pageTables: number | null;
  swapEnts: number | null;
  adj: number;
  /** Which adj scale the table used: oom_score_adj (-1000..1000) or legacy oom_adj (-17..15). */
  adjScale: 'oom_score_adj' | 'oom_adj';
  name: string;
}

export interface Victim {
  pid: number;
  comm: string;
  uid: number | null;
  totalVmKb: number | null;
  anonRssKb: number | null;
  fileRssKb: number | null;
  shmemRssKb: number | null;
  pgtablesKb: number | null;
  adj: number | null;
  /** The kernel said "oom_kill_allocating_task". */
  allocatingTask: boolean;
  /** Killed with others because of memory.oom.group. */
  oomGroup: boolean;
  reaped: boolean;
  /** The victim's own memory cgroup (the summary line's task_memcg, 4.19+), when logged. */
  memcg: string | null;
}

export interface SpareAdj {
  pid: number;
  comm: string;
  adjNow: number;
  /** The highest oom_score_adj that would have spared it (−1000: only never-kill would). */
  adj: number;
  /** Who the kernel would have chosen instead, if anyone. */
  instead: { pid: number; comm: string } | null;
}

export interface OomEvent {
  uptime: number | null;
  wall: string | null;
  invoker: { comm: string; gfpMask: string; gfpFlags: string | null; order: number; adj: number | null } | null;
  constraint: string | null;
  /** "global", or the memcg path. */
  domain: string | null;
  memcg: { usageKb: number; limitKb: number; failcnt: number; swapLimitKb: number | null } | null;
  /** Global: RAM pages and swap from the Mem-Info dump. */
  ramPages: number | null;
  swapKb: number | null;
  tasks: TaskRow[];
  /** The tasks table's columns as the kernel printed them ("nr_ptes", "pgtables_bytes": they date the kernel). */
  tasksColumns: string[] | null;
  /** Rows of the tasks table not kept (an old event of a long log; OomEventParser.KEEP_TASKS). */
  tasksOmitted?: number;
  victims: Victim[];
  /** "Kill process N (x) score S or sacrifice child" (2.6.36-5.0), when logged. */
  chosen: { pid: number; comm: string; score: number | null } | null;
  oomGroupPath: string | null;
  /** The victim the kernel's rule picks from the tasks table, and whether it was the one. */
  ruleVictim: { pid: number; comm: string; badnessPages: number } | null;
  matchesRule: boolean | null;
  /** What adj would have spared the victim, from the tasks table (kept when the table is not). */
  spare: SpareAdj | null;
  incomplete: boolean;
  /** What is missing, when incomplete. */
  missing: string[];
}

const RE = {
  invoked:
    /^(.*?) invoked oom-killer: gfp_mask=(0x[0-9a-f]+)(?:\(([^)]*)\))?,(?: nodemask=[^,]*,)? order=(-?\d+)(?:, (?:oom_score_adj|oom_adj|oomkilladj)=(-?\d+))?/,
  memcgUsage: /^memory: usage (\d+)kB, limit (\d+)kB, failcnt (\d+)/,
  memswUsage: /^memory\+swap: usage (\d+)kB, limit (\d+)kB/,
  swapUsage: /^swap: usage (\d+)kB, limit (\d+)kB/,
  taskIn: /^Task in (\S+) killed as a result of limit of (\S+)/,
  pagesRam: /^(\d+) pages RAM$/,
  totalSwap: /^Total swap = (\d+)kB$/,
  header: /^\[\s*pid\s*\]\s+(.*)$/,
  row: /^\[\s*(\d+)\]\s+(.*)$/,
  summary: /^oom-kill:(.*)$/,
  chosen:
    /^(?:Out of memory|Memory cgroup out of memory)(?: \([^)]*\))?: [Kk]ill process (\d+) \((.*)\) score (\d+) or (?:sacrifice child|a child)/,
  killed:
    /^(?:(Out of memory|Memory cgroup out of memory)(?: \(([^)]*)\))?: )?Killed process (\d+)(?:, UID (\d+),)? \((.*?)\)(.*)$/,
  reaped: /^oom_reaper: reaped process (\d+) \((.*)\)/,
  group: /^Tasks in (\S+) are going to be killed due to memory\.oom\.group set/,
};

function num(s: string | undefined): number | null {
  return s === undefined || !/^-?\d+$/.test(s) ? null : Number(s);
}

function kbField(rest: string, key: string): number | null {
  const m = new RegExp(`${key}:(\\d+)kB`).exec(rest);
  return m ? Number(m[1]) : null;
}

function emptyEvent(line: LogLine): OomEvent {
  return {
    uptime: line.uptime,
    wall: line.wall,
    invoker: null,
    constraint: null,
    domain: null,
    memcg: null,
    ramPages: null,
    swapKb: null,
    tasks: [],
    tasksColumns: null,
    victims: [],
    chosen: null,
    oomGroupPath: null,
    ruleVictim: null,
    matchesRule: null,
    spare: null,
    incomplete: false,
    missing: [],
  };
}

/** Column layout of a tasks table, from its header (2.6 to 6.x differ). */
function parseHeader(cols: string): string[] {
  return cols.trim().split(/\s+/);
}

function parseRow(values: string, header: string[]): TaskRow | null {
  const nameAt = header.indexOf('name');
  if (nameAt < 0) return null;
  const parts = values.trim().split(/\s+/);
  const numeric = header.slice(0, nameAt);
  if (parts.length < numeric.length + 1) return null; // cut off
  const get = (col: string): number | null => {
    const i = numeric.indexOf(col);
    return i < 0 ? null : num(parts[i]);
  };
  const name = parts.slice(numeric.length).join(' ');
  const uid = get('uid');
  const tgid = get('tgid');
  const rss = get('rss');
  const totalVm = get('total_vm');
  const adjScore = get('oom_score_adj');
  const adjLegacy = get('oom_adj');
  if (uid === null || tgid === null || rss === null || totalVm === null || (adjScore === null && adjLegacy === null))
    return null;
  const pgBytes = get('pgtables_bytes');
  const ptes = get('nr_ptes');
  const pmds = get('nr_pmds');
  return {
    pid: 0,
    uid,
    tgid,
    totalVm,
    rss,
    rssAnon: get('rss_anon'),
    rssFile: get('rss_file'),
    rssShmem: get('rss_shmem'),
    pageTables: pgBytes !== null ? Math.floor(pgBytes / 4096) : ptes !== null ? ptes + (pmds ?? 0) : null,
    swapEnts: get('swapents'),
    adj: adjScore ?? (adjLegacy as number),
    adjScale: adjScore !== null ? 'oom_score_adj' : 'oom_adj',
    name,
  };
}

/**
 * Whether the event dates itself before 5.3 (the log carries no version): a "Kill process …
 * or sacrifice child" line is 5.0 or older, an nr_ptes column 4.14 or older. Such kernels
 * give a tie to the first task and clamp badness to 1 (kernel-model.ts), and may give
 * CAP_SYS_ADMIN tasks a bonus the tasks table cannot show.
 */
function datesBefore53(e: OomEvent): boolean {
  return e.chosen !== null || (e.tasksColumns?.includes('nr_ptes') ?? false);
}

/** The highest-badness task of the table; `bonus` discounts uid 0 tasks by 3% (they may hold CAP_SYS_ADMIN). */
function pick(
  e: OomEvent,
  total: number,
  firstWins: boolean,
  bonus: boolean,
): { pid: number; comm: string; badnessPages: number } | null {
  let best: { pid: number; comm: string; badnessPages: number } | null = null;
  for (const t of e.tasks) {
    const adj = scoreAdj(t);
    if (adj === -1000) continue;
    let points = t.rss + (t.swapEnts ?? 0) + (t.pageTables ?? 0);
    if (bonus && t.uid === 0) points -= Math.trunc((points * 3) / 100);
    points += adj * Math.floor(total / 1000);
    if (firstWins && points < 1) points = 1;
    const better = !best || (firstWins ? points > best.badnessPages : points >= best.badnessPages);
    if (better) best = { pid: t.tgid, comm: t.name, badnessPages: points };
  }
  return best;
}

/**
 * The kernel's choice from the tasks table (oom_badness(): rss + swap + page tables +
 * adj * totalpages/1000; the table lists tasks in scan order, so on 5.3+ a later row wins a
 * tie, before it the first). Needs totalpages: the memcg limit, or RAM + swap from the
 * Mem-Info dump, in 4 KiB pages (the log does not say its page size; its tables count in
 * pages of the same assumption). On a kernel that may give root a 3% bonus, a choice the
 * bonus would change is not made (null).
 */
export function ruleVictim(e: OomEvent): { pid: number; comm: string; badnessPages: number } | null {
  const total = totalPagesOf(e);
  if (total === null || !e.tasks.length) return null;
  const old = datesBefore53(e);
  const plain = pick(e, total, old, false);
  if (!old || !plain) return plain;
  const withBonus = pick(e, total, old, true);
  return withBonus?.pid === plain.pid ? plain : null;
}

/** totalpages of the event's domain: the memcg limit (plus its swap allowance), or RAM + swap. */
function totalPagesOf(e: OomEvent): number | null {
  const kbPerPage = 4;
  if (e.memcg) {
    let total = Math.floor(e.memcg.limitKb / kbPerPage);
    if (e.memcg.swapLimitKb !== null && e.swapKb !== null)
      total += Math.min(
        Math.max(0, Math.floor((e.memcg.swapLimitKb - e.memcg.limitKb) / kbPerPage)),
        Math.floor(e.swapKb / kbPerPage),
      );
    return total;
  }
  return e.ramPages !== null ? e.ramPages + Math.floor((e.swapKb ?? 0) / kbPerPage) : null;
}

/**
 * The counterfactual for the kernel: the highest oom_score_adj at which the victim would
 * not have been chosen from this event's tasks table (its points below the next task's),
 * and who would have died instead. −1000 when nothing less spares it (no other candidate,
 * or a domain so small that adj has no weight); null when the table cannot tell.
 */
function spareAdj(e: OomEvent, victimPid: number | undefined): SpareAdj | null {
  const total = totalPagesOf(e);
  if (total === null || victimPid === undefined || !e.tasks.length) return null;
  const w = Math.floor(total / 1000);
  const rows = e.tasks.map((t) => ({ t, adj: scoreAdj(t), base: t.rss + (t.swapEnts ?? 0) + (t.pageTables ?? 0) }));
  const v = rows.find((r) => r.t.tgid === victimPid);
  if (!v) return null;
  const vi = rows.indexOf(v);
  const firstWins = datesBefore53(e);
  const pts = (r: (typeof rows)[number]) => r.base + r.adj * w;
  const base = { pid: victimPid, comm: v.t.name, adjNow: v.adj };
  // For each other task, the highest adj at which it is chosen over the victim: below its
  // points, or equal when it wins a tie (5.3+: the later row; before: the earlier one).
  let best: { adj: number; pid: number; comm: string } | null = null;
  for (const [i, r] of rows.entries()) {
    if (r === v || r.t.tgid === victimPid || r.adj === -1000) continue;
    const winsTie = firstWins ? i < vi : i > vi;
    const gap = pts(r) - v.base;
    const adj =
      w === 0
        ? gap > 0 || (gap === 0 && winsTie)
          ? 1000
          : -1001
        : winsTie
          ? Math.floor(gap / w)
          : Math.ceil(gap / w) - 1;
    if (!best || adj > best.adj) best = { adj, pid: r.t.tgid, comm: r.t.name };
  }
  if (!best || best.adj < -1000) return { ...base, adj: -1000, instead: best && { pid: best.pid, comm: best.comm } };
  if (best.adj >= v.adj) return null; // the victim was not the rule's choice: the table cannot say what would spare it
  return { ...base, adj: Math.min(1000, best.adj), instead: { pid: best.pid, comm: best.comm } };
}

function scoreAdj(t: TaskRow): number {
  return t.adjScale === 'oom_adj' ? (t.adj === 15 ? 1000 : Math.trunc((t.adj * 1000) / 17)) : t.adj;
}

function finish(e: OomEvent): OomEvent {
  e.missing = [];
  if (!e.invoker) e.missing.push('the "invoked oom-killer" line');
  if (!e.victims.length) e.missing.push('the "Killed process" line (victim unknown)');
  e.incomplete = e.missing.length > 0;
  // A memcg OOM whose log names no cgroup keeps domain null ("a memcg, path unknown").
  const memcg = e.constraint === 'CONSTRAINT_MEMCG' || e.memcg !== null;
  if (!e.domain && !memcg && (e.constraint || e.victims.length)) e.domain = 'global';
  const rv = ruleVictim(e);
  e.ruleVictim = rv;
  const main = e.chosen?.pid ?? e.victims.find((v) => !v.oomGroup)?.pid ?? e.victims[0]?.pid;
  const judged = main !== undefined && !e.victims.some((v) => v.allocatingTask);
  e.matchesRule = rv && judged ? rv.pid === main : null;
  e.spare = judged ? spareAdj(e, main) : null;
  return e;
}

/**
 * The parser as a stream: push() one line at a time, end() for the events. Memory is
 * bounded whatever the log's size: at most MAX_EVENTS events are kept (the newest; the
 * number dropped is counted), and only the newest KEEP_TASKS keep their tasks table (the
 * older ones keep what was computed from it: ruleVictim, matchesRule, tasksOmitted).
 */
/** Words of every line that can start or follow an event (RE.invoked, killed, chosen, reaped, group). */
export const BETWEEN = /oom|[Kk]ill/;

export class OomEventParser {
  static readonly MAX_EVENTS = 10_000;
  static readonly KEEP_TASKS = 100;
  readonly events: OomEvent[] = [];
  /** Events dropped (the oldest) past MAX_EVENTS. */
  dropped = 0;
  private cur: OomEvent | null = null;
  private header: string[] | null = null;
  private prev = '';
  private killedSeen = false;
  /** The summary line's task_memcg, for the "Killed process" line of the same pid that follows it. */
  private taskMemcg: { pid: number; path: string } | null = null;

  /** Whether an event is under way (its lines, such as the tasks table, name neither a kill nor the OOM killer). */
  get inEvent(): boolean {
    return this.cur !== null;
  }

  constructor(private readonly opts: { year?: number } = {}) {}

  private close(): void {
    if (this.cur) {
      this.events.push(finish(this.cur));
      const old = this.events[this.events.length - 1 - OomEventParser.KEEP_TASKS];
      if (old?.tasks.length) {
        old.tasksOmitted = old.tasks.length;
        old.tasks = [];
      }
      // Trimmed in batches: shift() of a long array copies it, once per event.
      if (this.events.length >= OomEventParser.MAX_EVENTS * 1.5) this.trim();
    }
    this.cur = null;
    this.header = null;
    this.killedSeen = false;
  }

  private ensure(line: LogLine): OomEvent {
    if (!this.cur) this.cur = emptyEvent(line);
    return this.cur;
  }

  /**
   * The lines of an event, in the order they are tried: the first whose pattern matches
   * decides (a handler that returns false lets the next try). The first five can start or
   * follow an event; the rest belong to the event under way. To read a new kind of line:
   * one pattern in RE and one entry here.
   */
  private readonly rules: ReadonlyArray<{
    re: RegExp;
    inEvent: boolean;
    on: (m: RegExpExecArray, line: LogLine, t: string) => boolean | undefined;
  }> = [
    { re: RE.invoked, inEvent: false, on: (m, line) => this.onInvoked(m, line) },
    { re: RE.reaped, inEvent: false, on: (m) => this.onReaped(m) },
    { re: RE.killed, inEvent: false, on: (m, line) => this.onKilled(m, line) },
    { re: RE.chosen, inEvent: false, on: (m, line, t) => this.onChosen(m, line, t) },
    { re: RE.group, inEvent: false, on: (m) => this.onGroup(m) },
    {
      re: RE.memcgUsage,
      inEvent: true,
      on: (m) =>
        this.at((e) => {
          e.memcg = {
            usageKb: Number(m[1]),
            limitKb: Number(m[2]),
            failcnt: Number(m[3]),
            swapLimitKb: e.memcg?.swapLimitKb ?? null,
          };
        }),
    },
    { re: RE.memswUsage, inEvent: true, on: (m, _l, t) => this.onSwapLimit(m, t) },
    { re: RE.swapUsage, inEvent: true, on: (m, _l, t) => this.onSwapLimit(m, t) },
    {
      re: RE.taskIn,
      inEvent: true,
      on: (m) =>
        this.at((e) => {
          e.domain = m[2] as string;
          e.constraint = e.constraint ?? 'CONSTRAINT_MEMCG';
        }),
    },
    {
      re: RE.pagesRam,
      inEvent: true,
      on: (m) =>
        this.at((e) => {
          e.ramPages = (e.ramPages ?? 0) + Number(m[1]);
        }),
    },
    {
      re: RE.totalSwap,
      inEvent: true,
      on: (m) =>
        this.at((e) => {
          e.swapKb = Number(m[1]);
        }),
    },
    {
      re: RE.header,
      inEvent: true,
      on: (m) => {
        this.header = parseHeader(m[1] as string);
        return undefined;
      },
    },
    { re: RE.row, inEvent: true, on: (m) => this.onRow(m) },
    { re: RE.summary, inEvent: true, on: (m) => this.at((e) => this.onSummary(e, m)) },
  ];

  push(raw: string): void {
    // Between events only an event's first lines matter, and each names the OOM killer or a
    // kill: the other messages of a long log are passed over before any parsing.
    if (!this.cur && !BETWEEN.test(raw)) return;
    if (raw === this.prev) return; // a repeated line (syslog forwarding twice) is one line
    this.prev = raw;
    const line = parseLogLine(raw, this.opts.year);
    this.pushLine(line);
  }

  /** A line already parsed (the timeline parser parses each line once for every killer). */
  pushLine(line: LogLine): void {
    if (!fromKernel(line)) return; // a daemon's message, or one that only claims to be the kernel's
    const t = line.text.trim();
    for (const r of this.rules) {
      if (r.inEvent && !this.cur) return; // other messages between events
      const m = r.re.exec(t);
      if (m && r.on(m, line, t) !== false) return;
    }
  }

  /** Applies `f` to the event under way. */
  private at(f: (e: OomEvent) => void): undefined {
    if (this.cur) f(this.cur);
    return undefined;
  }

  private onInvoked(m: RegExpExecArray, line: LogLine): undefined {
    this.close();
    const e = this.ensure(line);
    e.invoker = {
      comm: m[1] as string,
      gfpMask: m[2] as string,
      gfpFlags: m[3] ?? null,
      order: Number(m[4]),
      adj: num(m[5]),
    };
    return undefined;
  }

  /** Reaping follows the kill, possibly after other messages: it marks the last victim with that pid. */
  private onReaped(m: RegExpExecArray): undefined {
    const pid = Number(m[1]);
    const target = [this.cur, ...[...this.events.slice(-8)].reverse()].find((e) =>
      e?.victims.some((v) => v.pid === pid),
    );
    const v = target?.victims.find((x) => x.pid === pid);
    if (v) v.reaped = true;
    return undefined;
  }

  private onKilled(m: RegExpExecArray, line: LogLine): undefined {
    // a second kill without a new header is a new event
    if (this.killedSeen && this.cur && !this.cur.oomGroupPath && !this.cur.chosen) this.close();
    const e = this.ensure(line);
    const rest = m[6] as string;
    const uid = num(m[4]) ?? num(/UID:(\d+)/.exec(rest)?.[1]);
    e.victims.push({
      pid: Number(m[3]),
      comm: m[5] as string,
      uid,
      totalVmKb: kbField(rest, 'total-vm'),
      anonRssKb: kbField(rest, 'anon-rss'),
      fileRssKb: kbField(rest, 'file-rss'),
      shmemRssKb: kbField(rest, 'shmem-rss'),
      pgtablesKb: kbField(rest, 'pgtables'),
      adj: num(/oom_score_adj:(-?\d+)/.exec(rest)?.[1]),
      allocatingTask: (m[2] ?? '').includes('oom_kill_allocating_task'),
      oomGroup: Boolean(e.oomGroupPath) && e.victims.length > 0,
      reaped: false,
      memcg: this.taskMemcg?.pid === Number(m[3]) ? this.taskMemcg.path : null,
    });
    if (m[1] === 'Memory cgroup out of memory' && !e.constraint) e.constraint = 'CONSTRAINT_MEMCG';
    this.killedSeen = true;
    if (!e.oomGroupPath && !e.chosen) this.close();
    return undefined;
  }

  private onChosen(m: RegExpExecArray, line: LogLine, t: string): undefined {
    const e = this.ensure(line);
    e.chosen = { pid: Number(m[1]), comm: m[2] as string, score: num(m[3]) };
    if (t.startsWith('Memory cgroup') && !e.constraint) e.constraint = 'CONSTRAINT_MEMCG';
    return undefined;
  }

  /** Printed after the victim's "Killed process" line: reopens that event for the group. */
  private onGroup(m: RegExpExecArray): undefined {
    if (!this.cur && this.events.length) {
      this.cur = this.events.pop() as OomEvent;
      this.killedSeen = true;
    }
    if (this.cur) this.cur.oomGroupPath = m[1] as string;
    return undefined;
  }

  private onSwapLimit(m: RegExpExecArray, t: string): undefined {
    const e = this.cur;
    if (e?.memcg) e.memcg.swapLimitKb = t.startsWith('swap:') ? e.memcg.limitKb + Number(m[2]) : Number(m[2]);
    return undefined;
  }

  /** A tasks table row: only under a header (otherwise the next rule tries the line). */
  private onRow(m: RegExpExecArray): boolean | undefined {
    if (!this.header || !this.cur) return false;
    const row = parseRow(m[2] as string, this.header);
    if (row) this.cur.tasks.push({ ...row, pid: Number(m[1]) });
    this.cur.tasksColumns ??= this.header;
    return undefined;
  }

  private onSummary(e: OomEvent, m: RegExpExecArray): void {
    const kv = new Map<string, string>();
    for (const part of (m[1] as string).split(',')) {
      const eq = part.indexOf('=');
      if (eq > 0) kv.set(part.slice(0, eq), part.slice(eq + 1));
    }
    e.constraint = kv.get('constraint') ?? e.constraint;
    const memcg = kv.get('oom_memcg');
    const task = kv.get('task_memcg');
    const pid = num(kv.get('pid'));
    this.taskMemcg = task && pid !== null ? { pid, path: task } : null;
    e.domain =
      e.constraint === 'CONSTRAINT_MEMCG' && memcg
        ? memcg
        : e.constraint === 'CONSTRAINT_NONE'
          ? 'global'
          : (e.domain ?? memcg ?? null);
  }

  private trim(): void {
    const over = this.events.length - OomEventParser.MAX_EVENTS;
    if (over <= 0) return;
    this.events.splice(0, over);
    this.dropped += over;
  }

  end(): OomEvent[] {
    this.close();
    this.trim();
    return this.events;
  }
}

/**
 * The processes the events record killed, one per "Killed process" line, the members of a
 * memory.oom.group too: the kernel counts each (/proc/vmstat oom_kill, memory.events).
 */
export function loggedKills(events: readonly OomEvent[]): number {
  return events.reduce((n, e) => n + e.victims.length, 0);
}

export function parseOomEvents(lines: Iterable<string>, opts: { year?: number } = {}): OomEvent[] {
  const p = new OomEventParser(opts);
  for (const raw of lines) p.push(raw);
  return p.end();
}
