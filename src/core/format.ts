// Human formatting shared by the table export and the dashboard.

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/** 1536 -> "1.5 KiB"; one decimal under 10 units, none above. */
export function formatBytes(bytes: number | null): string {
  if (bytes === null) return '?';
  const neg = bytes < 0;
  let v = Math.abs(bytes);
  let u = 0;
  while (v >= 1024 && u < UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  const s = u === 0 ? String(v) : v < 10 ? v.toFixed(1) : String(Math.round(v));
  return `${neg ? '-' : ''}${s} ${UNITS[u]}`;
}

export function formatPages(pages: number | null, pageSize: number): string {
  return pages === null ? '?' : formatBytes(pages * pageSize);
}

/** "45 s", "12 min", "2.5 h". */
export function formatDuration(s: number): string {
  if (s < 120) return `${Math.round(s)} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

/** "~3 min (103 s–5 min)": a time with its bounds, the bounds only when they are more than 20% apart. */
export function formatTimeRange(t: { seconds: number; low: number; high: number }): string {
  const range = t.high - t.low > 0.2 * t.seconds ? ` (${formatDuration(t.low)}–${formatDuration(t.high)})` : '';
  return `~${formatDuration(t.seconds)}${range}`;
}

/** 1234567 -> "1,234,567" (fixed, locale-independent). */
export function formatInt(n: number | null): string {
  if (n === null) return '?';
  const s = String(Math.abs(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return n < 0 ? `-${s}` : s;
}

export function formatPercent(fraction: number | null, digits = 1): string {
  return fraction === null || !Number.isFinite(fraction) ? '?' : `${(fraction * 100).toFixed(digits)}%`;
}

// Grapheme clusters, for cutting text at cells. Made on first use: the first Intl.Segmenter
// loads ICU's break rules (~10 ms), which a command that prints only JSON or ASCII never needs.
let segmenter: Intl.Segmenter | null = null;
const graphemes = (text: string) => (segmenter ??= new Intl.Segmenter()).segment(text);

/**
 * The cell width of text that is not printable ASCII: string-width (East Asian width,
 * emoji, zero-width marks), handed in by the program (src/cell-widths.ts), which loads it
 * only when such a text is first measured.
 */
let wideWidth: ((text: string) => number) | null = null;

export function useCellWidths(width: (text: string) => number): void {
  wideWidth = width;
}

/**
 * Characters of one cell that never join a neighbour into one grapheme, besides printable
 * ASCII: Latin-1 and Latin Extended letters, general punctuation, arrows, mathematical and
 * technical signs, box drawing, blocks, geometric shapes, symbols and dingbats, less those
 * string-width counts otherwise (emoji shown two cells wide, the soft hyphen, bidi
 * controls). Everything oomtop draws itself (─ │ ▶ … · → ✓ ⚠ ▁…█) is here, so a screen of
 * ASCII names never loads string-width and ICU's break rules (~70 ms, a few MiB). The test
 * proves every entry against string-width and Intl.Segmenter.
 */
export const NARROW_RANGES: ReadonlyArray<readonly [number, number]> = [
  [0xa0, 0x24f],
  [0x2010, 0x205e],
  [0x2190, 0x23ff],
  [0x2500, 0x27bf],
  // the first private-use character: the dashboard's own soft break marker (tui/fit.ts)
  [0xe000, 0xe000],
];
const NOT_NARROW: readonly number[] = [
  0xad, 0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x231a, 0x231b, 0x2329, 0x232a, 0x23e9, 0x23ea, 0x23eb, 0x23ec, 0x23f0,
  0x23f3, 0x25fd, 0x25fe, 0x2614, 0x2615, 0x2630, 0x2631, 0x2632, 0x2633, 0x2634, 0x2635, 0x2636, 0x2637, 0x2648,
  0x2649, 0x264a, 0x264b, 0x264c, 0x264d, 0x264e, 0x264f, 0x2650, 0x2651, 0x2652, 0x2653, 0x267f, 0x268a, 0x268b,
  0x268c, 0x268d, 0x268e, 0x268f, 0x2693, 0x26a1, 0x26aa, 0x26ab, 0x26bd, 0x26be, 0x26c4, 0x26c5, 0x26ce, 0x26d4,
  0x26ea, 0x26f2, 0x26f3, 0x26f5, 0x26fa, 0x26fd, 0x2705, 0x270a, 0x270b, 0x2728, 0x274c, 0x274e, 0x2753, 0x2754,
  0x2755, 0x2757, 0x2795, 0x2796, 0x2797, 0x27b0, 0x27bf,
];
const NARROW_END = 0xe001;
let narrowTable: Uint8Array | null = null;

function makeNarrowTable(): Uint8Array {
  const t = new Uint8Array(NARROW_END);
  for (let c = 0x20; c < 0x7f; c++) t[c] = 1;
  for (const [a, b] of NARROW_RANGES) t.fill(1, a, b + 1);
  for (const c of NOT_NARROW) t[c] = 0;
  return t;
}

/** Whether every character of text is one cell wide and its own grapheme (NARROW_RANGES). */
export function oneCellEach(text: string): boolean {
  if (ASCII.test(text)) return true;
  const t = (narrowTable ??= makeNarrowTable());
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= NARROW_END || t[c] === 0) return false;
  }
  return true;
}

function stringWidth(text: string): number {
  // printable ASCII (almost every /proc text) and the narrow signs: one character, one cell
  if (oneCellEach(text)) return text.length;
  if (wideWidth === null) throw new Error('internal error: no cell widths for non-ASCII text (installCellWidths)');
  return wideWidth(text);
}

/** Terminal cells of a text (string-width: East Asian width, emoji, zero-width marks). */
export function cells(text: string): number {
  return stringWidth(text);
}

/** The longest prefix of `text` that fits `width` cells, cut at a grapheme boundary. */
function headCells(text: string, width: number): string {
  let out = '';
  let used = 0;
  for (const { segment } of graphemes(text)) {
    const w = stringWidth(segment);
    if (used + w > width) break;
    out += segment;
    used += w;
  }
  return out;
}

/** The longest suffix of `text` that fits `width` cells. */
function tailCells(text: string, width: number): string {
  const segs = [...graphemes(text)].map((s) => s.segment);
  let out = '';
  let used = 0;
  for (let i = segs.length - 1; i >= 0; i--) {
    const w = stringWidth(segs[i] as string);
    if (used + w > width) break;
    out = (segs[i] as string) + out;
    used += w;
  }
  return out;
}

const pad = (t: string, width: number, align: 'left' | 'right') => {
  const fill = ' '.repeat(Math.max(0, width - stringWidth(t)));
  return align === 'left' ? t + fill : fill + t;
};

/** Escapes (printable()), then pads or cuts to exactly `width` terminal cells; a cut ends in '…'. */
export function fit(raw: string, width: number, align: 'left' | 'right' = 'left'): string {
  if (width <= 0) return '';
  const text = printable(raw);
  // ASCII (almost every /proc text), and the narrow signs: one character, one cell.
  const t = oneCellEach(text)
    ? text.length > width
      ? width > 1
        ? `${text.slice(0, width - 1)}…`
        : text.slice(0, width)
      : text
    : stringWidth(text) > width
      ? width > 1
        ? `${headCells(text, width - 1)}…`
        : headCells(text, width)
      : text;
  return oneCellEach(t) ? (align === 'left' ? t.padEnd(width) : t.padStart(width)) : pad(t, width, align);
}

const ASCII = /^[\x20-\x7e]*$/;

/**
 * The one escaping function for text that came from outside (comm, cmdline, cgroup path,
 * unit, user name, kernel log text, an argument echoed back). Control characters cannot
 * reach a terminal: C0 and DEL as \xNN, C1 (U+0080-U+009F, e.g. CSI U+009B) and the
 * bidirectional overrides and isolates as \uNNNN, and bytes that were not valid UTF-8
 * (decoded by decodeUtf8() as U+DC80-U+DCFF, Python's "surrogateescape") as \xNN again.
 * Any other lone surrogate is shown as \uNNNN. Newlines and tabs are escaped too: one
 * field stays on one line.
 */
export function printable(text: string): string {
  return UNSAFE.test(text) ? text.replace(UNSAFE_ALL, escapeChar) : text;
}

/**
 * The same for a whole text output (tables, messages, error lines): newlines and tabs stay,
 * everything else printable() escapes is escaped. The last guard before a terminal.
 */
export function printableText(text: string): string {
  return UNSAFE_TEXT.test(text) ? text.replace(UNSAFE_TEXT_ALL, escapeChar) : text;
}

/** JSON.stringify, with jsonSafe(): the form of every JSON oomtop prints or writes. */
export function toJson(value: unknown, indent?: number): string {
  return jsonSafe(JSON.stringify(value, null, indent));
}

/** JSON text: JSON.stringify leaves DEL, C1, bidi controls raw; escape them the JSON way. */
export function jsonSafe(json: string): string {
  return UNSAFE_JSON.test(json)
    ? json.replace(UNSAFE_JSON_ALL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
    : json;
}

const CLASS = '\\x00-\\x1f\\x7f-\\x9f\\u061c\\u200e\\u200f\\u202a-\\u202e\\u2066-\\u2069';
const LONE = '[\\ud800-\\udbff](?![\\udc00-\\udfff])|(?<![\\ud800-\\udbff])[\\udc00-\\udfff]';
const UNSAFE = new RegExp(`[${CLASS}]|${LONE}`);
const UNSAFE_ALL = new RegExp(UNSAFE.source, 'g');
const TEXT_CLASS = '\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f\\u061c\\u200e\\u200f\\u202a-\\u202e\\u2066-\\u2069';
const UNSAFE_TEXT = new RegExp(`[${TEXT_CLASS}]|${LONE}`);
const UNSAFE_TEXT_ALL = new RegExp(UNSAFE_TEXT.source, 'g');
const UNSAFE_JSON = /[\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;
const UNSAFE_JSON_ALL = new RegExp(UNSAFE_JSON.source, 'g');

function escapeChar(c: string): string {
  const code = c.charCodeAt(0);
  if (code < 0x80) return `\\x${code.toString(16).padStart(2, '0')}`;
  if (code >= 0xdc80 && code <= 0xdcff) return `\\x${(code - 0xdc00).toString(16)}`;
  return `\\u${code.toString(16).padStart(4, '0')}`;
}

/**
 * Decodes UTF-8 bytes; a byte that is not part of a valid sequence becomes U+DC80+byte
 * (surrogateescape), so printable() shows it as \xNN and nothing is silently replaced.
 * The fast path (valid UTF-8, nearly all of /proc) is the platform decoder.
 */
export function decodeUtf8(bytes: Uint8Array, start = 0, end = bytes.length): string {
  const text = utf8.decode(bytes.subarray(start, end));
  if (!text.includes('\ufffd')) return text;
  let out = '';
  let i = start;
  while (i < end) {
    const b = bytes[i] as number;
    const need =
      b < 0x80 ? 0 : b >= 0xc2 && b <= 0xdf ? 1 : b >= 0xe0 && b <= 0xef ? 2 : b >= 0xf0 && b <= 0xf4 ? 3 : -1;
    if (need === 0) {
      out += String.fromCharCode(b);
      i++;
      continue;
    }
    let ok = need > 0 && i + need < end;
    if (ok) {
      for (let k = 1; k <= need; k++) if (((bytes[i + k] as number) & 0xc0) !== 0x80) ok = false;
      // overlong and surrogate forms are invalid too
      const b1 = bytes[i + 1] as number;
      if (ok && b === 0xe0 && b1 < 0xa0) ok = false;
      if (ok && b === 0xed && b1 >= 0xa0) ok = false;
      if (ok && b === 0xf0 && b1 < 0x90) ok = false;
      if (ok && b === 0xf4 && b1 >= 0x90) ok = false;
    }
    if (!ok) {
      out += String.fromCharCode(0xdc00 + b);
      i++;
      continue;
    }
    out += utf8.decode(bytes.subarray(i, i + need + 1));
    i += need + 1;
  }
  return out;
}

const utf8 = new TextDecoder('utf-8');

/** Escapes, then cuts from the left to `width` cells, keeping the end of a path (the part that names the unit). */
export function fitPath(raw: string, width: number): string {
  if (width <= 0) return '';
  const text = printable(raw);
  if (oneCellEach(text))
    return text.length > width ? `…${text.slice(text.length - width + 1)}`.padEnd(width) : text.padEnd(width);
  return stringWidth(text) > width ? pad(`…${tailCells(text, width - 1)}`, width, 'left') : pad(text, width, 'left');
}

/** Fits a cell (escaped: every cell may hold outside text): right-aligned, left-aligned, or cut at the start for paths. */
export function fitCell(text: string, width: number, col: { align: 'left' | 'right'; cutLeft?: boolean }): string {
  return col.cutLeft ? fitPath(text, width) : fit(text, width, col.align);
}

/** Shortens 64-hex container ids inside a cgroup path to 12 characters. */
export function shortCgroup(path: string): string {
  return path.replace(/([0-9a-f]{12})[0-9a-f]{52}/g, '$1…');
}
