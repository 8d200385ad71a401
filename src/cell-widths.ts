// Hands string-width to core/format.ts as the width of text that is not printable ASCII,
// loaded the first time such a text is measured. Loading it at start-up costs ~25 ms (its
// Intl.Segmenter loads ICU's break rules), which a command that prints JSON, or only ASCII,
// never needs; core stays free of module loading. The program (cli.ts), the bench and the
// tests' setup install it before anything is drawn. string-width is an ES module: require()
// of one needs Node 20.19 or 22.12 (package.json's engines).
import { createRequire } from 'node:module';
import { useCellWidths } from './core/format.js';

type StringWidth = (text: string) => number;

let stringWidth: StringWidth | null = null;

/**
 * Widths already measured: the dashboard measures the same table cells, meter bars and
 * separators every refresh, and string-width segments each text anew (~4 ms a refresh at
 * 3,000 processes, the most of any drawing step). Short texts only, and at most MEMO_MAX of
 * them (then the memo starts again): it holds what is on screen, not every process's text.
 */
const memo = new Map<string, number>();
const MEMO_MAX = 4096;
const MEMO_LONGEST = 256;

export function installCellWidths(): void {
  useCellWidths((text) => {
    const known = memo.get(text);
    if (known !== undefined) return known;
    stringWidth ??= (createRequire(import.meta.url)('string-width') as { default: StringWidth }).default;
    const w = stringWidth(text);
    if (text.length <= MEMO_LONGEST) {
      if (memo.size >= MEMO_MAX) memo.clear();
      memo.set(text, w);
    }
    return w;
  });
}
