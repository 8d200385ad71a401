#!/usr/bin/env node
// Parses arguments, runs one command, owns the exit code. Each command's module is loaded
// only when it runs: start-up is most of a one-shot command's cost, and snapshot must never
// load the TUI libraries.
import { userInfo } from 'node:os';
import v8 from 'node:v8';

import { Command, CommanderError, Option } from 'commander';
import { VERSION } from './version.js';
import { installCellWidths } from './cell-widths.js';
import { causeChain, UserError } from './core/errors.js';
import { printableText } from './core/format.js';
import { DEFAULT_ROOTS, stateDir, type Roots } from './system/env.js';
import { nativeStatus, trimResidentFilePages } from './system/native.js';
import type { CommandContext, CommandIo } from './commands/context.js';
import { COMMANDS, DASHBOARD, GROUPS, ROOT_OPTIONS, type OptionSpec, type Options } from './commands/table.js';

function roots(cmd: Command): Roots {
  // A subcommand's own --proc-root wins over the one given before it (or the default).
  type RootOpts = {
    procRoot?: string;
    sysRoot?: string;
    etcRoot?: string;
    passwd?: string;
    kmsg?: string;
    journal?: string;
  };
  const local = cmd.opts<RootOpts>();
  const all = cmd.optsWithGlobals<RootOpts>();
  const kmsg = local.kmsg ?? all.kmsg;
  const journal = local.journal ?? all.journal;
  return {
    procRoot: local.procRoot ?? all.procRoot ?? DEFAULT_ROOTS.procRoot,
    sysRoot: local.sysRoot ?? all.sysRoot ?? DEFAULT_ROOTS.sysRoot,
    etcRoot: local.etcRoot ?? all.etcRoot,
    passwdFile: local.passwd ?? all.passwd ?? DEFAULT_ROOTS.passwdFile,
    ...(kmsg !== undefined ? { kmsgPath: kmsg } : {}),
    ...(journal !== undefined ? { journalPath: journal } : {}),
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

function context(cmd: Command, stoppable: boolean): CommandContext {
  const stop = new AbortController();
  if (stoppable) {
    const onSignal = () => stop.abort();
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
  }
  return {
    roots: roots(cmd),
    io: commandIo(),
    terminal: { isTTY: Boolean(process.stdout.isTTY), columns: process.stdout.columns },
    signal: stop.signal,
  };
}

const collect = (v: string, prev: string[] = []) => [...prev, v];

function addOption(cmd: Command, o: OptionSpec, withDefault = true): void {
  const opt = new Option(
    o.flags,
    o.default !== undefined && !withDefault ? `${o.help} (default ${o.default})` : o.help,
  );
  if (o.default !== undefined && withDefault) opt.default(o.default);
  if (o.repeatable) opt.argParser(collect);
  if (o.required) opt.makeOptionMandatory();
  if (o.hidden) opt.hideHelp();
  cmd.addOption(opt);
}

/**
 * The commands that stay up (the dashboard, watch, the exporter) run on a box short of
 * memory: V8's young generation is held to 1 MiB semi-spaces (16 MiB by default: ~12 MiB
 * at 3,000 processes and ~25 MiB at 20,000 of resident memory, for a few more scavenges),
 * and with --optimize-for-size the old generation is collected before it doubles (without,
 * the dashboard grew from 80 to 115 MiB in two minutes of garbage). The dashboard turns
 * the latter on after its first screen, which it slows (npm run bench, part e).
 */
function residentSmall(optimizeForSize: boolean): void {
  v8.setFlagsFromString('--max-semi-space-size=1');
  if (optimizeForSize) v8.setFlagsFromString('--optimize-for-size');
  // Once the first sample is done (2.3 s at 20,000 processes), the file pages only start-up
  // touched are given back: 80 -> ~60 MiB resident at 3,000 processes (npm run bench, part e).
  setTimeout(trimResidentFilePages, TRIM_AFTER_MS).unref();
}

const TRIM_AFTER_MS = 5000;

/** commander, built from the command table (commands/table.ts). */
export function buildProgram(setCode: (code: number) => void): Command {
  const program = new Command('oomtop')
    .description('predict whom the Linux OOM killer will kill, in which order, and protect what matters')
    // the version, then which /proc reader runs here (native, prebuilt or built at install, or
    // the JavaScript one and why): the one place a missing native reader is said at run time
    .on('option:version', () => {
      print(`${VERSION}\n${nativeStatus()}\n`);
      throw new CommanderError(0, 'commander.version', VERSION);
    })
    .version(VERSION, '-V, --version', 'the version, and which /proc reader runs here')
    .enablePositionalOptions()
    .exitOverride()
    .configureOutput({
      writeErr: (s) => process.stderr.write(printableText(s)),
      writeOut: (s) => print(s),
      // one line, in the same voice as oomtop's own errors
      outputError: (s, write) => write(`oomtop: ${s.replace(/^error: /, '')}`),
    });
  for (const o of ROOT_OPTIONS) addOption(program, o);
  program.argument('[command]').usage('[options] [command]');
  for (const o of DASHBOARD.options) addOption(program, o);
  program.action(async (command: string | undefined, opts: Options, cmd: Command) => {
    if (command !== undefined) throw new UserError(`unknown command '${command}': run oomtop --help for the list`);
    residentSmall(false);
    setCode(await DASHBOARD.run(context(cmd, false), [], opts));
  });
  const parents = new Map<string, Command>([['', program]]);
  const parentOf = (path: string[]): Command => {
    const key = path.slice(0, -1).join(' ');
    let p = parents.get(key);
    if (!p) {
      const g = GROUPS.find((x) => x.path.join(' ') === key);
      p = parentOf(path.slice(0, -1))
        .command(path.at(-2) as string)
        .description(g?.summary ?? '');
      parents.set(key, p);
    }
    return p;
  };
  for (const spec of COMMANDS) {
    const parent = parentOf(spec.path);
    const cmd = parent.command(spec.path.at(-1) as string).description(spec.summary);
    if (spec.args) cmd.argument(spec.args);
    for (const o of spec.options) addOption(cmd, o);
    // The root options work before or after the command name (`oomtop --proc-root X
    // snapshot` and `oomtop snapshot --proc-root X`); a command's own options stay its own,
    // so watch's --interval is not the dashboard's.
    for (const o of ROOT_OPTIONS) addOption(cmd, o, false);
    cmd.action(async (...a: unknown[]) => {
      const self = a.at(-1) as Command;
      // A command that streams logs of any size asks V8 for a small heap: with 1 GiB logs the
      // garbage of parsed lines otherwise grows it to ~180 MiB before a full collection
      // (npm run bench, part d). The others keep V8's defaults (their speed is measured).
      if (spec.streamsLogs) v8.setFlagsFromString('--optimize-for-size');
      if (spec.stoppable) residentSmall(true);
      // '[pids...]' gives a list, '<shell>' one string
      const args = spec.args ? [a[0]].flat().filter((x): x is string => typeof x === 'string') : [];
      setCode(await spec.run(context(self, spec.stoppable === true), args, self.opts<Options>()));
    });
  }
  return program;
}

export async function main(argv: string[]): Promise<number> {
  installCellWidths();
  let code = 0;
  const program = buildProgram((c) => {
    code = c;
  });
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
      if (process.env.OOMTOP_DEBUG === '1')
        process.stderr.write(printableText(`${causeChain(e).join('\ncaused by: ')}\n`));
      return e.exitCode;
    }
    throw e;
  }
}

// A closed pipe (oomtop snapshot | head) ends the output quietly.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(
      printableText(`oomtop: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`),
    );
    process.exitCode = 70;
  },
);
