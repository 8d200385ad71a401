// Fitting tagged lines to a box: too long is wrapped or cut with '…', never cut silently;
// tags take no cell, {open}/{close} one, wide characters two.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { clipTagged, fitBox, SOFT, taggedCells, wrapTagged } from '../../src/tui/fit.js';

describe('clipTagged', () => {
  it('cuts to the width with …, keeping the tags that close colours', () => {
    expect(clipTagged('{red-fg}abcdef{/red-fg}', 4)).toBe('{red-fg}abc…{/red-fg}');
    expect(clipTagged('abc', 3)).toBe('abc');
    expect(clipTagged('{bold}x{/bold} {open}y{close}', 5)).toBe('{bold}x{/bold} {open}y{close}');
    expect(clipTagged('{open}{close}{open}', 2)).toBe('{open}…');
    expect(clipTagged('日本語テキスト', 7)).toBe('日本語…');
    expect(taggedCells(clipTagged('日本語テキスト', 7))).toBeLessThanOrEqual(7);
  });
  it('never exceeds the width, whatever the text', () => {
    const piece = fc.constantFrom('{bold}', '{/bold}', '{open}', '{close}', 'a', ' ', '日', 'é', '·', '{', '}');
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 60 }), fc.integer({ min: 1, max: 40 }), (parts, w) => {
        const line = parts.join('');
        const out = clipTagged(line, w);
        expect(taggedCells(out)).toBeLessThanOrEqual(w);
        if (taggedCells(line) > w) expect(out).toContain('…');
        else expect(out).toBe(line);
      }),
    );
  });
});

describe('wrapTagged and fitBox', () => {
  it("breaks at ' · ' first, so a number keeps its unit, then at spaces", () => {
    expect(wrapTagged('user root · parent 1 · rss anon 1.2 MiB, file 1.8 MiB', 30)).toEqual([
      'user root · parent 1',
      '  rss anon 1.2 MiB, file 1.8',
      '  MiB',
    ]);
    expect(wrapTagged(`badness 1,000 pages = rss 900${SOFT}+ adj 500 × 6,170`, 30)).toEqual([
      'badness 1,000 pages = rss 900',
      '  + adj 500 × 6,170',
    ]);
    expect(wrapTagged(`short${SOFT}line`, 30)).toEqual(['short line']);
  });
  it('says how many lines were cut when they do not fit', () => {
    expect(fitBox(['one', 'two', 'three', 'four'], 20, 3)).toEqual(['one', 'two', '{cyan-fg}… 2 more lines{/cyan-fg}']);
    expect(fitBox(['one', 'two'], 20, 3)).toEqual(['one', 'two']);
  });
  it('every wrapped line fits, and no word is lost unless it is cut with …', () => {
    const word = fc.stringMatching(/^[a-z0-9,.]{1,12}$/);
    fc.assert(
      fc.property(fc.array(word, { minLength: 1, maxLength: 20 }), fc.integer({ min: 14, max: 60 }), (words, w) => {
        const lines = wrapTagged(words.join(' '), w);
        for (const l of lines) expect(taggedCells(l)).toBeLessThanOrEqual(w);
        expect(lines.join(' ').split(/\s+/).filter(Boolean)).toEqual(words);
      }),
    );
  });
});
