// Protection policies: an ordered list of rules in YAML; the first rule that matches a
// process decides its oom_score_adj. Parsing reports every error with its line, and a
// policy with any error applies nothing.
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

export function parsePolicy(
  text: string,
  file: string,
): { policy: Policy; errors: [] } | { policy: null; errors: PolicyError[] } {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, uniqueKeys: true, prettyErrors: false });
  const errors: PolicyError[] = [];
  const lineOf = (node: Node | Pair | null | undefined): number => {
    const n = (node && 'range' in node ? node : (node as Pair | undefined)?.key) as Node | undefined;
    const offset = n?.range?.[0];
    return offset === undefined ? 1 : lc.linePos(offset).line;
  };
  const err = (line: number, message: string) => errors.push({ file, line, message });
  for (const e of doc.errors)
    err(e.linePos?.[0].line ?? lc.linePos(e.pos[0]).line, `YAML: ${e.message.split('\n')[0]}`);
  if (errors.length) return { policy: null, errors };

  const root = doc.contents;
  if (!isMap(root)) {
    err(lineOf(root as Node), 'expected a mapping with a "rules:" list at the top');
    return { policy: null, errors };
  }
  let rulesNode: Node | null = null;
  for (const pair of root.items) {
    const k = isScalar(pair.key) ? String(pair.key.value) : '?';
    if (k === 'rules') rulesNode = pair.value as Node;
    else if (k !== 'version') err(lineOf(pair.key as Node), `unknown top-level key '${k}' (expected rules, version)`);
  }
  if (!isSeq(rulesNode)) {
    err(rulesNode ? lineOf(rulesNode) : 1, 'expected "rules:" to be a list of rules');
    return { policy: null, errors };
  }
  const rules: PolicyRule[] = [];
  const seen = new Map<string, number>();
  for (const item of rulesNode.items) {
    const line = lineOf(item as Node);
    if (!isMap(item)) {
      err(line, 'expected a rule (a mapping with a matcher and adj or protect)');
      continue;
    }
    const rule: Partial<PolicyRule> & { line: number } = { line };
    let adj: number | undefined;
    let protect: boolean | undefined;
    let setsSomething = false;
    let ok = true;
    for (const pair of item.items) {
      const k = isScalar(pair.key) ? String(pair.key.value) : '?';
      const kl = lineOf(pair.key as Node);
      const v = isScalar(pair.value) ? pair.value.value : undefined;
      if (!(KEYS as readonly string[]).includes(k)) {
        err(kl, `unknown key '${k}' (expected ${KEYS.join(', ')})`);
        ok = false;
        continue;
      }
      if (k === 'adj' || k === 'protect') setsSomething = true;
      if (k === 'adj') {
        if (typeof v !== 'number' || !Number.isInteger(v) || v < OOM_SCORE_ADJ_MIN || v > OOM_SCORE_ADJ_MAX) {
          err(kl, `adj must be an integer from -1000 to 1000, got ${JSON.stringify(v ?? null)}`);
          ok = false;
        } else adj = v;
      } else if (k === 'protect') {
        if (typeof v !== 'boolean') {
          err(kl, `protect must be true or false, got ${JSON.stringify(v ?? null)}`);
          ok = false;
        } else protect = v;
      } else if (typeof v !== 'string' && typeof v !== 'number') {
        err(kl, `${k} must be a string`);
        ok = false;
      } else {
        const s = String(v);
        if (k === 'cmdline') {
          try {
            rule.cmdline = compilePattern(s);
          } catch (e) {
            err(kl, `cmdline '${s}' is not a valid regular expression: ${(e as Error).message}`);
            ok = false;
          }
        } else if (k === 'name') {
          if (s.length > 15) {
            err(kl, `name '${s}' is longer than a comm can be (15 characters): use cmdline to match longer names`);
            ok = false;
          }
          rule.name = s;
        } else if (k === 'cgroup') {
          if (!s.startsWith('/')) {
            err(kl, `cgroup '${s}' must be a path starting with /`);
            ok = false;
          }
          rule.cgroup = s;
        } else if (k === 'user') rule.user = s;
        else if (k === 'unit') rule.unit = s;
        else if (k === 'comment') rule.comment = s;
      }
    }
    if (!MATCHERS.some((m) => rule[m] !== undefined) && ok) {
      err(line, `rule matches nothing: give at least one of ${MATCHERS.join(', ')}`);
      ok = false;
    }
    if (!setsSomething && ok) {
      err(line, 'rule sets nothing: give adj (-1000..1000) or protect: true');
      ok = false;
    }
    if (adj !== undefined && protect) {
      err(line, 'give either adj or protect: true, not both');
      ok = false;
    }
    if (!ok) continue;
    const sig = JSON.stringify(MATCHERS.map((m) => (m === 'cmdline' ? rule.cmdline?.source : rule[m]) ?? null));
    const dup = seen.get(sig);
    if (dup !== undefined) {
      err(line, `duplicate rule: it matches exactly what the rule at line ${dup} matches`);
      continue;
    }
    seen.set(sig, line);
    const selector: Selector = {
      name: rule.name === undefined ? undefined : exactly(rule.name),
      cmdline: rule.cmdline,
      user: rule.user,
      cgroup: rule.cgroup,
      unit: rule.unit,
    };
    rules.push({
      ...rule,
      adj: protect ? OOM_SCORE_ADJ_MIN : (adj as number),
      protect: protect ?? false,
      selector,
    } as PolicyRule);
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

/** systemd drop-ins for rules that name a unit: protection that survives restarts. */
export function systemdDropIns(policy: Policy): string {
  const blocks = policy.rules
    .filter((r) => r.unit)
    .map(
      (r) =>
        `# /etc/systemd/system/${r.unit}.d/oomtop.conf  (policy ${policy.file} line ${r.line})\n[Service]\nOOMScoreAdjust=${r.adj}\n`,
    );
  if (!blocks.length) return '# no rule of this policy names a unit: nothing to export\n';
  return `${blocks.join('\n')}\n# then: systemctl daemon-reload, and restart each unit for the value to take effect\n`;
}
