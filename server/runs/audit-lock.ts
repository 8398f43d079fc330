/**
 * The audit log's lock across processes (a server and `runbooks run`, or two servers, on one data
 * folder). Node has no flock, so the lock is a file created exclusively (`wx`) holding the owner's
 * pid, host and a nonce. Waiters retry with a short, growing, jittered backoff. A lock whose owner is
 * dead (same host, `kill(pid, 0)` → ESRCH) or that is older than `staleMs` is broken: renamed aside
 * first, which only one waiter can do, then removed.
 *
 * Taking and dropping the lock are synchronous calls: on a local file system each completes in a few
 * microseconds, less than the hand-off to the thread pool and back that an asynchronous call costs
 * the event loop (two locks a step: docs/performance.md, "Throughput").
 */
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, unlinkSync, writeSync } from 'node:fs';
import { readFile, rename, stat, unlink, link } from 'node:fs/promises';
import { hostname } from 'node:os';
import { RbError } from '../errors.js';
import { isAlive } from './owner.js';

export interface LockOptions {
  /** what the lock guards, for messages (default: the audit log) */
  what?: string;
  /** the code of a failure to take the lock (default RB_ERR_AUDIT_WRITE) */
  code?: 'RB_ERR_AUDIT_WRITE' | 'RB_ERR_STORE_WRITE';
  /** a lock older than this is taken to be abandoned (default 30 s; an append holds it for milliseconds) */
  staleMs?: number;
  /** give up waiting after this long (default 60 s) */
  timeoutMs?: number;
}

interface Holder {
  pid: number;
  host: string;
  nonce: string;
}

const HOST = hostname();

function parseHolder(text: string): Holder | undefined {
  try {
    const h = JSON.parse(text) as Holder;
    return Number.isSafeInteger(h.pid) && typeof h.host === 'string' ? h : undefined;
  } catch {
    return undefined;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs `fn` holding the lock file at `path`; the lock is released however `fn` ends. */
export async function withFileLock<T>(path: string, fn: () => Promise<T>, options: LockOptions = {}): Promise<T> {
  const nonce = await acquire(path, options);
  const held = performance.now();
  try {
    return await fn();
  } finally {
    // A live owner's lock is broken only once it is stale: held for a small part of that, it is still
    // ours and is removed without reading it back (the usual case: an append holds it for
    // milliseconds, and each step takes two such locks). Held longer, it is checked first.
    if (performance.now() - held < Math.min(1_000, (options.staleMs ?? 30_000) / 10)) unlinkQuietly(path);
    else await release(path, nonce);
  }
}

async function acquire(path: string, options: LockOptions): Promise<string> {
  const staleMs = options.staleMs ?? 30_000;
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  const nonce = randomBytes(8).toString('hex');
  const content = JSON.stringify({ pid: process.pid, host: HOST, at: new Date().toISOString(), nonce });
  let delay = 1;
  for (;;) {
    if (tryCreate(path, content, options)) return nonce;
    if (await breakIfStale(path, staleMs)) continue;
    if (Date.now() > deadline) {
      const holder = parseHolder(await readFile(path, 'utf8').catch(() => ''));
      const who = holder ? `process ${holder.pid} on ${holder.host}` : 'another process';
      throw new RbError(
        options.code ?? 'RB_ERR_AUDIT_WRITE',
        `${capital(options.what ?? 'the audit log')} is not writable: ${who} has held its lock ${path} for too long. If no runbooks process is running on this data folder, delete the lock file.`,
      );
    }
    await sleep(delay * (0.5 + Math.random()));
    delay = Math.min(delay * 2, 50);
  }
}

function capital(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function tryCreate(path: string, content: string, options: LockOptions): boolean {
  const code = options.code ?? 'RB_ERR_AUDIT_WRITE';
  const what = capital(options.what ?? 'the audit log');
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o644);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new RbError(
      code,
      `${what} is not writable: its lock ${path} cannot be created (${(err as NodeJS.ErrnoException).code ?? String(err)}). Check the data folder's permissions and free space.`,
    );
  }
  try {
    writeSync(fd, content);
  } catch (err) {
    // An empty lock would hold others off until it is stale.
    closeQuietly(fd);
    unlinkQuietly(path);
    throw new RbError(
      code,
      `${what} is not writable: its lock ${path} cannot be written (${(err as NodeJS.ErrnoException).code ?? String(err)}). Free disk space on the data folder's file system.`,
    );
  }
  closeSync(fd);
  return true;
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // Closed or never usable: nothing to give back.
  }
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Gone already.
  }
}

/** True when the lock is gone or was broken (retry at once); false while it is held. */
async function breakIfStale(path: string, staleMs: number): Promise<boolean> {
  let seen;
  let text;
  try {
    seen = await stat(path);
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return true;
    throw err;
  }
  const holder = parseHolder(text);
  // A pid says something only on its own host; an empty lock (its owner is still writing it) only ages.
  const dead = holder !== undefined && holder.host === HOST && holder.pid !== process.pid && !isAlive(holder.pid);
  if (!dead && Date.now() - seen.mtimeMs < staleMs) return false;
  const aside = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.stale`;
  try {
    await rename(path, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return true;
    throw err;
  }
  try {
    const taken = await stat(aside);
    if (taken.ino !== seen.ino || taken.dev !== seen.dev) {
      // Between looking and renaming, the stale lock went and a live one came: put that one back.
      await link(aside, path).catch(() => undefined);
    }
  } finally {
    await unlink(aside).catch(() => undefined);
  }
  return true;
}

async function release(path: string, nonce: string): Promise<void> {
  try {
    // Only our own lock: if ours was broken as stale, the file may be someone else's by now.
    if (parseHolder(await readFile(path, 'utf8'))?.nonce === nonce) await unlink(path);
  } catch {
    // Gone already.
  }
}
