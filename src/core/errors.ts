/**
 * An error the user can fix: bad input, a wrong root, a refused write. The CLI prints its
 * message on one line and exits with `exitCode` (2 unless said otherwise). `cause` keeps
 * the error it came from: OOMTOP_DEBUG=1 prints the chain.
 */
export class UserError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = 2,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'UserError';
  }
}

/** The chain of causes of an error, one line each (OOMTOP_DEBUG=1). */
export function causeChain(e: unknown): string[] {
  const out: string[] = [];
  for (let c: unknown = e, depth = 0; c !== undefined && c !== null && depth < 10; depth++) {
    out.push(c instanceof Error ? (c.stack ?? `${c.name}: ${c.message}`) : String(c));
    c = c instanceof Error ? c.cause : undefined;
  }
  return out;
}

/** The message of anything thrown (an Error's message, else its text). */
export function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
