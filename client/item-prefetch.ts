/**
 * Fetching a result table's items ahead of its scroll. One fetch at a time: while it runs, only the
 * latest range asked for is remembered, so a long scroll asks for where it ended up, not for
 * everything it passed. After a failure nothing is fetched until `retry()` (the table calls it when
 * it is scrolled): a server that is down gets no stream of requests. No DOM here.
 */
import type { ItemSource } from './item-source.js';

/** What the prefetcher reads of an execution's items (an ItemSource). */
export type RangeSource = Pick<ItemSource, 'missing' | 'ensure'>;

export interface PrefetchHooks {
  /** a range arrived: the rows may show it now */
  fetched(): void;
  /** fetching failed (the rows stay "loading…"), or, with undefined, succeeded again after a failure */
  error?(error: unknown): void;
}

export class Prefetcher {
  private wanted?: { source: RangeSource; from: number; to: number };
  private fetching = false;
  private failed = false;
  /** the last fetch failed: the next success says the error is over */
  private failedBefore = false;

  constructor(private readonly hooks: PrefetchHooks) {}

  /** Lets the next `want` fetch again after a failure. */
  retry(): void {
    this.failed = false;
  }

  /** Fetches items [from, to) of `source`, after the fetch under way (replacing any range still waiting). */
  want(source: RangeSource, from: number, to: number): void {
    if (this.failed) return;
    this.wanted = { source, from, to };
    if (!this.fetching) void this.pump();
  }

  private async pump(): Promise<void> {
    this.fetching = true;
    try {
      for (let w = this.wanted; w; w = this.wanted) {
        this.wanted = undefined;
        if (!w.source.missing(w.from, w.to)) continue;
        await w.source.ensure(w.from, w.to);
        if (this.failedBefore) this.hooks.error?.(undefined);
        this.failedBefore = false;
        this.hooks.fetched();
      }
    } catch (err) {
      this.failed = this.failedBefore = true;
      this.hooks.error?.(err);
    } finally {
      this.fetching = false;
    }
  }
}
