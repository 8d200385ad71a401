// Fitting blessed-tagged lines (already escaped: outside text went through esc()) to a
// box's width in terminal cells: a line that is too long is wrapped at spaces or cut with
// '…', never cut silently by the terminal. Tags ({bold}, {/red-fg}) take no cell; {open}
// and {close} are one brace each.
import { cells } from '../core/format.js';

/** In a line: a space where it fits, else the place to break it (before ' · ' separators too). */
export const SOFT = '\uE000';

const TOKEN = /\{(?:open|close|\/?[a-z][\w-]*|\/)\}|[^{]+|\{/g;

interface Token {
  text: string;
  /** Cells on screen (0 for a tag). */
  width: number;
  tag: boolean;
}

function tokens(line: string): Token[] {
  const out: Token[] = [];
  for (const m of line.matchAll(TOKEN)) {
    const t = m[0];
    if (t === '{open}' || t === '{close}') out.push({ text: t, width: 1, tag: false });
    else if (t.length > 2 && t.startsWith('{') && t.endsWith('}')) out.push({ text: t, width: 0, tag: true });
    else out.push({ text: t, width: cells(t), tag: false });
  }
  return out;
}

/** Cells a tagged line takes on screen. */
export function taggedCells(line: string): number {
  return tokens(line).reduce((n, t) => n + t.width, 0);
}

/** The head of a plain (tag-free) text that fits `width` cells. */
function headOf(text: string, width: number): string {
  let out = '';
  let used = 0;
  for (const ch of text) {
    const w = cells(ch);
    if (used + w > width) break;
    out += ch;
    used += w;
  }
  return out;
}

/** Cuts a tagged line to `width` cells; a cut ends in '…'. The tags after the cut are kept, so colours close. */
export function clipTagged(line: string, width: number): string {
  if (width <= 0) return '';
  if (taggedCells(line) <= width) return line;
  let room = width - 1;
  let out = '';
  let cut = false;
  for (const t of tokens(line)) {
    if (t.tag) out += t.text;
    else if (cut) continue;
    else if (t.width <= room) {
      out += t.text;
      room -= t.width;
    } else {
      // {open}/{close} cannot be split: they go whole or not at all
      out += t.text.startsWith('{') ? '' : headOf(t.text, room);
      out += '…';
      cut = true;
    }
  }
  return out;
}

/**
 * Wraps a tagged line into lines of at most `width` cells, the continuation lines indented:
 * at its ' · ' separators first (a number keeps its unit), at spaces inside a part that is
 * longer than a line, and a word longer than a line is cut with '…'.
 */
export function wrapTagged(line: string, width: number, indent = '  '): string[] {
  if (taggedCells(line) <= width) return [line.replaceAll(SOFT, ' ')];
  // [part, the separator before it]
  const parts: Array<[string, string]> = [];
  let sep = '';
  for (const piece of line.split(/( · |\uE000)/)) {
    if (piece === ' · ' || piece === SOFT) sep = piece === SOFT ? ' ' : piece;
    else {
      parts.push([piece, sep]);
      sep = '';
    }
  }
  const out: string[] = [];
  let cur = '';
  for (const [part, before] of parts) {
    const next = cur === '' ? part : `${cur}${before}${part}`;
    if (taggedCells(next) <= width) {
      cur = next;
      continue;
    }
    if (cur !== '') out.push(cur);
    const lead = out.length ? indent : '';
    if (taggedCells(lead + part) <= width) cur = lead + part;
    else {
      const words = wrapWords(part, width, indent, lead);
      out.push(...words.slice(0, -1));
      cur = words.at(-1) ?? '';
    }
  }
  out.push(cur);
  return out.map((l) => clipTagged(l.trimEnd(), width));
}

/** Wraps at spaces (a tag stays with the word it touches); the first line starts with `lead`. */
function wrapWords(line: string, width: number, indent: string, lead: string): string[] {
  const words: string[] = [];
  let word = '';
  for (const t of tokens(line)) {
    if (t.tag || !t.text.includes(' ')) {
      word += t.text;
      continue;
    }
    const pieces = t.text.split(' ');
    pieces.forEach((p, i) => {
      word += p;
      if (i < pieces.length - 1) {
        words.push(word);
        word = '';
      }
    });
  }
  words.push(word);
  const out: string[] = [];
  let cur = lead;
  for (const w of words) {
    const next = cur.trim() === '' ? cur + w : `${cur} ${w}`;
    if (taggedCells(next) <= width || taggedCells(cur.trim()) === 0) cur = next;
    else {
      out.push(cur);
      cur = indent + w;
    }
  }
  out.push(cur);
  return out;
}

/**
 * Lines for a box of `height` lines and `width` cells: each wrapped; when they are more than
 * fit, the last line that fits says how many were cut.
 */
export function fitBox(lines: readonly string[], width: number, height: number): string[] {
  const wrapped = lines.flatMap((l) => wrapTagged(l, width));
  if (wrapped.length <= height) return wrapped;
  const shown = wrapped.slice(0, Math.max(0, height - 1));
  const more = wrapped.length - shown.length;
  return [...shown, clipTagged(`{cyan-fg}… ${more} more line${more === 1 ? '' : 's'}{/cyan-fg}`, width)];
}
