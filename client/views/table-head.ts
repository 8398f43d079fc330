/**
 * The head of a result table: the columns' widths, each estimated once, when the column first
 * appears (so scrolling never reflows), and a header cell per column whose button sorts by it.
 */
import { h } from '../dom.js';
import { formatValue } from '../format.js';
import type { Item } from '../item-source.js';
import type { Sort } from '../item-order.js';

/** Items a new column's width is estimated from: the first ones and the last ones known. */
const WIDTH_SAMPLE = 300;
const INDEX_WIDTH = 92;

export interface HeadParts {
  table: HTMLTableElement;
  colgroup: HTMLTableColElement;
  thead: HTMLTableSectionElement;
}

/**
 * Widths in pixels for new columns (into `widths`), from the header and a sample of known values:
 * about 7.5 px a character, bounded.
 */
export function estimateWidths(items: { total: number; get(index: number): Item | undefined }, names: string[], keys: readonly string[], widths: Map<string, number>): void {
  if (names.length === 0) return;
  // The header holds the name, the key mark (5) and the sort indicator (3).
  const chars = new Map(names.map((name) => [name, name.length + 3 + (keys.includes(name) ? 5 : 0)]));
  const total = items.total;
  const head = Math.min(total, WIDTH_SAMPLE - 50);
  const sample = (i: number) => {
    const item = items.get(i);
    if (!item) return;
    for (const [name, n] of chars) {
      const v = item[name];
      if (v !== undefined) chars.set(name, Math.max(n, Math.min(formatValue(v).length, 48)));
    }
  };
  for (let i = 0; i < head; i++) sample(i);
  for (let i = Math.max(head, total - 50); i < total; i++) sample(i);
  for (const [name, n] of chars) widths.set(name, Math.round(Math.min(400, Math.max(64, n * 7.5 + 26))));
}

/** The column widths and the header row; a column's button carries its name in `data-column`. */
export function renderHead(parts: HeadParts, columns: readonly string[], widths: Map<string, number>, keyNames: readonly string[], sort: Sort | undefined): void {
  const keys = new Set(keyNames);
  const shown = columns.map((name) => widths.get(name) ?? 64);
  parts.colgroup.replaceChildren(
    h('col', { class: 'col-index' }),
    ...shown.map((w) => {
      const col = h('col');
      col.style.width = `${w}px`;
      return col;
    }),
  );
  parts.table.style.width = `${INDEX_WIDTH + shown.reduce((a, b) => a + b, 0)}px`;
  parts.thead.replaceChildren(
    h(
      'tr',
      { 'aria-rowindex': 1 },
      h('th', { scope: 'col', class: 'col-index' }, h('span', { class: 'visually-hidden' }, 'Item'), '#'),
      columns.map((name) => {
        const direction = sort?.column === name ? sort.direction : undefined;
        // A button in the header sorts (click, Enter or Space); its indicator shows the
        // direction, or that the column can be sorted at all.
        return h(
          'th',
          { scope: 'col', title: name, class: keys.has(name) ? 'key' : undefined, 'aria-sort': direction },
          h(
            'button',
            {
              type: 'button',
              class: 'sort-button',
              'data-column': name,
              title: `Sort by ${name}${direction === 'ascending' ? ', descending' : direction === 'descending' ? ': back to the stored order' : ''}`,
            },
            h('span', { class: 'sort-name' }, name),
            keys.has(name) ? h('span', { class: 'key-mark' }, 'key') : null,
            h('span', { class: `sort-indicator${direction ? ' sorted' : ''}`, 'aria-hidden': 'true' }, direction === 'ascending' ? '▲' : direction === 'descending' ? '▼' : '↕'),
          ),
        );
      }),
    ),
  );
}
