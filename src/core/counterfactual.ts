// For each kill, the smallest change that would have spared the victim, in the killer's own
// terms: an oom_score_adj for the kernel (from the event's tasks table), ManagedOOMPreference
// for systemd-oomd, a badness rule for nohang, --avoid or adj −1000 for earlyoom, QoS for the
// kubelet; offered as an oomtop policy rule where one does it.
import { stringify } from 'yaml';
import { printable } from './format.js';
import type { KillerName } from './killers/types.js';
import type { TimelineEntry } from './timeline.js';

export interface Spare {
  killer: KillerName;
  /** The change in words. */
  change: string;
  /** An oomtop policy rule (YAML, one list item) that makes the change, when one does. */
  rule: string | null;
}

/** A policy rule for the victim: by its unit when it is a service, else by its exact name. */
function policyRule(
  v: { unit: string | null; comm: string | null },
  set: { adj: number } | { protect: true },
  comment: string,
): string | null {
  const match = v.unit?.endsWith('.service') ? { unit: v.unit } : v.comm !== null ? { name: v.comm } : null;
  if (!match) return null;
  return stringify([{ ...match, ...set, comment }], { lineWidth: 0 }).trimEnd();
}

const quoteRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function kernelSpare(e: TimelineEntry): Spare | null {
  const s = e.kernel?.spare;
  const v = e.victims.find((x) => x.pid === s?.pid) ?? e.victims[0];
  if (!s || !v) return null;
  const instead = s.instead ? `; ${printable(s.instead.comm)} ${s.instead.pid} would have been chosen instead` : '';
  const when = e.wall ?? (e.uptime !== null ? `${e.uptime.toFixed(0)} s after boot` : 'this kill');
  // a rule by name would move the one chosen instead as well: a cmdline rule must tell them apart
  const sameName = !v.unit?.endsWith('.service') && s.instead !== null && s.instead.comm === v.comm;
  if (sameName)
    return {
      killer: 'kernel',
      change: `oom_score_adj ${s.adj} or lower (it was ${s.adjNow})${instead}; that one has the same name, so a rule must match this one by --cmdline`,
      rule: null,
    };
  if (s.adj === -1000)
    return {
      killer: 'kernel',
      change: `only oom_score_adj -1000 (never kill) spares it (it was ${s.adjNow})${instead || ': nothing else in its domain could be killed'}`,
      rule: policyRule(v, { protect: true }, `spares it from the kernel's kill of ${when}`),
    };
  return {
    killer: 'kernel',
    change: `oom_score_adj ${s.adj} or lower (it was ${s.adjNow})${instead}`,
    rule: policyRule(v, { adj: s.adj }, `spares it from the kernel's kill of ${when}`),
  };
}

/** What would have spared the victim of one kill, or null when the log cannot tell. */
export function spareOf(e: TimelineEntry): Spare | null {
  const v = e.victims[0];
  const u = e.user;
  if (e.killer === 'kernel') return kernelSpare(e);
  if (!v || !u) return null;
  const name = v.comm === null ? null : printable(v.comm);
  switch (e.killer) {
    case 'systemd-oomd':
      return v.unit === null
        ? null
        : {
            killer: e.killer,
            change: `ManagedOOMPreference=omit on ${printable(v.unit)} (a root-owned cgroup; 'oomtop policy export-systemd' writes it for a protect rule)`,
            rule: policyRule(
              { unit: v.unit, comm: null },
              { protect: true },
              'systemd-oomd: ManagedOOMPreference=omit',
            ),
          };
    case 'earlyoom':
      return name === null
        ? null
        : {
            killer: e.killer,
            change: `oom_score_adj -1000 (earlyoom never kills it), or --avoid '^(${quoteRe(name)})$' in EARLYOOM_ARGS (its badness minus 300)`,
            rule: policyRule(v, { protect: true }, 'earlyoom skips oom_score_adj -1000'),
          };
    case 'nohang': {
      const badness = /badness (-?\d+)/.exec(u.reason ?? '')?.[1];
      return name === null
        ? null
        : {
            killer: e.killer,
            change: `in nohang.conf: @BADNESS_ADJ_RE_NAME -${badness ?? 'N'} /// ^${quoteRe(name)}$ (badness 0 is never killed), or oom_score_adj -1000`,
            rule: policyRule(v, { protect: true }, 'nohang never kills badness 0 (oom_score 0)'),
          };
    }
    case 'kubelet':
      return {
        killer: e.killer,
        change: `give ${v.pod === null ? 'the pod' : `pod ${printable(v.pod)}`} Guaranteed QoS (memory requests equal to limits) or a higher priorityClass: the kubelet ignores oom_score_adj`,
        rule: null,
      };
  }
}
