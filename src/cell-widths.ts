// Hands string-width to core/format.ts as the width of text that is not printable ASCII
// nor only the narrow signs of format.ts (NARROW_RANGES: ─ ▶ … é),
// loaded the first time such a text is measured. Loading it at start-up costs ~25 ms (its
// Intl.Segmenter loads ICU's break rules), which a command that prints JSON, or only ASCII,
// never needs; core stays free of module loading. The program (cli.ts), the bench and the
// tests' setup install it before anything is drawn. string-width is an ES module: require()
// of one needs Node 20.19 or 22.12 (package.json's engines).
import { createRequire } from 'node:module';
import { useCellWidths } from './core/format.js';
import { memoize } from './core/memo.js';

type StringWidth = (text: string) => number;

let stringWidth: StringWidth | null = null;
const measure: StringWidth = (text) => {
  stringWidth ??= (createRequire(import.meta.url)('string-width') as { default: StringWidth }).default;
  return stringWidth(text);
};

/**
 * Widths already measured: the dashboard measures the same table cells, meter bars and
 * separators every refresh, and string-width segments each text anew (~4 ms a refresh at
 * 3,000 processes, the most of any drawing step). Short texts only, at most 4,096 of them
 * (core/memo.ts): it holds what is on screen, not every process's text.
 */
const remembered = memoize(measure, 4096);
const MEMO_LONGEST = 256;

export function installCellWidths(): void {
  useCellWidths((text) => (text.length <= MEMO_LONGEST ? remembered(text) : measure(text)));
}
