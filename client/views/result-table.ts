/**
 * A step's items as a table. Only the rows in view (plus a margin) are in the DOM, between two
 * spacer rows that keep the scroll height, so thousands of items stay as quick as ten. Rows have a
 * fixed height (CSS `--row-height`) and columns fixed widths estimated from the values, so the
 * table does not reflow while scrolling. Screen readers get the true size from `aria-rowcount`.
 */
import { columnsOf } from '../columns.js';
import { h } from '../dom.js';
import { formatValue, valueKind } from '../format.js';

/** Must equal `--row-height` in styles.css. */
const ROW_HEIGHT = 30;
/** Rows rendered beyond the visible ones, above and below. */
const OVERSCAN = 12;
/** How many items the column widths are estimated from (first and last ones). */
const WIDTH_SAMPLE = 300;

export interface ResultTableOptions {
  /** what the table shows, for its caption and accessible names: `Results of Recent orders` */
  label: string;
  keys: string[];
  projection: string[];
  /** opens one item in full */
  onShowItem: (item: Record<string, unknown>, index: number, total: number) => void;
}

export class ResultTable {
  readonly element: HTMLElement;
  private readonly scroller: HTMLDivElement;
  private readonly table: HTMLTableElement;
  private readonly colgroup: HTMLTableColElement;
  private readonly thead: HTMLTableSectionElement;
  private readonly tbody: HTMLTableSectionElement;
  private readonly caption: HTMLTableCaptionElement;
  private items: ReadonlyArray<Record<string, unknown>> = [];
  private columns: string[] = [];
  private first = -1;
  private last = -1;
  private frame = 0;

  constructor(private readonly options: ResultTableOptions) {
    this.caption = h('caption', { class: 'visually-hidden' });
    this.colgroup = h('colgroup');
    this.thead = h('thead');
    this.tbody = h('tbody');
    this.table = h('table', { class: 'result-table' }, this.caption, this.colgroup, this.thead, this.tbody);
    this.scroller = h('div', { class: 'table-scroll', tabindex: 0, role: 'region', 'aria-label': options.label }, this.table);
    this.scroller.addEventListener('scroll', () => this.schedule(), { passive: true });
    this.element = this.scroller;
  }

  /** Shows these items (all of them so far: a later page replaces the list), keeping the scroll position; measured as `rb:render-table`. */
  setItems(items: ReadonlyArray<Record<string, unknown>>): void {
    const started = performance.now();
    this.items = items;
    const columns = columnsOf(items, { keys: this.options.keys, projection: this.options.projection });
    if (columns.join('\u0000') !== this.columns.join('\u0000')) {
      this.columns = columns;
      this.renderHead();
    }
    this.caption.textContent = `${this.options.label}: ${items.length} ${items.length === 1 ? 'item' : 'items'}`;
    this.table.setAttribute('aria-rowcount', String(items.length + 1));
    this.first = -1;
    this.renderWindow();
    // Read by the browser tests (and visible in DevTools' performance panel).
    performance.measure('rb:render-table', { start: started, detail: { rows: items.length, columns: columns.length } });
  }

  private renderHead(): void {
    const keys = new Set(this.options.keys);
    const widths = this.estimateWidths();
    this.colgroup.replaceChildren(h('col', { class: 'col-index' }), ...widths.map((w) => {
      const col = h('col');
      col.style.width = `${w}px`;
      return col;
    }));
    this.table.style.width = `${56 + widths.reduce((a, b) => a + b, 0)}px`;
    this.thead.replaceChildren(
      h(
        'tr',
        { 'aria-rowindex': 1 },
        h('th', { scope: 'col', class: 'col-index' }, h('span', { class: 'visually-hidden' }, 'Item'), '#'),
        this.columns.map((name) =>
          h('th', { scope: 'col', title: name, class: keys.has(name) ? 'key' : undefined }, name, keys.has(name) ? h('span', { class: 'key-mark', title: 'key attribute' }, 'key') : null),
        ),
      ),
    );
  }

  /** Column widths in pixels from the header and a sample of values: about 7.5 px a character, bounded. */
  private estimateWidths(): number[] {
    const items = this.items;
    const sample = items.length <= WIDTH_SAMPLE ? items : [...items.slice(0, WIDTH_SAMPLE - 50), ...items.slice(-50)];
    return this.columns.map((name) => {
      let chars = name.length + (this.options.keys.includes(name) ? 5 : 0);
      for (const item of sample) {
        const v = item[name];
        if (v === undefined) continue;
        chars = Math.max(chars, Math.min(formatValue(v).length, 48));
      }
      return Math.round(Math.min(400, Math.max(64, chars * 7.5 + 26)));
    });
  }

  private schedule(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.renderWindow();
    });
  }

  private renderWindow(): void {
    const total = this.items.length;
    const viewport = this.scroller.clientHeight || 15 * ROW_HEIGHT;
    const top = Math.max(0, this.scroller.scrollTop - ROW_HEIGHT);
    const first = Math.max(0, Math.floor(top / ROW_HEIGHT) - OVERSCAN);
    const last = Math.min(total, first + Math.ceil(viewport / ROW_HEIGHT) + 2 * OVERSCAN);
    if (first === this.first && last === this.last) return;
    this.first = first;
    this.last = last;
    const rows: HTMLTableRowElement[] = [];
    if (first > 0) rows.push(this.spacer(first));
    for (let i = first; i < last; i++) rows.push(this.row(i));
    if (last < total) rows.push(this.spacer(total - last));
    this.tbody.replaceChildren(...rows);
  }

  private spacer(count: number): HTMLTableRowElement {
    const tr = h('tr', { class: 'spacer', 'aria-hidden': 'true' }, h('td', { colspan: this.columns.length + 1 }));
    tr.style.height = `${count * ROW_HEIGHT}px`;
    return tr;
  }

  private row(index: number): HTMLTableRowElement {
    const item = this.items[index];
    const tr = h('tr', { 'aria-rowindex': index + 2 });
    tr.appendChild(
      h('td', { class: 'col-index' }, h('button', { type: 'button', class: 'link-button', 'aria-label': `Show item ${index + 1} in full`, onclick: () => this.options.onShowItem(item, index, this.items.length) }, String(index + 1))),
    );
    for (const name of this.columns) {
      const value = item[name];
      const kind = valueKind(value);
      const text = formatValue(value);
      const td = h('td', { class: `v-${kind}` }, text);
      if (kind === 'nested') td.title = JSON.stringify(value, null, 2);
      else if (text.length > 40) td.title = text;
      tr.appendChild(td);
    }
    return tr;
  }
}
