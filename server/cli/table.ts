/** Results as a plain-text table for a terminal: columns are the union of attribute names. */

const MAX_CELL = 40;

export function columnsOf(items: Record<string, unknown>[], keys: string[] = []): string[] {
  const seen = new Set<string>(keys.filter((k) => items.some((item) => k in item)));
  for (const item of items) for (const k of Object.keys(item)) seen.add(k);
  return [...seen];
}

function cell(value: unknown): string {
  const text = value === undefined ? '' : typeof value === 'string' ? value : JSON.stringify(value);
  // Control characters from item values must not drive the terminal.
  // eslint-disable-next-line no-control-regex
  const safe = text.replace(/[\u0000-\u001f\u007f-\u009f]/g, '·');
  return safe.length > MAX_CELL ? `${safe.slice(0, MAX_CELL - 1)}…` : safe;
}

/** A plain-text table: key attributes first (when known), then every other attribute in order of appearance. */
export function formatTable(items: Record<string, unknown>[], width = 160, keys: string[] = []): string {
  const columns = columnsOf(items, keys);
  const rows = items.map((item) => columns.map((c) => cell(item[c])));
  const widths = columns.map((c, i) => Math.max(c.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
  const out = [line(columns), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
  return out.map((l) => (l.length > width ? `${l.slice(0, width - 1)}…` : l)).join('\n');
}
