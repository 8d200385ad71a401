// The screen as text: every panel's content is computed here from the state, as strings
// with blessed tags. Pure: the layout only puts these strings into boxes.
import { describeDomain, describeVictim } from '../core/timeline.js';
import { compileOrNull } from '../core/pattern.js';
import { originalAdj } from '../core/audit.js';
import { availableKb } from '../core/domains.js';
import { layoutColumns, notKillableWhy } from '../core/columns.js';
import {
  cells,
  fit,
  fitCell,
  formatTimeRange,
  fitPath,
  formatBytes,
  formatInt,
  formatPages,
  printable,
  shortCgroup,
} from '../core/format.js';
import type { SnapshotProcess } from '../core/snapshot.js';
import { type FallRate, sustainedFall, timeTo, type TimeTo } from '../core/trend.js';
import type { ProtectionReport } from '../core/killers/protection.js';
import { raceLine, renderKillers } from '../core/killers/render.js';
import { BINDINGS, MODE_BINDINGS, type BoundMode, type ModeBinding } from './keys.js';
import { detailHeight, DASHBOARD_COLUMNS, tableHeight } from './layout.js';
import { clipTagged, fitBox, SOFT, wrapTagged } from './fit.js';
import { whatIfOf } from './plan.js';
import { columnContext, cursorIndex, keyOf, selectedProc, tableRows } from './rows.js';
import type { DashState, HistoryPoint } from './state.js';

/**
 * Untrusted text (process names, command lines, cgroup paths, messages that quote them)
 * for a blessed box: control characters escaped (printable()), then the tag braces.
 */
export function esc(text: string): string {
  return printable(text).replace(/[{}]/g, (c) => (c === '{' ? '{open}' : '{close}'));
}

const SPARK = '▁▂▃▄▅▆▇█';

export function sparkline(values: ReadonlyArray<number | null>, width: number): string {
  const v = values.slice(-width).map((x) => x ?? 0);
  if (!v.length) return '';
  const min = Math.min(...v);
  const max = Math.max(...v);
  return v.map((x) => SPARK[max === min ? 0 : Math.round(((x - min) / (max - min)) * (SPARK.length - 1))]).join('');
}

export function bar(fraction: number, width: number): string {
  const f = Math.max(0, Math.min(1, Number.isFinite(fraction) ? fraction : 0));
  const full = Math.round(f * width);
  const color = f >= 0.9 ? 'red' : f >= 0.75 ? 'yellow' : 'green';
  return `[{${color}-fg}${'█'.repeat(full)}{/${color}-fg}${'░'.repeat(width - full)}]`;
}

/**
 * Seconds until available memory runs out at the rate it has fallen, with a low and high
 * bound; null unless the fall is sustained (core/trend.ts) and under an hour away.
 */
export function timeLeft(history: readonly HistoryPoint[], windowMs = 60_000): TimeTo | null {
  const last = history.at(-1)?.availPages;
  if (last === null || last === undefined) return null;
  const rate = availableFall(history, windowMs);
  return rate && timeTo(last, rate);
}

/** The sustained fall of the shown domain's available memory, in pages per second (core/trend.ts). */
export function availableFall(history: readonly HistoryPoint[], windowMs = 60_000): FallRate | null {
  return sustainedFall(
    history.map((h) => ({ timeMs: h.timeMs, value: h.availPages })),
    windowMs,
  );
}

export function headerTitle(s: DashState, clock: string): string {
  const snap = s.snapshot;
  return ` oomtop ── ${esc(snap?.hostname ?? '?')} · Linux ${esc(snap?.kernelRelease ?? '?')} · ${s.intervalMs / 1000} s${s.paused ? ' · {yellow-fg}paused{/yellow-fg}' : ''} ── ${clock} `;
}

type Snap = NonNullable<DashState['snapshot']>;

/** Lines 1-2: memory and swap bars, with their sparklines. */
function memoryLines(s: DashState, snap: Snap, w: number): string[] {
  const barW = Math.max(10, Math.min(30, w - 52));
  const memTotal = snap.memTotalKb * 1024;
  const avail = availableKb(snap) * 1024;
  const used = memTotal - avail;
  const swapTotal = snap.swapTotalKb * 1024;
  const swapUsed = swapTotal - (snap.swapFreeKb ?? snap.swapTotalKb) * 1024;
  const sparkW = Math.max(0, Math.min(20, w - barW - 50));
  const availSpark = sparkline(
    s.history.map((h) => h.availPages),
    sparkW,
  );
  const psiSpark = sparkline(
    s.history.map((h) => h.psiSome),
    sparkW,
  );
  const psi = snap.pressureSomeAvg10;
  const memPct = fit(`${((100 * used) / memTotal).toFixed(0)}%`, 4, 'right');
  const swapPct = fit(`${swapTotal ? ((100 * swapUsed) / swapTotal).toFixed(0) : 0}%`, 4, 'right');
  const availWord = snap.memAvailableKb === null ? 'free' : 'avail';
  const psiText = psi === null ? 'PSI n/a' : `PSI some ${psi.toFixed(2)}%`;
  return [
    `Mem  ${bar(used / memTotal, barW)} ${memPct}  ${formatBytes(used)}/${formatBytes(memTotal)}  ${availWord} ${formatBytes(avail)} ${availSpark}`,
    `Swap ${bar(swapTotal ? swapUsed / swapTotal : 0, barW)} ${swapPct}  ${formatBytes(swapUsed)}/${formatBytes(swapTotal)}  ${psiText} ${psiSpark}`,
  ];
}

/** OOM kills since boot, flagged when they grow while oomtop runs. */
function killText(s: DashState, snap: Snap): string {
  const kills = snap.oomKillCount;
  const grown = kills !== null && s.oomKillsAtStart !== null ? kills - s.oomKillsAtStart : 0;
  const text = `OOM kills since boot: ${kills ?? '?'}`;
  if (grown <= 0) return text;
  const last = s.timeline.filter((e) => e.killer === 'kernel').at(-1);
  const v = last?.victims[0];
  const what = last ? `, last ${last.wall?.slice(11, 16) ?? '?'} ${v ? esc(describeVictim(v)) : 'victim unknown'}` : '';
  return `${text} {red-fg}{bold}(+${grown} while watching${what}){/bold}{/red-fg}`;
}

function sysctlWarnings(snap: Snap): string[] {
  const warn: string[] = [];
  if (snap.sysctls.panicOnOom === 1) warn.push('⚠ panic_on_oom=1: a global OOM panics');
  if (snap.sysctls.panicOnOom === 2) warn.push('⚠ panic_on_oom=2: any OOM panics');
  if (snap.sysctls.oomKillAllocatingTask) warn.push('⚠ oom_kill_allocating_task=1: the allocator dies');
  return warn;
}

/** What this user may write. */
function rightsText(s: DashState): string {
  if (s.readOnly) return '{yellow-fg}read-only{/yellow-fg}';
  if (s.canLower === true) return 'adj: may lower and raise';
  if (s.canLower === null) return 'adj rights unknown';
  return s.uid === 0
    ? '{yellow-fg}adj: raise only (no CAP_SYS_RESOURCE){/yellow-fg}'
    : '{yellow-fg}adj: raise your own processes only{/yellow-fg}';
}

/** The last line: headroom and who dies first, or how soon memory runs out when it falls. */
function firstToDieLine(s: DashState, snap: Snap, v: NonNullable<DashState['view']>): string {
  const page = snap.pageSize;
  // Another killer acts before the kernel: that is who dies first (K shows the race).
  if (s.killers?.firstToAct && s.killers.firstToAct !== 'kernel')
    return `{yellow-fg}${esc(fit(raceLine(s.killers), s.cols - 8))}{/yellow-fg} (K)`;
  const t = timeLeft(s.history);
  const first = snap.processes.find((p) => p.rank === 1);
  const headroom = v.headroomPages === null ? '' : `headroom ${formatPages(v.headroomPages, page)}`;
  if (t === null)
    return `${headroom}${first ? `   dies first: ${esc(first.comm)} ${first.pid} (${formatPages(first.badnessPages, page)})` : ''}`;
  const then = first ? `${esc(first.comm)} ${first.pid} dies` : 'nobody is killable';
  return `{red-fg}available memory falling: exhausted in ${formatTimeRange(t)}{/red-fg}, then ${then}   ${headroom}`;
}

/** The kernel rules, short: confirmed by the oom_score values on screen, or plainly uncertain. */
function modelText(snap: Snap): string {
  const m = snap.model;
  if (!m.compared) return `rules ${m.label} (unconfirmed)`;
  if (!m.exact) return `{yellow-fg}rules uncertain: best ${m.label} ${m.matched}/${m.compared} oom_score{/yellow-fg}`;
  return `rules ${m.label} ✓${m.matched}/${m.compared}`;
}

export function headerLines(s: DashState): string[] {
  const snap = s.snapshot;
  const v = s.view;
  if (!snap || !v) return ['sampling…'];
  const warn = sysctlWarnings(snap);
  const who = rightsText(s);
  // The rights go where there is room: after the kill count, or after the domain when
  // sysctl warnings take line 3.
  const l3 = killText(s, snap) + (warn.length ? `  {yellow-fg}${warn.join('  ')}{/yellow-fg}` : ` · ${who}`);
  return [
    ...memoryLines(s, snap, s.cols - 2),
    l3,
    `Domain: ${esc(v.label)}, ${formatInt(snap.totalPages)} pages${warn.length ? ` · ${who}` : ''} · ${modelText(snap)}`,
    firstToDieLine(s, snap, v),
  ].map((l) => clipTagged(l, s.cols - 2));
}

/**
 * The column titles; the sorted one carries ▲ or ▼, inside its width when the title leaves
 * room, else in the space after it: a title is never cut for the arrow.
 */
export function tableHeaderLine(s: DashState): string {
  const cols = layoutColumns(DASHBOARD_COLUMNS, s.cols - 3);
  const arrow = s.tree ? '' : s.sort.descending ? '▼' : '▲';
  const cellsOf = cols.map(({ col, width }) => {
    const sorted = s.sort.column === col.id && arrow !== '';
    if (sorted && col.title.length < width) return { text: fit(col.title + arrow, width, col.align), after: ' ' };
    return { text: fit(col.title, width, col.align), after: sorted ? arrow : ' ' };
  });
  return ` ${cellsOf.map((c, i) => c.text + (i < cellsOf.length - 1 || c.after !== ' ' ? c.after : '')).join('')}`.trimEnd();
}

/** Only the visible rows are formatted: the table is virtual. */
export function tableLines(s: DashState): string[] {
  const rows = tableRows(s);
  const h = tableHeight(s);
  const cols = layoutColumns(DASHBOARD_COLUMNS, s.cols - 3);
  const ctx = columnContext(s);
  const cur = cursorIndex(s, rows);
  const out: string[] = [];
  if (!rows.procs.length)
    return [
      s.snapshot
        ? s.filter
          ? `  no process matches '${esc(s.filter)}'`
          : '  no process in this domain'
        : '  sampling…',
    ];
  for (let i = s.scrollTop; i < Math.min(rows.procs.length, s.scrollTop + h); i++) {
    const p = rows.procs[i] as SnapshotProcess;
    const depth = rows.depths?.[i] ?? 0;
    const cells = cols.map(({ col, width }) => {
      let text = col.format(p, ctx);
      // one cell a level (three at most) and the branch: the name keeps most of its column
      if (col.id === 'name' && depth) text = `${' '.repeat(Math.min(depth - 1, 3))}└ ${text}`;
      return fitCell(text, width, col);
    });
    // A row the kernel never picks says why across its memory columns.
    const why = p.killable === true ? null : notKillableWhy(p);
    const from = cols.findIndex((c) => c.col.id === 'badness');
    if (why && from >= 0) {
      const adjAt = cols.findIndex((c) => c.col.id === 'adj');
      const span = cols.slice(from).reduce((w, c) => w + c.width + 1, -1);
      const adjNote =
        adjAt >= 0 && p.oomScoreAdj && p.unkillableReason !== 'oom_score_adj -1000' ? `  (adj ${p.oomScoreAdj})` : '';
      cells.splice(from, cells.length - from, fit(`${why}${adjNote}`, span));
    }
    const mark = s.marked.has(keyOf(p)) ? '*' : i === cur ? '▶' : ' ';
    let line = esc(mark + cells.join(' '));
    if (p.killable === false) line = `{gray-fg}${line}{/gray-fg}`;
    else if (p.oomScoreAdj !== null && p.oomScoreAdj < 0) line = `{green-fg}${line}{/green-fg}`;
    else if (p.rank === 1) line = `{red-fg}${line}{/red-fg}`;
    if (i === cur) line = `{inverse}${line}{/inverse}`;
    out.push(line);
  }
  return out;
}

export function detailTitle(s: DashState): string {
  const p = selectedProc(s);
  return p ? ` ${esc(p.comm)} ${p.pid} ` : ' detail ';
}

/**
 * The detail pane's lines, wrapped to its width; when they are more than its height, the
 * what-if hint goes first, then the last line that fits says how many are cut.
 */
export function detailLines(s: DashState): string[] {
  const lines = detailContent(s);
  const width = s.cols - 2;
  const room = Math.max(1, detailHeight(s) - 2);
  const wrapped = (list: string[]) => list.flatMap((l) => wrapTagged(l, width));
  const hint = lines.findIndex((l) => l.startsWith('w: what if'));
  const fitted = wrapped(lines).length > room && hint >= 0 ? lines.filter((_, i) => i !== hint) : lines;
  return fitBox(fitted, width, room);
}

function detailContent(s: DashState): string[] {
  const p = selectedProc(s);
  const snap = s.snapshot;
  if (!p || !snap || !s.view) return ['no process selected'];
  const page = snap.pageSize;
  const killable = snap.counts.killable;
  const lines: string[] = [];
  const sample = s.view.sample.processes.find((x) => x.pid === p.pid);
  const per = Math.floor(snap.totalPages / 1000);
  if (p.badnessPages !== null && sample) {
    lines.push(
      `badness ${formatInt(p.badnessPages)} pages = rss ${formatInt(p.rssPages)} + swap ${formatInt(p.swapPages)} + page tables ${formatInt(p.pageTablePages)}${SOFT}+ adj ${p.oomScoreAdj} × ${formatInt(per)} (totalpages/1000)`,
    );
    lines.push(
      `rank ${p.rank} of ${killable} · ${((100 * p.badnessPages) / snap.totalPages).toFixed(1)}% of the domain · kernel oom_score ${p.oomScore ?? '?'} (predicted ${p.predictedOomScore ?? '?'})` +
        (p.oomScore !== null && p.predictedOomScore !== null && p.oomScore !== p.predictedOomScore
          ? ' {yellow-fg}changed during the read{/yellow-fg}'
          : ''),
    );
  } else {
    lines.push(
      p.unkillableReason
        ? `{gray-fg}${esc(p.unkillableReason)}: the kernel never picks it${p.unkillableReason === 'oom_score_adj -1000' ? ' (protected)' : ''}{/gray-fg}`
        : `{yellow-fg}badness unknown (${esc(p.unknownReason ?? '?')}): its place in the order cannot be told{/yellow-fg}`,
    );
    lines.push(
      `rss ${formatPages(p.rssPages, page)} · adj ${p.oomScoreAdj ?? '?'} · kernel oom_score ${p.oomScore ?? '?'}`,
    );
  }
  const rss = sample
    ? `rss anon ${formatBytes((sample.rssAnonKb ?? 0) * 1024)}, file ${formatBytes((sample.rssFileKb ?? 0) * 1024)}, shmem ${formatBytes((sample.rssShmemKb ?? 0) * 1024)}`
    : '';
  // the command line and the cgroup (before the user line: when the pane is short, the
  // last lines give way) share a line, each cut with … (the cgroup from the left:
  // its end names the unit)
  const cg = p.cgroup ?? '?';
  const cgWidth = Math.min(cells(cg), Math.max(20, Math.floor((s.cols - 12) / 2)));
  const cmdWidth = Math.max(10, s.cols - 2 - 10 - cgWidth);
  lines.push(`${esc(fit(p.cmdline ?? '', cmdWidth).trimEnd())}   cgroup ${esc(fitPath(cg, cgWidth).trimEnd())}`);
  lines.push(
    `user ${esc(p.user ?? '?')} · parent ${p.ppid} · started ${p.startedAt?.replace('T', ' ').replace(/\.\d+Z$/, 'Z') ?? '?'} · ${rss}`,
  );
  const orig = originalAdj(s.audit, p.pid, p.startTime);
  if (s.mode.kind === 'input') {
    const v = s.whatIf;
    const w = v === null ? null : whatIfOf(s, p, v);
    const verb = s.mode.purpose === 'whatIf' ? 'what if adj =' : 'set adj to';
    lines.push(
      `{bold}${verb} [ ${esc(s.mode.text)}▏]{/bold}${w ? ` → rank ${w.rank ?? '— (unkillable)'}${w.badness !== null ? ` (badness ${formatInt(w.badness)})` : ''}` : '   type -1000..1000'}`,
    );
  } else {
    const prot = s.protection.get(p.pid);
    // A protected process: the killers it is safe from and the fix for the others (K has them all).
    if (prot?.killers.some((k) => k.killer !== 'kernel')) lines.push(protectionLine(prot, s.cols - 4));
    else lines.push(`w: what if adj = …    ${orig !== null ? `before oomtop: ${orig} (r resets)` : ''}`);
  }
  return lines;
}

/** "protected from kernel · {red}not from earlyoom{/red} · fix: … (K lists every fix)". */
function protectionLine(p: ProtectionReport, width: number): string {
  const safe = p.killers.filter((k) => k.safe).map((k) => k.killer);
  const not = p.killers.filter((k) => !k.safe);
  const head = safe.length ? `protected from ${safe.join(', ')}` : 'protected from no active killer';
  if (!not.length) return `{green-fg}${esc(fit(head, width))}{/green-fg}`;
  const against = `not from ${not.map((k) => k.killer).join(', ')}`;
  const more = ' (K: every fix)';
  const fix = `fix: ${not.map((k) => `${k.killer}: ${k.fix ?? k.why}`).join('; ')}`;
  const rest = Math.max(10, width - cells(head) - cells(against) - cells(more) - 6);
  return `${esc(head)} · {red-fg}${esc(against)}{/red-fg} · ${esc(fit(fix, rest).trimEnd())}${more}`;
}

/** The adj prompt of `a` (set) and `w` (what if), with the rank the typed value would give. */
export function inputPrompt(s: DashState): string {
  if (s.mode.kind !== 'input') return '';
  const p = selectedProc(s);
  const v = s.whatIf;
  const w = v === null || !p ? null : whatIfOf(s, p, v);
  const verb = s.mode.purpose === 'whatIf' ? 'what if adj =' : 'set adj to';
  const then = s.mode.purpose === 'whatIf' ? 'Enter shows it, nothing is written' : 'Enter asks to confirm';
  const err = s.message?.kind === 'error' ? `  {red-fg}${esc(s.message.text)}{/red-fg}` : '';
  return `{bold}${verb} [ ${esc(s.mode.text)}▏]{/bold}${w ? ` → rank ${w.rank ?? '— (never killed)'}` : '  type -1000..1000'}   ${then}, Esc cancels${err}`;
}

export function footerLine(s: DashState): string {
  if (s.mode.kind !== 'input' && s.message) {
    const color = s.message.kind === 'error' ? 'red' : s.message.kind === 'ok' ? 'green' : 'cyan';
    return `{${color}-fg}${esc(s.message.text)}{/${color}-fg}`;
  }
  // A prompt is always on screen, whatever panes are hidden: it is what the keys go to.
  if (s.mode.kind === 'input') return inputPrompt(s);
  if (s.mode.kind === 'filter') {
    const plain = s.filter !== '' && compileOrNull(s.filter) === null;
    return `filter (regex): ${esc(s.filter)}▏  ${plain ? '{yellow-fg}not a valid regex yet: plain text{/yellow-fg}  ' : ''}(Enter keeps, Esc clears)`;
  }
  if (s.mode.kind === 'export')
    return `export the snapshot into ${esc(s.exportDir)}/ as: j json · c csv · t table · p prometheus · Esc cancels`;
  const marked = s.marked.size ? `${s.marked.size} marked  ` : '';
  const filt = s.filter ? `filter '${s.filter}'  ` : '';
  // Help and quit always show; the others give way from the end of the table.
  const items = BINDINGS.filter((b) => b.footer);
  const keep = (b: (typeof items)[number]) => b.action === 'help' || b.action === 'quit';
  const text = (list: typeof items) => list.map((b) => `${b.label.split(' ')[0]} ${b.footer}`).join('  ');
  let shown = [...items];
  while (shown.length > 2 && (marked + filt + text(shown)).length > s.cols) {
    const drop = [...shown].reverse().find((b) => !keep(b));
    shown = shown.filter((b) => b !== drop);
  }
  const parts = shown.map((b) => {
    const t = esc(`${b.label.split(' ')[0]} ${b.footer}`);
    return b.writes && s.readOnly ? `{gray-fg}${t}{/gray-fg}` : t;
  });
  return (
    (marked ? `{yellow-fg}${esc(marked)}{/yellow-fg}` : '') +
    (filt ? `{cyan-fg}${esc(filt)}{/cyan-fg}` : '') +
    parts.join('  ')
  );
}

/** The help's lines: every key, from the key table. */
function helpBody(s: DashState): string[] {
  const lines = ['{bold}oomtop keys{/bold}  (j/k/PgUp/PgDn scroll, any other key closes)', ''];
  for (const b of BINDINGS) {
    const t = `${fit(b.label, 10)} ${b.help}${b.writes && s.readOnly ? ' (read-only: off)' : ''}`;
    lines.push(b.writes && s.readOnly ? `{gray-fg}${esc(t)}{/gray-fg}` : esc(t));
  }
  lines.push(
    '',
    'mouse: click selects a row, the wheel scrolls',
    'rows: rank 1 is killed first; — rows are never killed (reason at right)',
    "BADNESS is the kernel's oom_badness() as memory; SCORE is /proc/PID/oom_score (lossy)",
    'the filter (/) is an RE2 regular expression, as --name and --cmdline take: case matters',
    '  ((?i) ignores it); while the text is not yet a valid expression it matches as plain text',
  );
  const modeNames: Record<BoundMode, string> = {
    filter: 'in the filter (/)',
    input: 'in the adj prompt (a, w)',
    confirm: 'in a write dialog',
    export: 'choosing an export (e)',
    domain: 'choosing a domain (D)',
  };
  for (const [mode, list] of Object.entries(MODE_BINDINGS) as Array<[BoundMode, readonly ModeBinding[]]>) {
    lines.push('', `{bold}${esc(modeNames[mode])}{/bold}`);
    for (const b of list) lines.push(esc(`${fit(b.label, 10)} ${b.help}`));
  }
  return lines;
}

/** Cells inside the overlay (90% of the screen, less its border). */
export function overlayInner(cols: number): number {
  return Math.max(10, Math.floor(cols * 0.9) - 2);
}

/** Lines of the overlay's body that fit on screen: it is at most rows - 2 high, with two borders. */
const overlayRoom = (s: DashState) => Math.max(3, s.rows - 4);

/** Every line of the overlay the mode shows (before scrolling and fitting), or null. */
export function overlayBody(s: DashState): string[] | null {
  switch (s.mode.kind) {
    case 'help':
      return helpBody(s);
    case 'events':
      return eventsBody(s);
    case 'killers':
      return killersBody(s);
    case 'confirm':
      return confirmText(s).split('\n');
    case 'domain':
      return domainText(s).split('\n');
    default:
      return null;
  }
}

/** The furthest the overlay scrolls: its last line at the bottom. */
export function maxOverlayTop(s: DashState): number {
  const n = overlayBody(s)?.length ?? 0;
  const room = overlayRoom(s);
  return n <= room ? 0 : n - (room - 1);
}

/**
 * The overlay as shown: the lines from its scroll position that fit, each cut to its width
 * with …, and a last line saying what is above and below when it scrolls.
 */
export function overlayText(s: DashState): string | null {
  const lines = overlayBody(s);
  if (!lines) return null;
  const width = overlayInner(s.cols);
  const room = overlayRoom(s);
  const top = 'top' in s.mode ? Math.min(s.mode.top, maxOverlayTop(s)) : 0;
  let shown = lines;
  if (lines.length > room) {
    shown = lines.slice(top, top + room - 1);
    const below = lines.length - top - shown.length;
    shown.push(
      `{cyan-fg}${top ? `↑ ${top} line(s) above` : ''}${top && below ? ' · ' : ''}${below ? `↓ ${below} more` : ''}: j/k/PgUp/PgDn scroll · any other key closes{/cyan-fg}`,
    );
  }
  return shown.map((l) => clipTagged(l, width)).join('\n');
}

export function confirmText(s: DashState): string {
  if (s.mode.kind !== 'confirm') return '';
  const lines = [`{bold}${esc(s.mode.title)}{/bold}`, ''];
  for (const it of s.mode.plan.slice(0, 12)) {
    lines.push(
      `${fit(String(it.pid), 7, 'right')} ${esc(fit(printable(it.comm), 16))} adj ${it.old ?? '?'} → ${it.new}   new rank ${it.newRank ?? '— (never killed)'}`,
    );
  }
  if (s.mode.plan.length > 12) lines.push(`… and ${s.mode.plan.length - 12} more`);
  const warnings = [...new Set(s.mode.plan.map((it) => it.warning).filter((w): w is string => Boolean(w)))];
  for (const w of warnings) lines.push(`{yellow-fg}may be refused: ${esc(w)}{/yellow-fg}`);
  for (const r of s.mode.refused) lines.push(`{red-fg}left out: ${esc(r)}{/red-fg}`);
  lines.push('', 'write? y / Enter yes · n / Esc no');
  return lines.join('\n');
}

/** The killer race overlay (K): the same table as `oomtop killers`. */
function killersBody(s: DashState): string[] {
  const head = '{bold}the killer race{/bold} (as `oomtop killers --protected`; any key closes)';
  if (!s.killers) return [head, '', 'not read yet'];
  const width = overlayInner(s.cols);
  const prot = s.protection.size ? [...s.protection.values()] : undefined;
  const body = renderKillers(s.killers, width, prot)
    .trimEnd()
    .split('\n')
    .map((l) => esc(l.trimEnd()));
  return [head, '', ...body];
}

/**
 * The recent kills (o): every killer's, oldest first as in `oomtop history`, with column
 * titles, the victim's size and what the rule mark means; it opens at the newest.
 */
function eventsBody(s: DashState): string[] {
  const lines = [
    "{bold}recent kills{/bold} (every killer's, oldest first as oomtop history; any other key closes)",
    '',
  ];
  if (!s.timeline.length) {
    lines.push('none in the logs (or they cannot be read: root or CAP_SYSLOG; oomtop history says which)');
    return lines;
  }
  lines.push(
    "RULE ✓: the kernel took the process its rule picks from the event's tasks table (oomtop's model); ✗: not",
    '',
    esc(
      `${fit('TIME', 19)}  ${fit('KILLER', 12)} ${fit('DOMAIN', 24)} ${fit('VICTIM', 26)} ${fit('SIZE', 9, 'right')} RULE`,
    ),
  );
  for (const e of s.timeline) {
    const v = e.victims.map(describeVictim).join(', ') || 'victim unknown';
    const kb = e.victims.reduce((n, x) => n + (x.rssKb ?? 0), 0);
    const size = e.victims.some((x) => x.rssKb !== null) ? formatBytes(kb * 1024) : '?';
    const m = e.kernel?.matchesRule;
    const rule = m === true ? '✓' : m === false ? '✗' : '';
    lines.push(
      esc(
        `${(e.wall ?? '?').replace('T', ' ').slice(0, 19)}  ${fit(e.killer, 12)} ${fit(describeDomain(e), 24)} ${fit(v, 26)} ${fit(size, 9, 'right')} ${rule}${e.incomplete ? ' incomplete' : ''}`,
      ),
    );
  }
  return lines;
}

export function domainText(s: DashState): string {
  if (s.mode.kind !== 'domain') return '';
  const lines = [
    '{bold}OOM domain{/bold} (↑↓ choose, Enter select, Esc cancel): who dies when this domain runs out',
    '',
  ];
  const page = s.snapshot?.pageSize ?? 4096;
  const nameW = Math.max(18, Math.min(48, Math.floor(s.cols * 0.9) - 66));
  s.domains.forEach((d, i) => {
    const used = d.limitPages && d.headroomPages !== null ? 1 - d.headroomPages / d.limitPages : null;
    const gauge = used === null ? ' '.repeat(14) : bar(used, 12);
    const t = `${fitPath(shortCgroup(d.label), nameW)} ${fit(d.headroomPages === null ? '' : `${formatPages(d.headroomPages, page)} free`, 14, 'right')} `;
    const tail = ` ${d.oomKills ? `${d.oomKills} kills ` : ''}${d.firstVictim ? `first: ${d.firstVictim}` : ''}`;
    lines.push(
      i === (s.mode as { index: number }).index
        ? `{inverse}${esc(t)}{/inverse}${gauge}{inverse}${esc(tail)}{/inverse}`
        : `${esc(t)}${gauge}${esc(tail)}`,
    );
  });
  return lines.join('\n');
}
