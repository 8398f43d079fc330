/**
 * The small synchronous file calls the run store, the audit log and their locks make (each takes
 * microseconds on a local file system, less than a hand-off to the thread pool: docs/performance.md,
 * "Throughput"), with the quiet variants used where a failure changes nothing.
 */
import { closeSync, statSync, unlinkSync, writeSync } from 'node:fs';

export function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Writes all of `bytes` at `position`. */
export function writeFully(fd: number, bytes: Buffer, position: number): void {
  for (let done = 0; done < bytes.length;) done += writeSync(fd, bytes, done, bytes.length - done, position + done);
}

export function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // Closed already, or never usable: nothing to give back.
  }
}

export function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Gone already.
  }
}
