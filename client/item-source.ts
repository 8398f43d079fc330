/**
 * The items of one execution, wherever they are. The execution brings its first items; the rest are
 * fetched from `GET …/items` in chunks when asked for, and kept: an execution's stored items never
 * change, later pages only add to them, so a fetched chunk stays right for the life of the
 * execution. No DOM here: the table asks for ranges and reads items by index.
 */
import { api } from './api.js';
import type { ItemsPage } from './api-types.js';

export type Item = Record<string, unknown>;

/** Fetches stored items `offset` to `offset + limit` of the execution. */
export type PageFetcher = (offset: number, limit: number) => Promise<ItemsPage>;

/** Items a chunk request asks for: about 150 KB of JSON for typical items, one parse of a few ms. */
export const CHUNK_SIZE = 500;
/** Chunk requests in flight at once while fetching everything. */
const PARALLEL = 3;

export interface ItemSourceInit {
  run: string;
  step: string;
  /** the execution number */
  n: number;
  /** the items the execution came with (its first ones) */
  first: readonly Item[];
  /** how many items the execution has stored in all */
  total: number;
  chunkSize?: number;
  /** how chunks are fetched; the items route by default */
  fetchPage?: PageFetcher;
}

export class ItemSource {
  readonly run: string;
  readonly step: string;
  readonly n: number;
  /** attribute names of every item known so far, for the table's columns */
  readonly names = new Set<string>();
  private first: readonly Item[];
  private count: number;
  private readonly chunkSize: number;
  private readonly chunks = new Map<number, Item[]>();
  private readonly pending = new Map<number, Promise<void>>();
  private readonly fetchPage: PageFetcher;

  constructor(init: ItemSourceInit) {
    this.run = init.run;
    this.step = init.step;
    this.n = init.n;
    this.chunkSize = init.chunkSize ?? CHUNK_SIZE;
    this.fetchPage = init.fetchPage ?? ((offset, limit) => api.items(init.run, init.step, init.n, offset, limit));
    this.first = init.first;
    this.count = Math.max(init.total, init.first.length);
    this.addNames(init.first);
  }

  get total(): number {
    return this.count;
  }

  /** A later state of the same execution (another page loaded): more items, the fetched ones still valid. */
  update(first: readonly Item[], total: number): void {
    if (first !== this.first) {
      this.first = first;
      this.addNames(first);
    }
    this.count = Math.max(total, first.length);
  }

  /** Item `index`, or undefined while it has not been fetched. */
  get(index: number): Item | undefined {
    if (index < 0 || index >= this.count) return undefined;
    if (index < this.first.length) return this.first[index];
    const c = Math.floor(index / this.chunkSize);
    return this.chunks.get(c)?.[index - c * this.chunkSize];
  }

  /** Whether any item in [from, to) still has to be fetched. */
  missing(from: number, to: number): boolean {
    return this.chunksToFetch(from, to).length > 0;
  }

  /** Fetches whatever of [from, to) is not here yet; resolves once it is (or rejects with the API's error). */
  async ensure(from: number, to: number): Promise<void> {
    await Promise.all(this.chunksToFetch(from, to).map((c) => this.load(c)));
  }

  /** Every stored item, fetching the missing ones chunk by chunk (a few requests at a time). */
  async all(): Promise<Item[]> {
    // A second pass for chunks that came back short: fetched before a later page was stored.
    for (let pass = 0; pass < 2; pass++) {
      const queue = this.chunksToFetch(0, this.count);
      const worker = async () => {
        for (let c = queue.shift(); c !== undefined; c = queue.shift()) await this.load(c);
      };
      await Promise.all(Array.from({ length: Math.min(PARALLEL, queue.length) }, worker));
    }
    const out: Item[] = [];
    for (let i = 0; i < this.count; i++) {
      const item = this.get(i);
      // The server had fewer items than the execution said: a record from before they were stored.
      if (item === undefined) throw new Error(`Item ${i + 1} of ${this.count} could not be fetched.`);
      out.push(item);
    }
    return out;
  }

  /** Chunks that overlap [from, to), lie beyond the first items, and are absent or were fetched short. */
  private chunksToFetch(from: number, to: number): number[] {
    const start = Math.max(from, this.first.length, 0);
    const end = Math.min(to, this.count);
    const out: number[] = [];
    if (start >= end) return out;
    for (let c = Math.floor(start / this.chunkSize); c * this.chunkSize < end; c++) {
      const have = this.chunks.get(c);
      const expected = Math.min(this.chunkSize, this.count - c * this.chunkSize);
      if (!have || have.length < expected) out.push(c);
    }
    return out;
  }

  private load(c: number): Promise<void> {
    const inFlight = this.pending.get(c);
    if (inFlight) return inFlight;
    const offset = c * this.chunkSize;
    const loading = this.fetchPage(offset, this.chunkSize)
      .then((page) => {
        if (page.n !== this.n || page.offset !== offset || !Array.isArray(page.items)) {
          throw new Error(`The server sent items ${page.offset} of execution ${page.n} for items ${offset} of execution ${this.n}.`);
        }
        const known = this.chunks.get(c);
        // A short answer never replaces a longer one that raced it.
        if (!known || page.items.length >= known.length) this.chunks.set(c, page.items);
        this.addNames(page.items);
      })
      .finally(() => this.pending.delete(c));
    this.pending.set(c, loading);
    return loading;
  }

  private addNames(items: readonly Item[]): void {
    for (const item of items) for (const name in item) this.names.add(name);
  }
}
