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

/** 1234567 -> "1,234,567" (fixed, locale-independent). */
export function formatInt(n: number | null): string {
  if (n === null) return '?';
  const s = String(Math.abs(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return n < 0 ? `-${s}` : s;
}

export function formatPercent(fraction: number | null, digits = 1): string {
  return fraction === null || !Number.isFinite(fraction) ? '?' : `${(fraction * 100).toFixed(digits)}%`;
}

/** Pads or cuts to exactly `width` cells (no wide-character handling: /proc text is mostly ASCII). */
export function fit(text: string, width: number, align: 'left' | 'right' = 'left'): string {
  if (width <= 0) return '';
  const t = text.length > width ? (width > 1 ? text.slice(0, width - 1) + '…' : text.slice(0, width)) : text;
  return align === 'left' ? t.padEnd(width) : t.padStart(width);
}

/** Escapes control characters so a hostile comm cannot move the cursor. */
export function printable(text: string): string {
  return text.replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** Cuts from the left, keeping the end of a path (the part that names the unit). */
export function fitPath(text: string, width: number): string {
  if (width <= 0) return '';
  return text.length > width ? ('…' + text.slice(text.length - width + 1)).padEnd(width) : text.padEnd(width);
}

/** Fits a cell: right-aligned, left-aligned, or cut at the start for paths. */
export function fitCell(text: string, width: number, col: { align: 'left' | 'right'; cutLeft?: boolean }): string {
  return col.cutLeft ? fitPath(text, width) : fit(text, width, col.align);
}

/** Shortens 64-hex container ids inside a cgroup path to 12 characters. */
export function shortCgroup(path: string): string {
  return path.replace(/([0-9a-f]{12})[0-9a-f]{52}/g, '$1…');
}
