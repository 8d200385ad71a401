// Regular expressions from users (--name, --cmdline, policy and baseline cmdline rules),
// run by RE2JS: linear-time matching, so a pattern like (a+)+$ against a long command line
// cannot hang `watch` (JavaScript's backtracking engine took 30 s on 31 characters). The
// syntax is RE2's: no lookaround and no backreferences; the error says so.
import { messageOf } from './errors.js';
import { RE2JS } from 're2js';

export interface Pattern {
  readonly source: string;
  test(text: string): boolean;
}

/** Compiles `source`; throws an Error whose message says what is wrong. */
export function compilePattern(source: string): Pattern {
  let re: RE2JS;
  try {
    re = RE2JS.compile(source);
  } catch (e) {
    const msg = messageOf(e);
    throw new Error(
      /unsupported Perl syntax|invalid escape|backreference/.test(msg)
        ? `${msg} (oomtop uses RE2 syntax, which runs in linear time: no lookahead, lookbehind or backreferences)`
        : msg,
    );
  }
  return { source, test: (text: string) => re.test(text) };
}

/** `source` compiled, or null when it is absent or does not compile (the caller says so). */
export function compileOrNull(source: string | null | undefined): Pattern | null {
  if (source === null || source === undefined) return null;
  try {
    return compilePattern(source);
  } catch {
    return null;
  }
}
