/**
 * The fixed pool of `<tr>` elements a result table reuses while scrolling: rows that leave one end
 * move to the other and only they get new text. Each row keeps its cells' text nodes, so an update
 * only sets strings; a cell gets its title (the whole value) only when the pointer reaches it.
 */
import { h } from '../dom.js';
import { formatValue, valueKind } from '../format.js';
import type { Item } from '../item-source.js';

/** Longer texts are cut in the cell (the column is at most 400 px wide); the title keeps them whole. */
const MAX_CELL_TEXT = 200;

/** One pooled `<tr>`. */
interface Row {
  tr: HTMLTableRowElement;
  button: HTMLButtonElement;
  label: Text;
  cells: HTMLTableCellElement[];
  texts: Text[];
  /** the position in the order shown (the item index when items show as stored); -1 before the first fill */
  index: number;
  /** the item index shown */
  itemIndex: number;
  /** the item shown; undefined for the placeholder */
  item: Item | undefined;
  /** whether some cell got a title (set on pointing, see `titleOnHover`) */
  titled: boolean;
}

export class RowPool {
  private rows: Row[] = [];
  private readonly rowOf = new WeakMap<Element, Row>();
  /** the position of rows[0] */
  private first = 0;
  private columns: readonly string[] = [];

  /** Rows go into `tbody` before `end` (the bottom spacer row). */
  constructor(
    private readonly tbody: HTMLTableSectionElement,
    private readonly end: HTMLTableRowElement,
  ) {
    tbody.addEventListener('mouseover', (event) => this.titleOnHover(event));
  }

  get size(): number {
    return this.rows.length;
  }

  /** New columns: every row gets new cells; the next fill puts the text back. */
  setColumns(columns: readonly string[]): void {
    this.columns = columns;
    for (const row of this.rows) this.setCells(row);
  }

  /** Every row shows another item now: the next fill refills them all. */
  invalidate(): void {
    for (const row of this.rows) row.index = -1;
  }

  resize(size: number): void {
    while (this.rows.length > size) this.rows.pop()!.tr.remove();
    const added = document.createDocumentFragment();
    while (this.rows.length < size) {
      const label = document.createTextNode('');
      // A real button that looks like one: the item's number and a JSON mark (styles.css, .item-open).
      const button = h('button', { type: 'button', class: 'item-open' }, h('span', { class: 'item-open-mark', 'aria-hidden': 'true' }, '{ }'));
      button.prepend(label);
      const row: Row = { tr: h('tr', {}, h('td', { class: 'col-index' }, button)), button, label, cells: [], texts: [], index: -1, itemIndex: -1, item: undefined, titled: false };
      this.setCells(row);
      this.rowOf.set(row.tr, row);
      this.rows.push(row);
      added.appendChild(row.tr);
    }
    this.tbody.insertBefore(added, this.end);
  }

  /**
   * Shows positions `first` to `first + size` in the rows: the rows that left one end of the window
   * move to the other, so that rows[k] can keep showing position first + k; `at` says which item a
   * position shows.
   */
  fill(first: number, at: (position: number) => { itemIndex: number; item: Item | undefined }): void {
    this.shift(first);
    for (let k = 0; k < this.rows.length; k++) {
      const { itemIndex, item } = at(first + k);
      this.fillRow(this.rows[k], first + k, itemIndex, item);
    }
  }

  /** Gives a row one cell (with its text node) per column, and marks it for a refill. */
  private setCells(row: Row): void {
    for (const td of row.cells) td.remove();
    row.texts = this.columns.map(() => document.createTextNode(''));
    row.cells = row.texts.map((text) => h('td', {}, text));
    row.tr.append(...row.cells);
    row.index = -1;
    row.titled = false;
  }

  private shift(first: number): void {
    const d = first - this.first;
    this.first = first;
    const size = this.rows.length;
    if (d === 0 || Math.abs(d) >= size) return;
    const moved = d > 0 ? this.rows.splice(0, d) : this.rows.splice(size + d, -d);
    const fragment = document.createDocumentFragment();
    for (const row of moved) fragment.appendChild(row.tr);
    if (d > 0) {
      this.tbody.insertBefore(fragment, this.end);
      this.rows.push(...moved);
    } else {
      this.tbody.insertBefore(fragment, this.rows[0]?.tr ?? this.end);
      this.rows.unshift(...moved);
    }
  }

  /** Shows an item at a position in a row, touching only what changed. */
  private fillRow(row: Row, index: number, itemIndex: number, item: Item | undefined): void {
    if (row.index === index && row.itemIndex === itemIndex && row.item === item) return;
    if (row.index !== index) {
      row.index = index;
      row.tr.setAttribute('aria-rowindex', String(index + 2));
    }
    if (row.itemIndex !== itemIndex) {
      row.itemIndex = itemIndex;
      const n = String(itemIndex + 1);
      row.button.dataset.index = String(itemIndex);
      row.button.setAttribute('aria-label', `Show item ${n} in full`);
      row.button.title = `Show item ${n} as JSON`;
      row.label.data = n;
    }
    row.item = item;
    row.tr.classList.toggle('loading', item === undefined);
    if (row.titled) {
      row.titled = false;
      for (const td of row.cells) td.removeAttribute('title');
    }
    for (let j = 0; j < this.columns.length; j++) {
      const td = row.cells[j];
      const text = row.texts[j];
      if (item === undefined) {
        setText(text, j === 0 ? 'loading…' : '');
        if (td.className !== '') td.className = '';
        continue;
      }
      const value = item[this.columns[j]];
      const kind = valueKind(value);
      const full = formatValue(value);
      setText(text, full.length > MAX_CELL_TEXT ? `${full.slice(0, MAX_CELL_TEXT)}…` : full);
      if (td.className !== `v-${kind}`) td.className = `v-${kind}`;
    }
  }

  /**
   * Gives the pointed cell its title (a map or list as indented JSON, a long text in full) when the
   * pointer reaches it, rather than for every cell of every row that scrolls past.
   */
  private titleOnHover(event: Event): void {
    const td = (event.target as Element).closest('td');
    const row = td && this.rowOf.get(td.parentElement!);
    if (!td || !row?.item || td.hasAttribute('title')) return;
    const j = row.cells.indexOf(td);
    if (j < 0) return;
    const value = row.item[this.columns[j]];
    const text = valueKind(value) === 'nested' ? JSON.stringify(value, null, 2) : formatValue(value);
    if (valueKind(value) !== 'nested' && text.length <= 40) return;
    td.title = text;
    row.titled = true;
  }
}

function setText(node: Text, text: string): void {
  if (node.data !== text) node.data = text;
}
