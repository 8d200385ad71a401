// The screen's layout: the numbers app.ts places boxes by and the state scrolls by. One
// place, so the table's height the reducer pages with is the one on screen.
import type { ColumnId } from '../core/columns.js';
import type { DashState } from './state.js';

/** The dashboard's columns, in order; the narrower the screen, the fewer (core/columns.ts priorities). */
export const DASHBOARD_COLUMNS: ColumnId[] = [
  'rank',
  'pid',
  'user',
  'name',
  'badness',
  'share',
  'score',
  'adj',
  'rss',
  'swap',
  'cpu',
  'unit',
  'container',
];

/** The header box: border, five lines, border. */
export const HEADER_HEIGHT = 7;
/** The column titles' row, under the header. */
export const TITLES_TOP = HEADER_HEIGHT;
/** The first row of the table body. */
export const TABLE_TOP = HEADER_HEIGHT + 1;
export const FOOTER_HEIGHT = 1;
/** The detail pane (border, five lines, border), shown from this many terminal rows. */
export const DETAIL_HEIGHT = 7;
export const DETAIL_MIN_ROWS = 24;

/** Rows of the table body that fit on screen (the layout gives the rest). */
export function tableHeight(s: DashState): number {
  return Math.max(1, s.rows - HEADER_HEIGHT - FOOTER_HEIGHT - detailHeight(s) - 1 /* column titles */);
}

export function detailHeight(s: DashState): number {
  if (s.showGraph && s.rows >= DETAIL_MIN_ROWS) return Math.min(12, Math.floor(s.rows / 3));
  return s.showDetail && s.rows >= DETAIL_MIN_ROWS ? DETAIL_HEIGHT : 0;
}
