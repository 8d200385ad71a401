// The kernel log, from /dev/kmsg (read without consuming it), dmesg, journalctl -k, or a
// saved file, as a stream of text lines in the dmesg form "[seconds.micros] message" (the
// pure parser, core/parse/kernel-log.ts, also reads syslog prefixes). Nothing is held whole:
// a file is read in chunks, dmesg's and journalctl's output goes to a temporary file first.
// Bounds: a line over MAX_LINE is skipped (counted), a NUL byte means the file is not a text
// log, and past MAX_LOG_BYTES reading stops with an error. A source that cannot be read, or
// a journal that holds no kernel message at all, is an error, never "no OOM kill".
import { spawnSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../core/errors.js';
import { decodeUtf8 } from '../core/format.js';
import { errnoCode } from './errno.js';
import { forEachLine } from './lines.js';

export type LogSource = 'kmsg' | 'dmesg' | 'journal' | 'file';

/** More than any kernel log a machine keeps: reading stops there with an error. */
export const MAX_LOG_BYTES = 4 * 1024 ** 3;

export interface LogReadStats {
  lines: number;
  bytes: number;
  /** Lines longer than MAX_LINE: not a kernel message, skipped. */
  skippedLong: number;
}

const PERMISSION_FIX =
  'run as root, or lower kernel.dmesg_restrict to 0 (sysctl), or add the user to the adm or systemd-journal group for journalctl';

/**
 * /dev/kmsg: each read() returns one record "prio,seq,usec,flags;text" (continuation lines
 * " KEY=value" follow). Opened non-blocking, read until EAGAIN: the whole ring buffer,
 * which stays there for everyone else (reading /dev/kmsg does not consume it).
 */
export function readKmsg(path: string, onLine: (text: string) => void, stats: LogReadStats): void {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    const code = errnoCode(e);
    throw new UserError(
      `cannot read ${path} (${code})${code === 'EACCES' || code === 'EPERM' ? `: it needs root or CAP_SYSLOG while kernel.dmesg_restrict=1` : ''}`,
    );
  }
  const buf = Buffer.alloc(16384);
  try {
    for (;;) {
      let n: number;
      try {
        n = readSync(fd, buf, 0, buf.length, null);
      } catch (e) {
        const code = errnoCode(e);
        if (code === 'EAGAIN') break;
        if (code === 'EPIPE') continue; // overwritten while reading: the next record follows
        if (code === 'EPERM' || code === 'EACCES')
          throw new UserError(
            `cannot read ${path} (${code}): it needs root or CAP_SYSLOG while kernel.dmesg_restrict=1`,
          );
        throw new UserError(`cannot read ${path} (${code})`);
      }
      if (n <= 0) break;
      stats.bytes += n;
      stats.lines++;
      const semi = buf.indexOf(0x3b); // ';'
      if (semi < 0 || semi >= n) continue;
      const head = buf.toString('latin1', 0, semi).split(',');
      const usec = Number(head[2] ?? 0);
      const nl = buf.indexOf(0x0a, semi + 1);
      const text = buf.toString('latin1', semi + 1, nl < 0 || nl >= n ? n : nl);
      onLine(`[${(usec / 1e6).toFixed(6).padStart(12)}] ${unescapeKmsg(text)}`);
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * /dev/kmsg escapes every byte below 0x20, from 0x7f up, and the backslash as \xNN: the
 * bytes are put back and decoded as UTF-8 (a UTF-8 name reads as itself, a control byte or
 * an invalid one stays escaped through printable() on output).
 */
export function unescapeKmsg(text: string): string {
  if (!text.includes('\\x')) return text;
  // The record is ASCII once escaped: one character a byte, then the bytes decoded.
  const bytes = Buffer.from(
    text.replace(/\\x([0-9a-f]{2})/gi, (_, h: string) => String.fromCharCode(parseInt(h, 16))),
    'latin1',
  );
  return decodeUtf8(bytes);
}

/** Lines of an open file or pipe, with the bounds above. */
function streamFd(fd: number, what: string, onLine: (text: string) => void, stats: LogReadStats): void {
  forEachLine(fd, (line, length) => {
    stats.bytes += length + 1;
    if (stats.bytes > MAX_LOG_BYTES) {
      throw new UserError(
        `${what}: stopped after ${MAX_LOG_BYTES / 1024 ** 3} GiB: more than any kernel log; give a smaller file (or the part since the event)`,
      );
    }
    if (!line) {
      stats.skippedLong++;
      return;
    }
    const nul = line.indexOf(0);
    if (nul >= 0) {
      throw new UserError(
        `${what} holds binary data (a NUL byte near byte ${stats.bytes - length - 1 + nul}): it is not a kernel log or syslog file`,
      );
    }
    stats.lines++;
    onLine(decodeUtf8(line));
  });
}

/** Runs a command with its output in a temporary file (not in memory), then streams it. */
function runStreamed(
  cmd: string,
  args: string[],
  what: string,
  onLine: (text: string) => void,
  stats: LogReadStats,
  /** When the output held no line at all: why that means the source was not readable, or null when it was. */
  whyEmpty?: (stderr: string) => string | null,
): void {
  const dir = mkdtempSync(join(tmpdir(), 'oomtop-log-'));
  const file = join(dir, 'out');
  try {
    const out = openSync(file, 'w+', 0o600);
    try {
      const r = spawnSync(cmd, args, { stdio: ['ignore', out, 'pipe'], encoding: 'utf8', maxBuffer: 1024 * 1024 });
      if (r.error)
        throw new UserError(`cannot run ${cmd} (${errnoCode(r.error)}): install it or choose another --source`);
      const err = (r.stderr || '').trim().split('\n')[0] ?? '';
      if (r.status !== 0) throw new UserError(`${what} failed (exit ${r.status})${err ? `: ${err}` : ''}`);
      const seen = { n: 0 };
      const inFd = openSync(file, 'r');
      try {
        streamFd(
          inFd,
          what,
          (text) => {
            if (text.trim() && !text.startsWith('-- ')) seen.n++;
            onLine(text);
          },
          stats,
        );
      } finally {
        closeSync(inFd);
      }
      const why = seen.n === 0 && whyEmpty ? whyEmpty(err) : null;
      if (why) throw new UserError(`${what} ${why}`);
    } finally {
      closeSync(out);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Whether journalctl shows this user any entry at all (the newest one) for these matches. */
function journalHasLines(matches: string[]): boolean {
  const r = spawnSync('journalctl', [...matches, '-n', '1', '-q', '--no-pager'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
    maxBuffer: 1024 * 1024,
  });
  return r.status === 0 && r.stdout.split('\n').some((l) => l.trim() !== '' && !l.startsWith('-- '));
}

/**
 * A journal always holds the kernel's boot messages: none means it was not readable (with
 * --since, an empty window is fine when the journal has kernel lines at all).
 */
function noKernelLines(err: string): string | null {
  return journalHasLines(['-k'])
    ? null
    : `returned no kernel message at all${err ? ` (${err})` : ''}: the journal is not readable by this user or keeps no kernel messages`;
}

/** The identifiers the user-space killers log under (PID 1 as "systemd" for systemd-oomd's kills). */
export const KILLER_IDENTIFIERS = ['systemd-oomd', 'systemd', 'earlyoom', 'nohang', 'nohang-desktop', 'kubelet', 'k3s'];

/**
 * The user-space killers' journal lines, as `journalctl -o json` records (with the
 * journal's own _UID and _SYSTEMD_UNIT of each sender). A journal with no entry at all is
 * not readable here (no journald, or no permission): an error, never "no kill".
 */
export function streamKillerJournal(o: { since?: string }, onLine: (text: string) => void): LogReadStats {
  const stats: LogReadStats = { lines: 0, bytes: 0, skippedLong: 0 };
  const ids = KILLER_IDENTIFIERS.flatMap((t) => ['-t', t]);
  runStreamed(
    'journalctl',
    ['-o', 'json', '--no-pager', ...ids, ...(o.since ? ['--since', o.since] : [])],
    'journalctl',
    onLine,
    stats,
    (err) =>
      journalHasLines([])
        ? null
        : `returned no entry at all${err ? ` (${err})` : ''}: the journal is not readable by this user, or this machine keeps none (no journald)`,
  );
  return stats;
}

export interface KernelLogOptions {
  from?: string;
  /** journalctl --since syntax, already validated (parseSince). */
  since?: string;
  /** /dev/kmsg, or a stand-in in tests. */
  kmsgPath?: string;
}

/** Streams one source's lines to `onLine`; throws a UserError when it cannot be read. */
export function streamKernelLog(source: LogSource, o: KernelLogOptions, onLine: (text: string) => void): LogReadStats {
  const stats: LogReadStats = { lines: 0, bytes: 0, skippedLong: 0 };
  switch (source) {
    case 'kmsg':
      readKmsg(o.kmsgPath ?? '/dev/kmsg', onLine, stats);
      break;
    case 'dmesg':
      runStreamed('dmesg', [], 'dmesg', onLine, stats);
      break;
    case 'journal':
      runStreamed(
        'journalctl',
        ['-k', '-o', 'short-monotonic', '--no-pager', ...(o.since ? ['--since', o.since] : [])],
        'journalctl -k',
        onLine,
        stats,
        noKernelLines,
      );
      break;
    case 'file': {
      if (o.from === undefined || o.from === '') throw new UserError('--source file needs --from FILE');
      let fd: number;
      try {
        fd = openSync(o.from, constants.O_RDONLY);
      } catch (e) {
        throw new UserError(`cannot read ${o.from} (${errnoCode(e)}): check the path`, 2, { cause: e });
      }
      try {
        streamFd(fd, o.from, onLine, stats);
      } catch (e) {
        if (e instanceof UserError) throw e;
        throw new UserError(`cannot read ${o.from} (${errnoCode(e)}): check the path`, 2, { cause: e });
      } finally {
        closeSync(fd);
      }
      break;
    }
  }
  return stats;
}

/** Every source tried and why each failed, with the fix: the message when nothing could be read. */
export function unreadableLog(failures: ReadonlyArray<{ source: LogSource; error: string }>): string {
  const perm = failures.some((f) =>
    /EPERM|EACCES|not readable|dmesg_restrict|Operation not permitted|Permission denied/i.test(f.error),
  );
  return (
    `cannot read the kernel log, so oomtop cannot tell whether the OOM killer acted: ${failures.map((f) => `${f.source}: ${f.error}`).join('; ')}` +
    (perm
      ? `. To let it look: ${PERMISSION_FIX}; or give a saved log with --from FILE`
      : '. Give a saved log with --from FILE')
  );
}
