/**
 * A second process writing an audit log, for the tests of several writers and of a crash in the
 * middle of a write (run with vite-node). Arguments as JSON in argv[2]:
 *   { mode: 'append', dataDir, keyPath, writer, count }: opens the log, prints "ready", waits for a
 *     line on stdin so that every writer starts at once, appends `count` records with a short pause
 *     after every tenth (so that each writer's appends span long enough to meet the others'),
 *     closes, prints "done".
 *   { mode: 'torn', dataDir, keyPath }: appends one record, then writes half of the next one, prints
 *     "torn" and waits to be killed before the write (or its fsync) finishes.
 */
import { open } from 'node:fs/promises';
import { AuditLog, type AuditFile } from '../../server/runs/audit.js';

const args = JSON.parse(process.argv[2]) as {
  mode: 'append' | 'torn';
  dataDir: string;
  keyPath: string;
  writer?: string;
  count?: number;
};

if (args.mode === 'append') {
  const log = await AuditLog.open(args.dataDir, { keyPath: args.keyPath });
  process.stdout.write('ready\n');
  await new Promise((r) => process.stdin.once('data', r));
  process.stdin.destroy();
  for (let i = 0; i < (args.count ?? 0); i++) {
    await log.append({ type: 'test.append', user: args.writer, data: { writer: args.writer, i } });
    if (i % 10 === 9) await new Promise((r) => setTimeout(r, 5));
  }
  await log.close();
  process.stdout.write('done\n');
} else {
  let tear = false;
  const openFile = async (path: string): Promise<AuditFile> => {
    const fh = await open(path, 'a+');
    return {
      read: (b, o, l, p) => fh.read(b, o, l, p),
      stat: () => fh.stat(),
      sync: () => fh.sync(),
      truncate: (n) => fh.truncate(n),
      close: () => fh.close(),
      async write(buffer, offset, length, position) {
        if (!tear) return fh.write(buffer, offset, length, position);
        await fh.write(buffer, offset, Math.floor(length / 2), position);
        process.stdout.write('torn\n');
        return new Promise<never>(() => undefined);
      },
    };
  };
  const log = await AuditLog.open(args.dataDir, { keyPath: args.keyPath, openFile });
  await log.append({ type: 'test.before-crash' });
  tear = true;
  void log.append({ type: 'test.torn', data: { note: 'this record is cut in half by the crash' } });
  // Keeps the process alive until it is killed.
  setInterval(() => undefined, 1000);
}
