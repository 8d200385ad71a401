// The roots oomtop reads and writes through, built once from the command line and passed
// down (htop's PROCDIR moved to run time): tests point them at fixture trees.
import { mkdirSync, readFileSync } from 'node:fs';
import { UserError } from '../core/errors.js';
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

/** Creates the state directory (audit log, baseline) when it does not exist yet. */
export function ensureStateDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o755 });
  } catch (e) {
    throw new UserError(`cannot create the state folder ${dir} (${(e as NodeJS.ErrnoException).code}): set OOMTOP_STATE_DIR to a writable folder`);
  }
}
