/**
 * Which items a result table shows, in which order: sorted by a column (a click on its header) and
 * filtered by text (the filter box), over the browser's copy of every stored item of the execution.
 * Items not fetched yet are fetched first, as for "Copy as JSON". No DOM here: the table asks for
 * the item indices to show and for the words that describe them.
 */
import { formatValue, valueKind } from './format.js';
import type { Item } from './item-source.js';

export type SortDirection = 'ascending' | 'descending';

export interface Sort {
  column: string;
  direction: SortDirection;
}

/** What the order reads of an execution's items (an ItemSource). */
export interface OrderedItems {
  readonly total: number;
  get(index: number): Item | undefined;
  missing(from: number, to: number): boolean;
  all(): Promise<Item[]>;
}

/**
 * The indices to show: `undefined` for every item in the stored order; `stale` when a later
 * request (another sort, another filter) superseded this one; `failed` when items could not be
 * fetched, after which the order is back to the stored one (nothing claims an order or a filter
 * the rows do not have; sorting or typing again retries).
 */
export type OrderResult = { kind: 'shown'; indices: number[] | undefined } | { kind: 'stale' } | { kind: 'failed'; message: string };

export class ItemOrder {
  sort?: Sort;
  /** the filter text, trimmed; empty shows every item */
  filter = '';
  /** counts requests: an answer that arrives after a later request is dropped */
  private request = 0;
  /** each item's values as one lower-case text, for the filter */
  private readonly searchText = new WeakMap<Item, string>();

  /** Whether the items are sorted or filtered (else they show as stored). */
  get active(): boolean {
    return this.sort !== undefined || this.filter !== '';
  }

  /** Sorts by a column: ascending, then descending, then back to the stored order. */
  toggleSort(column: string): void {
    const current = this.sort?.column === column ? this.sort.direction : undefined;
    this.sort = current === undefined ? { column, direction: 'ascending' } : current === 'ascending' ? { column, direction: 'descending' } : undefined;
  }

  /** Sets the filter text; false when it is the same filter as before. */
  setFilter(text: string): boolean {
    const filter = text.trim();
    if (filter === this.filter) return false;
    this.filter = filter;
    return true;
  }

  /** Drops the answer of any request still under way. */
  cancel(): void {
    this.request += 1;
  }

  /**
   * The item indices to show for the current sort and filter, fetching every missing item first
   * (`progress` says so meanwhile).
   */
  async indices(items: OrderedItems, progress: (text: string) => void = () => undefined): Promise<OrderResult> {
    const request = ++this.request;
    if (!this.active) return { kind: 'shown', indices: undefined };
    // Until every item is here (another page may have been stored meanwhile).
    while (items.missing(0, items.total)) {
      progress(`Fetching ${items.total.toLocaleString('en-US')} items to ${this.sort ? 'sort' : 'filter'} them…`);
      try {
        await items.all();
      } catch (err) {
        if (request !== this.request) return { kind: 'stale' };
        this.sort = undefined;
        this.filter = '';
        return { kind: 'failed', message: `The items could not be fetched, so the rows are as stored: ${err instanceof Error ? err.message : String(err)}` };
      }
      if (request !== this.request) return { kind: 'stale' };
    }
    return { kind: 'shown', indices: this.compute(items) };
  }

  private compute(items: OrderedItems): number[] {
    let indices = Array.from({ length: items.total }, (_, i) => i);
    if (this.filter !== '') {
      const needle = this.filter.toLowerCase();
      indices = indices.filter((i) => this.textOf(items.get(i)).includes(needle));
    }
    const sort = this.sort;
    if (sort) {
      const sign = sort.direction === 'ascending' ? 1 : -1;
      const values = new Map(indices.map((i) => [i, items.get(i)?.[sort.column]]));
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
      text = Object.values(item)
        .map((v) => formatValue(v))
        .join('\u0000')
        .toLowerCase();
      this.searchText.set(item, text);
    }
    return text;
  }

  /** What the rows shown are, in words: `3 of 240 items contain “C1001”, sorted by total, descending.` */
  describe(total: number, shown: number): string {
    const sorted = this.sort ? `sorted by ${this.sort.column}, ${this.sort.direction}` : '';
    const count = (k: number) => k.toLocaleString('en-US');
    if (this.filter !== '') {
      const matched = shown === 0 ? 'No item contains' : `${count(shown)} of ${count(total)} ${total === 1 ? 'item contains' : 'items contain'}`;
      return `${matched} “${this.filter}”${sorted && shown > 0 ? `, ${sorted}` : ''}.`;
    }
    return sorted ? `${sorted[0].toUpperCase()}${sorted.slice(1)}.` : '';
  }
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
