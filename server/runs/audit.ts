/**
 * The audit log: append-only JSON Lines, each record carrying the SHA-256 of the previous one, so
 * that any edit, removal or reordering breaks the chain at the first touched record. A record is
 * flushed to disk (fsync) before `append` resolves: the action it records is reported as done only
 * after that.
 */
import { createHash } from 'node:crypto';
import { open, readFile, mkdir } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';

export const GENESIS_HASH = '0'.repeat(64);

export interface AuditRecord {
  seq: number;
  at: string;
  type: string;
  runId?: string;
  user?: string;
  data?: Record<string, unknown>;
  /** hash of the previous record (GENESIS_HASH for the first) */
  prev: string;
  /** SHA-256 over this record without `hash`, as canonical JSON */
  hash: string;
}

export type AuditEntry = Pick<AuditRecord, 'type' | 'runId' | 'user' | 'data'>;

export function auditLogPath(dataDir: string): string {
  return join(dataDir, 'audit.jsonl');
}

/** JSON with object keys sorted at every level, so the hash does not depend on insertion order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

export function hashRecord(record: Omit<AuditRecord, 'hash'>): string {
  return createHash('sha256').update(canonicalJson(record)).digest('hex');
}

export class AuditLog {
  private chain: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly file: FileHandle,
    private seq: number,
    private last: string,
    private readonly clock: () => Date,
  ) {}

  /** Opens (or creates) the log and continues its chain from the last record. */
  static async open(dataDir: string, clock: () => Date = () => new Date()): Promise<AuditLog> {
    const path = auditLogPath(dataDir);
    await mkdir(dirname(path), { recursive: true });
    let seq = 0;
    let last = GENESIS_HASH;
    const text = await readFile(path, 'utf8').catch(() => '');
    const lines = text.split('\n').filter((l) => l.trim() !== '');
    if (lines.length > 0) {
      try {
        const rec = JSON.parse(lines[lines.length - 1]) as AuditRecord;
        seq = rec.seq;
        last = rec.hash;
      } catch {
        // A torn last line (crash mid-write) is left for `audit verify` to report; keep chaining from it.
        seq = lines.length;
      }
    }
    const file = await open(path, 'a');
    return new AuditLog(file, seq, last, clock);
  }

  /** Appends a record and resolves once it is on disk. Appends are serialised. */
  append(entry: AuditEntry): Promise<AuditRecord> {
    const next = this.chain.then(async () => {
      const body: Omit<AuditRecord, 'hash'> = {
        seq: this.seq + 1,
        at: this.clock().toISOString(),
        type: entry.type,
        ...(entry.runId !== undefined ? { runId: entry.runId } : {}),
        ...(entry.user !== undefined ? { user: entry.user } : {}),
        ...(entry.data !== undefined ? { data: entry.data } : {}),
        prev: this.last,
      };
      const record: AuditRecord = { ...body, hash: hashRecord(body) };
      await this.file.write(`${JSON.stringify(record)}\n`);
      await this.file.sync();
      this.seq = record.seq;
      this.last = record.hash;
      return record;
    });
    this.chain = next.catch(() => undefined);
    return next;
  }

  async close(): Promise<void> {
    await this.chain;
    await this.file.close();
  }
}

export interface AuditVerification {
  ok: boolean;
  records: number;
  /** the first record that breaks the chain: its 1-based line and why */
  firstBad?: { line: number; seq?: number; reason: string };
}

/** Verifies the hash chain of the data folder's audit log from its first record. */
export async function verifyAuditLog(dataDir: string): Promise<AuditVerification> {
  const text = await readFile(auditLogPath(dataDir), 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return '';
    throw err;
  });
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  let prev = GENESIS_HASH;
  for (let i = 0; i < lines.length; i++) {
    const line = i + 1;
    let rec: AuditRecord;
    try {
      rec = JSON.parse(lines[i]) as AuditRecord;
    } catch {
      return { ok: false, records: i, firstBad: { line, reason: 'not valid JSON (truncated or edited)' } };
    }
    if (rec.seq !== i + 1) {
      return { ok: false, records: i, firstBad: { line, seq: rec.seq, reason: `sequence number ${rec.seq} where ${i + 1} was expected (a record was removed or reordered)` } };
    }
    if (rec.prev !== prev) {
      return { ok: false, records: i, firstBad: { line, seq: rec.seq, reason: 'its previous-record hash does not match the record before it' } };
    }
    const { hash, ...body } = rec;
    if (hashRecord(body) !== hash) {
      return { ok: false, records: i, firstBad: { line, seq: rec.seq, reason: 'its content does not match its hash (the record was edited)' } };
    }
    prev = hash;
  }
  return { ok: true, records: lines.length };
}
