// The audit log's writer on real files: several processes appending to one log at once, appends made
// at once written together, torn writes moved aside and recorded, a full disk leaving nothing
// half-written, a crash between write and fsync, the lock's stale-owner rules, when digests are
// written, and the signing key's creation.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { open, readdir, readFile, rm, stat, utimes, writeFile, mkdtemp, appendFile, unlink } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { AuditLog, auditLogPath, verifyAuditLog, type AuditFile, type AuditRecord } from '../../server/runs/audit.js';
import { defaultAuditKeyPath, loadOrCreateAuditKey } from '../../server/runs/audit-key.js';
import { linesBackward } from '../../server/runs/audit-tail.js';
import { isRbError } from '../../server/errors.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const VITE_NODE = join(root, 'node_modules/vite-node/vite-node.mjs');
const WRITER = join(root, 'test/helpers/audit-writer.ts');

const dirs: string[] = [];
async function tempDir(prefix = 'rb-audit-log-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

/** A data folder and a key path of its own (never the user's config folder). */
async function fresh(): Promise<{ dataDir: string; keyPath: string }> {
  const dir = await tempDir();
  return { dataDir: join(dir, 'data'), keyPath: join(dir, 'config', 'runbooks', 'audit-key.pem') };
}

async function records(dataDir: string): Promise<AuditRecord[]> {
  const text = await readFile(auditLogPath(dataDir), 'utf8');
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as AuditRecord);
}

function runWriter(args: Record<string, unknown>) {
  const child = spawn(process.execPath, [VITE_NODE, WRITER, JSON.stringify(args)], { cwd: root, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let onOutput = () => undefined as void;
  child.stdout.on('data', (d) => {
    stdout += d;
    onOutput();
  });
  child.stderr.on('data', (d) => (stderr += d));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((r) => child.on('exit', (code) => r({ code, stdout, stderr })));
  /** Resolves once the writer has printed `line` (or has exited). */
  const printed = (line: string) =>
    new Promise<void>((r) => {
      onOutput = () => void (stdout.split('\n').includes(line) && r());
      onOutput();
      void done.then(() => r());
    });
  return { done, printed, go: () => child.stdin.end('go\n'), kill: () => child.kill('SIGKILL'), stdout: () => stdout };
}

/** A real file handle whose writes (or fsyncs) fail with ENOSPC, after writing half, while `full` is set or once `writesLeft` runs out. */
function fillableDisk() {
  const state = { full: false, failSync: false, reads: 0, writesLeft: Infinity };
  const openFile = async (path: string): Promise<AuditFile> => {
    const fh = await open(path, 'a+');
    const enospc = () => Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    return {
      read: (b, o, l, p) => {
        state.reads += l;
        return fh.read(b, o, l, p);
      },
      stat: () => fh.stat(),
      truncate: (n) => fh.truncate(n),
      close: () => fh.close(),
      async sync() {
        if (state.failSync) throw enospc();
        return fh.sync();
      },
      async write(buffer, offset, length, position) {
        if (!state.full && state.writesLeft-- > 0) return fh.write(buffer, offset, length, position);
        await fh.write(buffer, offset, Math.floor(length / 2), position);
        throw enospc();
      },
    };
  };
  return { state, openFile };
}

describe('the suite', () => {
  it("uses a key folder of its own, not the user's", () => {
    expect(defaultAuditKeyPath().startsWith(tmpdir())).toBe(true);
  });
});

describe('several writers on one data folder', () => {
  it('serialises the appends of 4 processes and this one: one chain, every record once', async () => {
    const { dataDir, keyPath } = await fresh();
    const N = 200;
    // Every process finds no key and creates one at once: they must end up signing with one key.
    const children = ['w1', 'w2', 'w3', 'w4'].map((writer) => runWriter({ mode: 'append', dataDir, keyPath, writer, count: N }));
    const log = await AuditLog.open(dataDir, { keyPath });
    // All start appending once all have opened the log, however long each took to start.
    await Promise.all(children.map((c) => c.printed('ready')));
    for (const child of children) child.go();
    for (let i = 0; i < N; i++) {
      await log.append({ type: 'test.append', user: 'parent', data: { writer: 'parent', i } });
      if (i % 10 === 9) await new Promise((r) => setTimeout(r, 5));
    }
    await log.close();
    for (const child of children) {
      const res = await child.done;
      expect(res.stderr).toBe('');
      expect(res.code).toBe(0);
    }

    const all = await records(dataDir);
    const verified = await verifyAuditLog(dataDir, { keyPath });
    expect(verified.firstBad).toBeUndefined();
    expect(verified.ok).toBe(true);
    expect(verified.records).toBe(all.length);
    const appended = all.filter((r) => r.type === 'test.append');
    expect(appended).toHaveLength(5 * N);
    const seen = new Set(appended.map((r) => `${r.data!.writer}:${r.data!.i}`));
    expect(seen.size).toBe(5 * N);
    // Each writer's records in its own order; the writers interleaved.
    for (const w of ['parent', 'w1', 'w2', 'w3', 'w4']) {
      expect(appended.filter((r) => r.data!.writer === w).map((r) => r.data!.i)).toEqual([...Array(N).keys()]);
    }
    const switches = appended.filter((r, i) => i > 0 && r.data!.writer !== appended[i - 1].data!.writer).length;
    expect(switches).toBeGreaterThan(20);
    // Digests at least every 100 records, whoever wrote them.
    let since = 0;
    for (const r of all) {
      since = r.type === 'audit.digest' ? 0 : since + 1;
      expect(since).toBeLessThanOrEqual(100);
    }
    expect(all.at(-1)!.type).toBe('audit.digest');
    const left = (await readdir(dataDir)).filter((n) => n !== 'audit.jsonl');
    expect(left).toEqual([]);
  }, 120_000);

  it('reads nothing while it is the only writer, and only the new end when another wrote', async () => {
    const { dataDir, keyPath } = await fresh();
    const disk = fillableDisk();
    const big = await AuditLog.open(dataDir, { keyPath });
    for (let i = 0; i < 1000; i++) await big.append({ type: 'test.fill', data: { i, pad: 'x'.repeat(300) } });
    const mine = await AuditLog.open(dataDir, { keyPath, openFile: disk.openFile });
    const atOpen = disk.state.reads;
    expect(atOpen).toBeLessThan(64 * 1024);
    for (let i = 0; i < 50; i++) await mine.append({ type: 'test.mine', data: { i } });
    expect(disk.state.reads).toBe(atOpen);
    await big.append({ type: 'test.other' });
    await mine.append({ type: 'test.mine', data: { i: 50 } });
    expect(disk.state.reads - atOpen).toBeLessThan(16 * 1024);
    await big.close();
    await mine.close();
    expect((await stat(auditLogPath(dataDir))).size).toBeGreaterThan(300 * 1024);
    expect((await verifyAuditLog(dataDir, { keyPath })).ok).toBe(true);
  });

  it('waits for a lock held by a live process, and breaks one older than the stale limit', async () => {
    const { dataDir, keyPath } = await fresh();
    const log = await AuditLog.open(dataDir, { keyPath });
    const lock = join(dataDir, 'audit.lock');
    // pid 1 is alive: only its release, or age, frees the lock.
    await writeFile(lock, JSON.stringify({ pid: 1, host: hostname(), at: new Date().toISOString(), nonce: 'other' }));
    let resolved = false;
    const pending = log.append({ type: 'test.waited' }).then((r) => {
      resolved = true;
      return r;
    });
    await new Promise((r) => setTimeout(r, 300));
    expect(resolved).toBe(false);
    await unlink(lock);
    expect((await pending).seq).toBe(1);

    await writeFile(lock, JSON.stringify({ pid: 1, host: 'elsewhere', at: '2020-01-01T00:00:00.000Z', nonce: 'old' }));
    const old = new Date(Date.now() - 60_000);
    await utimes(lock, old, old);
    expect((await log.append({ type: 'test.after-stale' })).seq).toBe(2);
    await log.close();
    expect((await readdir(dataDir)).sort()).toEqual(['audit.jsonl']);
  });
});

describe('reading the end of the log', () => {
  it('yields the lines backwards across chunk boundaries, the unterminated end marked', async () => {
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let round = 0; round < 30; round++) {
      const parts: string[] = [];
      const n = Math.floor(random() * 12);
      for (let i = 0; i < n; i++) parts.push('x'.repeat(Math.floor(random() * (random() < 0.2 ? 40_000 : 300))));
      const text = parts.join('\n') + (random() < 0.5 ? '\n' : '');
      const bytes = Buffer.from(text);
      const file = { read: async (b: Buffer, o: number, l: number, p: number) => ({ bytesRead: bytes.copy(b, o, p, p + l) }) };
      const got: Array<[number, number, boolean]> = [];
      for await (const line of linesBackward(file, bytes.length)) got.push([line.offset, line.bytes.length, line.terminated]);
      const expected: Array<[number, number, boolean]> = [];
      let offset = 0;
      const lines = text.split('\n');
      lines.forEach((l, i) => {
        const terminated = i < lines.length - 1;
        if (terminated || l.length > 0) expected.push([offset, l.length, terminated]);
        offset += l.length + 1;
      });
      expect(got).toEqual(expected.reverse());
    }
  });
});

describe('torn writes', () => {
  it('moves a torn last record aside, records the cut and never appends onto it', async () => {
    const { dataDir, keyPath } = await fresh();
    const log = await AuditLog.open(dataDir, { keyPath });
    await log.append({ type: 'test.one' });
    await log.append({ type: 'run.completed', runId: 'r1' });
    await log.close();
    const whole = await readFile(auditLogPath(dataDir), 'utf8');
    const half = '{"seq":4,"at":"2026-01-01T00:00:00.000Z","type":"test.half","prev":"';
    await appendFile(auditLogPath(dataDir), half);
    expect((await verifyAuditLog(dataDir, { keyPath })).firstBad).toMatchObject({ kind: 'torn', seq: 4, line: 4 });

    const reopened = await AuditLog.open(dataDir, { keyPath, clock: () => new Date('2026-02-03T04:05:06.789Z') });
    const next = await reopened.append({ type: 'test.after' });
    await reopened.close();

    const recs = await records(dataDir);
    const text = await readFile(auditLogPath(dataDir), 'utf8');
    expect(text.startsWith(whole)).toBe(true);
    expect(text).not.toContain('test.half');
    const repaired = recs.find((r) => r.type === 'log.repaired')!;
    expect(repaired.seq).toBe(4);
    expect(repaired.data).toEqual({
      bytes: Buffer.byteLength(half),
      sha256: createHash('sha256').update(half).digest('hex'),
      file: 'audit.torn-2026-02-03T04-05-06-789Z.jsonl',
      offset: Buffer.byteLength(whole),
    });
    expect(await readFile(join(dataDir, 'audit.torn-2026-02-03T04-05-06-789Z.jsonl'), 'utf8')).toBe(half);
    expect(next.seq).toBe(5);
    expect(next.prev).toBe(repaired.hash);
    expect(await verifyAuditLog(dataDir, { keyPath })).toMatchObject({ ok: true, records: recs.length });
  });

  it('treats a newline-terminated line that is not a record as torn too', async () => {
    const { dataDir, keyPath } = await fresh();
    const log = await AuditLog.open(dataDir, { keyPath });
    await log.append({ type: 'test.one' });
    await log.close();
    await appendFile(auditLogPath(dataDir), 'garbage after a crash\n');
    const reopened = await AuditLog.open(dataDir, { keyPath });
    await reopened.close();
    const recs = await records(dataDir);
    expect(recs.map((r) => r.type)).toEqual(['test.one', 'audit.digest', 'log.repaired', 'audit.digest']);
    expect(recs[2].data).toMatchObject({ bytes: 'garbage after a crash\n'.length });
    expect((await verifyAuditLog(dataDir, { keyPath })).ok).toBe(true);
  });

  it('repairs after a writer killed between its write and its fsync (its lock left behind)', async () => {
    const { dataDir, keyPath } = await fresh();
    const child = runWriter({ mode: 'torn', dataDir, keyPath });
    const deadline = Date.now() + 30_000;
    while (!child.stdout().includes('torn') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(child.stdout()).toContain('torn');
    child.kill();
    await child.done;
    // The killed process held the lock: its pid is dead, so the lock is broken at once.
    expect(JSON.parse(await readFile(join(dataDir, 'audit.lock'), 'utf8')).pid).toBeGreaterThan(0);
    const started = Date.now();
    const log = await AuditLog.open(dataDir, { keyPath });
    expect(Date.now() - started).toBeLessThan(5_000);
    const after = await log.append({ type: 'test.after-crash' });
    await log.close();
    const recs = await records(dataDir);
    expect(recs.map((r) => r.type)).toEqual(['test.before-crash', 'log.repaired', 'test.after-crash', 'audit.digest']);
    expect(after.seq).toBe(3);
    const torn = (await readdir(dataDir)).filter((n) => n.startsWith('audit.torn-'));
    expect(torn).toHaveLength(1);
    expect(await readFile(join(dataDir, torn[0]), 'utf8')).toMatch(/^\{"seq":2,/);
    expect((await readdir(dataDir)).filter((n) => n.includes('lock') || n.endsWith('.tmp'))).toEqual([]);
    expect((await verifyAuditLog(dataDir, { keyPath })).ok).toBe(true);
  }, 60_000);
});

describe('appends made at once', () => {
  /** The real file, counting its fsyncs. */
  function countingFile() {
    const counts = { syncs: 0 };
    const openFile = async (path: string): Promise<AuditFile> => {
      const fh = await open(path, 'a+');
      return {
        read: (b, o, l, p) => fh.read(b, o, l, p),
        write: (b, o, l, p) => fh.write(b, o, l, p),
        stat: () => fh.stat(),
        truncate: (n) => fh.truncate(n),
        close: () => fh.close(),
        sync: () => ((counts.syncs += 1), fh.sync()),
      };
    };
    return { counts, openFile };
  }

  it('are written together, in the order made, one chain with a digest still every 100 records', async () => {
    const { dataDir, keyPath } = await fresh();
    const file = countingFile();
    const log = await AuditLog.open(dataDir, { keyPath, openFile: file.openFile, digestIntervalMs: 0 });
    const N = 250;
    const appended = await Promise.all(Array.from({ length: N }, (_, i) => log.append({ type: 'test.burst', data: { i } })));
    // Each resolves with its own record, in the order the appends were made.
    expect(appended.map((r) => r.data!.i)).toEqual([...Array(N).keys()]);
    for (let i = 1; i < N; i++) expect(appended[i].seq).toBeGreaterThan(appended[i - 1].seq);
    // The first is written alone; those made meanwhile share a write, split only where a digest falls.
    expect(file.counts.syncs).toBeLessThan(10);
    await log.close();
    const all = await records(dataDir);
    let since = 0;
    for (const r of all) {
      since = r.type === 'audit.digest' ? 0 : since + 1;
      expect(since).toBeLessThanOrEqual(100);
    }
    expect(all.filter((r) => r.type === 'test.burst')).toHaveLength(N);
    expect((await verifyAuditLog(dataDir, { keyPath })).ok).toBe(true);
  });

  it('reject together when their write fails, and alone when their data is not JSON', async () => {
    const { dataDir, keyPath } = await fresh();
    const disk = fillableDisk();
    const log = await AuditLog.open(dataDir, { keyPath, openFile: disk.openFile });
    await log.append({ type: 'test.one' });
    const before = await readFile(auditLogPath(dataDir), 'utf8');
    disk.state.full = true;
    const lost = await Promise.all([1, 2, 3].map((i) => log.append({ type: 'test.lost', data: { i } }).catch((e: unknown) => e)));
    for (const err of lost) expect(isRbError(err) && err.code).toBe('RB_ERR_AUDIT_WRITE');
    expect(await readFile(auditLogPath(dataDir), 'utf8')).toBe(before);
    disk.state.full = false;
    const mixed = await Promise.all([
      log.append({ type: 'test.two' }),
      log.append({ type: 'test.bad', data: { n: 1n } }).catch((e: unknown) => e),
      log.append({ type: 'test.three' }),
    ]);
    expect(mixed[1]).toBeInstanceOf(TypeError);
    expect([mixed[0].seq, mixed[2].seq]).toEqual([2, 3]);
    expect(mixed[2].prev).toBe(mixed[0].hash);
    await log.close();
    expect((await records(dataDir)).map((r) => r.type)).toEqual(['test.one', 'test.two', 'test.three', 'audit.digest']);
    expect((await verifyAuditLog(dataDir, { keyPath })).ok).toBe(true);
  });
});

describe('a full disk', () => {
  it('rejects the append with RB_ERR_AUDIT_WRITE, leaves no half record, and continues the chain once there is space', async () => {
    const { dataDir, keyPath } = await fresh();
    const disk = fillableDisk();
    const log = await AuditLog.open(dataDir, { keyPath, openFile: disk.openFile });
    const first = await log.append({ type: 'test.one' });
    const before = await readFile(auditLogPath(dataDir), 'utf8');

    disk.state.full = true;
    const err = await log.append({ type: 'test.lost', data: { pad: 'x'.repeat(500) } }).catch((e: unknown) => e);
    expect(isRbError(err) && err.code).toBe('RB_ERR_AUDIT_WRITE');
    expect((err as Error).message).toMatch(/not writable \(ENOSPC\).*Free disk space/);
    expect(await readFile(auditLogPath(dataDir), 'utf8')).toBe(before);

    // A write that went through but whose fsync failed is cut back off too.
    disk.state.full = false;
    disk.state.failSync = true;
    const synced = await log.append({ type: 'test.unsynced' }).catch((e: unknown) => e);
    expect(isRbError(synced) && synced.code).toBe('RB_ERR_AUDIT_WRITE');
    expect(await readFile(auditLogPath(dataDir), 'utf8')).toBe(before);

    disk.state.failSync = false;
    const next = await log.append({ type: 'test.two' });
    expect(next.seq).toBe(first.seq + 1);
    expect(next.prev).toBe(first.hash);
    await log.close();
    expect((await records(dataDir)).map((r) => r.type)).toEqual(['test.one', 'test.two', 'audit.digest']);
    expect((await readdir(dataDir)).sort()).toEqual(['audit.jsonl']);
    expect((await verifyAuditLog(dataDir, { keyPath })).ok).toBe(true);
  });

  it('keeps a digest that could not be written due, and writes it after the next record', async () => {
    const { dataDir, keyPath } = await fresh();
    const disk = fillableDisk();
    const errors: unknown[] = [];
    const log = await AuditLog.open(dataDir, { keyPath, openFile: disk.openFile, onError: (e) => errors.push(e) });
    await log.append({ type: 'test.one' });
    // The run.completed record goes to disk; the digest after it finds the disk full.
    disk.state.writesLeft = 1;
    const completed = await log.append({ type: 'run.completed', runId: 'r1' });
    expect(completed.seq).toBe(2);
    expect(errors).toHaveLength(1);
    expect(isRbError(errors[0]) && errors[0].code).toBe('RB_ERR_AUDIT_WRITE');
    expect((await records(dataDir)).map((r) => r.type)).toEqual(['test.one', 'run.completed']);
    disk.state.writesLeft = Infinity;
    await log.append({ type: 'test.two' });
    const recs = await records(dataDir);
    expect(recs.map((r) => r.type)).toEqual(['test.one', 'run.completed', 'test.two', 'audit.digest']);
    expect(recs[3].data).toMatchObject({ first: 1, last: 3 });
    await log.close();
    expect((await verifyAuditLog(dataDir, { keyPath })).ok).toBe(true);
  });
});

describe('digests', () => {
  it('are written after run.completed, every 100 records, on a timer while active, and at close', async () => {
    const { dataDir, keyPath } = await fresh();
    const log = await AuditLog.open(dataDir, { keyPath, digestIntervalMs: 0 });
    for (let i = 0; i < 150; i++) await log.append({ type: 'test.many', data: { i } });
    let recs = await records(dataDir);
    expect(recs[100]).toMatchObject({ seq: 101, type: 'audit.digest', data: { previous: null, first: 1, last: 100, head: recs[99].hash } });
    await log.append({ type: 'run.completed', runId: 'r1' });
    recs = await records(dataDir);
    expect(recs.at(-1)).toMatchObject({ type: 'audit.digest', data: { previous: { seq: 101, hash: recs[100].hash }, first: 102, last: recs.length - 1 } });
    await log.append({ type: 'test.unsigned' });
    await log.close();
    recs = await records(dataDir);
    expect(recs.slice(-2).map((r) => r.type)).toEqual(['test.unsigned', 'audit.digest']);

    const timed = await AuditLog.open(dataDir, { keyPath, digestIntervalMs: 100 });
    await timed.append({ type: 'test.quiet' });
    await new Promise((r) => setTimeout(r, 400));
    recs = await records(dataDir);
    expect(recs.slice(-2).map((r) => r.type)).toEqual(['test.quiet', 'audit.digest']);
    // Nothing new since: closing adds nothing.
    await timed.close();
    expect(await records(dataDir)).toHaveLength(recs.length);
    expect((await verifyAuditLog(dataDir, { keyPath })).ok).toBe(true);
  });
});

describe('the signing key', () => {
  it('is created once, mode 0600 in a 0700 folder, even when several open it at once', async () => {
    const { keyPath } = await fresh();
    const keys = await Promise.all([1, 2, 3, 4, 5].map(() => loadOrCreateAuditKey(keyPath)));
    expect(new Set(keys.map((k) => k.fingerprint)).size).toBe(1);
    expect(keys.filter((k) => k.created)).toHaveLength(1);
    expect((await stat(keyPath)).mode & 0o777).toBe(0o600);
    expect((await stat(join(keyPath, '..'))).mode & 0o777).toBe(0o700);
    expect(keys[0].fingerprint).toMatch(/^[0-9a-f]{64}$/);
  });

  it('resolves RUNBOOKS_AUDIT_KEY, then an absolute XDG_CONFIG_HOME, then ~/.config', () => {
    expect(defaultAuditKeyPath({ RUNBOOKS_AUDIT_KEY: '/k/key.pem', XDG_CONFIG_HOME: '/x' })).toBe('/k/key.pem');
    expect(defaultAuditKeyPath({ XDG_CONFIG_HOME: '/x' })).toBe('/x/runbooks/audit-key.pem');
    expect(defaultAuditKeyPath({ XDG_CONFIG_HOME: 'relative' })).toMatch(/\/\.config\/runbooks\/audit-key\.pem$/);
  });

  it('refuses to open a log whose key cannot be read', async () => {
    const { dataDir } = await fresh();
    const bad = join(await tempDir(), 'not-a-key.pem');
    await writeFile(bad, 'not a key');
    const err = await AuditLog.open(dataDir, { keyPath: bad }).catch((e: unknown) => e);
    expect(isRbError(err) && err.code).toBe('RB_ERR_AUDIT_KEY');
  });
});
