// Choosing processes by name, command line, user, cgroup or systemd unit: the one matcher
// behind the CLI selectors, policy rules and the baseline's critical rules.
import { UserError, messageOf } from './errors.js';
import { compilePattern, type Pattern } from './pattern.js';
import type { SnapshotProcess } from './snapshot.js';

export interface Selector {
  name?: Pattern | RegExp;
  cmdline?: Pattern | RegExp;
  /** User name or uid. */
  user?: string;
  /** cgroup path (its subtree) or glob. */
  cgroup?: string;
  /** systemd unit, exactly. */
  unit?: string;
}

/** The source of a regular expression matching exactly `text` ("^nginx: master$", escaped). */
export function exactSource(text: string): string {
  return `^${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`;
}

/** A regular expression matching exactly `text` (policy and baseline names are exact comms). */
export function exactly(text: string): RegExp {
  return new RegExp(exactSource(text));
}

/** A user's regular expression (core/pattern.ts: RE2, linear time). */
export function compileRegex(source: string, what: string): Pattern {
  try {
    return compilePattern(source);
  } catch (e) {
    throw new UserError(`${what} '${source}' is not a valid regular expression: ${messageOf(e)}`);
  }
}

/** A glob over cgroup paths: `*` within one path component, `**` across components. */
export function globToRegex(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === '*' && glob[i + 1] === '*') {
      re += '.*';
      i++;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** A cgroup selector matches the path itself and everything below it, or a glob. */
export function cgroupMatches(pattern: string, path: string | null): boolean {
  if (path === null) return false;
  if (/[*?]/.test(pattern)) return globToRegex(pattern).test(path);
  const p = pattern.replace(/\/+$/, '') || '/';
  return p === '/' || path === p || path.startsWith(`${p}/`);
}

export function matches(sel: Selector, p: SnapshotProcess): boolean {
  if (sel.name && !sel.name.test(p.comm)) return false;
  if (sel.cmdline && !sel.cmdline.test(p.cmdline ?? '')) return false;
  if (sel.user !== undefined && p.user !== sel.user && String(p.uid) !== sel.user) return false;
  if (sel.cgroup !== undefined && !cgroupMatches(sel.cgroup, p.cgroup)) return false;
  if (sel.unit !== undefined && p.unit !== sel.unit) return false;
  return true;
}

/** A process that can hold memory and take an adj: not a kernel thread, not a zombie or exiting task. */
export function hasOwnMemory(p: SnapshotProcess): boolean {
  return p.unkillableReason !== 'kernel thread' && p.unkillableReason !== 'no mm (zombie or exiting)';
}

export function isEmptySelector(sel: Selector): boolean {
  return !sel.name && !sel.cmdline && sel.user === undefined && sel.cgroup === undefined && sel.unit === undefined;
}
