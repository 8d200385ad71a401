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

export function installCellWidths(): void {
  useCellWidths((text) => {
    stringWidth ??= (createRequire(import.meta.url)('string-width') as { default: StringWidth }).default;
    return stringWidth(text);
  });
}
