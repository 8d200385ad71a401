// Shell completion for bash, zsh and fish, generated from the command table (table.ts): the
// commands, subcommands, options and the values an option takes cannot drift from the CLI.
// `oomtop completion <shell>` prints a script; the build writes them to completions/ for the
// package (scripts/gen-docs.mjs). File and folder arguments (<file>, <dir>) complete paths.
import { UserError } from '../core/errors.js';
import type { CommandIo } from './context.js';
import { COMMANDS, DASHBOARD, GROUPS, ROOT_OPTIONS, type OptionSpec } from './table.js';

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

interface Flag {
  short?: string;
  long: string;
  /** The value's placeholder ('format', 'file'), or undefined for a switch. */
  arg?: string;
  help: string;
  values?: readonly string[];
  repeatable: boolean;
}

/** A node of the command tree: '' is oomtop itself, 'baseline' a group, 'baseline save' a command. */
interface Node {
  path: string[];
  summary: string;
  children: Node[];
  flags: Flag[];
  /** The positional argument's values, if it takes one of a few. */
  argValues: readonly string[];
}

export function parseFlags(o: OptionSpec): Flag {
  const m = /^(?:-(\w), )?--([\w-]+)(?: [<[]([^>\]]+)[>\]])?$/.exec(o.flags);
  if (!m) throw new Error(`option flags not understood: ${o.flags}`);
  return {
    ...(m[1] ? { short: m[1] } : {}),
    long: m[2] as string,
    ...(m[3] ? { arg: m[3] } : {}),
    help: o.help,
    repeatable: o.repeatable === true,
    ...(o.values ? { values: o.values } : {}),
  };
}

const visible = (opts: readonly OptionSpec[]) => opts.filter((o) => !o.hidden).map(parseFlags);

/** The command tree, as the CLI builds it. */
export function commandTree(): Node {
  const root: Node = {
    path: [],
    summary: DASHBOARD.summary,
    children: [],
    flags: visible([...ROOT_OPTIONS, ...DASHBOARD.options]),
    argValues: [],
  };
  const byPath = new Map<string, Node>([['', root]]);
  const node = (path: string[]): Node => {
    const key = path.join(' ');
    let n = byPath.get(key);
    if (!n) {
      const summary = GROUPS.find((g) => g.path.join(' ') === key)?.summary ?? '';
      n = { path, summary, children: [], flags: [], argValues: [] };
      node(path.slice(0, -1)).children.push(n);
      byPath.set(key, n);
    }
    return n;
  };
  for (const c of COMMANDS) {
    const n = node(c.path);
    n.summary = c.summary;
    n.flags = visible([...c.options, ...ROOT_OPTIONS]);
    n.argValues = c.argValues ?? [];
  }
  return root;
}

function walk(n: Node, f: (n: Node) => void): void {
  f(n);
  for (const c of n.children) walk(c, f);
}

/** Flags that take a value, over every command: the word after one is its value, not a command. */
function valueFlags(tree: Node): string[] {
  const takes = new Map<string, boolean>();
  walk(tree, (n) => {
    for (const f of n.flags)
      for (const name of names(f)) {
        if (takes.get(name) === !f.arg) throw new Error(`${name} takes a value in one command and not in another`);
        takes.set(name, Boolean(f.arg));
      }
  });
  return [...takes].filter(([, v]) => v).map(([k]) => k);
}

const names = (f: Flag): string[] => [...(f.short ? [`-${f.short}`] : []), `--${f.long}`];
const isFile = (f: Flag) => f.arg === 'file';
const isDir = (f: Flag) => f.arg === 'dir';
/** Single-quoted for sh (bash, zsh): no expansion of anything inside. */
const sq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** The bash case arm that completes FLAG's value (none: nothing to offer). */
function bashValue(patterns: string, f: Flag): string | null {
  if (f.values) return `    ${patterns}) COMPREPLY=($(compgen -W ${sq(f.values.join(' '))} -- "$cur")); return ;;`;
  if (isFile(f)) return `    ${patterns}) compopt -o filenames; COMPREPLY=($(compgen -f -- "$cur")); return ;;`;
  if (isDir(f)) return `    ${patterns}) compopt -o filenames; COMPREPLY=($(compgen -d -- "$cur")); return ;;`;
  return f.arg ? `    ${patterns}) return ;;` : null;
}

export function bashCompletion(tree = commandTree()): string {
  const rootFlags = visible(ROOT_OPTIONS);
  const global = new Set(rootFlags.map((f) => f.long));
  const cases: string[] = [];
  const values: string[] = [];
  walk(tree, (n) => {
    const key = n.path.join(' ');
    const words = [...n.children.map((c) => c.path.at(-1) as string), ...n.argValues];
    cases.push(`    ${sq(key)}) words=${sq(words.join(' '))}; opts=${sq(n.flags.flatMap(names).join(' '))} ;;`);
    for (const f of n.flags) {
      if (global.has(f.long)) continue;
      const arm = bashValue(
        names(f)
          .map((x) => sq(`${key}:${x}`))
          .join('|'),
        f,
      );
      if (arm) values.push(arm);
    }
  });
  // the root options, before or after any command
  for (const f of rootFlags) {
    const arm = bashValue(
      names(f)
        .map((x) => `*:${sq(x)}`)
        .join('|'),
      f,
    );
    if (arm) values.push(arm);
  }
  return `# bash completion for oomtop(1), generated from its command table: do not edit.
# Load it with: source <(oomtop completion bash), or install it as
# /usr/share/bash-completion/completions/oomtop.
_oomtop() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}"
  local path="" w i skip=0 words opts
  COMPREPLY=()
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    if ((skip)); then skip=0; continue; fi
    case "$w" in
      ${valueFlags(tree).map(sq).join('|')}) skip=1 ;;
      -*) ;;
      *) path="\${path:+$path }$w" ;;
    esac
  done
  if ((COMP_CWORD > 1)) && ((skip)); then
    case "$path:$prev" in
${values.join('\n')}
    esac
  fi
  case "$path" in
${cases.join('\n')}
    *) return ;;
  esac
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "$opts" -- "$cur"))
  else
    COMPREPLY=($(compgen -W "$words" -- "$cur"))
  fi
}
complete -F _oomtop oomtop
`;
}

/** zsh: inside an _arguments description ([...]) and message, these are special. */
const zdesc = (s: string) => s.replace(/[\\[\]]/g, '\\$&').replace(/:/g, '\\:');

function zshSpec(f: Flag): string {
  const action = f.values ? `(${f.values.join(' ')})` : isFile(f) ? '_files' : isDir(f) ? '_files -/' : ' ';
  const value = f.arg ? `:${zdesc(f.arg)}:${action}` : '';
  const body = `[${zdesc(f.help)}]${value}`;
  const many = f.repeatable ? '*' : '';
  if (!f.short) return sq(`${many}--${f.long}${body}`);
  const exclusive = f.repeatable ? '' : sq(`(-${f.short} --${f.long})`);
  return `${exclusive}${many ? `'*'` : ''}{-${f.short},--${f.long}}${sq(body)}`;
}

const zname = (n: Node) => ['_oomtop', ...n.path].join('_').replace(/-/g, '_');

function zshFunction(n: Node): string {
  const specs = n.flags.map(zshSpec);
  if (n.argValues.length) specs.push(sq(`1:argument:(${n.argValues.join(' ')})`));
  if (!n.children.length) return `${zname(n)}() {\n  _arguments -s -S \\\n    ${specs.join(' \\\n    ')}\n}\n`;
  const items = n.children.map((c) => `    ${sq(`${(c.path.at(-1) as string).replace(/:/g, '\\:')}:${c.summary}`)}`);
  const calls = n.children.map((c) => `        ${sq(c.path.at(-1) as string)}) ${zname(c)} ;;`);
  return `${zname(n)}() {
  local curcontext="$curcontext" state line
  typeset -A opt_args
  _arguments -s -S -C \\
    ${[...specs, "'1: :->command'", "'*:: :->args'"].join(' \\\n    ')} && return
  case $state in
    command)
      local -a commands
      commands=(
${items.join('\n')}
      )
      _describe -t commands ${sq(`oomtop ${n.path.join(' ')} command`.replace(/ +/g, ' '))} commands ;;
    args)
      case $line[1] in
${calls.join('\n')}
      esac ;;
  esac
}
`;
}

export function zshCompletion(tree = commandTree()): string {
  const fns: string[] = [];
  walk(tree, (n) => fns.push(zshFunction(n)));
  return `#compdef oomtop
# zsh completion for oomtop(1), generated from its command table: do not edit.
# Install it as _oomtop in a folder of $fpath, or load it with: source <(oomtop completion zsh)
${fns.join('\n')}
if [ "$funcstack[1]" = "_oomtop" ]; then
  _oomtop "$@"
else
  compdef _oomtop oomtop
fi
`;
}

/** fish: single-quoted, with backslash and quote escaped. */
const fq = (s: string) => `'${s.replace(/[\\']/g, '\\$&')}'`;

function fishFlag(f: Flag, condition: string | null): string {
  const parts = ['complete -c oomtop'];
  if (condition) parts.push(`-n ${fq(condition)}`);
  if (f.short) parts.push(`-s ${f.short}`);
  parts.push(`-l ${f.long}`);
  if (f.values) parts.push(`-x -a ${fq(f.values.join(' '))}`);
  else if (isFile(f)) parts.push('-r -F');
  else if (isDir(f)) parts.push(`-x -a ${fq('(__fish_complete_directories)')}`);
  else if (f.arg) parts.push('-x');
  parts.push(`-d ${fq(f.help)}`);
  return parts.join(' ');
}

export function fishCompletion(tree = commandTree()): string {
  const global = new Set(visible(ROOT_OPTIONS).map((f) => f.long));
  const lines = ['complete -c oomtop -f', ...visible(ROOT_OPTIONS).map((f) => fishFlag(f, null))];
  walk(tree, (n) => {
    const here = `__oomtop_at ${fq(n.path.join(' '))}`;
    for (const f of n.flags) if (!global.has(f.long)) lines.push(fishFlag(f, here));
    if (n.argValues.length) lines.push(`complete -c oomtop -n ${fq(here)} -a ${fq(n.argValues.join(' '))}`);
    for (const c of n.children)
      lines.push(`complete -c oomtop -n ${fq(here)} -a ${fq(c.path.at(-1) as string)} -d ${fq(c.summary)}`);
  });
  return `# fish completion for oomtop(1), generated from its command table: do not edit.
# Install it as ~/.config/fish/completions/oomtop.fish (or load: oomtop completion fish | source)

# The command words typed so far (the values of options that take one skipped).
function __oomtop_path
    set -l tokens (commandline -opc)
    set -e tokens[1]
    set -l path
    set -l skip 0
    for t in $tokens
        if test $skip = 1
            set skip 0
            continue
        end
        switch $t
            case ${valueFlags(tree).join(' ')}
                set skip 1
            case '-*'
            case '*'
                set -a path $t
        end
    end
    string join ' ' -- $path
end

function __oomtop_at
    set -l p (__oomtop_path)
    test "$p" = "$argv[1]"
end

${lines.join('\n')}
`;
}

export function completionScript(shell: string): string {
  if (shell === 'bash') return bashCompletion();
  if (shell === 'zsh') return zshCompletion();
  if (shell === 'fish') return fishCompletion();
  throw new UserError(`unknown shell '${shell}': use one of ${SHELLS.join(', ')}`);
}

export function runCompletion(io: CommandIo, shell: string): number {
  io.out(completionScript(shell));
  return 0;
}
