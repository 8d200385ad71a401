// The kernel log, from /dev/kmsg (read without consuming it), dmesg, journalctl -k, or a
// saved file. Returns text lines in the dmesg form "[seconds.micros] message", which the
// pure parser (core/parse/kernel-log.ts) understands along with syslog prefixes.
import { spawnSync } from 'node:child_process';
import { closeSync, constants, openSync, readFileSync, readSync } from 'node:fs';
import { UserError } from '../core/errors.js';
import { decodeUtf8 } from '../core/format.js';

export type LogSource = 'kmsg' | 'dmesg' | 'journal' | 'file';

/**
 * /dev/kmsg: each read() returns one record "prio,seq,usec,flags;text" (continuation lines
 * " KEY=value" follow). Opened non-blocking, read until EAGAIN: the whole ring buffer,
 * which stays there for everyone else (reading /dev/kmsg does not consume it).
 */
export function readKmsg(path = '/dev/kmsg'): string[] {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(`cannot read ${path} (${code}): ${code === 'EACCES' || code === 'EPERM' ? 'reading the kernel log needs root or CAP_SYSLOG (or kernel.dmesg_restrict=0)' : 'try --source dmesg, journal or --from FILE'}`);
  }
  const buf = Buffer.alloc(16384);
  const lines: string[] = [];
  try {
    for (;;) {
      let n: number;
      try {
        n = readSync(fd, buf, 0, buf.length, null);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN') break;
        if (code === 'EPIPE') continue; // overwritten while reading: the next record follows
        throw e;
      }
      if (n <= 0) break;
      const rec = buf.toString('utf8', 0, n);
      const semi = rec.indexOf(';');
      const head = rec.slice(0, semi).split(',');
      const usec = Number(head[2] ?? 0);
      const text = rec.slice(semi + 1).split('\n')[0] ?? '';
      lines.push(`[${(usec / 1e6).toFixed(6).padStart(12)}] ${unescapeKmsg(text)}`);
    }
  } finally {
    closeSync(fd);
  }
  return lines;
}

/**
 * /dev/kmsg escapes every byte below 0x20, from 0x7f up, and the backslash as \xNN: the
 * bytes are put back and decoded as UTF-8 (a UTF-8 name reads as itself, a control byte or
 * an invalid one stays escaped through printable() on output).
 */
export function unescapeKmsg(text: string): string {
  if (!text.includes('\\x')) return text;
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '\\' && text[i + 1] === 'x' && /^[0-9a-f]{2}$/i.test(text.slice(i + 2, i + 4))) {
      bytes.push(parseInt(text.slice(i + 2, i + 4), 16));
      i += 3;
    } else {
      for (const b of Buffer.from(text[i] as string, 'utf8')) bytes.push(b);
    }
  }
  return decodeUtf8(Uint8Array.from(bytes));
}

function run(cmd: string, args: string[], what: string): string[] {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (r.error) throw new UserError(`cannot run ${cmd} (${(r.error as NodeJS.ErrnoException).code}): install it or choose another --source`);
  if (r.status !== 0) throw new UserError(`${what} failed (exit ${r.status}): ${(r.stderr || '').trim().split('\n')[0]}`);
  return r.stdout.split('\n');
}

export function readKernelLog(source: LogSource, o: { from?: string; since?: string } = {}): string[] {
  switch (source) {
    case 'kmsg': return readKmsg();
    case 'dmesg': return run('dmesg', [], 'dmesg');
    case 'journal': return run('journalctl', ['-k', '-o', 'short-monotonic', '--no-pager', ...(o.since ? ['--since', o.since] : [])], 'journalctl -k');
    case 'file': {
      if (!o.from) throw new UserError('--source file needs --from FILE');
      try {
        return readFileSync(o.from, 'utf8').split('\n');
      } catch (e) {
        throw new UserError(`cannot read ${o.from} (${(e as NodeJS.ErrnoException).code}): check the path`);
      }
    }
  }
}
