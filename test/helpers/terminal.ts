// Terminals for dashboard tests: fake streams for blessed, and the built CLI under a real
// pseudo-terminal feeding a headless xterm.
import { PassThrough, Writable } from 'node:stream';
import pty from '@lydell/node-pty';
import xterm from '@xterm/headless';

/** Input and output streams blessed takes for a terminal of this size; `written` keeps every byte it sent. */
export function fakeTerminal(cols: number, rows: number) {
  const written: Buffer[] = [];
  const input = Object.assign(new PassThrough(), { isTTY: true, setRawMode: () => input });
  const output = Object.assign(
    new Writable({
      write: (c, _e, cb) => {
        written.push(Buffer.from(c));
        cb();
      },
    }),
    { isTTY: true, columns: cols, rows },
  );
  return { input, output, written };
}

/** The visible screen of a headless xterm, line by line. */
export function screenText(term: InstanceType<typeof xterm.Terminal>): string {
  const b = term.buffer.active;
  const out: string[] = [];
  for (let i = 0; i < term.rows; i++) out.push(b.getLine(b.viewportY + i)?.translateToString(true) ?? '');
  return out.join('\n');
}

/** The built oomtop CLI in a pseudo-terminal of this size, its output fed to a headless xterm. */
export function startInPty(
  cli: string,
  args: string[],
  o: { cols: number; rows: number; cwd: string; stateDir: string },
) {
  const term = new xterm.Terminal({ cols: o.cols, rows: o.rows, allowProposedApi: true });
  const child = pty.spawn('node', [cli, ...args], {
    name: 'xterm-256color',
    cols: o.cols,
    rows: o.rows,
    cwd: o.cwd,
    env: { ...process.env, TERM: 'xterm-256color', OOMTOP_STATE_DIR: o.stateDir } as Record<string, string>,
  });
  const run = {
    term,
    child,
    exit: null as { exitCode: number; signal?: number } | null,
    screen: () => screenText(term),
  };
  child.onData((d) => term.write(d));
  child.onExit((e) => {
    run.exit = e;
  });
  return run;
}
