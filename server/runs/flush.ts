/**
 * Flushing a file to disk before a record counts as written (fsync, or fdatasync where only the
 * data matters). Where the storage answers a flush faster than a hand-off to the thread pool and
 * back costs the event loop (tens of microseconds against about a hundred, measured here:
 * docs/performance.md, "Throughput"), the flush is made on the spot; once flushes turn slow (a
 * spinning disk, a busy journal), they wait in the thread pool, so that a slow disk never holds up
 * the other requests, and the spot is tried again a while later.
 */
import { fdatasync, fdatasyncSync, fsync, fsyncSync } from 'node:fs';
import { promisify } from 'node:util';

/** A flush slower than this, on average, sends flushes to the thread pool. */
const SLOW_MS = 0.5;
/** How long flushes stay in the thread pool before one is tried on the spot again. */
const POOL_FOR_MS = 10_000;

const inPool = { fsync: promisify(fsync), fdatasync: promisify(fdatasync) };
const onSpot = { fsync: fsyncSync, fdatasync: fdatasyncSync };

/**
 * The mean duration of the flushes made on the spot, exponentially weighted from 0: the first flush
 * of a new file (its metadata too, about 0.9 ms here) counts for a tenth, a disk that takes
 * milliseconds at every flush sends them to the pool within one or two.
 */
let averageMs = 0;
let poolUntil = 0;

/** Flushes `fd` (its data alone with `dataOnly`), resolving once it is on disk. */
export async function flushFile(fd: number, dataOnly = false): Promise<void> {
  const kind = dataOnly ? 'fdatasync' : 'fsync';
  if (performance.now() < poolUntil) return inPool[kind](fd);
  const started = performance.now();
  onSpot[kind](fd);
  const took = performance.now() - started;
  averageMs = averageMs * 0.9 + took * 0.1;
  if (averageMs > SLOW_MS) {
    poolUntil = performance.now() + POOL_FOR_MS;
    // Back on the spot after that, one slow flush (over 1.4 ms) is enough to return to the pool.
    averageMs = SLOW_MS * 0.8;
  }
}
