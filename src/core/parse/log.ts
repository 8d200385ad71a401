// A log as every killer wrote into it: each line is parsed once (prefix, time, sender) and
// given to the kernel's parser and to the user-space killers' parser. Journal export
// records are assembled first; a line repeated at once (syslog forwarding twice) is one.
import { BETWEEN, OomEventParser, type OomEvent } from './kernel-log.js';
import { KILLER_HINT, KillerLogParser, type KillerKill } from './killer-log.js';
import { LogRecords, parseLogLine } from './log-line.js';

export interface ParsedLog {
  events: OomEvent[];
  kills: KillerKill[];
  /** Entries dropped past the bounds (the oldest), kernel events and killers' kills. */
  dropped: number;
  /** Lines that named a killer but whose journal record shows another sender. */
  forged: number;
}

export class LogParser {
  readonly kernel: OomEventParser;
  readonly killers = new KillerLogParser();
  private readonly records = new LogRecords();
  private prev = '';

  constructor(private readonly opts: { year?: number } = {}) {
    this.kernel = new OomEventParser(opts);
  }

  push(raw: string): void {
    for (const r of this.records.push(raw)) this.one(r);
  }

  private one(raw: string): void {
    const kernel = this.kernel.inEvent || BETWEEN.test(raw);
    const killer = KILLER_HINT.test(raw);
    if (!kernel && !killer) return;
    if (raw === this.prev) return;
    this.prev = raw;
    const line = parseLogLine(raw, this.opts.year);
    if (kernel) this.kernel.pushLine(line);
    if (killer) this.killers.push(line);
  }

  end(): ParsedLog {
    for (const r of this.records.flush()) this.one(r);
    const events = this.kernel.end();
    const kills = this.killers.end();
    return { events, kills, dropped: this.kernel.dropped + this.killers.dropped, forged: this.killers.forged };
  }
}

export function parseLog(lines: Iterable<string>, opts: { year?: number } = {}): ParsedLog {
  const p = new LogParser(opts);
  for (const l of lines) p.push(l);
  return p.end();
}
