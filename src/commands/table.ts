// The one command table: every command's path, summary, arguments and options, and how it
// runs. cli.ts builds the argument parser from it; the README's command list, a man page and
// shell completions can be generated from it and checked against it. A command's module is
// loaded only when it runs (start-up is most of a one-shot command's cost, and snapshot must
// never load the TUI libraries). Every command is (ctx, args, opts) => Promise<exit code>
// and writes only through ctx.io. To add a command: one entry here, its module beside it.
import type { CommandContext } from './context.js';

export interface OptionSpec {
  /** commander's flags: '-f, --format <format>', '--yes', '--adj <pid=n>'. */
  flags: string;
  help: string;
  default?: string;
  /** May be given more than once: the values are collected in a list. */
  repeatable?: boolean;
  required?: boolean;
  hidden?: boolean;
  /** The values the option takes, when it takes one of a few: shell completion offers them
   * (the command checks them itself; test/commands/completion.test.ts keeps both in step). */
  values?: readonly string[];
}

export type Options = Record<string, unknown>;

export interface CommandSpec {
  /** ['snapshot'], or ['baseline', 'save'] for a subcommand. */
  path: string[];
  summary: string;
  /** Positional arguments in commander's form: '[pids...]'. */
  args?: string;
  /** The values the positional argument takes, when it takes one of a few (for completion). */
  argValues?: readonly string[];
  options: readonly OptionSpec[];
  /** Runs until stopped: SIGTERM and SIGINT abort ctx.signal instead of ending the process. */
  stoppable?: boolean;
  /** Reads the audit log or the kernel log, of any size: run with a small V8 heap. */
  streamsLogs?: boolean;
  run: (ctx: CommandContext, args: string[], opts: Options) => Promise<number>;
}

/** Commands that only group others (`oomtop baseline save`, `oomtop policy export-systemd`). */
export const GROUPS: ReadonlyArray<{ path: string[]; summary: string }> = [
  { path: ['baseline'], summary: 'the processes that must be running' },
  { path: ['policy'], summary: 'work with policy files' },
];

/** Options every command takes, before or after its name. */
export const ROOT_OPTIONS: readonly OptionSpec[] = [
  { flags: '--proc-root <dir>', help: 'proc filesystem to read', default: '/proc' },
  { flags: '--sys-root <dir>', help: 'cgroup filesystem root', default: '/sys/fs/cgroup' },
  {
    flags: '--etc-root <dir>',
    help: "configuration files' root (killers' settings; other host paths are read beside it); default /etc, or the etc beside --proc-root",
  },
  { flags: '--passwd <file>', help: 'passwd file for user names', hidden: true },
  { flags: '--kmsg <file>', help: 'the kernel log device (tests)', hidden: true },
  {
    flags: '--journal <file>',
    help: "a saved 'journalctl -o json' read for the user-space killers' kills instead of the journal (another machine's)",
  },
];

export const SELECT_HELP =
  'choose by --name REGEX (comm), --cmdline REGEX, --user NAME, --cgroup PATH (subtree or glob)';

const TABLE_OR_JSON: OptionSpec = { flags: '-f, --format <format>', help: 'table or json', values: ['table', 'json'] };
const KILLER_VALUES = ['kernel', 'systemd-oomd', 'earlyoom', 'nohang', 'kubelet'] as const;

const SELECTORS: readonly OptionSpec[] = [
  { flags: '--name <regex>', help: 'processes whose name (comm) matches' },
  { flags: '--cmdline <regex>', help: 'processes whose command line matches' },
  { flags: '--user <name>', help: 'processes of this user (name or uid)' },
  { flags: '--cgroup <path>', help: 'processes in this cgroup subtree (or a glob)' },
  { flags: '-y, --yes', help: 'change every match without asking' },
  { flags: '--dry-run', help: 'show old → new and the kill order before and after; write nothing' },
];

const LOG_OPTIONS: readonly OptionSpec[] = [
  {
    flags: '--source <source>',
    help: 'kmsg (/dev/kmsg), dmesg, journal (journalctl -k) or file; default: the first that works',
    values: ['kmsg', 'dmesg', 'journal', 'file'],
  },
  { flags: '--from <file>', help: 'a saved kernel log or syslog file' },
  {
    flags: '--since <time>',
    help: "only events since TIME: an ISO date or time (UTC unless it names a zone), today, yesterday, or 'N min ago'",
  },
];

/** Prints what a command that renders text returned; exit 0. */
const printed = (ctx: CommandContext, text: string): number => {
  ctx.io.out(text);
  return 0;
};
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const list = (v: unknown): string[] | undefined => (Array.isArray(v) ? (v as string[]) : undefined);

/** The dashboard: `oomtop` with no command. */
export const DASHBOARD: Omit<CommandSpec, 'path' | 'args'> = {
  summary: 'the live dashboard',
  options: [
    { flags: '-i, --interval <seconds>', help: 'dashboard refresh interval', default: '2' },
    { flags: '--read-only', help: 'dashboard without any write action' },
  ],
  run: async (ctx, _args, o) => {
    const { runDashboard } = await import('./dashboard.js');
    return runDashboard(
      ctx.roots,
      { interval: str(o.interval), readOnly: o.readOnly === true },
      ctx.io.stateDir,
      ctx.io.actor,
    );
  },
};

export const COMMANDS: readonly CommandSpec[] = [
  {
    path: ['snapshot'],
    summary: 'rank every process in kill order and export it',
    options: [
      {
        flags: '-f, --format <format>',
        help: 'json, csv, table or prometheus (default: table on a terminal, json when piped)',
        values: ['json', 'csv', 'table', 'prometheus'],
      },
      { flags: '-o, --output <file>', help: 'write to FILE atomically instead of standard output' },
      { flags: '-n, --limit <n>', help: 'only the first N processes (prometheus: the top N)' },
      { flags: '--cgroup <path>', help: 'rank inside this memory cgroup (path relative to the cgroup mount)' },
    ],
    run: async (ctx, _a, o) => {
      const { runSnapshot } = await import('./snapshot.js');
      return printed(
        ctx,
        runSnapshot(
          ctx.roots,
          {
            format: str(o.format),
            output: str(o.output),
            limit: str(o.limit),
            cgroup: str(o.cgroup),
            isTTY: ctx.terminal.isTTY,
            width: ctx.terminal.columns,
          },
          ctx.io.now().getTime(),
        ),
      );
    },
  },
  {
    path: ['domains'],
    summary: 'every OOM domain (global and each memory cgroup with a limit), tightest headroom first',
    options: [TABLE_OR_JSON],
    run: async (ctx, _a, o) => {
      const { runDomains } = await import('./domains.js');
      return printed(ctx, runDomains(ctx.roots, { format: str(o.format) }, ctx.io.now().getTime()));
    },
  },
  {
    path: ['simulate'],
    summary: 'the kill sequence of an OOM in a domain, step by step',
    options: [
      { flags: '--cgroup <path>', help: 'memory cgroup (relative to the cgroup mount); default the global domain' },
      { flags: '--free <size>', help: 'stop once at least SIZE is freed (200M, 1.5G, 512p pages)' },
      { flags: '--adj <pid=n>', help: 'what if PID had adj N (repeatable)', repeatable: true },
      {
        flags: '--killer <name>',
        help: 'the sequence by this killer’s own rule: kernel (default), systemd-oomd, earlyoom, nohang, kubelet',
        values: KILLER_VALUES,
      },
      TABLE_OR_JSON,
      { flags: '--pages', help: "memory in pages (the kernel's unit) instead of bytes" },
    ],
    run: async (ctx, _a, o) => {
      const { runSimulate } = await import('./domains.js');
      return printed(
        ctx,
        runSimulate(
          ctx.roots,
          {
            cgroup: str(o.cgroup),
            free: str(o.free),
            adj: list(o.adj),
            format: str(o.format),
            killer: str(o.killer),
            width: ctx.terminal.columns,
            pages: o.pages === true,
          },
          ctx.io.now().getTime(),
        ),
      );
    },
  },
  {
    path: ['killers'],
    summary:
      'every killer that may act here (kernel, systemd-oomd, earlyoom, nohang, kubelet): trigger, distance, victim, who acts first',
    options: [
      TABLE_OR_JSON,
      {
        flags: '--protected',
        help: 'for each protected process: which active killers it is safe from, and the fix for the others',
      },
    ],
    run: async (ctx, _a, o) => {
      const { runKillers } = await import('./killers.js');
      return printed(
        ctx,
        runKillers(
          ctx.roots,
          { format: str(o.format), protected: o.protected === true },
          ctx.io.now().getTime(),
          ctx.terminal.columns,
        ),
      );
    },
  },
  {
    path: ['history'],
    streamsLogs: true,
    summary:
      "every killer's kills in one timeline (the kernel's, systemd-oomd's, earlyoom's, nohang's, the kubelet's), and whether the log is complete",
    options: [
      ...LOG_OPTIONS,
      {
        flags: '--killer <name>',
        help: 'only this killer: kernel, systemd-oomd, earlyoom, nohang or kubelet',
        values: KILLER_VALUES,
      },
      TABLE_OR_JSON,
    ],
    run: async (ctx, _a, o) => {
      const { runHistory } = await import('./aftermath.js');
      return printed(
        ctx,
        runHistory(
          ctx.roots,
          {
            source: str(o.source),
            from: str(o.from),
            since: str(o.since),
            format: str(o.format),
            killer: str(o.killer),
          },
          ctx.io.now(),
        ),
      );
    },
  },
  {
    path: ['baseline', 'save'],
    summary: 'record the critical processes (proposes long-running daemons when none are named)',
    options: [
      { flags: '--critical <name>', help: 'a process name (comm) that must run (repeatable)', repeatable: true },
      { flags: '--critical-unit <unit>', help: 'a systemd unit that must run (repeatable)', repeatable: true },
      { flags: '--critical-cmdline <regex>', help: 'a command line that must run (repeatable)', repeatable: true },
      { flags: '-y, --yes', help: 'save the proposal without asking' },
    ],
    run: async (ctx, _a, o) => {
      const { runBaselineSave } = await import('./aftermath.js');
      return runBaselineSave(ctx.roots, ctx.io, {
        critical: list(o.critical),
        criticalUnit: list(o.criticalUnit),
        criticalCmdline: list(o.criticalCmdline),
        yes: o.yes === true,
      });
    },
  },
  {
    path: ['check'],
    streamsLogs: true,
    summary:
      'after an OOM: what was killed, what is missing, restart or reboot (exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN)',
    options: [
      ...LOG_OPTIONS,
      { flags: '-f, --format <format>', help: 'table, json or prometheus', values: ['table', 'json', 'prometheus'] },
      { flags: '-o, --output <file>', help: 'write atomically to FILE (node_exporter textfile collector)' },
    ],
    run: async (ctx, _a, o) => {
      const { runCheck } = await import('./aftermath.js');
      return runCheck(ctx.roots, ctx.io, {
        source: str(o.source),
        from: str(o.from),
        since: str(o.since),
        format: str(o.format),
        output: str(o.output),
      });
    },
  },
  {
    path: ['set'],
    streamsLogs: true,
    args: '[pids...]',
    summary: `set oom_score_adj of processes (${SELECT_HELP})`,
    options: [...SELECTORS, { flags: '--adj <n>', help: 'the new oom_score_adj, -1000..1000', required: true }],
    run: async (ctx, args, o) => {
      const { runSet } = await import('./adjust.js');
      return runSet(ctx.roots, ctx.io, args, o, 'set');
    },
  },
  {
    path: ['protect'],
    streamsLogs: true,
    args: '[pids...]',
    summary: 'protect processes: oom_score_adj -1000 (never killed) unless --adj',
    options: [...SELECTORS, { flags: '--adj <n>', help: 'a value other than -1000' }],
    run: async (ctx, args, o) => {
      const { runSet } = await import('./adjust.js');
      return runSet(ctx.roots, ctx.io, args, o, 'protect');
    },
  },
  {
    path: ['reset'],
    streamsLogs: true,
    args: '[pids...]',
    summary: 'put back the value a process had before oomtop first changed it',
    options: SELECTORS,
    run: async (ctx, args, o) => {
      const { runReset } = await import('./adjust.js');
      return runReset(ctx.roots, ctx.io, args, o);
    },
  },
  {
    path: ['undo'],
    streamsLogs: true,
    summary: 'revert the last change oomtop made (or the last N)',
    options: [
      { flags: '--last <n>', help: 'how many changes to revert', default: '1' },
      { flags: '--dry-run', help: 'show what would be reverted; write nothing' },
    ],
    run: async (ctx, _a, o) => {
      const { runUndo } = await import('./adjust.js');
      return runUndo(ctx.roots, ctx.io, { last: str(o.last), dryRun: o.dryRun === true });
    },
  },
  {
    path: ['log'],
    streamsLogs: true,
    summary: 'show the audit log of oom_score_adj writes',
    options: [TABLE_OR_JSON, { flags: '-n, --limit <n>', help: 'only the last N records' }],
    run: async (ctx, _a, o) => {
      const { runLog } = await import('./adjust.js');
      return runLog(ctx.io, { format: str(o.format), limit: str(o.limit) });
    },
  },
  {
    path: ['apply'],
    streamsLogs: true,
    summary: 'apply a protection policy once to running processes',
    options: [
      { flags: '--policy <file>', help: 'the policy (YAML)', required: true },
      { flags: '--dry-run', help: 'show what would change; write nothing' },
    ],
    run: async (ctx, _a, o) => {
      const { runApply } = await import('./policy.js');
      return runApply(ctx.roots, ctx.io, { policy: str(o.policy) as string, dryRun: o.dryRun === true });
    },
  },
  {
    path: ['watch'],
    streamsLogs: true,
    summary: 'keep a protection policy applied, catching new processes',
    stoppable: true,
    options: [
      { flags: '--policy <file>', help: 'the policy (YAML)', required: true },
      { flags: '--interval <seconds>', help: 'seconds between passes', default: '2' },
    ],
    run: async (ctx, _a, o) => {
      const { runWatch } = await import('./policy.js');
      return runWatch(ctx.roots, ctx.io, { policy: str(o.policy) as string, interval: str(o.interval) }, ctx.signal);
    },
  },
  {
    path: ['exporter'],
    summary: 'serve /metrics over HTTP for Prometheus (the snapshot and killer-race series, read on scrape)',
    stoppable: true,
    options: [
      {
        flags: '--listen <addr:port>',
        help: 'where to listen: 127.0.0.1:9717, [::1]:9717, :9717 (every address)',
        default: '127.0.0.1:9717',
      },
      { flags: '--limit <n>', help: 'per-process series for the top N (and every protected process)', default: '10' },
      {
        flags: '--min-interval <seconds>',
        help: 'read /proc at most this often; scrapes between get the last reading',
        default: '5',
      },
    ],
    run: async (ctx, _a, o) => {
      const { runExporter } = await import('./exporter.js');
      return runExporter(
        ctx.roots,
        ctx.io,
        { listen: str(o.listen), limit: str(o.limit), minInterval: str(o.minInterval) },
        ctx.signal,
      );
    },
  },
  {
    path: ['completion'],
    summary: 'print the shell completion script for bash, zsh or fish (generated from this command table)',
    args: '<shell>',
    argValues: ['bash', 'zsh', 'fish'],
    options: [],
    run: async (ctx, a) => {
      const { runCompletion } = await import('./completion.js');
      return runCompletion(ctx.io, a[0] as string);
    },
  },
  {
    path: ['policy', 'export-systemd'],
    summary:
      "print OOMScoreAdjust= drop-ins for the policy's unit rules (and ManagedOOMPreference=omit for protect rules where systemd-oomd runs)",
    options: [
      { flags: '--policy <file>', help: 'the policy (YAML)', required: true },
      {
        flags: '--oomd',
        help: 'write ManagedOOMPreference=omit for protect rules even where systemd-oomd does not run here',
      },
    ],
    run: async (ctx, _a, o) => {
      const { runExportSystemd } = await import('./policy.js');
      return runExportSystemd(ctx.roots, ctx.io, { policy: str(o.policy) as string, oomd: o.oomd === true });
    },
  },
];
