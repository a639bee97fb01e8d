/** Plain-text output for people: aligned tables, relative times, counts. Pure. */

export interface Column<Row> {
  readonly header: string;
  readonly cell: (row: Row) => string;
  /** Numbers read better right-aligned. */
  readonly align?: 'left' | 'right';
}

/**
 * The rows under their headers, columns two spaces apart, each as wide as its widest
 * cell; no trailing spaces. Lines end with a newline.
 */
export function formatTable<Row>(columns: readonly Column<Row>[], rows: readonly Row[]): string {
  const cells = [columns.map((c) => c.header), ...rows.map((row) => columns.map((c) => c.cell(row)))];
  const widths = columns.map((_, i) => Math.max(...cells.map((line) => line[i].length)));
  const lines = cells.map((line) =>
    line
      .map((cell, i) => (columns[i].align === 'right' ? cell.padStart(widths[i]) : cell.padEnd(widths[i])))
      .join('  ')
      .trimEnd(),
  );
  return lines.join('\n') + '\n';
}

/** `label  value` lines, the values aligned. */
export function formatFields(fields: ReadonlyArray<readonly [string, string]>): string {
  const width = Math.max(...fields.map(([label]) => label.length));
  return fields.map(([label, value]) => `${label.padEnd(width)}  ${value}`.trimEnd()).join('\n') + '\n';
}

const UNITS: ReadonlyArray<readonly [string, number]> = [
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1000],
];

/**
 * How long ago `epochMs` was, at `now`, in its two largest units: `just now`,
 * `45s ago`, `3m 12s ago`, `2h 5m ago`, `3d 4h ago`. A time in the future (clocks of
 * cluster nodes disagree) reads `in 3s`.
 */
export function formatAge(epochMs: number, now: number): string {
  const delta = now - epochMs;
  const abs = Math.abs(delta);
  if (abs < 1000) return 'just now';
  const parts: string[] = [];
  let rest = abs;
  for (const [unit, ms] of UNITS) {
    const count = Math.floor(rest / ms);
    if (count > 0 || parts.length > 0) parts.push(`${count}${unit}`);
    rest -= count * ms;
    if (parts.length === 2) break;
  }
  const span = parts.filter((part, i) => i === 0 || !part.startsWith('0')).join(' ');
  return delta >= 0 ? `${span} ago` : `in ${span}`;
}

/** `1 socket`, `2 sockets`. */
export function plural(count: number, singular: string, pluralForm = `${singular}s`): string {
  return `${count} ${count === 1 ? singular : pluralForm}`;
}
