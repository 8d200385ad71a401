// Protection policies: an ordered list of rules in YAML; the first rule that matches a
// process decides its oom_score_adj. Parsing reports every error with its line, and a
// policy with any error applies nothing.
import { messageOf } from './errors.js';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node, type Pair } from 'yaml';
import { OOM_SCORE_ADJ_MAX, OOM_SCORE_ADJ_MIN } from './badness.js';
import { compilePattern, type Pattern } from './pattern.js';
import { exactly, hasOwnMemory, matches, type Selector } from './select.js';
import type { SnapshotProcess } from './snapshot.js';

export interface PolicyRule {
  /** 1-based line of the rule in the file. */
  line: number;
  /** Exact comm (as in /proc/PID/comm, at most 15 characters). */
  name?: string;
  cmdline?: Pattern;
  user?: string;
  /** cgroup path, its subtree, or a glob (* within a component, ** across). */
  cgroup?: string;
  /** systemd unit, e.g. nginx.service. */
  unit?: string;
  adj: number;
  protect: boolean;
  comment?: string;
  /** The matchers above, as the shared process selector. */
  selector: Selector;
}

export interface Policy {
  file: string;
  rules: PolicyRule[];
}

export interface PolicyError {
  file: string;
  line: number;
  message: string;
}

const KEYS = ['name', 'cmdline', 'user', 'cgroup', 'unit', 'adj', 'protect', 'comment'] as const;
const MATCHERS = ['name', 'cmdline', 'user', 'cgroup', 'unit'] as const;

export function formatPolicyErrors(errors: readonly PolicyError[]): string {
  return errors.map((e) => `${e.file}:${e.line}: ${e.message}`).join('\n');
}

/** A rule being read: what its keys gave so far. */
type Draft = Partial<Omit<PolicyRule, 'selector'>> & { line: number };
type Key = (typeof KEYS)[number];
type Scalar = unknown;

const asText = (k: Key, v: Scalar): string | { error: string } =>
  typeof v === 'string' || typeof v === 'number' ? String(v) : { error: `${k} must be a string` };

/** How each key is read into a rule: an error message, or null when the value is good. */
const FIELDS: Record<Key, (d: Draft, v: Scalar) => string | null> = {
  adj(d, v) {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < OOM_SCORE_ADJ_MIN || v > OOM_SCORE_ADJ_MAX)
      return `adj must be an integer from -1000 to 1000, got ${JSON.stringify(v ?? null)}`;
    d.adj = v;
    return null;
  },
  protect(d, v) {
    if (typeof v !== 'boolean') return `protect must be true or false, got ${JSON.stringify(v ?? null)}`;
    d.protect = v;
    return null;
  },
  cmdline(d, v) {
    const s = asText('cmdline', v);
    if (typeof s !== 'string') return s.error;
    try {
      d.cmdline = compilePattern(s);
      return null;
    } catch (e) {
      return `cmdline '${s}' is not a valid regular expression: ${messageOf(e)}`;
    }
  },
  name(d, v) {
    const s = asText('name', v);
    if (typeof s !== 'string') return s.error;
    d.name = s;
    return s.length > 15
      ? `name '${s}' is longer than a comm can be (15 characters): use cmdline to match longer names`
      : null;
  },
  cgroup(d, v) {
    const s = asText('cgroup', v);
    if (typeof s !== 'string') return s.error;
    d.cgroup = s;
    return s.startsWith('/') ? null : `cgroup '${s}' must be a path starting with /`;
  },
  user: (d, v) => text(d, 'user', v),
  unit: (d, v) => text(d, 'unit', v),
  comment: (d, v) => text(d, 'comment', v),
};

function text(d: Draft, k: 'user' | 'unit' | 'comment', v: Scalar): string | null {
  const s = asText(k, v);
  if (typeof s !== 'string') return s.error;
  d[k] = s;
  return null;
}

/** What is wrong with a rule as a whole (every key read well), or null. */
function ruleProblem(d: Draft): string | null {
  if (!MATCHERS.some((m) => d[m] !== undefined))
    return `rule matches nothing: give at least one of ${MATCHERS.join(', ')}`;
  if (d.adj === undefined && d.protect === undefined)
    return 'rule sets nothing: give adj (-1000..1000) or protect: true';
  if (d.adj !== undefined && d.protect) return 'give either adj or protect: true, not both';
  if (d.adj === undefined && !d.protect) return 'protect: false sets nothing: give adj, or remove the rule';
  return null;
}

function toRule(d: Draft): PolicyRule {
  const selector: Selector = {
    name: d.name === undefined ? undefined : exactly(d.name),
    cmdline: d.cmdline,
    user: d.user,
    cgroup: d.cgroup,
    unit: d.unit,
  };
  const { adj, protect, ...matchers } = d;
  return { ...matchers, adj: protect ? OOM_SCORE_ADJ_MIN : (adj ?? 0), protect: protect ?? false, selector };
}

/** Where the YAML nodes are, for the errors. */
class Lines {
  readonly counter = new LineCounter();
  of(node: Node | Pair | null | undefined): number {
    const n = (node && 'range' in node ? node : (node as Pair | undefined)?.key) as Node | undefined;
    const offset = n?.range?.[0];
    return offset === undefined ? 1 : this.counter.linePos(offset).line;
  }
  at(offset: number): number {
    return this.counter.linePos(offset).line;
  }
}

/** The "rules:" list of the document, or null with its error recorded. */
function rulesList(root: unknown, lines: Lines, err: (line: number, message: string) => void): Node | null {
  if (!isMap(root)) {
    err(lines.of(root as Node), 'expected a mapping with a "rules:" list at the top');
    return null;
  }
  let rulesNode: Node | null = null;
  for (const pair of root.items) {
    const k = isScalar(pair.key) ? String(pair.key.value) : '?';
    if (k === 'rules') rulesNode = pair.value as Node;
    else if (k !== 'version') err(lines.of(pair.key as Node), `unknown top-level key '${k}' (expected rules, version)`);
  }
  if (isSeq(rulesNode)) return rulesNode;
  err(rulesNode ? lines.of(rulesNode) : 1, 'expected "rules:" to be a list of rules');
  return null;
}

/** One rule's mapping read into a draft; null when any key was wrong (each error recorded). */
function readRule(item: unknown, lines: Lines, err: (line: number, message: string) => void): Draft | null {
  const line = lines.of(item as Node);
  if (!isMap(item)) {
    err(line, 'expected a rule (a mapping with a matcher and adj or protect)');
    return null;
  }
  const d: Draft = { line };
  let ok = true;
  for (const pair of item.items) {
    const k = isScalar(pair.key) ? String(pair.key.value) : '?';
    const kl = lines.of(pair.key as Node);
    if (!(KEYS as readonly string[]).includes(k)) {
      err(kl, `unknown key '${k}' (expected ${KEYS.join(', ')})`);
      ok = false;
      continue;
    }
    const problem = FIELDS[k as Key](d, isScalar(pair.value) ? pair.value.value : undefined);
    if (problem) {
      err(kl, problem);
      ok = false;
    }
  }
  const problem = ok ? ruleProblem(d) : null;
  if (problem) err(line, problem);
  return ok && !problem ? d : null;
}

export function parsePolicy(
  text: string,
  file: string,
): { policy: Policy; errors: [] } | { policy: null; errors: PolicyError[] } {
  const lines = new Lines();
  const doc = parseDocument(text, { lineCounter: lines.counter, uniqueKeys: true, prettyErrors: false });
  const errors: PolicyError[] = [];
  const err = (line: number, message: string) => errors.push({ file, line, message });
  for (const e of doc.errors) err(e.linePos?.[0].line ?? lines.at(e.pos[0]), `YAML: ${e.message.split('\n')[0]}`);
  if (errors.length) return { policy: null, errors };
  const list = rulesList(doc.contents, lines, err);
  if (!list || !isSeq(list)) return { policy: null, errors };
  const rules: PolicyRule[] = [];
  const seen = new Map<string, number>();
  for (const item of list.items) {
    const d = readRule(item, lines, err);
    if (!d) continue;
    const sig = JSON.stringify(MATCHERS.map((m) => (m === 'cmdline' ? d.cmdline?.source : d[m]) ?? null));
    const dup = seen.get(sig);
    if (dup !== undefined) err(d.line, `duplicate rule: it matches exactly what the rule at line ${dup} matches`);
    else {
      seen.set(sig, d.line);
      rules.push(toRule(d));
    }
  }
  if (errors.length) return { policy: null, errors };
  return { policy: { file, rules }, errors: [] };
}

export function describeRule(r: PolicyRule): string {
  const m = MATCHERS.filter((k) => r[k] !== undefined).map(
    (k) => `${k}=${k === 'cmdline' ? `/${r.cmdline?.source}/` : r[k]}`,
  );
  return `line ${r.line} (${m.join(' ')})`;
}

export interface PolicyDecision {
  proc: SnapshotProcess;
  rule: PolicyRule;
}

/** The first matching rule for every process the kernel could ever kill (not kernel threads). */
export function decide(policy: Policy, procs: readonly SnapshotProcess[]): PolicyDecision[] {
  const out: PolicyDecision[] = [];
  for (const p of procs) {
    if (!hasOwnMemory(p)) continue;
    const rule = policy.rules.find((r) => matches(r.selector, p));
    if (rule) out.push({ proc: p, rule });
  }
  return out;
}

/** The unit file section resource settings go in, by the unit's type. */
function sectionOf(unit: string): string {
  if (unit.endsWith('.slice')) return 'Slice';
  if (unit.endsWith('.scope')) return 'Scope';
  if (unit.endsWith('.socket')) return 'Socket';
  return 'Service';
}

/**
 * systemd drop-ins for rules that name a unit: protection that survives restarts. With
 * `oomd` (systemd-oomd is in use), a protect rule also gets ManagedOOMPreference=omit:
 * systemd-oomd ignores oom_score_adj, and honours omit on the unit's (root-owned) cgroup.
 */
export function systemdDropIns(policy: Policy, o: { oomd: boolean } = { oomd: false }): string {
  const blocks = policy.rules
    .filter((r) => r.unit)
    .map((r) => {
      const unit = r.unit as string;
      const section = sectionOf(unit);
      const adj = ['Service', 'Socket'].includes(section)
        ? `OOMScoreAdjust=${r.adj}\n`
        : `# OOMScoreAdjust= does not apply to a ${section.toLowerCase()}: set it on the services in it\n`;
      const omit = o.oomd && r.protect ? 'ManagedOOMPreference=omit\n' : '';
      return `# /etc/systemd/system/${unit}.d/oomtop.conf  (policy ${policy.file} line ${r.line})\n[${section}]\n${adj}${omit}`;
    });
  if (!blocks.length) return '# no rule of this policy names a unit: nothing to export\n';
  return `${blocks.join('\n')}\n# then: systemctl daemon-reload, and restart each unit for the value to take effect\n`;
}
