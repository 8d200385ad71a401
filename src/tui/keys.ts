// The one key table: every binding, its help line, and whether it writes (greyed out in
// read-only mode). The reducer maps a key to an action through it; `?` shows it.

export type Action =
  | 'up'
  | 'down'
  | 'pageUp'
  | 'pageDown'
  | 'home'
  | 'end'
  | 'filter'
  | 'sort'
  | 'sortReverse'
  | 'sortMemory'
  | 'sortCpu'
  | 'noSignal'
  | 'tree'
  | 'mark'
  | 'detail'
  | 'graph'
  | 'domain'
  | 'protect'
  | 'raise'
  | 'lower'
  | 'setAdj'
  | 'whatIf'
  | 'reset'
  | 'undo'
  | 'export'
  | 'events'
  | 'killers'
  | 'pause'
  | 'help'
  | 'quit';

export interface Binding {
  keys: string[];
  /** How the key is shown in help and the footer. */
  label: string;
  action: Action;
  help: string;
  /** Writes oom_score_adj: disabled in read-only mode. */
  writes?: boolean;
  /** Shown in the footer (short form). */
  footer?: string;
}

export const BINDINGS: readonly Binding[] = [
  { keys: ['up', 'k'], label: '↑ k', action: 'up', help: 'move up' },
  { keys: ['down', 'j'], label: '↓ j', action: 'down', help: 'move down' },
  { keys: ['pageup'], label: 'PgUp', action: 'pageUp', help: 'page up' },
  { keys: ['pagedown'], label: 'PgDn', action: 'pageDown', help: 'page down' },
  { keys: ['home', 'g'], label: 'Home g', action: 'home', help: 'first row (dies first)' },
  { keys: ['end', 'G'], label: 'End G', action: 'end', help: 'last row' },
  {
    // htop's search (F3, /) and filter (F4, \\) both filter here
    keys: ['/', '\\', 'f3', 'f4'],
    label: '/ \\ F3 F4',
    action: 'filter',
    help: 'filter: a regular expression (as --name) on name, user, unit, cgroup, command line',
    footer: 'filter',
  },
  {
    keys: ['s', 'f6'],
    label: 's F6',
    action: 'sort',
    help: 'cycle the sort column (kill order first)',
    footer: 'sort',
  },
  { keys: ['S', 'I'], label: 'S I', action: 'sortReverse', help: 'reverse the sort' },
  { keys: ['M'], label: 'M', action: 'sortMemory', help: 'sort by memory (RSS), largest first' },
  { keys: ['P'], label: 'P', action: 'sortCpu', help: 'sort by CPU%, busiest first' },
  { keys: ['t', 'f5'], label: 't F5', action: 'tree', help: 'tree view: parents and their children', footer: 'tree' },
  {
    keys: ['space'],
    label: 'space',
    action: 'mark',
    help: 'mark or unmark the row (actions apply to marked rows)',
    footer: 'mark',
  },
  { keys: ['enter', 'd'], label: 'Enter d', action: 'detail', help: 'show or hide the detail pane' },
  { keys: ['m'], label: 'm', action: 'graph', help: 'show or hide the memory graph (MemAvailable, PSI)' },
  {
    keys: ['D'],
    label: 'D',
    action: 'domain',
    help: 'choose the OOM domain: global or a memory cgroup',
    footer: 'domain',
  },
  {
    keys: ['p'],
    label: 'p',
    action: 'protect',
    help: 'protect: adj -1000 (or the lowest value you may set)',
    writes: true,
    footer: 'protect',
  },
  { keys: ['+', '=', 'f8'], label: '+ F8', action: 'raise', help: 'raise adj by 100 (dies sooner)', writes: true },
  {
    keys: ['-', 'f7'],
    label: '- F7',
    action: 'lower',
    help: 'lower adj by 100 (dies later)',
    writes: true,
    footer: 'adj',
  },
  { keys: ['a'], label: 'a', action: 'setAdj', help: 'type an exact adj value', writes: true, footer: 'set' },
  { keys: ['w'], label: 'w', action: 'whatIf', help: 'what if: type an adj value and see the new rank before writing' },
  { keys: ['r'], label: 'r', action: 'reset', help: 'reset adj to the value before oomtop changed it', writes: true },
  { keys: ['u'], label: 'u', action: 'undo', help: 'undo the last change oomtop made', writes: true, footer: 'undo' },
  {
    keys: ['e'],
    label: 'e',
    action: 'export',
    help: 'export a snapshot (json, csv, table, prometheus)',
    footer: 'export',
  },
  { keys: ['o'], label: 'o', action: 'events', help: 'recent OOM kills from the kernel log', footer: 'ooms' },
  {
    keys: ['K'],
    label: 'K',
    action: 'killers',
    help: 'the killer race: every killer here, its trigger, distance and victim',
  },
  { keys: ['z'], label: 'z', action: 'pause', help: 'pause or resume refreshing', footer: 'pause' },
  { keys: ['?', 'h', 'f1'], label: '? h F1', action: 'help', help: 'this help', footer: 'help' },
  {
    keys: ['f9'],
    label: 'F9',
    action: 'noSignal',
    help: "htop's kill: oomtop never sends a signal (p protects instead)",
  },
  {
    keys: ['q', 'f10', 'C-c'],
    label: 'q F10 C-c',
    action: 'quit',
    help: 'quit (the terminal is restored)',
    footer: 'quit',
  },
];

const BY_KEY = new Map<string, Binding>();
for (const b of BINDINGS) for (const k of b.keys) BY_KEY.set(k, b);

/** The binding for a key name as blessed reports it (key.full) or the typed character. */
export function bindingFor(name: string): Binding | undefined {
  return BY_KEY.get(name);
}

/** What a key does inside a prompt or a dialog (the modes), as the key table says. */
export type ModeAction =
  | 'keep'
  | 'clear'
  | 'erase'
  | 'submit'
  | 'cancel'
  | 'yes'
  | 'no'
  | 'json'
  | 'csv'
  | 'table'
  | 'prometheus'
  | 'prev'
  | 'next'
  | 'pick';

export interface ModeBinding {
  keys: string[];
  label: string;
  action: ModeAction;
  help: string;
}

/**
 * The keys of each mode: the filter, the adj prompt, the write dialog, the export choice and
 * the domain selector. Typed characters (filter text, adj digits) are not bindings; any key
 * not listed closes help and the recent-kills list.
 */
export const MODE_BINDINGS = {
  filter: [
    { keys: ['enter'], label: 'Enter', action: 'keep', help: 'keep the filter' },
    { keys: ['escape'], label: 'Esc', action: 'clear', help: 'clear the filter' },
    { keys: ['backspace'], label: '⌫', action: 'erase', help: 'erase a character' },
  ],
  input: [
    {
      keys: ['enter'],
      label: 'Enter',
      action: 'submit',
      help: 'set: ask to confirm; what if: show the rank (writes nothing)',
    },
    { keys: ['escape'], label: 'Esc', action: 'cancel', help: 'cancel' },
    { keys: ['backspace'], label: '⌫', action: 'erase', help: 'erase a digit' },
  ],
  confirm: [
    { keys: ['y', 'enter'], label: 'y Enter', action: 'yes', help: 'write' },
    { keys: ['n', 'escape', 'q'], label: 'n Esc', action: 'no', help: 'write nothing' },
  ],
  export: [
    { keys: ['j'], label: 'j', action: 'json', help: 'JSON' },
    { keys: ['c'], label: 'c', action: 'csv', help: 'CSV' },
    { keys: ['t'], label: 't', action: 'table', help: 'text table' },
    { keys: ['p'], label: 'p', action: 'prometheus', help: 'Prometheus text' },
    { keys: ['escape'], label: 'Esc', action: 'cancel', help: 'cancel' },
  ],
  domain: [
    { keys: ['up', 'k'], label: '↑ k', action: 'prev', help: 'previous domain' },
    { keys: ['down', 'j'], label: '↓ j', action: 'next', help: 'next domain' },
    { keys: ['enter'], label: 'Enter', action: 'pick', help: 'rank in this domain' },
    { keys: ['escape'], label: 'Esc', action: 'cancel', help: 'cancel' },
  ],
} satisfies Record<string, readonly ModeBinding[]>;

export type BoundMode = keyof typeof MODE_BINDINGS;

/** The action of a key in a mode, or undefined (a typed character, or a key the mode ignores). */
export function modeActionFor(mode: BoundMode, name: string): ModeAction | undefined {
  return (MODE_BINDINGS[mode] as readonly ModeBinding[]).find((b) => b.keys.includes(name))?.action;
}
