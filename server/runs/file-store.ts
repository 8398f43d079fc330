/**
 * The embedded run store: files under `<data>/runs/<id>/` (docs/architecture.md, "Runs and their
 * records"):
 *
 *   header.json          written once: linked into place from a temporary file, which fails if
 *                        another writer made the run first
 *   journal.jsonl        append-only JSON Lines; appends hold `journal.lock` and check the tail's
 *                        sequence number, so two processes never fork or interleave a journal
 *   items/<step>.<n>.<k>.jsonl   the items of execution n of a step, 500 to a chunk file (runs of
 *                        earlier versions have them in a folder an execution: <step>.<n>/<k>.jsonl)
 *
 * A record is on disk (fsync) before `append` resolves. A torn last line (crash, full disk) is moved
 * aside to `journal.torn-<time>` before the next append; a failed append is cut back off.
 *
 * Appends and item writes make their small calls (open, stat, write, close) synchronously: each
 * takes microseconds, less than the hand-off to the thread pool and back that an asynchronous one
 * costs the event loop, and a step makes about a dozen of them (docs/performance.md,
 * "Throughput"). Flushes to disk are flush.ts's.
 */
import { createHash, randomBytes } from 'node:crypto';
import { fstatSync, fsyncSync, ftruncateSync, mkdirSync, openSync, readSync, statSync, writeFileSync } from 'node:fs';
import { link, mkdir, open, readdir, readFile, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RbError, isRbError } from '../errors.js';
import { shareLockOwner, withFileLock } from './audit-lock.js';
import { flushFile } from './flush.js';
import type { JournalRecord, RunHeader, RunStore } from './store.js';
import { checkExecution, checkRunId, RUN_ID } from './store-ids.js';
import { closeQuietly, exists, writeFully } from './sync-files.js';

export const ITEMS_PER_CHUNK = 500;
const TAIL_BYTES = 64 * 1024;

export interface FileStoreOptions {
  /** told when a torn journal tail was moved aside (the engine records it in the audit log) */
  onRepaired?: (runId: string, info: { bytes: number; sha256: string; movedTo: string }) => void;
}

function writeError(what: string, err: unknown): RbError {
  if (isRbError(err)) return err;
  const code = (err as NodeJS.ErrnoException)?.code ?? String(err);
  return new RbError(
    'RB_ERR_STORE_WRITE',
    `The run store is not writable: ${what} failed (${code}). Free disk space on the data folder's file system, or fix its permissions, then try again.`,
  );
}

/** Opens (creating) the run store under `dataDir`. */
export async function openFileStore(dataDir: string, options: FileStoreOptions = {}): Promise<RunStore> {
  const root = join(dataDir, 'runs');
  await mkdir(root, { recursive: true });
  // Journal locks link to this process's owner file in runs/ (audit-lock.ts), given back at close.
  const releaseOwner = shareLockOwner(root);
  // What this process last wrote to each journal: its size and last sequence number, so that an
  // append reads the tail only when another process has written since.
  const tails = new Map<string, { size: number; seq: number }>();
  // The headers of the runs this process created (written once, never changed), so that looking
  // for other writers' records before each request costs a stat, not a read of the header too.
  const headers = new Map<string, RunHeader>();

  const runDir = (id: string) => join(root, checkRunId(id));
  // One folder of chunk files for every execution of the run: a folder an execution cost a mkdir
  // (255 µs here) per step.
  const itemsDir = (id: string, step: string, n: number) => {
    checkExecution(id, step, n);
    return join(runDir(id), 'items');
  };
  const chunkName = (step: string, n: number, k: number) => `${step}.${n}.${k}.jsonl`;
  const legacyChunk = (id: string, step: string, n: number, k: number) => join(runDir(id), 'items', `${step}.${n}`, `${k}.jsonl`);

  /** The last complete, well-formed record's seq and where it ends (anything after is torn). */
  function readTail(fd: number, size: number): { seq: number; end: number } {
    let window = Math.min(size, TAIL_BYTES);
    for (;;) {
      const start = size - window;
      const buf = Buffer.alloc(window);
      readSync(fd, buf, 0, window, start);
      let lineEnd = buf.lastIndexOf(0x0a);
      while (lineEnd >= 0) {
        const prev = lineEnd === 0 ? -1 : buf.lastIndexOf(0x0a, lineEnd - 1);
        if (prev < 0 && start > 0) break; // the line may begin before this window
        try {
          const record = JSON.parse(buf.toString('utf8', prev + 1, lineEnd)) as JournalRecord;
          return { seq: record.seq, end: start + lineEnd + 1 };
        } catch {
          lineEnd = prev; // not a record: part of what is cut off
        }
      }
      if (start === 0) return { seq: 0, end: 0 };
      window = Math.min(size, window * 4);
    }
  }

  /** Moves bytes [from, to) of a journal aside and cuts them off (rare: after a crash or a full disk). */
  function moveAside(id: string, fd: number, from: number, to: number): void {
    const bytes = Buffer.alloc(to - from);
    readSync(fd, bytes, 0, bytes.length, from);
    const movedTo = join(runDir(id), `journal.torn-${new Date().toISOString().replace(/[:.]/g, '-')}-${randomBytes(3).toString('hex')}`);
    writeFileSync(movedTo, bytes);
    ftruncateSync(fd, from);
    fsyncSync(fd);
    options.onRepaired?.(id, { bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex'), movedTo });
  }

  /**
   * Opens the first chunk of an execution's items afresh: items an earlier attempt left (one whose
   * record never made it) are removed first, so that no reader continues into them (rare).
   */
  async function firstChunk(dir: string, step: string, n: number): Promise<number> {
    const file = join(dir, chunkName(step, n, 0));
    try {
      return openSync(file, 'wx');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') mkdirSync(dir, { recursive: true });
      else if (code === 'EEXIST') {
        const prefix = `${step}.${n}.`;
        for (const name of await readdir(dir)) if (name.startsWith(prefix) && name.endsWith('.jsonl')) await unlink(join(dir, name));
        await rm(join(dir, `${step}.${n}`), { recursive: true, force: true });
      } else throw err;
    }
    return openSync(file, 'w');
  }

  const store: RunStore = {
    async create(header) {
      const dir = runDir(header.id);
      await mkdir(join(dir, 'items'), { recursive: true }).catch((err: unknown) => {
        throw writeError('creating the run folder', err);
      });
      const tmp = join(dir, `header.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
      try {
        await writeFile(tmp, `${JSON.stringify(header)}\n`, { flag: 'wx' });
        const fh = await open(tmp, 'r');
        await fh.sync().finally(() => fh.close());
        await link(tmp, join(dir, 'header.json'));
        headers.set(header.id, header);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new RbError('RB_ERR_STORE_CONFLICT', `A run with id ${header.id} exists already.`);
        throw writeError(`creating run ${header.id}`, err);
      } finally {
        await unlink(tmp).catch(() => undefined);
      }
    },

    async append(id, record) {
      const dir = runDir(id);
      const line = Buffer.from(`${JSON.stringify(record)}\n`);
      await withFileLock(
        join(dir, 'journal.lock'),
        async () => {
          let fd: number;
          try {
            fd = openSync(join(dir, 'journal.jsonl'), 'a+');
          } catch (err) {
            throw writeError(`opening run ${id}'s journal`, err);
          }
          try {
            const { size } = fstatSync(fd);
            const known = tails.get(id);
            let last = known && known.size === size ? known : undefined;
            if (!last) {
              const tail = size > 0 ? readTail(fd, size) : { seq: 0, end: 0 };
              if (tail.end < size) moveAside(id, fd, tail.end, size);
              last = { size: tail.end, seq: tail.seq };
            }
            if (record.seq !== last.seq + 1) {
              tails.set(id, last);
              throw new RbError(
                'RB_ERR_STORE_CONFLICT',
                `Run ${id} changed in another process (its journal is at record ${last.seq}, not ${record.seq - 1}); reload it and try again.`,
              );
            }
            try {
              writeFully(fd, line, last.size);
              await flushFile(fd, true);
            } catch (err) {
              // Never leave half a record for the next append to follow.
              try {
                ftruncateSync(fd, last.size);
              } catch {
                // The next append finds the torn line and moves it aside.
              }
              tails.delete(id);
              throw writeError(`appending to run ${id}'s journal`, err);
            }
            tails.set(id, { size: last.size + line.length, seq: record.seq });
          } catch (err) {
            throw isRbError(err) ? err : writeError(`appending to run ${id}'s journal`, err);
          } finally {
            closeQuietly(fd);
          }
        },
        { what: `run ${id}'s journal`, code: 'RB_ERR_STORE_WRITE', ownerDir: root },
      );
    },

    async read(id, fromSeq = 1) {
      const dir = runDir(id);
      let header = headers.get(id);
      if (!header) {
        try {
          header = JSON.parse(await readFile(join(dir, 'header.json'), 'utf8')) as RunHeader;
        } catch {
          return undefined;
        }
      }
      // Nothing new since this process's own last append: no need to read the journal again.
      const known = tails.get(id);
      if (known && fromSeq === known.seq + 1) {
        // Synchronous, as the appends' small calls are (a stat before every request of the run).
        let size = -1;
        try {
          size = statSync(join(dir, 'journal.jsonl')).size;
        } catch {
          // No journal yet: read below finds nothing.
        }
        if (size === known.size) return { header, records: [] };
      }
      const text = await readFile(join(dir, 'journal.jsonl'), 'utf8').catch(() => '');
      const records: JournalRecord[] = [];
      for (const line of text.split('\n')) {
        if (line === '') continue;
        let record: JournalRecord;
        try {
          record = JSON.parse(line) as JournalRecord;
        } catch {
          break; // a torn tail: what follows is not part of the run
        }
        if (record.seq >= fromSeq) records.push(record);
      }
      return { header, records };
    },

    async list() {
      const names = await readdir(root, { withFileTypes: true });
      return names.filter((d) => d.isDirectory() && RUN_ID.test(d.name)).map((d) => d.name);
    },

    async putItems(id, step, n, offset, items) {
      if (items.length === 0) return;
      const dir = itemsDir(id, step, n);
      try {
        let i = 0;
        while (i < items.length) {
          const at = offset + i;
          const chunk = Math.floor(at / ITEMS_PER_CHUNK);
          const room = (chunk + 1) * ITEMS_PER_CHUNK - at;
          const part = items.slice(i, i + room);
          const text = Buffer.from(part.map((item) => JSON.stringify(item)).join('\n') + '\n');
          const within = at % ITEMS_PER_CHUNK;
          // After exactly the items before `at`: a page written again (a retry) replaces, never duplicates,
          // and the items before it are never rewritten. A first page starts afresh.
          const fd = at === 0 ? await firstChunk(dir, step, n) : openSync(join(dir, chunkName(step, n, chunk)), within === 0 ? 'w' : 'r+');
          try {
            let position = 0;
            if (within > 0) {
              const existing = Buffer.alloc(fstatSync(fd).size);
              readSync(fd, existing, 0, existing.length, 0);
              let seen = 0;
              while (seen < within) {
                const nl = existing.indexOf(0x0a, position);
                if (nl < 0) throw new Error(`chunk ${chunk} of ${step}.${n} holds ${seen} items, not ${within}`);
                position = nl + 1;
                seen += 1;
              }
              ftruncateSync(fd, position);
            }
            writeFully(fd, text, position);
            await flushFile(fd, true);
          } finally {
            closeQuietly(fd);
          }
          i += part.length;
        }
      } catch (err) {
        throw writeError(`storing the items of step ${step} in run ${id}`, err);
      }
    },

    async readItems(id, step, n, offset, limit) {
      const dir = itemsDir(id, step, n);
      // An execution's chunks are all in one layout: the earlier one where its first is not flat.
      const legacy = !exists(join(dir, chunkName(step, n, 0))) && exists(legacyChunk(id, step, n, 0));
      const out: Record<string, unknown>[] = [];
      let at = offset;
      while (out.length < limit) {
        const chunk = Math.floor(at / ITEMS_PER_CHUNK);
        const path = legacy ? legacyChunk(id, step, n, chunk) : join(dir, chunkName(step, n, chunk));
        const text = await readFile(path, 'utf8').catch(() => undefined);
        if (text === undefined) break;
        const lines = text.split('\n');
        if (lines.at(-1) === '') lines.pop();
        const from = at - chunk * ITEMS_PER_CHUNK;
        if (from >= lines.length) break;
        for (const line of lines.slice(from, from + (limit - out.length))) out.push(JSON.parse(line) as Record<string, unknown>);
        at = offset + out.length;
        if (lines.length < ITEMS_PER_CHUNK) break;
      }
      return out;
    },

    async *items(id, step, n) {
      for (let offset = 0; ; offset += ITEMS_PER_CHUNK) {
        const page = await store.readItems(id, step, n, offset, ITEMS_PER_CHUNK);
        yield* page;
        if (page.length < ITEMS_PER_CHUNK) return;
      }
    },

    async close() {
      tails.clear();
      headers.clear();
      releaseOwner();
    },
  };
  return store;
}

/** Moves a run file of the earlier layout (`runs/<id>.json`) aside once it has been converted. */
export async function retireLegacyFile(dataDir: string, name: string): Promise<void> {
  await rename(join(dataDir, 'runs', name), join(dataDir, 'runs', `${name}.migrated`));
}
