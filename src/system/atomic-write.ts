// Every file oomtop writes goes to a temp file in the same folder, is flushed, then renamed
// into place: an interrupted export never leaves half a file. Only a regular file or a new
// path is written.
import { errnoCode } from './errno.js';
import { closeSync, fsyncSync, lstatSync, openSync, renameSync, unlinkSync, writeSync, type Stats } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { UserError } from '../core/errors.js';

/** Temp names made by this process so far: with the pid, a name no other writer uses. */
let made = 0;

/**
 * What `path` is, when it exists and is not a regular file oomtop may replace: a device node,
 * FIFO, socket or folder is never replaced (as root, `--output /dev/null` would replace
 * /dev/null), and a symbolic link is not followed or replaced.
 */
function notRegular(path: string): string | null {
  let st: Stats;
  try {
    st = lstatSync(path);
  } catch (e) {
    const code = errnoCode(e);
    if (code === 'ENOENT') return null;
    throw new UserError(`cannot write ${path} (${code}): choose a writable --output path`);
  }
  if (st.isFile()) return null;
  return st.isDirectory()
    ? 'a folder'
    : st.isSymbolicLink()
      ? 'a symbolic link'
      : st.isFIFO()
        ? 'a FIFO'
        : st.isSocket()
          ? 'a socket'
          : st.isCharacterDevice() || st.isBlockDevice()
            ? 'a device node'
            : 'not a regular file';
}

/** Fails early, before any work, when `path` is not a place oomtop writes to. */
export function checkOutputPath(path: string): void {
  if (path === '') throw new UserError('--output needs a file name (got an empty one)');
  const what = notRegular(path);
  if (what)
    throw new UserError(
      `refusing to write ${path}: it is ${what}; oomtop writes only onto a regular file or a new path (to print, leave out --output)`,
    );
}

export function writeFileAtomic(path: string, data: string, mode = 0o644): void {
  checkOutputPath(path);
  const dir = dirname(path);
  let tmp = '';
  let fd = -1;
  // 'wx' (O_EXCL) never opens a file that exists: a leftover of a crashed run with a reused
  // pid only moves on to the next name. (No node:crypto: loading it costs the snapshot
  // command ~10 ms, more than the rest of this write.)
  for (let tries = 0; fd < 0; tries++) {
    tmp = join(dir, `.${basename(path)}.${process.pid}.${Date.now().toString(36)}${(made++).toString(36)}.tmp`);
    try {
      fd = openSync(tmp, 'wx', mode);
    } catch (e) {
      const code = errnoCode(e);
      if (code === 'EEXIST' && tries < 100) continue;
      throw new UserError(
        code === 'ENOENT'
          ? `cannot write ${path}: folder ${dir} does not exist; create it or choose another --output`
          : `cannot write ${path} (${code}): choose a writable --output path`,
      );
    }
  }
  try {
    writeSync(fd, data);
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, path);
  } catch (e) {
    try {
      closeSync(fd);
    } catch {
      /* already closed */
    }
    try {
      unlinkSync(tmp);
    } catch {
      /* never created or already renamed */
    }
    throw new UserError(`cannot write ${path} (${errnoCode(e)}): nothing was written`, 2, { cause: e });
  }
}
