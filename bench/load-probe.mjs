// Loaded into the server by bench/load.ts (`node --expose-gc --import`), never by `runbooks serve`
// itself. On SIGUSR2 it runs full garbage collections and writes the memory figures to stderr, so
// that the bench compares what the server holds rather than how much garbage V8 has yet to
// collect; with BENCH_LOAD_HEAPSNAPSHOTS set it also writes a heap snapshot there.
import { writeHeapSnapshot } from 'node:v8';
import { join } from 'node:path';

let n = 0;
process.on('SIGUSR2', () => {
  globalThis.gc();
  // A second collection after a turn frees what the first one's finalizers released.
  setTimeout(() => {
    globalThis.gc();
    const m = process.memoryUsage();
    const dir = process.env.BENCH_LOAD_HEAPSNAPSHOTS;
    const snapshot = dir ? writeHeapSnapshot(join(dir, `load-${process.pid}-${++n}.heapsnapshot`)) : undefined;
    const mb = (x) => Math.round((x / 1048576) * 10) / 10;
    process.stderr.write(
      `bench-load-probe ${JSON.stringify({ rssMb: mb(m.rss), heapTotalMb: mb(m.heapTotal), heapUsedMb: mb(m.heapUsed), externalMb: mb(m.external), snapshot })}\n`,
    );
  }, 200);
});
