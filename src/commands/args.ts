// Validation of option values shared by the commands: one-line errors that name the bad
// value and what to use instead.
import { UserError } from '../core/errors.js';

export function parseFormat<T extends string>(value: string, allowed: readonly T[], what = '--format'): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new UserError(`unknown ${what} '${value}': use one of ${allowed.join(', ')}`);
}

export function parsePositiveInt(value: string, what: string): number {
  if (!/^[1-9]\d*$/.test(value)) throw new UserError(`${what} must be a whole number above 0, got '${value}'`);
  return Number(value);
}
