/**
 * A step's items as a table that stays as quick at 10,000 rows as at ten. A fixed pool of row
 * elements (the rows in view plus a margin) is reused while scrolling: rows that leave one end move
 * to the other and only they get new text, between two spacer rows that keep the scroll height of
 * every item. Rows have a fixed height (CSS `--row-height`) and each column a width computed once,
 * when it first appears, so scrolling never reflows more than the moved rows. Each animation frame
 * reads the scroll position once, before it writes anything. Items not fetched yet show as
 * "loading…" until their chunk arrives (see item-source.ts). Screen readers get the true size from
 * `aria-rowcount` and each row's place from `aria-rowindex`.
 */
import { orderColumns } from '../columns.js';
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
const INDEX_WIDTH = 56;
/** How long after the last scroll frame the table counts as resting again. */
const SCROLL_REST_MS = 150;
/** Longer texts are cut in the cell (the column is at most 400 px wide); the title keeps them whole. */
const MAX_CELL_TEXT = 200;

export interface ResultTableOptions {
  /** what the table shows, for its caption and accessible names: `Results of Recent orders` */
  label: string;
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
  /** the item index shown; -1 before the first fill */
  index: number;
  /** the item shown; undefined for the placeholder */
  item: Item | undefined;
  /** whether some cell got a title (set on pointing, see `titleOnHover`) */
  titled: boolean;
}

export class ResultTable {
  readonly element: HTMLElement;
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

  constructor(private readonly options: ResultTableOptions) {
    this.caption = h('caption', { class: 'visually-hidden' });
    this.colgroup = h('colgroup');
    this.thead = h('thead');
    this.topSpacer = h('tr', { class: 'spacer', 'aria-hidden': 'true' }, h('td'));
    this.bottomSpacer = h('tr', { class: 'spacer', 'aria-hidden': 'true' }, h('td'));
    this.tbody = h('tbody', {}, this.topSpacer, this.bottomSpacer);
    this.table = h('table', { class: 'result-table' }, this.caption, this.colgroup, this.thead, this.tbody);
    this.scroller = h('div', { class: 'table-scroll', tabindex: 0, role: 'region', 'aria-label': options.label }, this.table);
    this.element = this.scroller;
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
    const total = source.total;
    this.caption.textContent = `${this.options.label}: ${total.toLocaleString('en-US')} ${total === 1 ? 'item' : 'items'}`;
    this.table.setAttribute('aria-rowcount', String(total + 1));
    // More rows than the scroller shows at its full height: a fixed height and CSS containment
    // keep each frame's layout and paint inside the scroller.
    this.scroller.classList.toggle('windowed', total > FULL_HEIGHT_ROWS);
    this.render();
    // Read by the browser tests (and visible in DevTools' performance panel).
    performance.measure('rb:render-table', { start: started, detail: { rows: total, columns: this.columns.length } });
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
    const total = source.total;
    const visible = Math.ceil(this.viewport / ROW_HEIGHT) + 1;
    const size = Math.min(total, visible + 2 * MARGIN);
    if (size !== this.rows.length) this.resizePool(size);
    const first = Math.min(Math.max(0, Math.floor(this.top / ROW_HEIGHT) - MARGIN), total - size);
    this.shift(first);
    for (let k = 0; k < size; k++) this.fill(this.rows[k], first + k);
    this.setSpacer(0, first);
    this.setSpacer(1, total - first - size);
    // Once the table has been scrolled, items a little beyond the pool are fetched before the
    // scroll gets there; a table nobody scrolls fetches nothing beyond what it shows.
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
        this.columns.map((name) =>
          h('th', { scope: 'col', title: name, class: keys.has(name) ? 'key' : undefined }, name, keys.has(name) ? h('span', { class: 'key-mark', title: 'key attribute' }, 'key') : null),
        ),
      ),
    );
  }

  /** Widths in pixels for new columns, from the header and a sample of known values: about 7.5 px a character, bounded. */
  private estimateWidths(source: ItemSource, names: string[]): void {
    if (names.length === 0) return;
    const chars = new Map(names.map((name) => [name, name.length + (this.options.keys.includes(name) ? 5 : 0)]));
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
      const button = h('button', { type: 'button', class: 'link-button' });
      button.appendChild(label);
      const row: Row = { tr: h('tr', {}, h('td', { class: 'col-index' }, button)), button, label, cells: [], texts: [], index: -1, item: undefined, titled: false };
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

  /** Shows item `index` in a row, touching only what changed. */
  private fill(row: Row, index: number): void {
    const item = this.source!.get(index);
    if (row.index === index && row.item === item) return;
    if (row.index !== index) {
      row.index = index;
      const n = String(index + 1);
      row.tr.setAttribute('aria-rowindex', String(index + 2));
      row.button.dataset.index = String(index);
      row.button.setAttribute('aria-label', `Show item ${n} in full`);
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

function setText(node: Text, text: string): void {
  if (node.data !== text) node.data = text;
}
