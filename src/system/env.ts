// The roots oomtop reads and writes through, built once from the command line and passed
// down (htop's PROCDIR moved to run time): tests point them at fixture trees.
import { lstatSync, mkdirSync, readFileSync, type Stats } from 'node:fs';
import { errnoCode } from './errno.js';
import { UserError } from '../core/errors.js';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { parsePasswd } from '../core/parse/passwd.js';

export interface Roots {
  procRoot: string;
  sysRoot: string;
  /** The /etc configuration files are read from (killers' settings); see hostPath(). */
  etcRoot?: string;
  passwdFile: string;
  /** The kernel's log device (/dev/kmsg); a stand-in in tests. */
  kmsgPath?: string;
  /** A saved `journalctl -o json` read instead of the journal for the user-space killers' lines (tests, another machine's). */
  journalPath?: string;
}

export const DEFAULT_ROOTS: Roots = {
  procRoot: '/proc',
  sysRoot: '/sys/fs/cgroup',
  etcRoot: '/etc',
  passwdFile: '/etc/passwd',
};

/** --etc-root, else /etc, or the etc beside a fixture tree's proc (--proc-root /t/proc: /t/etc). */
export function etcRootOf(roots: Pick<Roots, 'etcRoot' | 'procRoot'>): string {
  if (roots.etcRoot !== undefined) return roots.etcRoot;
  return roots.procRoot.replace(/\/+$/, '') === '/proc' ? '/etc' : join(dirname(roots.procRoot), 'etc');
}

/**
 * Where an absolute path of the host (a config file a process names, /usr/lib/systemd)
 * is read: as it is with the real /etc; under the fixture tree that holds the given etc
 * root otherwise (--etc-root /t/etc reads /var/lib/kubelet/config.yaml at
 * /t/var/lib/kubelet/config.yaml).
 */
export function hostPath(roots: Pick<Roots, 'etcRoot' | 'procRoot'>, absolute: string): string {
  const etc = etcRootOf(roots).replace(/\/+$/, '') || '/';
  if (etc === '/etc') return absolute;
  if (absolute === '/etc' || absolute.startsWith('/etc/')) return join(etc, absolute.slice(4));
  return join(dirname(etc), absolute);
}

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

/**
 * Creates the state directory (audit log, baseline) when it does not exist yet, mode 0700:
 * the audit log names processes and users. An existing one must be ours (checkOwnedByUs).
 */
export function ensureStateDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw new UserError(
      `cannot create the state folder ${dir} (${errnoCode(e)}): set OOMTOP_STATE_DIR to a writable folder`,
      2,
      { cause: e },
    );
  }
  let st: Stats;
  try {
    st = lstatSync(dir);
  } catch (e) {
    throw new UserError(
      `cannot read the state folder ${dir} (${errnoCode(e)}): set OOMTOP_STATE_DIR to a folder you own`,
      2,
      { cause: e },
    );
  }
  if (st.isSymbolicLink())
    throw new UserError(
      `refusing the state folder ${dir}: it is a symbolic link; give its real path in OOMTOP_STATE_DIR`,
    );
  if (!st.isDirectory())
    throw new UserError(`refusing the state folder ${dir}: it is not a folder; set OOMTOP_STATE_DIR to a folder`);
  checkOwnedByUs(st, dir, 'state folder');
}

/**
 * oomtop acts on what its state says (undo and reset write logged values back): a state
 * folder or file that another user owns, or that its group or others can write, is refused
 * with the exact fix (as sudo refuses such a sudoers). Root's own files and the user's own
 * pass; a sticky folder does not help, since the files in it are what matters.
 */
export function checkOwnedByUs(
  st: { uid: number; mode: number; isFile?: () => boolean; isDirectory?: () => boolean },
  path: string,
  what: string,
  euid = process.geteuid?.() ?? 0,
): void {
  if (st.isFile && st.isDirectory && !st.isFile() && !st.isDirectory()) {
    throw new UserError(`refusing the ${what} ${path}: it is not a regular file; remove it (oomtop creates it)`);
  }
  if (st.uid !== euid && st.uid !== 0) {
    throw new UserError(
      `refusing the ${what} ${path}: owned by uid ${st.uid}, not by you (uid ${euid}) or root; another user could forge what oomtop reads back: chown ${euid} ${path}`,
    );
  }
  if ((st.mode & 0o022) !== 0) {
    throw new UserError(
      `refusing the ${what} ${path}: writable by ${st.mode & 0o002 ? 'every user' : 'its group'} (mode ${(st.mode & 0o777).toString(8)}); another user could forge what oomtop reads back: chmod go-w ${path}`,
    );
  }
}
