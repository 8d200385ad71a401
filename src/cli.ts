#!/usr/bin/env node
// Parses arguments, runs one command, owns the exit code. Each command's module is loaded
// only when it runs: start-up is most of a one-shot command's cost, and snapshot must never
// load the TUI libraries.
import { userInfo } from 'node:os';
import v8 from 'node:v8';

// Commands that stream logs of any size (the audit log, the kernel log) ask V8 to keep its
// heap small: with 1 GiB logs the garbage of parsed lines otherwise grows the heap to
// ~180 MiB before a full collection (measured in `npm run bench`, part d); with it, ~100 MiB.
// The snapshot command and the dashboard keep V8's defaults (their speed is measured).
const LOG_READERS = new Set(['history', 'check', 'log', 'undo', 'reset', 'set', 'protect', 'apply', 'watch']);
if (process.argv.slice(2).some((a) => LOG_READERS.has(a))) v8.setFlagsFromString('--optimize-for-size');
import { Command, CommanderError, Option } from 'commander';
import { UserError } from './core/errors.js';
import { printableText } from './core/format.js';
import { DEFAULT_ROOTS, stateDir, type Roots } from './system/env.js';
import type { CommandIo } from './commands/adjust.js';

function roots(cmd: Command): Roots {
  // A subcommand's own --proc-root wins over the one given before it (or the default).
  type RootOpts = { procRoot?: string; sysRoot?: string; passwd?: string; kmsg?: string };
  const local = cmd.opts<RootOpts>();
  const all = cmd.optsWithGlobals<RootOpts>();
  const kmsg = local.kmsg ?? all.kmsg;
  return {
    procRoot: local.procRoot ?? all.procRoot ?? DEFAULT_ROOTS.procRoot,
    sysRoot: local.sysRoot ?? all.sysRoot ?? DEFAULT_ROOTS.sysRoot,
    passwdFile: local.passwd ?? all.passwd ?? DEFAULT_ROOTS.passwdFile,
    ...(kmsg !== undefined ? { kmsgPath: kmsg } : {}),
  };
}

/**
 * Every text oomtop prints goes through here: whatever a field's own escaping missed, no
 * control character but newline and tab reaches the terminal (JSON is already escaped).
 */
function print(text: string): void {
  process.stdout.write(printableText(text));
}

function commandIo(): CommandIo {
  return {
    out: print,
    confirm: async (question) => {
      if (!process.stdin.isTTY) return false;
      const { createInterface } = await import('node:readline/promises');
      const rl = createInterface({ input: process.stdin, output: process.stdout });
      try {
        return /^y(es)?$/i.test((await rl.question(question)).trim());
      } finally {
        rl.close();
      }
    },
    now: () => new Date(),
    stateDir: stateDir(),
    actor: { user: userName(), uid: process.getuid?.() ?? 0 },
  };
}

function userName(): string {
  try {
    return userInfo().username;
  } catch {
    return String(process.getuid?.() ?? '?');
  }
}

const SELECT_HELP = 'choose by --name REGEX (comm), --cmdline REGEX, --user NAME, --cgroup PATH (subtree or glob)';

function withSelectors(cmd: Command): Command {
  return cmd
    .option('--name <regex>', 'processes whose name (comm) matches')
    .option('--cmdline <regex>', 'processes whose command line matches')
    .option('--user <name>', 'processes of this user (name or uid)')
    .option('--cgroup <path>', 'processes in this cgroup subtree (or a glob)')
    .option('-y, --yes', 'change every match without asking')
    .option('--dry-run', 'show old → new and the kill order before and after; write nothing');
}

export function buildProgram(setCode: (code: number) => void): Command {
  const program = new Command('oomtop')
    .description('predict whom the Linux OOM killer will kill, in which order, and protect what matters')
    .version('0.1.0')
    .addOption(new Option('--proc-root <dir>', 'proc filesystem to read').default(DEFAULT_ROOTS.procRoot))
    .addOption(new Option('--sys-root <dir>', 'cgroup filesystem root').default(DEFAULT_ROOTS.sysRoot))
    .addOption(new Option('--passwd <file>', 'passwd file for user names').default(DEFAULT_ROOTS.passwdFile).hideHelp())
    .addOption(new Option('--kmsg <file>', 'the kernel log device (tests)').hideHelp())
    .enablePositionalOptions()
    .exitOverride()
    .configureOutput({
      writeErr: (s) => process.stderr.write(printableText(s)),
      writeOut: (s) => print(s),
      // one line, in the same voice as oomtop's own errors
      outputError: (s, write) => write(`oomtop: ${s.replace(/^error: /, '')}`),
    });

  program
    .argument('[command]')
    .usage('[options] [command]')
    .option('-i, --interval <seconds>', 'dashboard refresh interval', '2')
    .option('--read-only', 'dashboard without any write action')
    .action(async (command: string | undefined, opts: { interval?: string; readOnly?: boolean }, cmd: Command) => {
      if (command !== undefined) throw new UserError(`unknown command '${command}': run oomtop --help for the list`);
      const { runDashboard } = await import('./commands/dashboard.js');
      const io = commandIo();
      setCode(await runDashboard(roots(cmd), opts, io.stateDir, io.actor));
    });

  program.command('snapshot')
    .description('rank every process in kill order and export it')
    .option('-f, --format <format>', 'json, csv, table or prometheus (default: table on a terminal, json when piped)')
    .option('-o, --output <file>', 'write to FILE atomically instead of standard output')
    .option('-n, --limit <n>', 'only the first N processes (prometheus: the top N)')
    .option('--cgroup <path>', 'rank inside this memory cgroup (path relative to the cgroup mount)')
    .action(async (opts: { format?: string; output?: string; limit?: string; cgroup?: string }, cmd: Command) => {
      const { runSnapshot } = await import('./commands/snapshot.js');
      const out = runSnapshot(roots(cmd), { ...opts, isTTY: Boolean(process.stdout.isTTY), width: process.stdout.columns }, Date.now());
      print(out);
    });

  const collect = (v: string, prev: string[] = []) => [...prev, v];
  program.command('domains').description('every OOM domain (global and each memory cgroup with a limit), tightest headroom first')
    .option('-f, --format <format>', 'table or json')
    .action(async (opts: { format?: string }, cmd: Command) => {
      const { runDomains } = await import('./commands/domains.js');
      print(runDomains(roots(cmd), opts, Date.now()));
    });
  program.command('simulate').description('the kill sequence of an OOM in a domain, step by step')
    .option('--cgroup <path>', 'memory cgroup (relative to the cgroup mount); default the global domain')
    .option('--free <size>', 'stop once at least SIZE is freed (200M, 1.5G, 512p pages)')
    .option('--adj <pid=n>', 'what if PID had adj N (repeatable)', collect)
    .option('-f, --format <format>', 'table or json')
    .action(async (opts: { cgroup?: string; free?: string; adj?: string[]; format?: string }, cmd: Command) => {
      const { runSimulate } = await import('./commands/domains.js');
      print(runSimulate(roots(cmd), opts, Date.now()));
    });

  const logOptions = (cmd: Command) => cmd
    .option('--source <source>', 'kmsg (/dev/kmsg), dmesg, journal (journalctl -k) or file; default: the first that works')
    .option('--from <file>', 'a saved kernel log or syslog file')
    .option('--since <time>', 'only events since TIME (journalctl --since syntax for journal; an ISO date otherwise)');
  logOptions(program.command('history').description('OOM kills in the kernel log: invoker, domain, victim, and whether the kernel rule agrees')
    .option('-f, --format <format>', 'table or json'))
    .action(async (opts: { source?: string; from?: string; since?: string; format?: string }, cmd: Command) => {
      const { runHistory } = await import('./commands/aftermath.js');
      print(runHistory(roots(cmd), opts, new Date()));
    });
  const baseline = program.command('baseline').description('the processes that must be running');
  baseline.command('save').description('record the critical processes (proposes long-running daemons when none are named)')
    .option('--critical <name>', 'a process name (comm) that must run (repeatable)', collect)
    .option('--critical-unit <unit>', 'a systemd unit that must run (repeatable)', collect)
    .option('--critical-cmdline <regex>', 'a command line that must run (repeatable)', collect)
    .option('-y, --yes', 'save the proposal without asking')
    .action(async (opts: { critical?: string[]; criticalUnit?: string[]; criticalCmdline?: string[]; yes?: boolean }, cmd: Command) => {
      const { runBaselineSave } = await import('./commands/aftermath.js');
      setCode(await runBaselineSave(roots(cmd), commandIo(), opts));
    });
  logOptions(program.command('check').description('after an OOM: what was killed, what is missing, restart or reboot (exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN)')
    .option('-f, --format <format>', 'table, json or prometheus')
    .option('-o, --output <file>', 'write atomically to FILE (node_exporter textfile collector)'))
    .action(async (opts: { source?: string; from?: string; since?: string; format?: string; output?: string }, cmd: Command) => {
      const { runCheck } = await import('./commands/aftermath.js');
      setCode(runCheck(roots(cmd), commandIo(), opts));
    });

  withSelectors(program.command('set').argument('[pids...]').description(`set oom_score_adj of processes (${SELECT_HELP})`)
    .requiredOption('--adj <n>', 'the new oom_score_adj, -1000..1000'))
    .action(async (pids: string[], opts, cmd: Command) => {
      const { runSet } = await import('./commands/adjust.js');
      setCode(await runSet(roots(cmd), commandIo(), pids, opts, 'set'));
    });
  withSelectors(program.command('protect').argument('[pids...]').description('protect processes: oom_score_adj -1000 (never killed) unless --adj')
    .option('--adj <n>', 'a value other than -1000'))
    .action(async (pids: string[], opts, cmd: Command) => {
      const { runSet } = await import('./commands/adjust.js');
      setCode(await runSet(roots(cmd), commandIo(), pids, opts, 'protect'));
    });
  withSelectors(program.command('reset').argument('[pids...]').description('put back the value a process had before oomtop first changed it'))
    .action(async (pids: string[], opts, cmd: Command) => {
      const { runReset } = await import('./commands/adjust.js');
      setCode(await runReset(roots(cmd), commandIo(), pids, opts));
    });
  program.command('undo').description('revert the last change oomtop made (or the last N)')
    .option('--last <n>', 'how many changes to revert', '1')
    .option('--dry-run', 'show what would be reverted; write nothing')
    .action(async (opts: { last?: string; dryRun?: boolean }, cmd: Command) => {
      const { runUndo } = await import('./commands/adjust.js');
      setCode(await runUndo(roots(cmd), commandIo(), opts));
    });
  program.command('log').description('show the audit log of oom_score_adj writes')
    .option('-f, --format <format>', 'table or json')
    .option('-n, --limit <n>', 'only the last N records')
    .action(async (opts: { format?: string; limit?: string }) => {
      const { runLog } = await import('./commands/adjust.js');
      setCode(runLog(commandIo(), opts));
    });
  program.command('apply').description('apply a protection policy once to running processes')
    .requiredOption('--policy <file>', 'the policy (YAML)')
    .option('--dry-run', 'show what would change; write nothing')
    .action(async (opts: { policy: string; dryRun?: boolean }, cmd: Command) => {
      const { runApply } = await import('./commands/policy.js');
      setCode(await runApply(roots(cmd), commandIo(), opts));
    });
  program.command('watch').description('keep a protection policy applied, catching new processes')
    .requiredOption('--policy <file>', 'the policy (YAML)')
    .option('--interval <seconds>', 'seconds between passes', '2')
    .action(async (opts: { policy: string; interval?: string }, cmd: Command) => {
      const { runWatch } = await import('./commands/policy.js');
      const stop = new AbortController();
      const onSignal = () => stop.abort();
      process.once('SIGTERM', onSignal);
      process.once('SIGINT', onSignal);
      setCode(await runWatch(roots(cmd), commandIo(), opts, stop.signal));
    });
  const policy = program.command('policy').description('work with policy files');
  policy.command('export-systemd').description("print OOMScoreAdjust= drop-ins for the policy's unit rules")
    .requiredOption('--policy <file>', 'the policy (YAML)')
    .action(async (opts: { policy: string }) => {
      const { runExportSystemd } = await import('./commands/policy.js');
      setCode(runExportSystemd(commandIo(), opts));
    });

  // The root options work before or after the subcommand (`oomtop --proc-root X snapshot`
  // and `oomtop snapshot --proc-root X`); subcommand options stay their own, so watch's
  // --interval is not the dashboard's.
  const addRoots = (cmd: Command) => {
    for (const sub of cmd.commands) {
      sub.option('--proc-root <dir>', 'proc filesystem to read (default /proc)')
        .option('--sys-root <dir>', 'cgroup filesystem root (default /sys/fs/cgroup)')
        .addOption(new Option('--passwd <file>').hideHelp())
        .addOption(new Option('--kmsg <file>').hideHelp());
      addRoots(sub);
    }
  };
  addRoots(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  let code = 0;
  const program = buildProgram((c) => { code = c; });
  try {
    await program.parseAsync(argv);
    return code;
  } catch (e) {
    if (e instanceof CommanderError) {
      // help and version are not errors; commander already printed its one-line message.
      return e.exitCode === 0 ? 0 : 2;
    }
    if (e instanceof UserError) {
      process.stderr.write(printableText(`oomtop: ${e.message}\n`));
      return e.exitCode;
    }
    throw e;
  }
}

// A closed pipe (oomtop snapshot | head) ends the output quietly.
process.stdout.on('error', (e: NodeJS.ErrnoException) => { if (e.code === 'EPIPE') process.exit(0); throw e; });

main(process.argv).then((code) => { process.exitCode = code; }, (e: unknown) => {
  process.stderr.write(printableText(`oomtop: internal error: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`));
  process.exitCode = 70;
});
