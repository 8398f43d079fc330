/**
 * The audit log's and the journals' lock across processes (a server and `runbooks run`, or two
 * servers, on one data folder). Node has no flock, so the lock is a file that only one process can
 * make: a hard link to the taker's owner file (`.lock-owner-<pid>-<nonce>`, made once per folder
 * and process while a log or store is open, holding its pid and host), or, where the file system
 * takes no hard links or no owner file is shared, a file created exclusively (`wx`) with the same
 * facts. A link costs a fraction of a file creation (13 against 140 µs measured here; two locks a
 * step: docs/performance.md, "Throughput"). Waiters retry with a short, growing, jittered backoff.
 * A lock whose owner is dead (same host, `kill(pid, 0)` → ESRCH) or that is older than `staleMs`
 * (its modification time, set when it is taken) is broken: renamed aside first, which only one
 * waiter can do, then removed, with a dead owner's owner file.
 *
 * Taking and dropping the lock are synchronous calls: on a local file system each completes in a few
 * microseconds, less than the hand-off to the thread pool and back that an asynchronous call costs
 * the event loop.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fstatSync, futimesSync, linkSync, openSync, writeSync } from 'node:fs';
import { readFile, rename, stat, unlink, link } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { RbError } from '../errors.js';
import { isAlive } from './owner.js';
import { closeQuietly, exists, unlinkQuietly } from './sync-files.js';

export interface LockOptions {
  /** what the lock guards, for messages (default: the audit log) */
  what?: string;
  /** the code of a failure to take the lock (default RB_ERR_AUDIT_WRITE) */
  code?: 'RB_ERR_AUDIT_WRITE' | 'RB_ERR_STORE_WRITE';
  /** a lock older than this is taken to be abandoned (default 30 s; an append holds it for milliseconds) */
  staleMs?: number;
  /** give up waiting after this long (default 60 s) */
  timeoutMs?: number;
  /** the folder of the owner file shared by `shareLockOwner` (on the lock's file system), if any */
  ownerDir?: string;
}

interface Holder {
  pid: number;
  host: string;
  nonce?: string;
  /** the owner file's name, in the lock's owner folder */
  owner?: string;
}

interface Owner {
  path: string;
  fd: number;
  ino: number;
  users: number;
}

/** This process's owner files, by folder. */
const owners = new Map<string, Owner>();
/** whether the process removes them as it exits (one listener, however often they come and go) */
let removingAtExit = false;

/**
 * Makes (or shares) this process's owner file in `dir`, which locks taken with `ownerDir: dir` link
 * to; the returned function gives it back, and the file is removed with its last user (or when the
 * process exits). Where it cannot be made, locks are created as files instead.
 */
export function shareLockOwner(dir: string): () => void {
  let owner = owners.get(dir);
  if (!owner) {
    const path = join(dir, `.lock-owner-${process.pid}-${randomBytes(4).toString('hex')}`);
    let fd: number;
    try {
      fd = openSync(path, 'wx', 0o644);
    } catch {
      return () => undefined;
    }
    try {
      writeSync(fd, JSON.stringify({ pid: process.pid, host: HOST, owner: basename(path) }));
      owner = { path, fd, ino: fstatSync(fd).ino, users: 0 };
    } catch {
      closeQuietly(fd);
      unlinkQuietly(path);
      return () => undefined;
    }
    if (!removingAtExit) {
      removingAtExit = true;
      process.on('exit', removeOwners);
    }
    owners.set(dir, owner);
  }
  const mine = owner;
  mine.users += 1;
  let given = false;
  return () => {
    if (given) return;
    given = true;
    mine.users -= 1;
    if (mine.users > 0 || owners.get(dir) !== mine) return;
    owners.delete(dir);
    closeQuietly(mine.fd);
    unlinkQuietly(mine.path);
  };
}

function removeOwners(): void {
  for (const owner of owners.values()) unlinkQuietly(owner.path);
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
  const token = await acquire(path, options);
  const held = performance.now();
  try {
    return await fn();
  } finally {
    // A live owner's lock is broken only once it is stale: held for a small part of that, it is still
    // ours and is removed without reading it back (the usual case: an append holds it for
    // milliseconds, and each step takes two such locks). Held longer, it is checked first.
    if (performance.now() - held < Math.min(1_000, (options.staleMs ?? 30_000) / 10)) unlinkQuietly(path);
    else await release(path, token);
  }
}

/** What a created lock holds: this process's pid and host, when it was taken, and a nonce of its own. */
function createdLock(): { nonce: string; content: string } {
  const nonce = randomBytes(8).toString('hex');
  return { nonce, content: JSON.stringify({ pid: process.pid, host: HOST, at: new Date().toISOString(), nonce }) };
}

/** What tells our lock from another's: the owner file's inode (a link), or a nonce (a created file). */
type Token = { ino: number } | { nonce: string };

async function acquire(path: string, options: LockOptions): Promise<Token> {
  const staleMs = options.staleMs ?? 30_000;
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  // A created lock's content, made only where a lock cannot be a link (the usual lock is).
  let created: { nonce: string; content: string } | undefined;
  let delay = 1;
  for (;;) {
    const owner = options.ownerDir === undefined ? undefined : owners.get(options.ownerDir);
    const linked = owner ? tryLink(path, owner) : undefined;
    if (linked) return { ino: owner!.ino };
    if (linked === undefined) {
      created ??= createdLock();
      if (tryCreate(path, created.content, options)) return { nonce: created.nonce };
    }
    if (await breakIfStale(path, staleMs, options.ownerDir)) continue;
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

/**
 * True when the lock was taken as a link to `owner`; false when another holds it; undefined when
 * the file system takes no link here (the owner is then given up on for this process).
 */
function tryLink(path: string, owner: Owner): boolean | undefined {
  try {
    // The lock's age, as the stale check reads it, starts now.
    const now = new Date();
    futimesSync(owner.fd, now, now);
    linkSync(owner.path, path);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    // The lock's folder is missing: say so as a created lock would.
    if (code === 'ENOENT' && !exists(dirname(path))) return undefined;
    for (const [dir, o] of owners) if (o === owner) owners.delete(dir);
    return undefined;
  }
}

/** True when the lock is gone or was broken (retry at once); false while it is held. */
async function breakIfStale(path: string, staleMs: number, ownerDir: string | undefined): Promise<boolean> {
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
  // A dead owner's owner file goes with its lock (the lock says its name only, never a path).
  if (dead && ownerDir !== undefined && holder.owner && /^\.lock-owner-\d+-[0-9a-f]+$/.test(holder.owner)) unlinkQuietly(join(ownerDir, holder.owner));
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

async function release(path: string, token: Token): Promise<void> {
  try {
    // Only our own lock: if ours was broken as stale, the file may be someone else's by now.
    const ours = 'ino' in token ? (await stat(path)).ino === token.ino : parseHolder(await readFile(path, 'utf8'))?.nonce === token.nonce;
    if (ours) await unlink(path);
  } catch {
    // Gone already.
  }
}
