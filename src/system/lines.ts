// Lines of a file read in chunks, forwards or backwards, with bounded memory: a line longer
// than MAX_LINE is passed on as null with its length, never held whole.
import { fstatSync, readSync } from 'node:fs';

/** No line oomtop reads (an audit record, a kernel message) is longer; a longer one is skipped. */
export const MAX_LINE = 64 * 1024;
const CHUNK = 64 * 1024;

/** Called per line; returning false stops the reading. */
export type OnLine = (line: Buffer | null, length: number, offset: number) => unknown;

/** Lines of a file read forwards in chunks; a line over MAX_LINE is passed as null with its length. */
export function forEachLine(fd: number, onLine: OnLine): void {
  // A pipe, a FIFO or a character device is read where it stands; a file at each offset.
  const seekable = fstatSync(fd).isFile();
  const buf = Buffer.allocUnsafe(CHUNK);
  let carry: Buffer[] = [];
  let carryLen = 0;
  let lineStart = 0;
  let pos = 0;
  const emit = (piece: Buffer) => {
    const length = carryLen + piece.length;
    const line = length > MAX_LINE ? null : carryLen ? Buffer.concat([...carry, piece]) : piece;
    carry = [];
    carryLen = 0;
    return onLine(line, length, lineStart) !== false;
  };
  for (;;) {
    const n = readSync(fd, buf, 0, CHUNK, seekable ? pos : null);
    if (n <= 0) break;
    let from = 0;
    for (;;) {
      const nl = buf.indexOf(0x0a, from);
      if (nl < 0 || nl >= n) break;
      if (!emit(buf.subarray(from, nl))) return;
      from = nl + 1;
      lineStart = pos + from;
    }
    if (from < n) {
      // an unfinished line: keep its bytes only while it can still be a record
      if (carryLen + (n - from) <= MAX_LINE) carry.push(Buffer.from(buf.subarray(from, n)));
      else carry = [];
      carryLen += n - from;
    }
    pos += n;
  }
  if (carryLen) emit(Buffer.alloc(0));
}

/** Lines of a file from its end backwards, until onLine returns false. */
export function forEachLineBackward(fd: number, onLine: OnLine): void {
  const size = fstatSync(fd).size;
  let end = size;
  // After the file's last newline there is no line (a file ends with one, or its last line
  // has none and is a line of its own).
  let last = true;
  let tail: Buffer = Buffer.alloc(0); // the start of the line after this chunk, as far as read
  let tailLen = 0; // its length (more than tail.length once it grew past MAX_LINE)
  const buf = Buffer.allocUnsafe(CHUNK);
  while (end > 0) {
    const start = Math.max(0, end - CHUNK);
    const n = readSync(fd, buf, 0, end - start, start);
    let stop = n;
    for (;;) {
      const nl = stop > 0 ? buf.lastIndexOf(0x0a, stop - 1) : -1;
      if (nl < 0) break;
      const piece = buf.subarray(nl + 1, stop);
      let line: Buffer | null = piece;
      let length = piece.length;
      if (stop === n) {
        length += tailLen;
        line = length > MAX_LINE ? null : Buffer.concat([piece, tail]);
        tail = Buffer.alloc(0);
        tailLen = 0;
      }
      const skip = last && length === 0;
      last = false;
      if (!skip && onLine(line, length, start + nl + 1) === false) return;
      stop = nl;
    }
    const rest = buf.subarray(0, stop);
    const joined = stop === n ? tailLen + stop : stop;
    tail = joined > MAX_LINE ? Buffer.alloc(0) : stop === n ? Buffer.concat([rest, tail]) : Buffer.from(rest);
    tailLen = joined;
    end = start;
  }
  // the first line, from offset 0 (empty when the file starts with a newline)
  if (size > 0 && !(last && tailLen === 0)) onLine(tailLen > MAX_LINE ? null : tail, tailLen, 0);
}
