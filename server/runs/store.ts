/**
 * The embedded run store: one JSON file per run under `<data>/runs/`, replaced atomically (write a
 * temporary file, then rename) so a crash leaves either the old or the new record, never half of one.
 */
import { mkdir, readdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Run } from './types.js';

export interface RunStore {
  save(run: Run): Promise<void>;
  loadAll(): Promise<Run[]>;
}

const RUN_FILE = /^[a-z0-9-]+\.json$/;

export async function openFileStore(dataDir: string): Promise<RunStore> {
  const dir = join(dataDir, 'runs');
  await mkdir(dir, { recursive: true });
  let tmpCounter = 0;
  return {
    async save(run) {
      const file = join(dir, `${run.id}.json`);
      const tmp = `${file}.${process.pid}.${++tmpCounter}.tmp`;
      try {
        await writeFile(tmp, JSON.stringify(run, null, 1));
        await rename(tmp, file);
      } catch (err) {
        // A full disk must not leave half a temporary file behind.
        await unlink(tmp).catch(() => undefined);
        throw err;
      }
    },
    async loadAll() {
      const names = (await readdir(dir)).filter((n) => RUN_FILE.test(n));
      const runs: Run[] = [];
      for (const name of names) {
        try {
          runs.push(JSON.parse(await readFile(join(dir, name), 'utf8')) as Run);
        } catch {
          // An unreadable record is skipped, not fatal: the audit log still holds what happened.
        }
      }
      return runs;
    },
  };
}
