import { describe, expect, it } from 'vitest';
import { Prefetcher, type RangeSource } from '../../client/item-prefetch.js';

/** A source whose fetches wait until released, recording the ranges asked for. */
function slowSource(failing = false) {
  const asked: string[] = [];
  const releases: Array<() => void> = [];
  const source: RangeSource = {
    missing: () => true,
    ensure: (from, to) => {
      asked.push(`${from}-${to}`);
      return new Promise<void>((resolve, reject) => releases.push(() => (failing ? reject(new Error('down')) : resolve())));
    },
  };
  const release = async () => {
    releases.shift()?.();
    await new Promise((r) => setTimeout(r, 0));
  };
  return { source, asked, release };
}

describe('Prefetcher', () => {
  it('fetches one range at a time and, after it, only the latest range asked for', async () => {
    const { source, asked, release } = slowSource();
    let fetched = 0;
    const prefetch = new Prefetcher({ fetched: () => (fetched += 1) });
    prefetch.want(source, 0, 100);
    prefetch.want(source, 100, 200);
    prefetch.want(source, 900, 1000);
    expect(asked).toEqual(['0-100']);
    await release();
    expect(asked).toEqual(['0-100', '900-1000']);
    await release();
    expect(fetched).toBe(2);
  });

  it('after a failure fetches nothing until retried, then says the error is over', async () => {
    const failing = slowSource(true);
    const errors: unknown[] = [];
    const prefetch = new Prefetcher({ fetched: () => undefined, error: (err) => errors.push(err) });
    prefetch.want(failing.source, 0, 100);
    await failing.release();
    expect(errors).toEqual([new Error('down')]);
    prefetch.want(failing.source, 0, 100);
    expect(failing.asked).toEqual(['0-100']);
    const working = slowSource();
    prefetch.retry();
    prefetch.want(working.source, 0, 100);
    await working.release();
    expect(errors).toEqual([new Error('down'), undefined]);
  });
});
