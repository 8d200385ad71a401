// The roots oomtop reads and writes through, built once from the command line and passed
// down (htop's PROCDIR moved to run time): tests point them at fixture trees.
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parsePasswd } from '../core/parse/passwd.js';

export interface Roots {
  procRoot: string;
  sysRoot: string;
  passwdFile: string;
}

export const DEFAULT_ROOTS: Roots = { procRoot: '/proc', sysRoot: '/sys/fs/cgroup', passwdFile: '/etc/passwd' };

export function loadUsers(passwdFile: string): Map<number, string> {
  try {
    return parsePasswd(readFileSync(passwdFile, 'utf8'));
  } catch {
    return new Map();
  }
}

/** $OOMTOP_STATE_DIR, else /var/lib/oomtop for root, else $XDG_STATE_HOME/oomtop. */
export function stateDir(env: NodeJS.ProcessEnv = process.env, uid = process.getuid?.() ?? 0): string {
  if (env.OOMTOP_STATE_DIR) return env.OOMTOP_STATE_DIR;
  if (uid === 0) return '/var/lib/oomtop';
  return join(env.XDG_STATE_HOME || join(homedir(), '.local', 'state'), 'oomtop');
}
