// The killer race as text: the table `oomtop killers` prints and the dashboard's K overlay
// shows. Everything from outside (argv, comm, cgroup paths, notes) goes through printable().
import type { MetricWriter } from '../export/prometheus.js';
import { fit, formatBytes, formatDuration, printable } from '../format.js';
import type { ProtectionReport } from './protection.js';
import type { KillersReport } from './race.js';
import type { KillerSimulation } from './sequence.js';
import type { Trigger, Victim } from './types.js';

/** "java 4021", or "cgroup /system.slice/x.service (3 processes, java 4021)". */
export function victimText(v: Victim | null): string {
  if (!v) return 'nobody now';
  const who = v.pid === null ? '' : `${printable(v.comm ?? '?')} ${v.pid}`;
  if (v.kind === 'process') return who;
  const what = v.kind === 'pod' ? `pod ${printable(v.pod ?? '?')}` : `cgroup ${printable(v.cgroup ?? '?')}`;
  return `${what} (${v.processes.length} process${v.processes.length === 1 ? '' : 'es'}${who ? `, ${who}` : ''})`;
}

/** "first to act: earlyoom at MemAvailable ≤ 2.4 GiB, now 14 GiB → java 4021; kernel → java 4021". */
export function raceLine(r: KillersReport): string {
  const first = r.killers.find((k) => k.name === r.firstToAct);
  const kernel = r.killers.find((k) => k.name === 'kernel');
  if (!first) return `first to act: none can act${kernel?.trigger?.never ? ` (${kernel.trigger.never})` : ''}`;
  const t = first.trigger as Trigger;
  const at = first.distance?.firing
    ? 'firing now'
    : t.psi
      ? `at pressure > ${t.psi.limitPercent}%`
      : `at MemAvailable ≤ ${formatBytes(t.memAvailableBytes)}, now ${formatBytes(r.memAvailableBytes)}` +
        (typeof first.distance?.seconds === 'number'
          ? ` (~${formatDuration(first.distance.seconds)} at the current fall)`
          : '');
  const head = `first to act: ${first.name} ${at} → ${victimText(first.victim)}`;
  return first.name === 'kernel' || !kernel ? head : `${head}; kernel → ${victimText(kernel.victim)}`;
}

function killerLines(r: KillersReport, width: number): string[] {
  const w = { name: 13, active: 7, dist: 26 };
  const rest = Math.max(20, width - w.name - w.active - w.dist - 3);
  const trig = Math.ceil(rest * 0.55);
  const vic = Math.max(10, rest - trig);
  // fit() escapes: triggers name units and config values, `detected` an argv.
  const row = (a: string, b: string, c: string, d: string, e: string) =>
    [fit(a, w.name), fit(b, w.active), fit(c, trig), fit(d, w.dist), fit(e, vic)].join(' ').trimEnd();
  const out = [row('KILLER', 'ACTIVE', 'TRIGGER', 'DISTANCE', 'VICTIM NOW')];
  for (const k of r.killers)
    out.push(
      row(
        k.name,
        k.active ? 'yes' : 'no',
        k.active ? (k.trigger?.text ?? '?') : k.detected,
        k.active ? (k.distance?.text ?? '') : '',
        k.active ? victimText(k.victim) : '',
      ),
    );
  return out;
}

function detailLines(r: KillersReport): string[] {
  const out: string[] = [];
  for (const k of r.killers) {
    const lines: string[] = [];
    if (k.active || k.notes.length || k.unreadable.length) lines.push(`${k.name}: ${printable(k.detected)}`);
    if (k.victim) lines.push(`  victim: ${victimText(k.victim)}: ${printable(k.victim.why)}`);
    if (k.victim && k.victim.processes.length > 1)
      lines.push(`  dies with it: ${k.victim.processes.map((p) => `${printable(p.comm)} ${p.pid}`).join(', ')}`);
    if (k.active && k.ignoresAdj) lines.push('  ignores oom_score_adj: −1000 does not protect from it');
    for (const n of k.notes) lines.push(`  note: ${printable(n)}`);
    for (const u of k.unreadable) lines.push(`  could not read: ${printable(u)}`);
    out.push(...lines);
  }
  return out;
}

function protectedLines(list: readonly ProtectionReport[]): string[] {
  if (!list.length) return ['no protected process (none has a negative oom_score_adj)'];
  const out: string[] = [];
  for (const p of list) {
    out.push(`${printable(p.comm)} ${p.pid} (adj ${p.adj}${p.unit ? `, ${printable(p.unit)}` : ''}):`);
    for (const v of p.killers) {
      out.push(`  ${v.safe ? 'safe from' : 'NOT safe from'} ${v.killer}: ${printable(v.why)}`);
      if (v.fix) out.push(`    fix: ${printable(v.fix)}`);
    }
  }
  return out;
}

export function renderKillers(r: KillersReport, width = 120, prot?: readonly ProtectionReport[]): string {
  const head = `MemAvailable ${formatBytes(r.memAvailableBytes)} · SwapFree ${formatBytes(r.swapFreeBytes)} · ${printable(raceLine(r))}`;
  const order = r.order.length ? `race, first to last: ${r.order.join(' → ')}` : 'race: no killer can act';
  const lines = [head, order, '', ...killerLines(r, width), '', ...detailLines(r)];
  if (prot) lines.push('', 'protected processes:', ...protectedLines(prot));
  return `${lines.join('\n')}\n`;
}

/** The race for Prometheus: per killer whether it is active, bytes to its trigger, its victim. */
export function killersToPrometheus(r: KillersReport, w: MetricWriter): void {
  const active = r.killers.filter((k) => k.active);
  w.metric(
    'oomtop_killer_active',
    'Whether this OOM killer runs and can act here (1) or not (0)',
    'gauge',
    r.killers.map((k) => [{ killer: k.name }, k.active ? 1 : 0]),
  );
  w.metric(
    'oomtop_killer_trigger_distance_bytes',
    'Bytes that can still be allocated before this killer fires (0 when firing)',
    'gauge',
    active
      .filter((k) => k.distance?.bytes != null || k.distance?.firing)
      .map((k) => [{ killer: k.name }, k.distance?.firing ? 0 : (k.distance?.bytes as number)]),
  );
  w.metric(
    'oomtop_killer_victim',
    'The process (or the largest of the cgroup or pod) this killer would take now',
    'gauge',
    active
      .filter((k) => k.victim?.pid != null)
      .map((k) => [
        {
          killer: k.name,
          pid: k.victim?.pid ?? null,
          comm: k.victim?.comm ?? null,
          cgroup: k.victim?.cgroup ?? null,
          pod: k.victim?.pod ?? null,
        },
        1,
      ]),
  );
  w.metric(
    'oomtop_killer_first_to_act',
    'The killer whose trigger fires first as memory falls',
    'gauge',
    r.firstToAct ? [[{ killer: r.firstToAct }, 1]] : [],
  );
}

/** `simulate --killer NAME` as a table: each step's victim by that killer's rule, what it frees, and why. */
export function renderKillerSimulation(sim: KillerSimulation, width: number): string {
  const lines = [
    `killer ${sim.killer}${sim.trigger ? `: ${printable(sim.trigger)}` : ''}`,
    ...sim.notes.map((n) => `note: ${printable(n)}`),
    '',
    `${fit('STEP', 4, 'right')} ${fit('FREED', 9, 'right')} ${fit('TOTAL', 9, 'right')}  VICTIM (WHY)`,
  ];
  const rest = Math.max(20, width - 27);
  for (const s of sim.sequence)
    lines.push(
      `${fit(String(s.step), 4, 'right')} ${fit(formatBytes(s.freedBytes), 9, 'right')} ${fit(formatBytes(s.cumulativeFreedBytes), 9, 'right')}  ` +
        fit(`${victimText(s.victim)} (${s.victim.why})`, rest).trimEnd(),
    );
  lines.push('', `end: ${sim.end}`);
  return `${lines.join('\n')}\n`;
}
