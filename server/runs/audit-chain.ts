/**
 * What the file log (./audit.ts) and the chain in DynamoDB (./dynamo-audit.ts) do alike in the
 * process that appends, whatever holds the records:
 *
 * - one operation of the process at a time, and none after close;
 * - group commit: appends that arrive while a write is under way wait, and the next write takes
 *   them all, each record still chained to the one before;
 * - the digest policy: a signed digest after a `run.completed`, every `digestEvery` records of the
 *   chain (whoever wrote them), after the next record when one that was due could not be written,
 *   by a timer while this process appends, and at close. A batch is written in parts that end where
 *   a digest falls due, so that one still follows every `digestEvery` records;
 * - how a record is chained to the one before, and what a digest signs.
 *
 * Where the records go, how one writer excludes the others and how a write fails is each log's own.
 */
import { signDigest, type DigestPointer } from './audit-digest.js';
import type { AuditKey } from './audit-key.js';
import { DIGEST_TYPE, hashRecord, type AuditEntry, type AuditRecord } from './audit-record.js';

/** The type of the record after which a digest is always signed. */
export const RUN_COMPLETED_TYPE = 'run.completed';

/** The digest options of both logs. */
export interface DigestOptions {
  /** sign at least every this many records of the chain (default 100) */
  digestEvery?: number;
  /** sign this often while this process appends (default 5 minutes; 0: no timer) */
  digestIntervalMs?: number;
  /** failures nobody awaits (a digest from the timer or at close); default: a line on stderr */
  onError?: (err: unknown) => void;
}

/** An append waiting for the write that takes it. */
export interface Waiting {
  entry: AuditEntry;
  resolve(record: AuditRecord): void;
  reject(err: unknown): void;
}

/** An append written, and its record. */
export interface Written {
  waiting: Waiting;
  record: AuditRecord;
}

/**
 * What the write of a part did: the records it wrote, in order; how many appends of the part it
 * took, when it stopped before the end because a digest fell due; and what failed, when the store
 * refused after some were written (a write that fails having written none throws).
 */
export interface PartWritten {
  written: Written[];
  took?: number;
  failed?: Error;
}

/** What a log does for its GroupCommit. */
export interface ChainWriter {
  /** names the log in the error of a call after close: `the audit log <where> is closed` */
  where: string;
  /** the records of the chain since its last digest, as this process knows it */
  sinceDigest(): number;
  /** Writes what waits (GroupCommit.commit), where the log can write. */
  writeWaiting(): Promise<void>;
  /** Signs everything since the last digest, if there is anything. */
  writeDigest(): Promise<void>;
  /** What the timer calls: the log's flushDigest. */
  flushDigest(): Promise<void>;
}

/** The record of `entry` at number `seq`, written `at`, chained to the record whose hash is `prev`. */
export function chainRecord(entry: AuditEntry, seq: number, at: string, prev: string): AuditRecord {
  const body: Omit<AuditRecord, 'hash'> = {
    seq,
    at,
    type: entry.type,
    ...(entry.runId !== undefined ? { runId: entry.runId } : {}),
    ...(entry.user !== undefined ? { user: entry.user } : {}),
    ...(entry.data !== undefined ? { data: entry.data } : {}),
    prev,
  };
  return { ...body, hash: hashRecord(body) };
}

/** The digest signing the records after `previous` up to `seq`, whose hash is `head`; undefined when there are none. */
export function digestEntry(previous: DigestPointer | null, seq: number, head: string, key: AuditKey): AuditEntry | undefined {
  const first = (previous?.seq ?? 0) + 1;
  if (seq < first) return undefined;
  return { type: DIGEST_TYPE, data: { ...signDigest({ previous, first, last: seq, head }, key) } };
}

/** One log's appends in this process: their order, their grouping and their digests. */
export class GroupCommit {
  readonly onError: (err: unknown) => void;
  private readonly every: number;
  private turn: Promise<unknown> = Promise.resolve();
  private closing?: Promise<void>;
  /** appends waiting for the next write, which takes them all */
  private waiting: Waiting[] = [];
  /** a digest that was due but could not be written: retried after the next record */
  private digestDue = false;
  private appendedSinceTick = false;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly writer: ChainWriter,
    private readonly options: DigestOptions,
  ) {
    this.every = options.digestEvery ?? 100;
    this.onError = options.onError ?? ((err) => process.stderr.write(`runbooks: audit log: ${err instanceof Error ? err.message : String(err)}\n`));
  }

  /** Signs every digestIntervalMs while this process appends; for a log that is open. */
  startTimer(): void {
    const every = this.options.digestIntervalMs ?? 300_000;
    if (every > 0) {
      this.timer = setInterval(() => this.tick(), every);
      this.timer.unref();
    }
  }

  /** Waits for the next write, which takes every append waiting; resolves with the record written. */
  append(entry: AuditEntry): Promise<AuditRecord> {
    if (this.closing) return Promise.reject(this.closed());
    return new Promise<AuditRecord>((resolve, reject) => {
      this.waiting.push({ entry, resolve, reject });
      // The first to wait queues the write; those after it join that write until it starts.
      if (this.waiting.length === 1) this.serialised(() => this.writer.writeWaiting()).catch(() => undefined);
    });
  }

  /** Rejects the appends waiting: the write that would take them could not start. */
  rejectWaiting(err: unknown): void {
    for (const w of this.waiting.splice(0)) w.reject(err);
  }

  /** Whether a digest is due by count: `digestEvery` records of the chain since the last one. */
  digestFalls(): boolean {
    return this.writer.sinceDigest() >= this.every;
  }

  /**
   * Takes the appends waiting (after `before`, when given: those made until then join) and writes
   * them with `write`, a part at a time, each part ending where a digest falls due; after a part,
   * signs a digest when one is due, then resolves the part's appends. A digest that fails is kept
   * due and goes to onError: the records stand. When `before` or a write fails, the appends not
   * written are rejected with its error (a write that reports its failure has written those before
   * it: they are resolved); appends made after the batch was taken belong to the next write.
   */
  async commit(write: (part: Waiting[]) => Promise<PartWritten>, before?: () => Promise<void>): Promise<void> {
    let batch: Waiting[] | undefined;
    try {
      if (before) await before();
      batch = this.waiting.splice(0);
      for (let rest = batch; rest.length > 0;) {
        const part = rest.slice(0, Math.max(1, this.every - this.writer.sinceDigest()));
        const { written, took = part.length, failed } = await write(part);
        rest = rest.slice(took);
        if (written.length > 0) this.appendedSinceTick = true;
        if (failed) {
          for (const w of written) w.waiting.resolve(w.record);
          throw failed;
        }
        if (written.length === 0) continue;
        if (this.digestDue || written.some((w) => w.record.type === RUN_COMPLETED_TYPE) || this.digestFalls()) {
          await this.sign().catch((err: unknown) => {
            this.digestDue = true;
            this.onError(err);
          });
        }
        for (const w of written) w.waiting.resolve(w.record);
      }
    } catch (err) {
      // Those written were resolved: rejecting them again does nothing.
      for (const w of batch ?? this.waiting.splice(0)) w.reject(err);
    }
  }

  /** Signs what is not yet signed: a digest no longer due. */
  async sign(): Promise<void> {
    await this.writer.writeDigest();
    this.digestDue = false;
  }

  /** Within this process, one operation at a time. */
  serialised<T>(fn: () => Promise<T>): Promise<T> {
    // Checked when called, so that what was queued before close() still runs before it.
    if (this.closing) return Promise.reject(this.closed());
    const next = this.turn.then(fn);
    this.turn = next.catch(() => undefined);
    return next;
  }

  /** Stops the timer and runs `last` after every operation queued before; the same promise each call. */
  close(last: () => Promise<void>): Promise<void> {
    if (this.closing) return this.closing;
    if (this.timer) clearInterval(this.timer);
    this.closing = this.turn.then(last);
    return this.closing;
  }

  private closed(): Error {
    return new Error(`the audit log ${this.writer.where} is closed`);
  }

  private tick(): void {
    if (!this.appendedSinceTick || this.closing) return;
    this.appendedSinceTick = false;
    this.writer.flushDigest().catch((err: unknown) => this.onError(err));
  }
}
