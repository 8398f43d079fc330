/**
 * A step's items as a table that stays as quick at 10,000 rows as at ten. A fixed pool of row
 * elements (the rows in view plus a margin) is reused while scrolling: rows that leave one end move
 * to the other and only they get new text, between two spacer rows that keep the scroll height of
 * every item. Rows have a fixed height (CSS `--row-height`) and each column a width computed once,
 * when it first appears, so scrolling never reflows more than the moved rows. Each animation frame
 * reads the scroll position once, before it writes anything. Items not fetched yet show as
 * "loading…" until their chunk arrives (see item-source.ts). Screen readers get the true size from
 * `aria-rowcount` and each row's place from `aria-rowindex`.
 *
 * Sorting (a click on a column's header) and the filter box work on the browser's copy of every
 * stored item of the execution: the ones not fetched yet are fetched first, as for "Copy as JSON".
 * The table then shows a view, the item indices in their sorted and filtered order; the pool
 * works on positions in that view as it does on item indices without one.
 */
import { orderColumns } from '../../server/runs/columns.js';
import { h } from '../dom.js';
import { formatValue, valueKind } from '../format.js';
import type { Item, ItemSource } from '../item-source.js';

/** Must equal `--row-height` in styles.css. */
const ROW_HEIGHT = 30;
/**
 * Rows the pool holds beyond the visible ones, above and below: what a scroll can reveal before
 * the frame that moves rows runs. Rows move every frame the scroll crosses a row, a few at a time:
 * the work of a frame grows with the rows it changes, so small steps keep every frame short.
 */
const MARGIN = 10;
/** Rows beyond the pool, either way, whose items are fetched ahead of the scroll (3,000 px). */
const PREFETCH = 100;
/** Rows the scroller shows at its CSS max-height (with the header); its height until measured. */
const FULL_HEIGHT_ROWS = 15;
const DEFAULT_VIEWPORT = FULL_HEIGHT_ROWS * ROW_HEIGHT + 36;
/** Items a new column's width is estimated from: the first ones and the last ones known. */
const WIDTH_SAMPLE = 300;
const INDEX_WIDTH = 92;
/** How long typing in the filter box pauses before the rows are filtered. */
const FILTER_DELAY_MS = 150;
/** How long after the last scroll frame the table counts as resting again. */
const SCROLL_REST_MS = 150;
/** Longer texts are cut in the cell (the column is at most 400 px wide); the title keeps them whole. */
const MAX_CELL_TEXT = 200;

export type SortDirection = 'ascending' | 'descending';

export interface ResultTableOptions {
  /** what the table shows, for its caption and accessible names: `Results of Recent orders` */
  label: string;
  /** what the items are of, for the filter box's name (`Filter items of Recent orders`); the label by default */
  name?: string;
  keys: string[];
  projection: string[];
  /** opens item `index` (0-based) in full */
  onShowItem: (index: number, total: number) => void;
  /** fetching items failed (their rows stay "loading…"; scrolling tries again), or, with undefined, succeeded again */
  onError?: (error: unknown) => void;
}

/** One pooled `<tr>`: its cells' text nodes are kept, so an update only sets strings. */
interface Row {
  tr: HTMLTableRowElement;
  button: HTMLButtonElement;
  label: Text;
  cells: HTMLTableCellElement[];
  texts: Text[];
  /** the position in the view shown (the item index without a view); -1 before the first fill */
  index: number;
  /** the item index shown */
  itemIndex: number;
  /** the item shown; undefined for the placeholder */
  item: Item | undefined;
  /** whether some cell got a title (set on pointing, see `titleOnHover`) */
  titled: boolean;
}

export class ResultTable {
  readonly element: HTMLElement;
  private readonly filterInput: HTMLInputElement;
  private readonly viewStatus: HTMLSpanElement;
  private readonly scroller: HTMLDivElement;
  private readonly table: HTMLTableElement;
  private readonly colgroup: HTMLTableColElement;
  private readonly thead: HTMLTableSectionElement;
  private readonly tbody: HTMLTableSectionElement;
  private readonly caption: HTMLTableCaptionElement;
  private readonly topSpacer: HTMLTableRowElement;
  private readonly bottomSpacer: HTMLTableRowElement;
  private source?: ItemSource;
  private columns: string[] = [];
  /** how many attribute names the columns were last ordered from */
  private namesSeen = -1;
  private readonly widths = new Map<string, number>();
  private rows: Row[] = [];
  private readonly rowOf = new WeakMap<Element, Row>();
  /** the item index of rows[0] */
  private first = 0;
  private top = 0;
  private restTimer?: ReturnType<typeof setTimeout>;
  private viewport = DEFAULT_VIEWPORT;
  private spacerHeights = [-1, -1];
  private scrollRead = 0;
  private wanted?: { from: number; to: number };
  private fetching = false;
  private failed = false;
  /** the last fetch failed: the next success clears the error shown */
  private failedBefore = false;
  private sort?: { column: string; direction: SortDirection };
  private filter = '';
  private filterTimer?: ReturnType<typeof setTimeout>;
  /** item indices in the order shown, while sorted or filtered; undefined shows every item as stored */
  private view?: number[];
  /** counts view requests: an answer that arrives after a later request is dropped */
  private viewRequest = 0;
  /** each item's values as one lower-case text, for the filter */
  private readonly searchText = new WeakMap<Item, string>();

  constructor(private readonly options: ResultTableOptions) {
    this.caption = h('caption', { class: 'visually-hidden' });
    this.colgroup = h('colgroup');
    this.thead = h('thead');
    this.topSpacer = h('tr', { class: 'spacer', 'aria-hidden': 'true' }, h('td'));
    this.bottomSpacer = h('tr', { class: 'spacer', 'aria-hidden': 'true' }, h('td'));
    this.tbody = h('tbody', {}, this.topSpacer, this.bottomSpacer);
    this.table = h('table', { class: 'result-table' }, this.caption, this.colgroup, this.thead, this.tbody);
    this.scroller = h('div', { class: 'table-scroll', tabindex: 0, role: 'region', 'aria-label': options.label }, this.table);
    this.filterInput = h('input', {
      type: 'search',
      class: 'table-filter',
      placeholder: 'Filter rows',
      autocomplete: 'off',
      spellcheck: 'false',
      'aria-label': `Filter items of ${options.name ?? options.label}`,
    });
    this.viewStatus = h('span', { class: 'table-view-status', role: 'status' });
    this.element = h('div', { class: 'result-view' }, h('div', { class: 'table-tools' }, this.filterInput, this.viewStatus), this.scroller);
    this.filterInput.addEventListener('input', () => {
      if (this.filterTimer) clearTimeout(this.filterTimer);
      this.filterTimer = setTimeout(() => {
        this.filterTimer = undefined;
        this.setFilter(this.filterInput.value);
      }, FILTER_DELAY_MS);
    });
    this.thead.addEventListener('click', (event) => {
      const button = (event.target as Element).closest<HTMLButtonElement>('button[data-column]');
      if (button) this.toggleSort(button.dataset.column!);
    });
    this.scroller.addEventListener('scroll', () => this.schedule(), { passive: true });
    // One listener for every row's button: pooled rows change items, the handler reads which.
    this.tbody.addEventListener('click', (event) => {
      const button = (event.target as Element).closest<HTMLButtonElement>('button[data-index]');
      if (button && this.source) this.options.onShowItem(Number(button.dataset.index), this.source.total);
    });
    this.tbody.addEventListener('mouseover', (event) => this.titleOnHover(event));
    // The viewport's height without reading layout: the observer reports it after layout.
    new ResizeObserver((entries) => {
      const height = entries[0]?.contentRect.height ?? 0;
      if (height > 0 && height !== this.viewport) {
        this.viewport = height;
        this.schedule();
      }
    }).observe(this.scroller);
  }

  /**
   * Shows the items of `source`: a new execution's, or the same one after another page (its
   * scroll position kept, rows already showing the right item left alone). Measured as `rb:render-table`.
   */
  show(source: ItemSource): void {
    const started = performance.now();
    this.source = source;
    this.failed = false;
    // Sorted or filtered, the view is made again with the items there are now (the stored order
    // shows until it is ready).
    if (this.sort || this.filter !== '') {
      this.view = undefined;
      void this.updateView();
    }
    this.setSize();
    this.render();
    // Read by the browser tests (and visible in DevTools' performance panel).
    performance.measure('rb:render-table', { start: started, detail: { rows: source.total, columns: this.columns.length } });
  }

  /** The column order shown (server/runs/columns.ts over the attribute names known so far). */
  get columnOrder(): readonly string[] {
    return this.columns;
  }

  /** Rows the table shows: every item, or those of the view. */
  private get count(): number {
    return this.view ? this.view.length : (this.source?.total ?? 0);
  }

  /** Caption, row count and scroll height for the rows shown. */
  private setSize(): void {
    const total = this.source?.total ?? 0;
    const shown = this.count;
    const items = (n: number) => `${n.toLocaleString('en-US')} ${n === 1 ? 'item' : 'items'}`;
    this.caption.textContent = `${this.options.label}: ${this.view && shown !== total ? `${shown.toLocaleString('en-US')} of ${items(total)}` : items(total)}`;
    this.table.setAttribute('aria-rowcount', String(shown + 1));
    // More rows than the scroller shows at its full height: a fixed height and CSS containment
    // keep each frame's layout and paint inside the scroller.
    this.scroller.classList.toggle('windowed', shown > FULL_HEIGHT_ROWS);
  }

  /** Sorts by a column: ascending, then descending, then back to the stored order. */
  private toggleSort(column: string): void {
    const current = this.sort?.column === column ? this.sort.direction : undefined;
    this.sort = current === undefined ? { column, direction: 'ascending' } : current === 'ascending' ? { column, direction: 'descending' } : undefined;
    this.renderHead();
    void this.updateView();
  }

  private setFilter(text: string): void {
    const filter = text.trim();
    if (filter === this.filter) return;
    this.filter = filter;
    void this.updateView();
  }

  /** Sorts and filters every item (fetching the missing ones first), then shows the view from its top. */
  private async updateView(): Promise<void> {
    const source = this.source;
    if (!source) return;
    const request = ++this.viewRequest;
    if (!this.sort && this.filter === '') {
      this.applyView(undefined);
      return;
    }
    // Until every item is here (another page may have been stored meanwhile).
    while (source.missing(0, source.total)) {
      this.viewStatus.textContent = `Fetching ${source.total.toLocaleString('en-US')} items to ${this.sort ? 'sort' : 'filter'} them…`;
      try {
        await source.all();
      } catch (err) {
        if (request !== this.viewRequest) return;
        // Nothing claims an order or a filter the rows do not have; sorting or typing again retries.
        this.sort = undefined;
        this.filter = '';
        this.renderHead();
        this.viewStatus.textContent = `The items could not be fetched, so the rows are as stored: ${err instanceof Error ? err.message : String(err)}`;
        return;
      }
      if (request !== this.viewRequest || source !== this.source) return;
    }
    // Fetched chunks may have brought new attribute names: new columns before the view is shown.
    if (source.names.size !== this.namesSeen) this.updateColumns(source);
    this.applyView(this.computeView(source));
  }

  private computeView(source: ItemSource): number[] {
    let indices = Array.from({ length: source.total }, (_, i) => i);
    if (this.filter !== '') {
      const needle = this.filter.toLowerCase();
      indices = indices.filter((i) => this.textOf(source.get(i)).includes(needle));
    }
    const sort = this.sort;
    if (sort) {
      const sign = sort.direction === 'ascending' ? 1 : -1;
      const values = new Map(indices.map((i) => [i, source.get(i)?.[sort.column]]));
      indices.sort((a, b) => {
        const va = values.get(a);
        const vb = values.get(b);
        // Items without the attribute go last either way; equal values keep the stored order.
        if (va === undefined || vb === undefined) return va === vb ? a - b : va === undefined ? 1 : -1;
        return sign * compareValues(va, vb) || a - b;
      });
    }
    return indices;
  }

  /** Every value of an item as the table shows it, in one lower-case text. */
  private textOf(item: Item | undefined): string {
    if (!item) return '';
    let text = this.searchText.get(item);
    if (text === undefined) {
      text = Object.values(item).map((v) => formatValue(v)).join('\u0000').toLowerCase();
      this.searchText.set(item, text);
    }
    return text;
  }

  private applyView(view: number[] | undefined): void {
    this.view = view;
    const total = this.source?.total ?? 0;
    const n = view?.length ?? total;
    const sorted = this.sort ? `sorted by ${this.sort.column}, ${this.sort.direction}` : '';
    const count = (k: number) => k.toLocaleString('en-US');
    this.viewStatus.textContent =
      this.filter !== ''
        ? `${n === 0 ? 'No item contains' : `${count(n)} of ${count(total)} ${total === 1 ? 'item contains' : 'items contain'}`} “${this.filter}”${sorted && n > 0 ? `, ${sorted}` : ''}.`
        : sorted
          ? `${sorted[0].toUpperCase()}${sorted.slice(1)}.`
          : '';
    // Every pooled row shows another item now: refill them all, from the top.
    for (const row of this.rows) row.index = -1;
    this.scroller.scrollTop = 0;
    this.top = 0;
    this.setSize();
    this.render();
  }

  private schedule(): void {
    nextFrame(this);
  }

  /** The frame's one read (see `nextFrame`: every table reads before any table writes). */
  readScroll(): void {
    this.scrollRead = this.scroller.scrollTop;
  }

  /** The frame's writes. */
  renderFrame(): void {
    if (this.scrollRead !== this.top) {
      this.scrolling();
      this.failed = false;
    }
    this.top = this.scrollRead;
    this.render();
  }

  /**
   * Marks the table as scrolling until it rests: the row under the pointer changes with every
   * frame, and its hover background would repaint the table each time (styles.css drops it meanwhile).
   */
  private scrolling(): void {
    if (this.restTimer) clearTimeout(this.restTimer);
    else this.scroller.classList.add('scrolling');
    this.restTimer = setTimeout(() => {
      this.restTimer = undefined;
      this.scroller.classList.remove('scrolling');
    }, SCROLL_REST_MS);
  }

  /** Brings the pool to the rows around `this.top`. Writes only. */
  private render(): void {
    const source = this.source;
    if (!source) return;
    if (source.names.size !== this.namesSeen) this.updateColumns(source);
    const total = this.count;
    const visible = Math.ceil(this.viewport / ROW_HEIGHT) + 1;
    const size = Math.min(total, visible + 2 * MARGIN);
    if (size !== this.rows.length) this.resizePool(size);
    const first = Math.min(Math.max(0, Math.floor(this.top / ROW_HEIGHT) - MARGIN), total - size);
    this.shift(first);
    for (let k = 0; k < size; k++) this.fill(this.rows[k], first + k);
    this.setSpacer(0, first);
    this.setSpacer(1, total - first - size);
    // A view shows fetched items only. Once the table has been scrolled, items a little beyond the
    // pool are fetched before the scroll gets there; a table nobody scrolls fetches nothing beyond what it shows.
    if (this.view) return;
    const ahead = this.top > 0 ? PREFETCH : 0;
    const from = Math.max(0, first - ahead);
    const to = Math.min(total, first + size + ahead);
    if (source.missing(from, to)) this.want(from, to);
  }

  /** Orders the columns anew when items with new attribute names arrived; widths of known columns stay. */
  private updateColumns(source: ItemSource): void {
    this.namesSeen = source.names.size;
    const columns = orderColumns(source.names, { keys: this.options.keys, projection: this.options.projection });
    if (columns.join('\u0000') === this.columns.join('\u0000')) return;
    this.columns = columns;
    this.estimateWidths(source, columns.filter((name) => !this.widths.has(name)));
    this.renderHead();
    // Every pooled row gets the new cells; fill() puts the text back.
    for (const row of this.rows) this.setCells(row);
    for (const spacer of [this.topSpacer, this.bottomSpacer]) spacer.firstElementChild?.setAttribute('colspan', String(columns.length + 1));
  }

  private renderHead(): void {
    const keys = new Set(this.options.keys);
    const sort = this.sort;
    const widths = this.columns.map((name) => this.widths.get(name) ?? 64);
    this.colgroup.replaceChildren(
      h('col', { class: 'col-index' }),
      ...widths.map((w) => {
        const col = h('col');
        col.style.width = `${w}px`;
        return col;
      }),
    );
    this.table.style.width = `${INDEX_WIDTH + widths.reduce((a, b) => a + b, 0)}px`;
    this.thead.replaceChildren(
      h(
        'tr',
        { 'aria-rowindex': 1 },
        h('th', { scope: 'col', class: 'col-index' }, h('span', { class: 'visually-hidden' }, 'Item'), '#'),
        this.columns.map((name) => {
          const direction = sort?.column === name ? sort.direction : undefined;
          // A button in the header sorts (click, Enter or Space); its indicator shows the
          // direction, or that the column can be sorted at all.
          return h(
            'th',
            { scope: 'col', title: name, class: keys.has(name) ? 'key' : undefined, 'aria-sort': direction },
            h(
              'button',
              { type: 'button', class: 'sort-button', 'data-column': name, title: `Sort by ${name}${direction === 'ascending' ? ', descending' : direction === 'descending' ? ': back to the stored order' : ''}` },
              h('span', { class: 'sort-name' }, name),
              keys.has(name) ? h('span', { class: 'key-mark' }, 'key') : null,
              h('span', { class: `sort-indicator${direction ? ' sorted' : ''}`, 'aria-hidden': 'true' }, direction === 'ascending' ? '▲' : direction === 'descending' ? '▼' : '↕'),
            ),
          );
        }),
      ),
    );
  }

  /** Widths in pixels for new columns, from the header and a sample of known values: about 7.5 px a character, bounded. */
  private estimateWidths(source: ItemSource, names: string[]): void {
    if (names.length === 0) return;
    // The header holds the name, the key mark (5) and the sort indicator (3).
    const chars = new Map(names.map((name) => [name, name.length + 3 + (this.options.keys.includes(name) ? 5 : 0)]));
    const total = source.total;
    const head = Math.min(total, WIDTH_SAMPLE - 50);
    const sample = (i: number) => {
      const item = source.get(i);
      if (!item) return;
      for (const [name, n] of chars) {
        const v = item[name];
        if (v !== undefined) chars.set(name, Math.max(n, Math.min(formatValue(v).length, 48)));
      }
    };
    for (let i = 0; i < head; i++) sample(i);
    for (let i = Math.max(head, total - 50); i < total; i++) sample(i);
    for (const [name, n] of chars) this.widths.set(name, Math.round(Math.min(400, Math.max(64, n * 7.5 + 26))));
  }

  private resizePool(size: number): void {
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
    this.tbody.insertBefore(added, this.bottomSpacer);
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

  /** Moves the rows that left one end of the window to the other, so that rows[k] can keep showing item first + k. */
  private shift(first: number): void {
    const d = first - this.first;
    this.first = first;
    const size = this.rows.length;
    if (d === 0 || Math.abs(d) >= size) return;
    const moved = d > 0 ? this.rows.splice(0, d) : this.rows.splice(size + d, -d);
    const fragment = document.createDocumentFragment();
    for (const row of moved) fragment.appendChild(row.tr);
    if (d > 0) {
      this.tbody.insertBefore(fragment, this.bottomSpacer);
      this.rows.push(...moved);
    } else {
      this.tbody.insertBefore(fragment, this.rows[0]?.tr ?? this.bottomSpacer);
      this.rows.unshift(...moved);
    }
  }

  /** Shows the item at position `index` (of the view, if any) in a row, touching only what changed. */
  private fill(row: Row, index: number): void {
    const itemIndex = this.view ? this.view[index] : index;
    const item = this.source!.get(itemIndex);
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

  private setSpacer(which: 0 | 1, rows: number): void {
    if (this.spacerHeights[which] === rows) return;
    this.spacerHeights[which] = rows;
    (which === 0 ? this.topSpacer : this.bottomSpacer).style.height = `${rows * ROW_HEIGHT}px`;
  }

  /**
   * Fetches the items around the pool. One fetch at a time: while it runs, only the latest range
   * is remembered, so a long scroll asks for where it ended up, not for everything it passed.
   */
  private want(from: number, to: number): void {
    // After a failure only a scroll tries again: a server that is down gets no stream of requests.
    if (this.failed) return;
    this.wanted = { from, to };
    if (!this.fetching) void this.pump();
  }

  private async pump(): Promise<void> {
    this.fetching = true;
    try {
      for (let w = this.wanted; w; w = this.wanted) {
        this.wanted = undefined;
        const source = this.source!;
        if (!source.missing(w.from, w.to)) continue;
        await source.ensure(w.from, w.to);
        if (this.failedBefore) this.options.onError?.(undefined);
        this.failedBefore = false;
        this.schedule();
      }
    } catch (err) {
      this.failed = this.failedBefore = true;
      this.options.onError?.(err);
    } finally {
      this.fetching = false;
    }
  }
}

/** Tables waiting for the next animation frame. */
const waiting = new Set<ResultTable>();
let frameRequested = false;

/**
 * Renders a table in the next animation frame. One callback serves every table, reading all their
 * scroll positions before any of them writes: layout is still clean from the last frame then, and
 * no read follows a write, so a frame never forces a layout.
 */
function nextFrame(table: ResultTable): void {
  waiting.add(table);
  if (frameRequested) return;
  frameRequested = true;
  requestAnimationFrame(() => {
    frameRequested = false;
    const tables = [...waiting];
    waiting.clear();
    for (const t of tables) t.readScroll();
    for (const t of tables) t.renderFrame();
  });
}

const collator = new Intl.Collator('en', { numeric: true, sensitivity: 'base' });
const KIND_ORDER = { number: 0, string: 1, boolean: 2, null: 3, nested: 4, absent: 5 } as const;

/** Orders two values of a column: numbers by value, texts naturally (`A2` before `A10`); across kinds, numbers first. */
export function compareValues(a: unknown, b: unknown): number {
  const ka = KIND_ORDER[valueKind(a)];
  const kb = KIND_ORDER[valueKind(b)];
  if (ka !== kb) return ka - kb;
  if ((typeof a === 'number' || typeof a === 'bigint') && (typeof b === 'number' || typeof b === 'bigint')) return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  const ta = typeof a === 'string' ? a : (JSON.stringify(a) ?? '');
  const tb = typeof b === 'string' ? b : (JSON.stringify(b) ?? '');
  return collator.compare(ta, tb) || (ta < tb ? -1 : ta > tb ? 1 : 0);
}

function setText(node: Text, text: string): void {
  if (node.data !== text) node.data = text;
}
