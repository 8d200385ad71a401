#!/usr/bin/env node
// Parses arguments, runs one command, owns the exit code. Each command's module is loaded
// only when it runs: start-up is most of a one-shot command's cost, and snapshot must never
// load the TUI libraries.
import { Command, CommanderError, Option } from 'commander';
import { UserError } from './core/errors.js';
import { DEFAULT_ROOTS, type Roots } from './system/env.js';

function roots(cmd: Command): Roots {
  const o = cmd.optsWithGlobals<{ procRoot: string; sysRoot: string; passwd: string }>();
  return { procRoot: o.procRoot, sysRoot: o.sysRoot, passwdFile: o.passwd };
}

export function buildProgram(): Command {
  const program = new Command('oomtop')
    .description('predict whom the Linux OOM killer will kill, in which order, and protect what matters')
    .version('0.1.0')
    .addOption(new Option('--proc-root <dir>', 'proc filesystem to read').default(DEFAULT_ROOTS.procRoot))
    .addOption(new Option('--sys-root <dir>', 'cgroup filesystem root').default(DEFAULT_ROOTS.sysRoot))
    .addOption(new Option('--passwd <file>', 'passwd file for user names').default(DEFAULT_ROOTS.passwdFile).hideHelp())
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });

  program.command('snapshot')
    .description('rank every process in kill order and export it')
    .option('-f, --format <format>', 'json, csv, table or prometheus (default: table on a terminal, json when piped)')
    .option('-o, --output <file>', 'write to FILE atomically instead of standard output')
    .option('-n, --limit <n>', 'only the first N processes (prometheus: the top N)')
    .action(async (opts: { format?: string; output?: string; limit?: string }, cmd: Command) => {
      const { runSnapshot } = await import('./commands/snapshot.js');
      const out = runSnapshot(roots(cmd), { ...opts, isTTY: Boolean(process.stdout.isTTY), width: process.stdout.columns }, Date.now());
      process.stdout.write(out);
    });

  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // help and version are not errors; commander already printed its one-line message.
      return e.exitCode === 0 ? 0 : 2;
    }
    if (e instanceof UserError) {
      process.stderr.write(`oomtop: ${e.message}\n`);
      return e.exitCode;
    }
    throw e;
  }
}

main(process.argv).then((code) => { process.exitCode = code; }, (e: unknown) => {
  process.stderr.write(`oomtop: internal error: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
  process.exitCode = 70;
});
