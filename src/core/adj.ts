// oom_score_adj values as the user types them. The kernel parses at most 12 bytes with
// base 0 (kstrtoint in __set_oom_adj(): "0x10" is 16, "010" is 8) and would accept some
// forms the user did not mean, so only plain decimal integers in range get through.
import { UserError } from './errors.js';
import { OOM_SCORE_ADJ_MAX, OOM_SCORE_ADJ_MIN } from './badness.js';

const PLAIN_ADJ = /^(0|-?[1-9]\d{0,3})$/;

/** The value typed, or null when it is not a plain decimal integer from -1000 to 1000. */
export function adjValueOrNull(text: string): number | null {
  if (!PLAIN_ADJ.test(text)) return null;
  const v = Number(text);
  return v < OOM_SCORE_ADJ_MIN || v > OOM_SCORE_ADJ_MAX ? null : v;
}

export function parseAdjValue(text: string, what = '--adj'): number {
  if (!PLAIN_ADJ.test(text)) {
    throw new UserError(`${what} must be a plain decimal integer from -1000 to 1000, got '${text}'`);
  }
  const v = Number(text);
  if (v < OOM_SCORE_ADJ_MIN || v > OOM_SCORE_ADJ_MAX) {
    throw new UserError(`${what} must be from -1000 to 1000, got ${v}`);
  }
  return v;
}

/** "PID=N" for what-if flags. */
export function parsePidAdj(text: string, what = '--adj'): [number, number] {
  const m = /^([1-9]\d*)=(.*)$/.exec(text);
  if (!m) throw new UserError(`${what} takes PID=N (for example 1234=-500), got '${text}'`);
  return [Number(m[1]), parseAdjValue(m[2] as string, what)];
}

export function parsePid(text: string): number {
  if (!/^[1-9]\d{0,9}$/.test(text)) throw new UserError(`'${text}' is not a process id: give a positive whole number`);
  return Number(text);
}
