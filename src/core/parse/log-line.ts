// One line of a log, whatever wrote it down: dmesg, /dev/kmsg, journalctl (short,
// short-monotonic, json, export), syslog (RFC 3164, RFC 3339, RFC 5424), or a damaged or
// glued syslog prefix. What is kept: the message, its times, and who sent it (the syslog
// tag or journal identifier), so that a kernel message and a daemon's are told apart.

export interface LogLine {
  /** Seconds since boot, when the line carries them. */
  uptime: number | null;
  /** Wall clock (ISO) from a syslog or journal prefix, when it carries one. */
  wall: string | null;
  text: string;
  /**
   * Who sent it: "kernel", a syslog tag or journal identifier ("earlyoom", "systemd"), or
   * null when the line names no sender (dmesg, /dev/kmsg, a daemon's own log file).
   */
  ident: string | null;
  /** The sender's pid, when the prefix or record gives it. */
  pid: number | null;
  /**
   * What the journal itself recorded about the sender (its trusted `_UID`, `_SYSTEMD_UNIT`
   * and `_TRANSPORT` fields, which the sender cannot choose), or null when the line's form
   * carries no such record (syslog text, dmesg): there the sender cannot be verified.
   */
  origin: { uid: number | null; unit: string | null; transport: string | null } | null;
}

export const MONTHS: Record<string, number> = {
  Jan: 0,
  Feb: 1,
  Mar: 2,
  Apr: 3,
  May: 4,
  Jun: 5,
  Jul: 6,
  Aug: 7,
  Sep: 8,
  Oct: 9,
  Nov: 10,
  Dec: 11,
};

/** A syslog tag with an optional [pid]: "kernel", "systemd-oomd[62078]". */
const TAG = String.raw`([^\s:\[\]]+)(?:\[(\d+)\])?:`;
const ISO_TIME = String.raw`\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?`;
const RFC5424 = /^<\d{1,3}>1 (\S+) \S+ (\S+) (\S+) \S+ (?:-|\[.*?\]) ?(.*)$/;
const RFC3339 = new RegExp(`^(${ISO_TIME})\\s+\\S+\\s+${TAG}\\s?(.*)$`);
const RFC3164 = new RegExp(`^([A-Z][a-z]{2})\\s+(\\d{1,2}) (\\d{2}):(\\d{2}):(\\d{2})\\s+\\S+\\s+${TAG}\\s?(.*)$`);
/** journalctl -o short-monotonic: "[  529.992260] host kernel: …" or "… host earlyoom[812]: …". */
const SHORT_MONOTONIC = /^\[\s*(\d+\.\d+)\]\s+\S+\s+(kernel|[^\s:[\]]+\[\d+\]):\s?(.*)$/;

function line(text: string, o: Partial<Omit<LogLine, 'text'>> = {}): LogLine {
  return {
    uptime: o.uptime ?? null,
    wall: o.wall ?? null,
    text,
    ident: o.ident ?? null,
    pid: o.pid ?? null,
    origin: o.origin ?? null,
  };
}

function isoOrNull(text: string): string | null {
  const d = new Date(text);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

function bsdTime(year: number | undefined, mon: string, d: string, h: string, mi: string, s: string): string | null {
  const month = MONTHS[mon];
  if (year === undefined || month === undefined) return null;
  return new Date(Date.UTC(year, month, Number(d), Number(h), Number(mi), Number(s))).toISOString();
}

/** A syslog header of any of the three forms: its time, its tag and pid, and the message. */
function syslogHeader(text: string, year?: number): LogLine | null {
  const a = RFC5424.exec(text);
  if (a)
    return line(a[4] as string, {
      wall: isoOrNull(a[1] as string),
      ident: a[2] === '-' ? null : (a[2] as string),
      pid: /^\d+$/.test(a[3] as string) ? Number(a[3]) : null,
    });
  const b = RFC3339.exec(text);
  if (b) return line(b[4] as string, { wall: isoOrNull(b[1] as string), ident: b[2] as string, pid: num(b[3]) });
  // Python's logging (nohang's own log file): "2026-11-26 08:33:04,123: message", local time taken as UTC
  const p = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}),(\d{3}): (.*)$/.exec(text);
  if (p) return line(p[4] as string, { wall: isoOrNull(`${p[1]}T${p[2]}.${p[3]}Z`) });
  const c = RFC3164.exec(text);
  if (c && MONTHS[c[1] as string] !== undefined)
    return line(c[8] as string, {
      wall: bsdTime(year, c[1] as string, c[2] as string, c[3] as string, c[4] as string, c[5] as string),
      ident: c[6] as string,
      pid: num(c[7]),
    });
  return null;
}

function num(s: string | undefined): number | null {
  return s === undefined || !/^\d+$/.test(s) ? null : Number(s);
}

/**
 * Strips dmesg, journal and syslog prefixes. `year` completes syslog dates without one.
 */
export function parseLogLine(raw: string, year?: number): LogLine {
  let text = raw.replace(/\r$/, '');
  const record = journalOrKmsgRecord(text);
  if (record) return record;
  let wall: string | null = null;
  let ident: string | null = null;
  const header = syslogHeader(text, year);
  if (header) {
    if (header.ident !== 'kernel') return header;
    ({ wall, ident, text } = header);
  }
  // Any other prefix (a damaged or glued timestamp, "Jul 611:39:55 host kernel: ...", an
  // unknown forwarder's header): the kernel's message is found by what it is, the syslog
  // "kernel:" tag or the kernel's own "[seconds.micros]" stamp, not by the prefix's shape.
  if (!/^\[\s*\d+\.\d+\]/.test(text)) {
    const tag = /(?:^|\s)kernel:\s?(.*)$/.exec(text);
    const stamp = tag ? null : /(?:^|\s)(\[\s*\d+\.\d{6}\]\s?.*)$/.exec(text);
    if (tag || stamp) {
      if (wall === null && year !== undefined) wall = gluedSyslogTime(text, year);
      if (tag) ident = 'kernel';
      text = (tag ? tag[1] : (stamp as RegExpExecArray)[1]) as string;
    }
  }
  let m = SHORT_MONOTONIC.exec(text);
  if (m) {
    const t = /^([^[]+)(?:\[(\d+)\])?$/.exec(m[2] as string);
    const who = t?.[1] ?? 'kernel';
    if (who !== 'kernel') return line(m[3] as string, { uptime: Number(m[1]), ident: who, pid: num(t?.[2]) });
    return line(m[3] as string, { uptime: Number(m[1]), wall, ident: 'kernel' });
  }
  // dmesg / kmsg: [  529.992260] ...
  m = /^\[\s*(\d+\.\d+)\]\s?(.*)$/.exec(text);
  if (m) return line(m[2] as string, { uptime: Number(m[1]), wall, ident });
  // dmesg -T: [Thu Nov 26 08:33:04 2026] ...
  m = /^\[(?:[A-Z][a-z]{2} )?([A-Z][a-z]{2}) +(\d{1,2}) (\d{2}):(\d{2}):(\d{2}) (\d{4})\]\s?(.*)$/.exec(text);
  if (m && MONTHS[m[1] as string] !== undefined) {
    const t = bsdTime(Number(m[6]), m[1] as string, m[2] as string, m[3] as string, m[4] as string, m[5] as string);
    return line(m[7] as string, { wall: t, ident });
  }
  return line(text, { wall, ident });
}

/** A journal JSON record's field as a string (journalctl prints numbers as strings). */
function field(o: Record<string, unknown>, key: string): string | null {
  const v = o[key];
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : null;
}

/** A `journalctl -o json` record: the message, its times, its sender and what the journal knows of it. */
export function journalRecord(o: Record<string, unknown>): LogLine | null {
  if (typeof o.MESSAGE !== 'string') return null;
  const mono = Number(o._SOURCE_MONOTONIC_TIMESTAMP ?? o.__MONOTONIC_TIMESTAMP);
  const real = Number(o.__REALTIME_TIMESTAMP);
  const kernel = field(o, '_TRANSPORT') === 'kernel';
  const m = kernel ? /^\[\s*(\d+\.\d+)\]\s?(.*)$/.exec(o.MESSAGE) : null;
  const uid = field(o, '_UID');
  return line(m ? (m[2] as string) : o.MESSAGE, {
    uptime: m ? Number(m[1]) : Number.isFinite(mono) && mono > 0 ? mono / 1e6 : null,
    wall: Number.isFinite(real) && real > 0 ? new Date(Math.floor(real / 1000)).toISOString() : null,
    ident: kernel ? 'kernel' : (field(o, 'SYSLOG_IDENTIFIER') ?? field(o, '_COMM')),
    pid: num(field(o, '_PID') ?? field(o, 'SYSLOG_PID') ?? undefined),
    origin: {
      uid: uid !== null && /^\d+$/.test(uid) ? Number(uid) : null,
      unit: field(o, '_SYSTEMD_UNIT'),
      transport: field(o, '_TRANSPORT'),
    },
  });
}

/**
 * A record of a saved /dev/kmsg ("6,1234,529992260,-;text", uptime in µs), of
 * `journalctl -o json` (one object a line) or a lone `MESSAGE=` line of `journalctl -o
 * export` (LogRecords assembles whole export records): the message with its times, or null
 * for anything else.
 */
function journalOrKmsgRecord(text: string): LogLine | null {
  const m = /^\d{1,3},\d+,(\d+),[^;]*;(.*)$/.exec(text);
  if (m) return line(m[2] as string, { uptime: Number(m[1]) / 1e6 });
  if (text.startsWith('MESSAGE=')) return line(text.slice(8));
  if (text.startsWith('{') && text.includes('"MESSAGE"')) {
    try {
      const o = JSON.parse(text) as unknown;
      return o && typeof o === 'object' ? journalRecord(o as Record<string, unknown>) : null;
    } catch {
      return null;
    }
  }
  return null;
}

/** A BSD syslog time at the start of a line, also with its fields run together ("Jul 611:39:55"). */
function gluedSyslogTime(text: string, year: number): string | null {
  const m = /^([A-Z][a-z]{2})\s*(\d{1,2})\s*(\d{2}):(\d{2}):(\d{2})/.exec(text);
  const month = m ? MONTHS[m[1] as string] : undefined;
  if (!m || month === undefined) return null;
  const [d, h, mi, se] = [m[2], m[3], m[4], m[5]].map(Number) as [number, number, number, number];
  if (d < 1 || d > 31 || h > 23 || mi > 59 || se > 59) return null;
  return new Date(Date.UTC(year, month, d, h, mi, se)).toISOString();
}

/**
 * `journalctl -o export` writes a record as KEY=value lines and a blank line, in any field
 * order (the trusted _UID and _SYSTEMD_UNIT often after MESSAGE). `push` returns the lines
 * to parse: an ordinary line as itself, an export record as one JSON line once whole.
 */
export class LogRecords {
  private fields: Record<string, string> | null = null;
  private static readonly FIELD = /^([A-Z_][A-Z0-9_]*)=(.*)$/;
  /** More fields than any journal record has: the text is not an export record. */
  private static readonly MAX_FIELDS = 256;

  push(raw: string): string[] {
    const f = LogRecords.FIELD.exec(raw);
    if (f) {
      this.fields ??= {};
      if (Object.keys(this.fields).length < LogRecords.MAX_FIELDS) this.fields[f[1] as string] = f[2] as string;
      return [];
    }
    const out = this.flush();
    if (raw.trim() !== '') out.push(raw);
    return out;
  }

  /** The record under way, if any (at a blank line, another line, or the end). */
  flush(): string[] {
    const f = this.fields;
    this.fields = null;
    if (!f) return [];
    return typeof f.MESSAGE === 'string' ? [JSON.stringify(f)] : [];
  }
}

/**
 * Whether a line is the kernel's: dmesg, kmsg, a "kernel:" syslog tag, or a journal record
 * the kernel itself sent (_TRANSPORT=kernel). `logger -t kernel` writes a journal record
 * with another transport: not the kernel's.
 */
export function fromKernel(l: LogLine): boolean {
  if (l.origin) return l.origin.transport === 'kernel';
  return l.ident === null || l.ident === 'kernel';
}
