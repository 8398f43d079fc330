/**
 * Runbooks of a folder, parsed once and again only when their file changes. Starting a run and
 * opening a runbook parsed the file at every request (about 1.5 ms a runbook, most of it YAML).
 *
 * A file counts as unchanged while its size, mtime, ctime and inode are those seen when it was read.
 * File times are kept in coarse ticks, so a same-size rewrite within the tick of the write before
 * it would keep all four: a file read less than RACY_MS after its last change is read and parsed
 * again at its next use, until a read comes later than that (as git treats a "racily clean" file).
 * Each answer is the text read and its parse, together: a run keeps exactly the text it ran.
 */
import { stat } from 'node:fs/promises';
import { loadRunbookFile, locateRunbook, notFoundIfMissing, type LoadedRunbook } from './load.js';

const RACY_MS = 2_000;

export interface RunbookCache {
  /** Runbook `id` of the folder, as `loadRunbook` answers it (the same errors), from the cache while its file is unchanged. */
  load(id: string): Promise<LoadedRunbook>;
}

interface Entry {
  signature: string;
  /** when the file was looked at before reading it */
  statAt: number;
  mtimeMs: number;
  loaded: LoadedRunbook;
}

export function createRunbookCache(root: string, options: { max?: number; now?: () => number } = {}): RunbookCache {
  const max = options.max ?? 1_000;
  const now = options.now ?? Date.now;
  const entries = new Map<string, Entry>();

  return {
    async load(id) {
      const file = await locateRunbook(root, id);
      try {
        const statAt = now();
        const info = await stat(file);
        const signature = `${info.size}:${info.mtimeMs}:${info.ctimeMs}:${info.ino}:${info.dev}`;
        const known = entries.get(id);
        if (known && known.signature === signature && known.statAt - known.mtimeMs >= RACY_MS) return known.loaded;
        // Looked at before reading: a change made while reading shows as a new signature next time.
        const loaded = await loadRunbookFile(file, id);
        entries.delete(id);
        entries.set(id, { signature, statAt, mtimeMs: info.mtimeMs, loaded });
        if (entries.size > max) entries.delete(entries.keys().next().value!);
        return loaded;
      } catch (err) {
        entries.delete(id);
        throw notFoundIfMissing(err, id);
      }
    },
  };
}
