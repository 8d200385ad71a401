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

/** A duration in seconds ("2", "0.5") within [min, max]; returns seconds. */
export function parseSeconds(value: string, what: string, min: number, max: number): number {
  const v = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || v < min || v > max) {
    throw new UserError(`${what} must be seconds from ${min} to ${max} (for example 2 or 0.5), got '${value}'`);
  }
  return v;
}
