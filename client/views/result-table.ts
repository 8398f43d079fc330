/**
 * A step's items as a table that stays as quick at 10,000 rows as at ten. A fixed pool of row
 * elements (the rows in view plus a margin, row-pool.ts) is reused while scrolling, between two
 * spacer rows that keep the scroll height of every item. Rows have a fixed height (CSS
 * `--row-height`) and each column a width computed once, when it first appears (table-head.ts), so
 * scrolling never reflows more than the moved rows. Each animation frame reads the scroll position
 * once, before it writes anything. Items not fetched yet show as "loading…" until their chunk
 * arrives (item-source.ts; item-prefetch.ts fetches ahead of the scroll). Screen readers get the
 * true size from `aria-rowcount` and each row's place from `aria-rowindex`.
 *
 * Sorting (a click on a column's header) and the filter box give the order of item-order.ts: the
 * item indices in their sorted and filtered order; the pool works on positions in that order as it
 * does on item indices without one.
 */
import { orderColumns } from '../../server/runs/columns.js';
import { h } from '../dom.js';
import { ItemOrder } from '../item-order.js';
import { Prefetcher } from '../item-prefetch.js';
import type { ItemSource } from '../item-source.js';
import { nextFrame } from './frame.js';
import { RowPool } from './row-pool.js';
import { estimateWidths, renderHead, type HeadParts } from './table-head.js';

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
/** How long typing in the filter box pauses before the rows are filtered. */
const FILTER_DELAY_MS = 150;
/** How long after the last scroll frame the table counts as resting again. */
const SCROLL_REST_MS = 150;

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

export class ResultTable {
  readonly element: HTMLElement;
  private readonly filterInput: HTMLInputElement;
  private readonly viewStatus: HTMLSpanElement;
  private readonly scroller: HTMLDivElement;
  private readonly head: HeadParts;
  private readonly caption: HTMLTableCaptionElement;
  private readonly topSpacer: HTMLTableRowElement;
  private readonly bottomSpacer: HTMLTableRowElement;
  private readonly pool: RowPool;
  private readonly order = new ItemOrder();
  private source?: ItemSource;
  private columns: string[] = [];
  /** how many attribute names the columns were last ordered from */
  private namesSeen = -1;
  private readonly widths = new Map<string, number>();
  private top = 0;
  private restTimer?: ReturnType<typeof setTimeout>;
  private viewport = DEFAULT_VIEWPORT;
  private spacerHeights = [-1, -1];
  private scrollRead = 0;
  private readonly prefetch: Prefetcher;
  private filterTimer?: ReturnType<typeof setTimeout>;
  /** item indices in the order shown, while sorted or filtered; undefined shows every item as stored */
  private view?: number[];

  constructor(private readonly options: ResultTableOptions) {
    this.caption = h('caption', { class: 'visually-hidden' });
    this.topSpacer = h('tr', { class: 'spacer', 'aria-hidden': 'true' }, h('td'));
    this.bottomSpacer = h('tr', { class: 'spacer', 'aria-hidden': 'true' }, h('td'));
    const tbody = h('tbody', {}, this.topSpacer, this.bottomSpacer);
    const colgroup = h('colgroup');
    const thead = h('thead');
    this.head = { table: h('table', { class: 'result-table' }, this.caption, colgroup, thead, tbody), colgroup, thead };
    this.pool = new RowPool(tbody, this.bottomSpacer);
    this.prefetch = new Prefetcher({ fetched: () => nextFrame(this), error: (err) => this.options.onError?.(err) });
    this.scroller = h('div', { class: 'table-scroll', tabindex: 0, role: 'region', 'aria-label': options.label }, this.head.table);
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
        if (this.order.setFilter(this.filterInput.value)) void this.updateView();
      }, FILTER_DELAY_MS);
    });
    thead.addEventListener('click', (event) => {
      const button = (event.target as Element).closest<HTMLButtonElement>('button[data-column]');
      if (!button) return;
      this.order.toggleSort(button.dataset.column!);
      this.renderHead();
      void this.updateView();
    });
    this.scroller.addEventListener('scroll', () => nextFrame(this), { passive: true });
    // One listener for every row's button: pooled rows change items, the handler reads which.
    tbody.addEventListener('click', (event) => {
      const button = (event.target as Element).closest<HTMLButtonElement>('button[data-index]');
      if (button && this.source) this.options.onShowItem(Number(button.dataset.index), this.source.total);
    });
    // The viewport's height without reading layout: the observer reports it after layout.
    new ResizeObserver((entries) => {
      const height = entries[0]?.contentRect.height ?? 0;
      if (height > 0 && height !== this.viewport) {
        this.viewport = height;
        nextFrame(this);
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
    this.prefetch.retry();
    // Sorted or filtered, the order is made again with the items there are now (the stored order
    // shows until it is ready).
    if (this.order.active) {
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

  /** Moves the focus to the rows. */
  focus(): void {
    this.scroller.focus();
  }

  /** Rows the table shows: every item, or those of the order. */
  private get count(): number {
    return this.view ? this.view.length : (this.source?.total ?? 0);
  }

  /** Caption, row count and scroll height for the rows shown. */
  private setSize(): void {
    const total = this.source?.total ?? 0;
    const shown = this.count;
    const items = (n: number) => `${n.toLocaleString('en-US')} ${n === 1 ? 'item' : 'items'}`;
    this.caption.textContent = `${this.options.label}: ${this.view && shown !== total ? `${shown.toLocaleString('en-US')} of ${items(total)}` : items(total)}`;
    this.head.table.setAttribute('aria-rowcount', String(shown + 1));
    // More rows than the scroller shows at its full height: a fixed height and CSS containment
    // keep each frame's layout and paint inside the scroller.
    this.scroller.classList.toggle('windowed', shown > FULL_HEIGHT_ROWS);
  }

  /** Sorts and filters every item (fetching the missing ones first), then shows the rows from the top. */
  private async updateView(): Promise<void> {
    const source = this.source;
    if (!source) return;
    const result = await this.order.indices(source, (text) => (this.viewStatus.textContent = text));
    if (result.kind === 'stale' || source !== this.source) return;
    if (result.kind === 'failed') {
      this.renderHead();
      this.viewStatus.textContent = result.message;
      return;
    }
    // Fetched chunks may have brought new attribute names: new columns before the rows are shown.
    if (source.names.size !== this.namesSeen) this.updateColumns(source);
    this.view = result.indices;
    this.viewStatus.textContent = this.order.describe(source.total, this.count);
    // Every pooled row shows another item now: refill them all, from the top.
    this.pool.invalidate();
    this.scroller.scrollTop = 0;
    this.top = 0;
    this.setSize();
    this.render();
  }

  /** The frame's one read (frame.ts: every table reads before any table writes). */
  readScroll(): void {
    this.scrollRead = this.scroller.scrollTop;
  }

  /** The frame's writes. */
  renderFrame(): void {
    if (this.scrollRead !== this.top) {
      this.scrolling();
      this.prefetch.retry();
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
    if (size !== this.pool.size) this.pool.resize(size);
    const first = Math.min(Math.max(0, Math.floor(this.top / ROW_HEIGHT) - MARGIN), total - size);
    const view = this.view;
    this.pool.fill(first, (position) => {
      const itemIndex = view ? view[position] : position;
      return { itemIndex, item: source.get(itemIndex) };
    });
    this.setSpacer(0, first);
    this.setSpacer(1, total - first - size);
    // A sorted or filtered order shows fetched items only. Once the table has been scrolled, items a little beyond
    // the pool are fetched before the scroll gets there; a table nobody scrolls fetches nothing beyond what it shows.
    if (view) return;
    const ahead = this.top > 0 ? PREFETCH : 0;
    const from = Math.max(0, first - ahead);
    const to = Math.min(total, first + size + ahead);
    if (source.missing(from, to)) this.prefetch.want(source, from, to);
  }

  /** Orders the columns anew when items with new attribute names arrived; widths of known columns stay. */
  private updateColumns(source: ItemSource): void {
    this.namesSeen = source.names.size;
    const columns = orderColumns(source.names, { keys: this.options.keys, projection: this.options.projection });
    if (columns.join('\u0000') === this.columns.join('\u0000')) return;
    this.columns = columns;
    estimateWidths(
      source,
      columns.filter((name) => !this.widths.has(name)),
      this.options.keys,
      this.widths,
    );
    this.renderHead();
    this.pool.setColumns(columns);
    for (const spacer of [this.topSpacer, this.bottomSpacer]) spacer.firstElementChild?.setAttribute('colspan', String(columns.length + 1));
  }

  private renderHead(): void {
    renderHead(this.head, this.columns, this.widths, this.options.keys, this.order.sort);
  }

  private setSpacer(which: 0 | 1, rows: number): void {
    if (this.spacerHeights[which] === rows) return;
    this.spacerHeights[which] = rows;
    (which === 0 ? this.topSpacer : this.bottomSpacer).style.height = `${rows * ROW_HEIGHT}px`;
  }
}
