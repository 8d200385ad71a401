// Every file oomtop writes goes to a temp file in the same folder, is flushed, then renamed
// into place: an interrupted export never leaves half a file.
import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { UserError } from '../core/errors.js';

export function writeFileAtomic(path: string, data: string, mode = 0o644): void {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  let fd: number;
  try {
    fd = openSync(tmp, 'wx', mode);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(code === 'ENOENT'
      ? `cannot write ${path}: folder ${dir} does not exist; create it or choose another --output`
      : `cannot write ${path} (${code}): choose a writable --output path`);
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
