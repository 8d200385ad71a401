// The one escaping function and cell widths: what outside text may put on a terminal.
import stringWidth from 'string-width';
import { describe, expect, it } from 'vitest';
import {
  cells,
  decodeUtf8,
  fit,
  fitCell,
  fitPath,
  jsonSafe,
  NARROW_RANGES,
  oneCellEach,
  printable,
  printableText,
} from '../../src/core/format.js';

/** No control character at all (a field), or none but newline and tab (a text). */
const CONTROL = /[\x00-\x1f\x7f-\x9f]/;

describe('printable', () => {
  it('escapes C0, DEL, ESC sequences, newlines and tabs as \\xNN', () => {
    expect(printable('a\x1b[31mb\x07c\x7fd\ne\tf\x00')).toBe('a\\x1b[31mb\\x07c\\x7fd\\x0ae\\x09f\\x00');
  });
  it('escapes C1 controls (CSI U+009B) and bidi overrides and isolates', () => {
    expect(printable('x\u009b31my\u0085')).toBe('x\\u009b31my\\u0085');
    expect(printable('evil\u202eexe.txt\u2066\u2069\u200f')).toBe('evil\\u202eexe.txt\\u2066\\u2069\\u200f');
  });
  it('leaves ordinary text, wide characters and emoji alone', () => {
    for (const t of ['nginx', '日本語ab', 'café', '🙂 x', 'dev-disk-by\\x2duuid.device']) expect(printable(t)).toBe(t);
  });
  it('shows bytes that were not UTF-8 as \\xNN, never as U+FFFD or raw', () => {
    const b = Buffer.from([0x61, 0xff, 0xe6, 0x97, 0xa5, 0xc3, 0x28, 0xed, 0xa0, 0x80, 0x62, 0x9b]);
    const s = decodeUtf8(b);
    expect(printable(s)).toBe('a\\xff日\\xc3(\\xed\\xa0\\x80b\\x9b');
    // a real U+FFFD in valid UTF-8 stays what it is
    expect(decodeUtf8(Buffer.from('a\ufffdb'))).toBe('a\ufffdb');
    // the encoded output is valid UTF-8 with no control character
    const out = Buffer.from(printable(s), 'utf8');
    expect(new TextDecoder('utf-8', { fatal: true }).decode(out)).toBe(printable(s));
  });
  it('escapes a lone surrogate that did not come from decodeUtf8', () => {
    expect(printable('a\ud800b')).toBe('a\\ud800b');
    expect(printable('😀')).toBe('😀');
  });
});

describe('printableText and jsonSafe', () => {
  it('keeps newlines and tabs of a whole text, escapes the rest', () => {
    expect(printableText('a\tb\nc\x1b[2J\u009b')).toBe('a\tb\nc\\x1b[2J\\u009b');
  });
  it('escapes DEL, C1 and bidi controls inside JSON the JSON way: it still parses to the same text', () => {
    const v = { comm: '\u009b\x7f\x1b\u202e' };
    const j = jsonSafe(JSON.stringify(v));
    expect(j).not.toMatch(CONTROL);
    expect(JSON.parse(j)).toEqual(v);
  });
});

describe('widths in terminal cells', () => {
  it('printable ASCII is measured without string-width, with the same answer', () => {
    const ascii = Array.from({ length: 0x7f - 0x20 }, (_, i) => String.fromCharCode(0x20 + i)).join('');
    for (const t of [ascii, '', 'sshd: root@pts/0', ' x ']) expect(cells(t)).toBe(stringWidth(t));
    // text that is not printable ASCII goes to string-width, installed by test/setup.ts
    for (const t of ['\t', 'a\x01b', 'é', '👍', 'e\u0301']) expect(cells(t)).toBe(stringWidth(t));
  });
  it('the narrow signs are exactly the characters string-width counts one cell that join no neighbour', () => {
    const seg = new Intl.Segmenter();
    const graphemes = (t: string) => [...seg.segment(t)].length;
    let narrow = 0;
    for (const [a, b] of [
      ...NARROW_RANGES,
      [0, 0x9f] as const,
      [0x250, 0x200f] as const,
      [0x27c0, 0x2fff] as const,
      [0xdfff, 0xe001] as const,
    ])
      for (let c = a; c <= b; c++) {
        const ch = String.fromCharCode(c);
        const one = stringWidth(ch) === 1 && graphemes(`a${ch}a`) === 3 && graphemes(ch + ch) === 2;
        // every entry is right; and within NARROW_RANGES none is missing (outside them, string-width decides)
        if (oneCellEach(ch)) expect([c.toString(16), one]).toEqual([c.toString(16), true]);
        else if (NARROW_RANGES.some(([x, y]) => c >= x && c <= y))
          expect([c.toString(16), one]).toEqual([c.toString(16), false]);
        if (oneCellEach(ch)) narrow++;
      }
    expect(narrow).toBeGreaterThan(1800);
    // what the dashboard draws itself is among them; a combining mark or an emoji selector is not
    for (const t of ['─│▶…·→✓⚠▁▂▃▄▅▆▇█░▲▼↑↓', 'café', 'naïve – x']) expect(oneCellEach(t)).toBe(true);
    for (const t of ['e\u0301', '⚠\ufe0f', '日', '👍', '\t', '\u00ad', '✅']) expect(oneCellEach(t)).toBe(false);
    expect(fit('▶ café…', 5)).toBe('▶ ca…');
    expect(fitPath('/a/→b─c', 4)).toBe('…b─c');
  });
  it('counts wide characters as two cells', () => {
    expect(cells('日本語ab')).toBe(8);
    expect(fit('日本語ab', 10)).toBe('日本語ab  ');
    expect(cells(fit('日本語ab', 6))).toBe(6);
    expect(fit('日本語ab', 6)).toBe('日本… ');
    expect(fit('日本語ab', 9, 'right')).toBe(' 日本語ab');
  });
  it('cuts paths from the left by cells', () => {
    expect(fitPath('/a/日本語ab', 6)).toBe('…語ab ');
    expect(cells(fitPath('/a/日本語ab', 6))).toBe(6);
  });
  it('a table cell escapes before it measures', () => {
    const c = fitCell('a\x1b[31m', 12, { align: 'left' });
    expect(c).toBe('a\\x1b[31m   ');
    expect(c).not.toMatch(CONTROL);
  });
});
