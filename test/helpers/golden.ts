import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { expect } from 'vitest';

/** Compares with a committed golden file; OOMTOP_UPDATE_FIXTURES=1 rewrites it. */
export function expectGolden(path: string, actual: string): void {
  if (process.env.OOMTOP_UPDATE_FIXTURES || !existsSync(path)) writeFileSync(path, actual);
  expect(actual).toBe(readFileSync(path, 'utf8'));
}
