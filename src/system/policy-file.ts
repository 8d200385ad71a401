// Reads a policy file. Running as root, a policy that others can change is refused (as sudo
// refuses such a sudoers): whoever can edit it could make any process expendable. The file
// is opened once and the checks are made on that descriptor (fstat), then the same
// descriptor is read: a symbolic link swapped after the check cannot load another file.
// The folders on the way to it must not be writable by others either (sudo's rule), or the
// file itself could be swapped for another between two reads.
import {
  closeSync,
  constants,
  fstatSync,
  lstatSync,
  openSync,
  readFileSync,
  realpathSync,
  statSync,
  type Stats,
} from 'node:fs';
import { dirname } from 'node:path';
import { UserError } from '../core/errors.js';
import { decodeUtf8 } from '../core/format.js';
import { formatPolicyErrors, parsePolicy, type Policy } from '../core/policy.js';
import { errnoCode } from './errno.js';

export function loadPolicyFile(path: string, euid = process.geteuid?.() ?? 0): Policy {
  if (path === '') throw new UserError('--policy needs a file name (got an empty one)');
  let real: string;
  try {
    real = realpathSync(path);
  } catch (e) {
    throw new UserError(`cannot read policy ${path} (${errnoCode(e)}): check the path`, 2, { cause: e });
  }
  if (euid === 0)
    for (let child = real, d = dirname(real); child !== d; child = d, d = dirname(d)) checkFolder(d, child, path);
  let fd: number;
  try {
    fd = openSync(real, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (e) {
    throw new UserError(`cannot read policy ${path} (${errnoCode(e)}): check the path`, 2, { cause: e });
  }
  let text: string;
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new UserError(`refusing policy ${path}: it is not a regular file`);
    if (euid === 0 && (st.mode & 0o022) !== 0) {
      throw new UserError(
        `refusing policy ${path}: it is writable by ${st.mode & 0o002 ? 'every user' : 'its group'} (mode ${(st.mode & 0o777).toString(8)}); as root oomtop only reads a policy others cannot change: chmod go-w ${real}`,
      );
    }
    if (euid === 0 && st.uid !== 0) {
      throw new UserError(
        `refusing policy ${path}: owned by uid ${st.uid}, not root; as root oomtop only reads a policy others cannot change: chown root ${real}`,
      );
    }
    if (st.size > 4 * 1024 * 1024)
      throw new UserError(`refusing policy ${path}: ${st.size} bytes is not a policy (at most 4 MiB)`);
    text = decodeUtf8(readFileSync(fd));
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError(`cannot read policy ${path} (${errnoCode(e)}): check the path`, 2, { cause: e });
  } finally {
    closeSync(fd);
  }
  const parsed = parsePolicy(text, path);
  if (!parsed.policy)
    throw new UserError(
      `${formatPolicyErrors(parsed.errors)}\npolicy ${path} has ${parsed.errors.length} error(s): nothing was applied`,
    );
  return parsed.policy;
}

/**
 * A folder on the way to a root-read policy: nobody but root may replace `child` in it. That
 * holds for a folder only root can write, and for a sticky one (/tmp) when `child` is root's.
 */
function checkFolder(dir: string, child: string, path: string): void {
  let st: Stats;
  let childUid: number;
  try {
    st = statSync(dir);
    childUid = lstatSync(child).uid;
  } catch (e) {
    throw new UserError(`cannot read policy ${path}: folder ${dir} (${errnoCode(e)})`, 2, { cause: e });
  }
  const othersWrite = st.uid !== 0 || (st.mode & 0o022) !== 0;
  const sticky = (st.mode & 0o1000) !== 0 && st.uid === 0;
  if (othersWrite && !(sticky && childUid === 0)) {
    throw new UserError(
      `refusing policy ${path}: folder ${dir} is ${st.uid !== 0 ? `owned by uid ${st.uid}` : `writable by ${st.mode & 0o002 ? 'every user' : 'its group'}`}, so another user could swap ${child}; as root oomtop only reads a policy in folders only root can change: move it (e.g. to /etc/oomtop/)`,
    );
  }
}
