/**
 * The audit log: append-only JSON Lines, each record carrying the SHA-256 of the previous one, so
 * that any edit, removal or reordering breaks the chain at the first touched record, and signed
 * digests (audit-digest.ts) so that a rewritten chain is found too. A record is flushed to disk
 * (fsync) before `append` resolves: the action it records is reported as done only after that.
 *
 * Several processes may write one data folder's log. Each append takes the lock file (audit-lock.ts),
 * reads the log's current end (audit-tail.ts) when another process has written since, and continues
 * the chain from there, so the chain never forks. A torn last record — a crash or a full disk in the
 * middle of a write — is moved aside to `audit.torn-<time>.jsonl` and the cut recorded in a
 * `log.repaired` record; nothing is ever appended onto a torn line.
 *
 * Appends that arrive while another is being written wait, and are then written together: one lock,
 * one write and one fsync for all of them, each record still chained to the one before. The log is
 * one chain for every run of the folder, so under many concurrent runs it set the pace of all of
 * them when each record took its own turn. The waiting, and when a digest is due, are those of the
 * chain in DynamoDB too (./audit-chain.ts).
 */
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, ftruncateSync, openSync, readSync, statSync, writeSync, type Stats } from 'node:fs';
import { mkdir, open, unlink } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { RbError } from '../errors.js';
import { chainRecord, digestEntry, GroupCommit, type DigestOptions, type Waiting, type Written } from './audit-chain.js';
import type { DigestPointer } from './audit-digest.js';
import { defaultAuditKeyPath, loadOrCreateAuditKey, type AuditKey } from './audit-key.js';
import { shareLockOwner, withFileLock, type LockOptions } from './audit-lock.js';
import { flushFile } from './flush.js';
import { auditLogPath, DIGEST_TYPE, GENESIS_HASH, REPAIRED_TYPE, type AuditEntry, type AuditRecord } from './audit-record.js';
import { readFully, scanTail } from './audit-tail.js';

export { RUN_COMPLETED_TYPE } from './audit-chain.js';
export { auditLogPath, canonicalJson, DIGEST_TYPE, GENESIS_HASH, hashRecord, REPAIRED_TYPE } from './audit-record.js';
export type { AuditEntry, AuditRecord } from './audit-record.js';
export { verifyAuditLog, verifyDynamoAudit, type AuditVerification, type DynamoAuditVerification, type AuditProblemKind, type VerifyOptions } from './audit-verify.js';

/** What the log needs of its open file (a FileHandle opened with 'a+' has it). */
export interface AuditFile {
  read(buffer: Buffer, offset: number, length: number, position: number): Promise<{ bytesRead: number }>;
  write(buffer: Buffer, offset: number, length: number, position: number): Promise<{ bytesWritten: number }>;
  sync(): Promise<void>;
  truncate(length: number): Promise<void>;
  stat(): Promise<{ ino: number; dev: number; size: number }>;
  close(): Promise<void>;
}

export interface AuditLogOptions extends DigestOptions {
  clock?: () => Date;
  /** the signing key's file, created if missing (default: defaultAuditKeyPath()) */
  keyPath?: string;
  lock?: LockOptions;
  /** opens the log file for reading and appending; tests pass one whose writes fail */
  openFile?: (path: string) => Promise<AuditFile>;
}

/**
 * What the engine needs of an audit log, on any store: this file log, or the chain in DynamoDB that
 * replicas share (./dynamo-audit.ts). Both chain, sign and order records alike, and `runbooks audit
 * verify` checks both with the same rules.
 */
export interface AuditSink {
  /** sha256 of the signing key's public key, hex */
  readonly fingerprint: string;
  /** Appends a record; resolves once it is durable (and chained after every record before it). */
  append(entry: AuditEntry): Promise<AuditRecord>;
  /** Signs what is not yet signed. */
  flushDigest(): Promise<void>;
  /** Signs what is not yet signed, then closes. Never rejects. */
  close(): Promise<void>;
}

/**
 * The log's file as the log uses it: reads, writes, stats and cuts are synchronous calls
 * (microseconds on a local file system, less than the hand-off to the thread pool and back an
 * asynchronous call costs); the flush to disk is flush.ts's.
 */
async function openForAppend(path: string): Promise<AuditFile> {
  const fd = openSync(path, 'a+');
  // A synchronous call's error as a rejection, as the asynchronous file's would be.
  const settle = async <T>(call: () => T): Promise<T> => call();
  return {
    read: (buffer, offset, length, position) => settle(() => ({ bytesRead: readSync(fd, buffer, offset, length, position) })),
    write: (buffer, offset, length, position) => settle(() => ({ bytesWritten: writeSync(fd, buffer, offset, length, position) })),
    sync: () => flushFile(fd),
    truncate: (length) => settle(() => ftruncateSync(fd, length)),
    stat: () => settle(() => fstatSync(fd)),
    close: () => settle(() => closeSync(fd)),
  };
}

function errnoOf(err: unknown): string {
  return (err as NodeJS.ErrnoException)?.code ?? (err instanceof Error ? err.message : String(err));
}

function notWritable(path: string, err: unknown, what = 'nothing was recorded'): RbError {
  if (err instanceof RbError) return err;
  return new RbError(
    'RB_ERR_AUDIT_WRITE',
    `The audit log ${path} is not writable (${errnoOf(err)}): ${what}. Free disk space on its file system (or fix the data folder's permissions), then try again.`,
    { errno: (err as NodeJS.ErrnoException)?.code },
  );
}

async function writeAll(file: AuditFile, bytes: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < bytes.length) {
    const { bytesWritten } = await file.write(bytes, done, bytes.length - done, position + done);
    done += bytesWritten;
  }
}

export class AuditLog implements AuditSink {
  /** the offset up to which the state below is known to describe the log */
  private known = -1;
  private seq = 0;
  private last = GENESIS_HASH;
  private lastDigest: DigestPointer | null = null;
  private ino = 0;
  private dev = 0;
  /** a cut whose `log.repaired` record could not be written yet */
  private pendingRepair?: Record<string, unknown>;
  private readonly commits: GroupCommit;
  private readonly path: string;
  private readonly lockPath: string;
  /** gives back this log's share of the process's owner file, which its locks link to */
  private readonly releaseOwner: () => void;
  private readonly clock: () => Date;

  private constructor(
    private readonly dataDir: string,
    private file: AuditFile,
    private readonly key: AuditKey,
    private readonly options: AuditLogOptions,
  ) {
    this.path = auditLogPath(dataDir);
    this.lockPath = join(dataDir, 'audit.lock');
    this.releaseOwner = shareLockOwner(dataDir);
    this.clock = options.clock ?? (() => new Date());
    this.commits = new GroupCommit(
      {
        where: this.path,
        sinceDigest: () => this.seq - (this.lastDigest?.seq ?? 0),
        writeWaiting: () => this.appendWaiting(),
        writeDigest: () => this.writeDigest(),
        flushDigest: () => this.flushDigest(),
      },
      options,
    );
  }

  /**
   * Opens (or creates) the log, moves a torn last record aside, and continues its chain. The signing
   * key is read, or created, first: a log that cannot be signed is not opened. The second argument
   * may be the clock alone.
   */
  static async open(dataDir: string, options: AuditLogOptions | (() => Date) = {}): Promise<AuditLog> {
    const opts: AuditLogOptions = typeof options === 'function' ? { clock: options } : options;
    const path = auditLogPath(dataDir);
    await mkdir(dirname(path), { recursive: true });
    const key = await loadOrCreateAuditKey(opts.keyPath ?? defaultAuditKeyPath());
    const file = await (opts.openFile ?? openForAppend)(path);
    const log = new AuditLog(dataDir, file, key, opts);
    try {
      await log.identify();
      await log.locked(() => log.refresh());
    } catch (err) {
      await log.file.close().catch(() => undefined);
      log.releaseOwner();
      throw err;
    }
    log.commits.startTimer();
    return log;
  }

  /** sha256 of the signing key's public key, hex */
  get fingerprint(): string {
    return this.key.fingerprint;
  }

  /**
   * Appends a record and resolves once it is on disk; signs a digest after it when one is due.
   * Appends made while a write is under way are written together by the next one.
   */
  append(entry: AuditEntry): Promise<AuditRecord> {
    return this.commits.append(entry);
  }

  /**
   * Writes every waiting append under the lock, after reading what others appended (and recording a
   * cut not yet recorded), one write and one fsync a part; settles each of them.
   */
  private async appendWaiting(): Promise<void> {
    const write = async (part: Waiting[]) => ({ written: await this.writeMany(part) });
    const atEnd = async () => {
      await this.refresh();
      if (this.pendingRepair) await this.writeRepaired(this.pendingRepair);
    };
    await this.locked(() => this.commits.commit(write, atEnd)).catch((err: unknown) => this.commits.rejectWaiting(err));
  }

  /** Writes a digest now if any record is not yet covered by one (from any process). */
  flushDigest(): Promise<void> {
    return this.commits.serialised(() => this.locked(() => this.refresh().then(() => this.commits.sign())));
  }

  /** Signs what is not yet signed, then closes the file. Never rejects: a failed digest goes to onError. */
  close(): Promise<void> {
    return this.commits.close(async () => {
      try {
        await this.locked(async () => {
          await this.refresh();
          await this.commits.sign();
        });
      } catch (err) {
        this.commits.onError(err);
      } finally {
        await this.file.close().catch(() => undefined);
        this.releaseOwner();
      }
    });
  }

  // ---------------------------------------------------------------------------------------------

  /** Across processes, one writer at a time. */
  private locked<T>(fn: () => Promise<T>): Promise<T> {
    return withFileLock(this.lockPath, fn, { ...this.options.lock, ownerDir: this.dataDir });
  }

  private async identify(): Promise<void> {
    const st = await this.file.stat();
    this.ino = st.ino;
    this.dev = st.dev;
  }

  /**
   * Brings the state up to the log's end, reading only what was appended since this process last
   * looked (nothing at all when the size is what it left), and repairs a torn end.
   */
  private async refresh(): Promise<void> {
    // Synchronous: a stat takes microseconds, less than a hand-off to the thread pool (audit-lock.ts).
    let onDisk: Stats | undefined;
    try {
      onDisk = statSync(this.path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw notWritable(this.path, err);
    }
    let size = onDisk?.size ?? 0;
    if (!onDisk || onDisk.ino !== this.ino || onDisk.dev !== this.dev) {
      // The file was replaced or removed under us: continue in the file that is there now.
      await this.file.close().catch(() => undefined);
      this.file = await (this.options.openFile ?? openForAppend)(this.path);
      await this.identify();
      this.known = -1;
      size = (await this.file.stat()).size;
    }
    if (size === this.known) return;
    const from = this.known >= 0 && size > this.known ? this.known : 0;
    const tail = await scanTail(this.file, size, from);
    if (from === 0) {
      this.seq = 0;
      this.last = GENESIS_HASH;
      this.lastDigest = null;
    }
    if (tail.last) {
      this.seq = tail.last.seq;
      this.last = tail.last.hash;
    }
    if (tail.digest) this.lastDigest = tail.digest;
    this.known = tail.end;
    if (tail.end < size) await this.repair(tail.end, size);
  }

  /** Moves bytes [end, size) aside, cuts the log back to `end`, and records the cut. */
  private async repair(end: number, size: number): Promise<void> {
    const stamp = this.clock().toISOString().replace(/[:.]/g, '-');
    let aside = join(this.dataDir, `audit.torn-${stamp}.jsonl`);
    let out: FileHandle | undefined;
    for (let n = 2; !out; n++) {
      try {
        out = await open(aside, 'wx', 0o600);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw notWritable(this.path, err, 'a torn record could not be moved aside');
        aside = join(this.dataDir, `audit.torn-${stamp}-${n}.jsonl`);
      }
    }
    const sha = createHash('sha256');
    try {
      for (let pos = end; pos < size;) {
        const chunk = Buffer.alloc(Math.min(1024 * 1024, size - pos));
        await readFully(this.file, chunk, pos);
        sha.update(chunk);
        await writeAll(out, chunk, pos - end);
        pos += chunk.length;
      }
      await out.sync();
      await out.close();
    } catch (err) {
      await out.close().catch(() => undefined);
      await unlink(aside).catch(() => undefined);
      throw notWritable(this.path, err, 'a torn record could not be moved aside');
    }
    try {
      await this.file.truncate(end);
      await this.file.sync();
    } catch (err) {
      // The log is as it was: drop the copy, the next writer tries again.
      await unlink(aside).catch(() => undefined);
      throw notWritable(this.path, err, 'a torn record could not be cut');
    }
    this.known = end;
    await this.writeRepaired({ bytes: size - end, sha256: sha.digest('hex'), file: basename(aside), offset: end });
  }

  private async writeRepaired(data: Record<string, unknown>): Promise<void> {
    this.pendingRepair = data;
    await this.write({ type: REPAIRED_TYPE, user: 'system', data });
    this.pendingRepair = undefined;
  }

  /** Signs everything since the previous digest, if there is anything. */
  private async writeDigest(): Promise<void> {
    const digest = digestEntry(this.lastDigest, this.seq, this.last, this.key);
    if (digest) await this.write(digest);
  }

  /** Writes one record (see writeMany); throws what building it or writing it threw. */
  private async write(entry: AuditEntry): Promise<AuditRecord> {
    let failed: unknown;
    const [written] = await this.writeMany([{ entry, resolve: () => undefined, reject: (err) => (failed = err) }]);
    if (!written) throw failed;
    return written.record;
  }

  /**
   * Writes records at the known end, chained in order, and flushes them: one write, one fsync. An
   * entry that cannot be made a record (its data not JSON) is rejected alone and left out. On a
   * failed write or fsync the file is cut back to where it was (best effort: a torn end left behind
   * is repaired by the next writer) and the state is not moved, so it never runs ahead of the disk.
   */
  private async writeMany(batch: Waiting[]): Promise<Written[]> {
    const written: Written[] = [];
    const lines: Buffer[] = [];
    const at = this.clock().toISOString();
    let seq = this.seq;
    let last = this.last;
    for (const waiting of batch) {
      const { entry } = waiting;
      try {
        const record = chainRecord(entry, seq + 1, at, last);
        lines.push(Buffer.from(`${JSON.stringify(record)}\n`));
        written.push({ waiting, record });
        seq = record.seq;
        last = record.hash;
      } catch (err) {
        waiting.reject(err);
      }
    }
    if (written.length === 0) return written;
    const bytes = lines.length === 1 ? lines[0] : Buffer.concat(lines);
    const before = this.known;
    try {
      await writeAll(this.file, bytes, before);
      await this.file.sync();
    } catch (err) {
      await this.file
        .truncate(before)
        .then(() => this.file.sync())
        .catch(() => undefined);
      throw notWritable(this.path, err);
    }
    this.seq = seq;
    this.last = last;
    this.known = before + bytes.length;
    for (const { record } of written) if (record.type === DIGEST_TYPE) this.lastDigest = { seq: record.seq, hash: record.hash };
    return written;
  }
}
