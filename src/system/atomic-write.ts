// Every file oomtop writes goes to a temp file in the same folder, is flushed, then renamed
// into place: an interrupted export never leaves half a file.
import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { UserError } from '../core/errors.js';

/** Temp names made by this process so far: with the pid, a name no other writer uses. */
let made = 0;

export function writeFileAtomic(path: string, data: string, mode = 0o644): void {
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
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EEXIST' && tries < 100) continue;
      throw new UserError(code === 'ENOENT'
        ? `cannot write ${path}: folder ${dir} does not exist; create it or choose another --output`
        : `cannot write ${path} (${code}): choose a writable --output path`);
    }
  }
  try {
    writeSync(fd, data);
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, path);
  } catch (e) {
    try { closeSync(fd); } catch { /* already closed */ }
    try { unlinkSync(tmp); } catch { /* never created or already renamed */ }
    throw new UserError(`cannot write ${path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}): nothing was written`);
  }
}
