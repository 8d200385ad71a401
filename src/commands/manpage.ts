// The man page's markdown, from its prose source (man/oomtop.md) and the command and key
// tables: every command, option and dashboard key is listed from the tables the CLI and the
// dashboard are built from, so oomtop(1) cannot drift from them. The build renders it to
// roff with marked-man (scripts/gen-docs.mjs).
import { BINDINGS } from '../tui/keys.js';
import { COMMANDS, DASHBOARD, GROUPS, ROOT_OPTIONS, type OptionSpec } from './table.js';

/** Markdown's inline specials in prose taken from the tables. */
const md = (s: string) => s.replace(/[\\`*_<>[\]#|]/g, '\\$&');

function optionList(opts: readonly OptionSpec[]): string {
  return opts
    .filter((o) => !o.hidden)
    .map((o) => {
      const extra = [
        o.default !== undefined ? `default ${md(o.default)}` : '',
        o.repeatable ? 'may be given more than once' : '',
        o.required ? 'required' : '',
      ].filter(Boolean);
      return `* \`${o.flags}\`:\n  ${md(o.help)}${extra.length ? ` (${extra.join('; ')})` : ''}.`;
    })
    .join('\n');
}

function commandSections(): string {
  const out: string[] = [];
  for (const c of COMMANDS) {
    const group = GROUPS.find((g) => g.path.join(' ') === c.path.slice(0, -1).join(' '));
    const title = `### oomtop ${c.path.join(' ')}${c.args ? ` ${c.args}` : ''}`;
    const own = optionList(c.options);
    out.push(
      `${title}\n\n${md(c.summary)}${group ? ` (${md(group.summary)})` : ''}.\n${own ? `\n${own}\n` : ''}${
        c.argValues ? `\n*${md(c.args ?? '')}* is one of: ${c.argValues.map((v) => `\`${v}\``).join(', ')}.\n` : ''
      }`,
    );
  }
  return out.join('\n');
}

function keyList(): string {
  return BINDINGS.map(
    (b) => `* \`${b.label}\`:\n  ${md(b.help)}${b.writes ? ' (writes; not in --read-only)' : ''}.`,
  ).join('\n');
}

/** The man page's markdown: SOURCE with {{GLOBAL_OPTIONS}}, {{DASHBOARD_OPTIONS}}, {{COMMANDS}} and {{KEYS}} filled in. */
export function manMarkdown(source: string): string {
  const parts: Record<string, string> = {
    GLOBAL_OPTIONS: optionList(ROOT_OPTIONS),
    DASHBOARD_OPTIONS: optionList(DASHBOARD.options),
    COMMANDS: commandSections(),
    KEYS: keyList(),
  };
  return source.replace(/\{\{(\w+)\}\}/g, (all, name: string) => {
    const v = parts[name];
    if (v === undefined) throw new Error(`man/oomtop.md: unknown placeholder ${all}`);
    return v;
  });
}
