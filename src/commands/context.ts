// What every command is given: the roots it reads and writes through, its input and
// output, the clock, and the terminal it runs on. Built once by cli.ts; tests build their
// own (test/helpers/io.ts). A command writes only through `io`.
import type { Roots } from '../system/env.js';

export interface CommandIo {
  out: (text: string) => void;
  /** Asks the user; resolves false when there is no terminal to ask. */
  confirm: (question: string) => Promise<boolean>;
  now: () => Date;
  stateDir: string;
  actor: { user: string; uid: number };
}

export interface CommandContext {
  roots: Roots;
  io: CommandIo;
  /** Standard output is a terminal (the default format is then a table), and its width. */
  terminal: { isTTY: boolean; columns: number | undefined };
  /** Aborted on SIGTERM or SIGINT: long-running commands (watch) stop cleanly. */
  signal: AbortSignal;
}
