/** Results as a plain-text table for a terminal, in the column order of every other output (server/runs/columns.ts). */
import { columnsOf, hintsOf, type ColumnSource } from '../runs/columns.js';

const MAX_CELL = 40;

function cell(value: unknown): string {
  const text = value === undefined ? '' : typeof value === 'string' ? value : JSON.stringify(value);
  // Control characters from item values must not drive the terminal.
  // eslint-disable-next-line no-control-regex
  const safe = text.replace(/[\u0000-\u001f\u007f-\u009f]/g, '·');
  return safe.length > MAX_CELL ? `${safe.slice(0, MAX_CELL - 1)}…` : safe;
}

/**
 * A plain-text table of items: key attributes first, then the projection's, then the rest
 * alphabetically. `source` is the execution the items came from (its `keys` and request), or just
 * the key attribute names.
 */
export function formatTable(items: Record<string, unknown>[], width = 160, source: ColumnSource | readonly string[] = []): string {
  const columns = columnsOf(items, isNames(source) ? { keys: source } : hintsOf(source));
  const rows = items.map((item) => columns.map((c) => cell(item[c])));
  const widths = columns.map((c, i) => Math.max(c.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  const out = [line(columns), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
  return out.map((l) => (l.length > width ? `${l.slice(0, width - 1)}…` : l)).join('\n');
}

function isNames(source: ColumnSource | readonly string[]): source is readonly string[] {
  return Array.isArray(source);
}
